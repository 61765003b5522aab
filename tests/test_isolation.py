"""The protection layers: what `grade doctor` reports, and the network layer doing its job."""

from __future__ import annotations

import itertools
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader import isolation, landlock
from grader.cli import main
from grader.course import Course
from grader.isolation import (
    active_layer_names,
    network_namespace_available,
    pid_namespace_command,
    protection_layers,
)
from grader.limits import Limits
from grader.proxy import StudentModule, StudentSession
from grader.runner import grade
from grader.submission import Source
from tests.helpers import REPO

PROBE = """
import socket


def connect(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return "connected"
    except OSError as error:
        return type(error).__name__

"""


@pytest.fixture
def listening_port() -> Iterator[int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    yield server.getsockname()[1]
    server.close()


def test_doctor_lists_every_layer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    for layer in protection_layers():
        assert layer.name in out and layer.detail in out
    assert main(["doctor", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [item["name"] for item in listed] == [layer.name for layer in protection_layers()]


def test_json_report_names_the_active_layers(capsys: pytest.CaptureFixture[str]) -> None:
    main(
        [
            "exercise3",
            "--course",
            str(REPO),
            "--submission",
            str(REPO / "solutions"),
            "--format",
            "json",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    active = [layer.name for layer in protection_layers() if layer.active]
    assert report["sandbox"] == active
    assert "separate process" in active


@pytest.mark.skipif(
    not network_namespace_available(),
    reason="no network namespace here (needs root or CAP_SYS_ADMIN)",
)
def test_student_code_opens_no_connection(listening_port: int) -> None:
    session = StudentSession(Source("probe.py", "probe.py", PROBE), Limits(), time.monotonic() + 30)
    try:
        student = StudentModule(session)
        assert student.connect(listening_port) == "OSError"
    finally:
        session.close()
    with socket.create_connection(("127.0.0.1", listening_port), timeout=1):
        pass  # the grader itself still can: the port was open all along


def processes_with(marker: str) -> list[int]:
    """Pids of live processes whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.skipif(
    not pid_namespace_command(),
    reason="no PID namespace here (needs util-linux's unshare and root or CAP_SYS_ADMIN)",
)
@pytest.mark.parametrize("started", ["fresh", "forked"])
def test_no_process_outlives_its_grading(course, tmp_path: Path, started: str) -> None:
    from grader import sandbox

    if started == "forked":
        sandbox.use_forkserver()
    try:
        _grade_with_an_escaping_child(course, tmp_path)
    finally:
        sandbox.stop_forkserver()


def _grade_with_an_escaping_child(course: Course, tmp_path: Path) -> None:
    marker = f"{time.time() % 1000:.6f}"  # a unique sleep length to find the child by
    escape = f"import subprocess\nsubprocess.Popen(['sleep', '{marker}'], start_new_session=True)\n"
    solution = (REPO / "solutions" / "exercise3_chain_rule.py").read_text()
    path = tmp_path / "exercise3_chain_rule.py"
    path.write_text(escape + solution)
    result = grade(course, course.exercise("exercise3"), path)
    assert result.score == result.max_score  # the child changed nothing
    deadline = time.monotonic() + 2
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(marker) == []


def test_worker_reports_whether_its_files_are_restricted() -> None:
    session = StudentSession(Source("probe.py", "probe.py", PROBE), Limits(), time.monotonic() + 30)
    try:
        assert session.load()
        assert session._worker is not None
        assert session._worker.files_restricted == (landlock.abi_version() >= 1)
    finally:
        session.close()


WHO = """
import os


def who():
    return os.getuid(), os.getgid()


def read(path):
    try:
        with open(path, "rb") as handle:
            handle.read(1)
        return "read"
    except OSError as error:
        return type(error).__name__
"""


@pytest.mark.skipif(
    os.geteuid() != 0 or landlock.abi_version() < 1,
    reason="dropping root is tested where the grader runs as root with Landlock",
)
def test_worker_started_as_root_becomes_nobody() -> None:
    session = StudentSession(Source("who.py", "who.py", WHO), Limits(), time.monotonic() + 30)
    try:
        student = StudentModule(session)
        assert student.who() == (65534, 65534)
        assert session._worker is not None and session._worker.unprivileged
        assert student.read("/etc/shadow") == "PermissionError"
        assert student.read("/etc/passwd") == "read"
    finally:
        session.close()


def test_grading_works_without_the_optional_layers(monkeypatch: pytest.MonkeyPatch, course) -> None:
    """As on a runner that forbids namespaces and cgroups: the remaining layers still grade."""
    import grader.sandbox as sandbox

    monkeypatch.setattr(sandbox, "network_namespace_available", lambda: False)
    monkeypatch.setattr(sandbox, "pid_namespace_command", lambda: ())
    monkeypatch.setattr(sandbox, "process_limit_available", lambda: False)
    exercise = course.exercise("exercise3")
    assert exercise.solution_file is not None
    result = grade(course, exercise, exercise.solution_file)
    assert result.score == result.max_score


def test_a_worker_that_did_not_restrict_itself_is_reported_as_such() -> None:
    """The report believes the workers, not the machine, for the layers they apply themselves."""
    everything = active_layer_names()
    assert active_layer_names([True, True], [True]) == everything
    without = active_layer_names([True, False], [True])
    assert "answer key hidden" not in without
    assert [name for name in everything if name != "answer key hidden"] == without


@pytest.mark.skipif(
    not isolation.process_limit_available(), reason="no pids cgroup can be made here"
)
def test_cgroups_left_by_a_killed_grader_are_removed() -> None:
    """A grader killed by kill -9 leaves its empty cgroup; the next grader removes it."""
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    hierarchy = isolation._pids_hierarchies()[0]
    stale = hierarchy / f"grade-forkserver-{dead.pid}-1"
    stale.mkdir()
    isolation._swept.discard(hierarchy)
    group = isolation.make_process_cgroup()
    assert group is not None
    isolation.remove_process_cgroup(group)
    assert not stale.exists()


def test_folders_left_by_a_killed_grader_are_removed(tmp_path: Path, monkeypatch) -> None:
    """A grader killed by kill -9 leaves its workers' folders; the next batch removes them,
    and only those."""
    import subprocess
    import tempfile

    from grader import sandbox

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f"grade-worker-{dead.pid}-x1"
    live = tmp_path / f"grade-worker-{os.getpid()}-x2"
    other = tmp_path / f"grade-notes-{dead.pid}-x3"
    for folder in (stale, live, other):
        folder.mkdir()
    sandbox.remove_stale_folders()
    assert not stale.exists() and live.exists() and other.exists()


def test_a_killed_fork_server_is_replaced(course: Course) -> None:
    """Where a worker can signal its parent (no PID namespace, the grader's own user), it can
    kill the fork server it came from; the next grading gets a new one."""
    import signal

    from grader import sandbox
    from grader.runner import grade

    exercise = course.exercise("exercise1")
    sandbox.use_forkserver()
    try:
        assert sandbox._forkserver is not None
        first = sandbox._forkserver.server
        os.kill(first._process.pid, signal.SIGKILL)
        first._process.wait()
        result = grade(course, exercise, exercise.solution_file)
        assert result.score == result.max_score
        assert sandbox._forkserver.server is not first
    finally:
        sandbox.stop_forkserver()


@pytest.mark.skipif(
    landlock.abi_version() < landlock.SCOPES_ABI, reason="Landlock scopes need ABI 6 (Linux 6.12+)"
)
def test_a_restricted_process_cannot_signal_outside() -> None:
    """Even as the grader's own user, a restricted worker cannot signal its parent."""
    child = os.fork()
    if child == 0:
        try:
            landlock.restrict_to([], [])
            try:
                os.kill(os.getppid(), 0)
            except PermissionError:
                os._exit(0)
            os._exit(1)
        finally:
            os._exit(2)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def _zombies(named: str, parents: set[int]) -> list[int]:
    """Pids of ended, unreaped processes called ``named`` whose parent is in ``parents``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        state, parent = stat[stat.rindex(")") + 2 :].split()[:2]
        if state == "Z" and name == named and int(parent) in parents:
            found.append(int(entry.name))
    return found


def test_a_fork_server_reaps_what_its_killed_workers_leave() -> None:
    """A killed worker's process 1 (of its PID namespace) is orphaned. Left to the machine's
    init, which may reap late or never, its zombies stay charged to the server's pids cgroup
    until no worker can fork; the server adopts and reaps them instead."""
    from grader import sandbox

    sandbox.use_forkserver()
    try:
        assert sandbox._forkserver is not None
        server = sandbox._forkserver.server._process.pid
        deadline = time.monotonic() + 10
        for started in itertools.count(1):
            worker = sandbox.WorkerProcess(Limits())
            worker.wait_ready()  # each request to the server reaps what has ended by then
            worker.kill()
            lingering = _zombies("grade-worker", {1, server})
            # The last worker's own leftover may not have been reaped yet: at most one.
            if started >= 8 and (len(lingering) <= 1 or time.monotonic() > deadline):
                break
        assert len(lingering) <= 1, f"{len(lingering)} unreaped workers after {started}"
    finally:
        sandbox.stop_forkserver()


NAMESPACE_PROBE = """
import os


def where():
    return [os.getpid(), os.readlink("/proc/self/ns/pid")]
"""


@pytest.mark.skipif(
    not isolation.pid_namespace_available(), reason="no PID namespace here (needs CAP_SYS_ADMIN)"
)
def test_each_forked_worker_is_process_1_of_its_own_pid_namespace() -> None:
    from grader import sandbox

    sandbox.use_forkserver()
    seen = []
    try:
        for _ in range(2):
            session = StudentSession(
                Source("probe.py", "probe.py", NAMESPACE_PROBE), Limits(), time.monotonic() + 30
            )
            try:
                assert session.load()
                seen.append(StudentModule(session).where())
            finally:
                session.close()
    finally:
        sandbox.stop_forkserver()
    assert [pid for pid, _ in seen] == [1, 1]
    namespaces = {namespace for _, namespace in seen}
    assert len(namespaces) == 2 and os.readlink("/proc/self/ns/pid") not in namespaces
