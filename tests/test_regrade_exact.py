"""Regrading is exact: a grading's version covers all that decides its score, and a Dask worker
never grades with a stale course, check or grader, nor lets a grading run on past its limit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from grader.batch import command, versions
from grader.course import Course, load_course
from grader.course_modules import import_file, shared
from tests.helpers import REPO, write_course

CHECKS = """from grader.checks import check


@check(points={passing})
def test_passing(student):
    \"\"\"Always passes.\"\"\"


@check(points={failing})
def test_failing(student):
    \"\"\"Never passes.\"\"\"
    assert False, "not so"
"""

STUCK = """import time
from grader.checks import check


@check(points=10)
def test_survives(student):
    \"\"\"Never ends when the student defines victim().\"\"\"
    try:
        stuck = student.victim() == 1
    except Exception:
        stuck = False
    while stuck:
        time.sleep(0.1)
"""


def one_exercise_course(folder: Path, course: Course, checks: str, **limits: float) -> Course:
    """The repository's exercise1 alone, graded by ``checks`` (written to folder/checks/)."""
    path = write_course(folder, course, **limits)
    (folder / "checks").mkdir(exist_ok=True)
    (folder / "checks" / "exercise1_public.py").write_text(checks)
    data = yaml.safe_load(path.read_text())
    data["exercises"] = [data["exercises"][0]]
    data["exercises"][0].update(checks=str(folder / "checks" / "exercise1_public.py"))
    data["exercises"][0].update(hidden_checks=None, points=10)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_course(path)


