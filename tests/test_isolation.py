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

from grader.cli import main
from grader.course import Course
from grader.limits import Limits
from grader.runner import grade
from grader.sandbox import cgroups, landlock, namespaces
from grader.sandbox.launcher import Launcher
from grader.sandbox.layers import active_layer_names, available_child_layers, layer_reports
from grader.sandbox.process import WorkerProcess, remove_stale_folders
from grader.student_code.objects import StudentModule
from grader.student_code.session import StudentSession
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
    for layer in layer_reports():
        assert layer.name in out and layer.detail in out
    assert main(["doctor", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [item["name"] for item in listed] == [layer.name for layer in layer_reports()]


def solutions_graded_as_json(capsys: pytest.CaptureFixture[str]) -> dict:
    """`grade exercise3 --format json` of the reference solution, as its report."""
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
    return json.loads(capsys.readouterr().out)


def test_json_report_names_the_active_layers(capsys: pytest.CaptureFixture[str]) -> None:
    report = solutions_graded_as_json(capsys)
    active = [layer.name for layer in layer_reports() if layer.active]
    assert report["sandbox"] == active
    assert "separate process" in active
    assert report["sandbox_off"] == [
        {"name": layer.name, "why": layer.detail} for layer in layer_reports() if not layer.active
    ]


@pytest.mark.parametrize(
    ("switch", "layers"),
    [
        (
            "GRADE_NO_NAMESPACES",
            ["whole process tree killed", "no network", "private IPC", "private view"],
        ),
        ("GRADE_NO_CGROUPS", ["grading cgroup"]),
        ("GRADE_NO_SECCOMP", ["system calls filtered"]),
    ],
)
def test_layers_switched_off_are_reported_off_with_what_follows(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    switch: str,
    layers: list[str],
) -> None:
    """Where a layer is off, grade doctor and every JSON report say so, and why."""
    monkeypatch.setenv(switch, "1")
    assert main(["doctor", "--format", "json"]) == 0
    doctor = {item["name"]: item for item in json.loads(capsys.readouterr().out)}
    for name in layers:
        assert doctor[name]["active"] is False and switch in doctor[name]["detail"]
    report = solutions_graded_as_json(capsys)
    assert report["score"] == report["max_score"]  # grading still works
    off = {item["name"]: item["why"] for item in report["sandbox_off"]}
    for name in layers:
        assert name not in report["sandbox"] and switch in off[name]


@pytest.mark.skipif(
    not namespaces.can_unshare(namespaces.CLONE_NEWNET),
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
    not namespaces.can_unshare(namespaces.CLONE_NEWPID),
    reason="no PID namespace here (needs root or CAP_SYS_ADMIN)",
)
@pytest.mark.parametrize("started", ["fresh", "forked"])
def test_no_process_outlives_its_grading(course, tmp_path: Path, started: str) -> None:
    from grader.sandbox.launcher import default_launcher

    if started == "forked":
        default_launcher().use_forkserver()
    try:
        _grade_with_an_escaping_child(course, tmp_path)
    finally:
        default_launcher().stop_forkserver()


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
        # In the private view it does not exist; without one, Landlock refuses it.
        view = "private view" in available_child_layers()
        assert student.read("/etc/shadow") == ("FileNotFoundError" if view else "PermissionError")
        assert student.read("/etc/passwd") == "read"
    finally:
        session.close()


def test_grading_works_without_the_optional_layers(monkeypatch: pytest.MonkeyPatch, course) -> None:
    """As on a runner that forbids namespaces and cgroups: the remaining layers still grade."""
    from grader.sandbox.layer import NO_CGROUPS, NO_NAMESPACES

    monkeypatch.setenv(NO_NAMESPACES, "1")
    monkeypatch.setenv(NO_CGROUPS, "1")
    exercise = course.exercise("exercise3")
    assert exercise.solution_file is not None
    result = grade(course, exercise, exercise.solution_file)
    assert result.score == result.max_score


def test_a_worker_that_did_not_restrict_itself_is_reported_as_such() -> None:
    """The report believes the workers, not the machine, for the layers they apply themselves."""
    everything = active_layer_names()
    own = ["answer key hidden", "unprivileged user", "system calls filtered"]
    all_applied = {name: True for name in own}
    assert active_layer_names([all_applied, all_applied]) == everything
    for name in own:
        if name in everything:
            without = active_layer_names([all_applied, {**all_applied, name: False}])
            assert [other for other in everything if other != name] == without


@pytest.mark.skipif(not cgroups.cgroups_available(), reason="no cgroup can be made here")
def test_cgroups_left_by_a_killed_grader_are_removed() -> None:
    """A grader killed by kill -9 leaves its cgroup, perhaps with processes in it; the next
    grader kills them and removes the cgroup."""
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = [hierarchy.root / f"grade-worker-{dead.pid}-1" for hierarchy in cgroups.hierarchies()]
    for folder in stale:
        folder.mkdir()
    lingering = subprocess.Popen(["sleep", "60"])
    cgroups.GradingCgroups(stale, 0).join_process(lingering.pid)
    cgroups._swept.clear()
    group = cgroups.GradingCgroups.make(64)
    assert group is not None
    group.remove()
    assert lingering.wait(timeout=5) == -9
    assert not any(folder.exists() for folder in stale)


def test_folders_left_by_a_killed_grader_are_removed(tmp_path: Path, monkeypatch) -> None:
    """A grader killed by kill -9 leaves its workers' folders; the next batch removes them,
    and only those."""
    import subprocess
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f"grade-worker-{dead.pid}-x1"
    live = tmp_path / f"grade-worker-{os.getpid()}-x2"
    other = tmp_path / f"grade-notes-{dead.pid}-x3"
    for folder in (stale, live, other):
        folder.mkdir()
    remove_stale_folders()
    assert not stale.exists() and live.exists() and other.exists()


def test_a_killed_fork_server_is_replaced(course: Course) -> None:
    """Where a worker can signal its parent (no PID namespace, the grader's own user), it can
    kill the fork server it came from; the next grading gets a new one."""
    import signal

    from grader.runner import grade
    from grader.sandbox.forkserver import ForkserverStarter
    from grader.sandbox.launcher import default_launcher

    exercise = course.exercise("exercise1")
    launcher = default_launcher()
    launcher.use_forkserver()
    try:
        starter = launcher.forkserver
        assert isinstance(starter, ForkserverStarter)
        first = starter.server
        os.kill(first._process.pid, signal.SIGKILL)
        first._process.wait()
        result = grade(course, exercise, exercise.solution_file)
        assert result.score == result.max_score
        assert starter.server is not first
    finally:
        launcher.stop_forkserver()


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
    from grader.sandbox.forkserver import ForkserverStarter

    launcher = Launcher()
    launcher.use_forkserver()
    try:
        starter = launcher.forkserver
        assert isinstance(starter, ForkserverStarter)
        server = starter.server.pid
        deadline = time.monotonic() + 10
        for started in itertools.count(1):
            worker = WorkerProcess(Limits(), starter)
            worker.wait_ready()  # each request to the server reaps what has ended by then
            worker.kill()
            # Only this server's own: other gradings on the machine leave theirs to their parents.
            lingering = _zombies("grade-worker", {server})
            # The last worker's own leftover may not have been reaped yet: at most one.
            if started >= 8 and (len(lingering) <= 1 or time.monotonic() > deadline):
                break
        assert len(lingering) <= 1, f"{len(lingering)} unreaped workers after {started}"
    finally:
        launcher.close()


NAMESPACE_PROBE = """
import os


def where():
    return [os.getpid(), os.getppid(), os.readlink("/proc/self/ns/pid")]
"""


@pytest.mark.skipif(
    not namespaces.can_unshare(namespaces.CLONE_NEWPID),
    reason="no PID namespace here (needs CAP_SYS_ADMIN)",
)
@pytest.mark.parametrize("started", ["fresh", "forked"])
def test_each_worker_has_a_pid_namespace_of_its_own(started: str) -> None:
    """The worker is process 1 of its own namespace (its parent outside it: 0); two
    workers alive at once are in two namespaces (a namespace's number is reused once it is gone,
    so they are compared while both live)."""
    launcher = Launcher()
    if started == "forked":
        launcher.use_forkserver()
    sessions = [
        StudentSession(
            Source("probe.py", "probe.py", NAMESPACE_PROBE),
            Limits(),
            time.monotonic() + 30,
            start_worker=launcher.take,
        )
        for _ in range(2)
    ]
    try:
        assert all(session.load() for session in sessions)
        seen = [StudentModule(session).where() for session in sessions]
    finally:
        for session in sessions:
            session.close()
        launcher.close()
    assert [(pid, parent) for pid, parent, _ in seen] == [(1, 0), (1, 0)]
    spaces = {space for _, _, space in seen}
    assert len(spaces) == 2 and os.readlink("/proc/self/ns/pid") not in spaces