def batch(course: Course, *args: str | Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "grader", "batch", *map(str, args), "--course", str(course.path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done


def grade_of(out: Path, student: str) -> str:
    lines = (out / "grades.csv").read_text().splitlines()
    header = lines[0].split(",")
    row = next(line.split(",") for line in lines[1:] if line.startswith(f"{student},"))
    return row[header.index("exercise1")]


# ---------------------------------------------------------------- versions, in this process


def test_editing_the_graders_own_code_changes_the_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, course: Course
) -> None:
    """grader/finite_diff.py decides scores: editing it is a new version. The gradebook's own
    module only stores them: editing it is not."""
    copy = tmp_path / "grader"
    shutil.copytree(REPO / "grader", copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(versions, "GRADER", copy)

    def version() -> str:
        versions.grader_code_hash.cache_clear()
        return command.checks_version(course, course.exercises[0])

    try:
        before = version()
        with (copy / "finite_diff.py").open("a") as handle:
            handle.write("\n# tolerances changed\n")
        edited = version()
        with (copy / "batch" / "gradebook.py").open("a") as handle:
            handle.write("\n# a column added\n")
        assert version() == edited != before
    finally:
        versions.grader_code_hash.cache_clear()


def test_a_due_date_is_no_new_version(tmp_path: Path, course: Course) -> None:
    """Late penalties are worked out on every run: moving a due date regrades nothing."""
    path = write_course(tmp_path, course)
    before = versions.checks_version(load_course(path), load_course(path).exercises[0])
    data = yaml.safe_load(path.read_text())
    data["exercises"][0]["due"] = "2026-12-01T23:59:00+00:00"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    after = load_course(path)
    assert versions.checks_version(after, after.exercises[0]) == before


def test_an_edited_check_file_is_imported_again_by_the_same_process(tmp_path: Path) -> None:
    """The modules a process caches are those of the files' contents now, shared ones too."""
    checks = tmp_path / "exercise9_public.py"
    (tmp_path / "_exercise9_common.py").write_text("POINTS = 1\n")
    checks.write_text(
        "from grader.checks import shared\nPOINTS = shared(__file__, '_exercise9_common').POINTS\n"
    )
    assert import_file(checks, "checks").POINTS == 1
    assert import_file(checks, "checks") is import_file(checks, "checks")
    (tmp_path / "_exercise9_common.py").write_text("POINTS = 2\n")
    assert shared(str(checks), "_exercise9_common").POINTS == 2
    assert import_file(checks, "checks").POINTS == 2
    checks.write_text("POINTS = 3\n")
    assert import_file(checks, "checks").POINTS == 3


# ---------------------------------------------------------------- on a real Dask cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """One Dask worker process (one thread) and its scheduler, on 127.0.0.1."""
    distributed = pytest.importorskip("distributed")
    local = distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = distributed.Client(local)
    try:
        yield client
    finally:
        client.close()
        local.close()


def worker_pid(client: Any) -> int:
    (pid,) = client.run(os.getpid).values()
    return int(pid)


def grading_processes(client: Any) -> tuple[set[int], set[int]]:
    """The Dask worker's grading processes (its children) alive now, and those of them idle."""

    def idle() -> list[int]:
        from grader.batch import dask_pool

        return [kept.process.pid for kept_ones in dask_pool._idle.values() for kept in kept_ones]

    (found,) = client.run(idle).values()
    parent = worker_pid(client)
    alive = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes()
            state, ppid = (cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        if b"grader.batch.dask_pool" in text and state != "Z" and int(ppid) == parent:
            alive.add(int(cmdline.parent.name))
    return alive, set(found)


@pytest.mark.slow
def test_a_changed_check_regrades_on_dask_with_its_new_points(
    tmp_path: Path, course: Course, cluster: Any
) -> None:
    """Grade, move points between two checks on disk, grade again through the same Dask worker
    process (and the same grading process it keeps): the new score, under the new version; a
    local run then has nothing to grade."""
    graded = one_exercise_course(tmp_path, course, CHECKS.format(passing=4, failing=6))
    submissions = tmp_path / "submissions"
    (submissions / "ann").mkdir(parents=True)
    (submissions / "ann" / "exercise1_derivatives.py").write_text("x = 1\n")
    out = tmp_path / "out"
    address = cluster.scheduler.address
    pid = worker_pid(cluster)
    batch(graded, submissions, "--out", out, "--dask", address)
    assert grade_of(out, "ann") == "4"
    kept = grading_processes(cluster)[1]  # the Dask worker's grading process, kept for later
    (tmp_path / "checks" / "exercise1_public.py").write_text(CHECKS.format(passing=6, failing=4))
    again = batch(graded, submissions, "--out", out, "--dask", address)
    assert "1 to grade" in again.stderr
    assert worker_pid(cluster) == pid and grading_processes(cluster)[1] == kept
    assert grade_of(out, "ann") == "6"
    local = batch(graded, submissions, "--out", out, "--jobs", "1")
    assert "0 to grade" in local.stderr and grade_of(out, "ann") == "6"


@pytest.mark.slow
def test_a_hanging_check_times_out_on_dask(tmp_path: Path, course: Course, cluster: Any) -> None:
    """A check that never ends is stopped at the exercise's wall limit plus the margin, tried
    once more, then recorded as timed out; its grading process is killed; the others are
    graded."""
    from grader.batch.dask_pool import DaskPool
    from grader.batch.pool import Task

    stuck = one_exercise_course(tmp_path, course, STUCK, wall_seconds=2)
    tasks = []
    for name in ("ann", "bob", "cy"):
        file = tmp_path / f"{name}.py"
        file.write_text("x = 1\n" + ("\n\ndef victim():\n    return 1\n" if name == "bob" else ""))
        tasks.append(Task(name, "exercise1", str(file), file.name))
    pool = DaskPool(stuck, cluster.scheduler.address, margin=1)
    started = time.monotonic()
    try:
        outcomes = {outcome.task.student: outcome for outcome in pool.run(tasks)}
    finally:
        pool.close()
    assert time.monotonic() - started < 60
    report = outcomes["bob"].report
    assert report is not None, outcomes["bob"].failure
    assert report["score"] == 0 and "did not end within its 2 s" in report["problem"]
    assert [check["kind"] for check in report["tests"]] == ["timeout"]
    for name in ("ann", "cy"):
        assert outcomes[name].report is not None and outcomes[name].report["score"] == 10
    alive, idle = grading_processes(cluster)
    assert alive == idle  # the stuck ones were killed; the others wait for the next batch


@pytest.mark.slow
def test_a_client_that_leaves_stops_its_gradings_on_dask(
    tmp_path: Path, course: Course, cluster: Any
) -> None:
    """A batch that leaves while a check spins on a Dask worker: the grading process is killed."""
    import distributed

    from grader.batch.dask_pool import grade_on_dask
    from grader.batch.pool import Task

    stuck = one_exercise_course(tmp_path, course, STUCK, wall_seconds=600)
    file = tmp_path / "bob.py"
    file.write_text("def victim():\n    return 1\n")
    task = Task("bob", "exercise1", str(file), file.name)
    before, _ = grading_processes(cluster)
    client = distributed.Client(cluster.scheduler.address)
    future = client.submit(grade_on_dask, str(stuck.path), task.__dict__, 600.0, pure=False)
    deadline = time.monotonic() + 60
    while not (grading_processes(cluster)[0] - before) and time.monotonic() < deadline:
        time.sleep(0.2)
    spinning = grading_processes(cluster)[0] - before
    assert spinning and not future.done()
    client.close()
    deadline = time.monotonic() + 30
    while grading_processes(cluster)[0] & spinning and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not grading_processes(cluster)[0] & spinning


@pytest.mark.slow
def test_a_grading_of_another_version_is_not_recorded(
    tmp_path: Path, course: Course, cluster: Any
) -> None:
    """A task planned under a version its grading process does not have (a file edited during
    the run, a grader edited under a kept process) is refused, locally and on Dask, the latter
    once more in a new grading process: nothing is recorded under a version it was not graded
    with, and the next run grades it."""
    from grader.batch.dask_pool import DaskPool
    from grader.batch.pool import LocalPool, Task

    graded = one_exercise_course(tmp_path, course, CHECKS.format(passing=4, failing=6))
    file = tmp_path / "ann.py"
    file.write_text("x = 1\n")
    planned = versions.checks_version(graded, graded.exercises[0])
    tasks = [
        Task("ann", "exercise1", str(file), file.name, None, planned),
        Task("bob", "exercise1", str(file), file.name, None, "0" * 16),
    ]
    for pool in (LocalPool(graded, jobs=1), DaskPool(graded, cluster.scheduler.address)):
        try:
            outcomes = {outcome.task.student: outcome for outcome in pool.run(tasks)}
        finally:
            pool.close()
        assert outcomes["ann"].report is not None and outcomes["ann"].report["score"] == 4
        assert outcomes["bob"].report is None
        assert "changed during the run" in str(outcomes["bob"].failure)
