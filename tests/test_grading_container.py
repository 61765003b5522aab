"""One grading, one container: nothing a submission does outlives its grading or reaches another.

Each attack is a real submission, graded as `grade` and `grade batch` grade it, with the harm it
did before the grading's cgroup, the PID and IPC namespaces and the private view: processes that
outlive the grading (setsid, double forks, a cleared parent-death signal, a grader killed by
SIGKILL), SysV and POSIX shared memory left for the next student, memory taken by several
processes each under the per-process limit, the machine's /proc, and the answer key stat-ed,
watched or reached through a socket. Leftovers are looked for among this test's own markers and
this process's own cgroups only: other gradings may run on the machine meanwhile.
"""

from __future__ import annotations

import os
import platform
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.course import load_course
from grader.limits import Limits
from grader.runner import grade
from grader.sandbox import cgroups
from grader.sandbox.launcher import Launcher
from grader.sandbox.layers import available_child_layers, requested_layers
from grader.student_code.objects import StudentModule
from grader.student_code.session import StudentSession
from grader.submission import Source
from tests.helpers import REPO, write_course

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="the container's layers are tested where the grader runs as root"
)


def layer(name: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(name not in available_child_layers(), reason=f"no {name} here")


# The worker tries to clear its own parent-death signal; then a process leaves the worker's
# session and process group, clears its parent-death signal, names itself MARKER and spins: it
# must die with the grading anyway, and with a grader killed by SIGKILL.
ESCAPE = """
import ctypes as _ctypes
import os as _os

_ctypes.CDLL(None).prctl(1, 0, 0, 0, 0)
if _os.fork() == 0:
    _os.setsid()
    if _os.fork() == 0:
        _libc = _ctypes.CDLL(None)
        _libc.prctl(1, 0, 0, 0, 0)
        _libc.prctl(15, _ctypes.c_char_p(b"MARKER"), 0, 0, 0)
        while True:
            pass
    _os._exit(0)
"""


def marker() -> str:
    return "m" + uuid.uuid4().hex[:12]  # a process name: at most 15 bytes


def named(name: str) -> list[int]:
    """Live processes called ``name`` (zombies are dead: they hold nothing)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (entry / "comm").read_text().strip() == name and "Z" not in _state(entry):
                found.append(int(entry.name))
        except (OSError, ValueError):
            continue
    return found


def _state(entry: Path) -> str:
    stat = (entry / "stat").read_text()
    return stat[stat.rindex(")") + 2 :].split()[0]


def wait_until(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def escaping_submission(folder: Path, name: str, hang: bool) -> Path:
    """Exercise 3's solution that starts an escaping process at load; with ``hang``, its
    chain_rule never returns, so the grading is still running when the test acts."""
    text = ESCAPE.replace("MARKER", name) + (REPO / "solutions/exercise3_chain_rule.py").read_text()
    if hang:
        text += "\n\ndef chain_rule(f_prime, g, g_prime, x):\n    while True:\n        pass\n"
    path = folder / "exercise3_chain_rule.py"
    path.write_text(text)
    return path


@pytest.mark.slow
@layer("whole process tree killed")
def test_no_process_outlives_a_grading_that_ends(tmp_path: Path) -> None:
    name = marker()
    path = escaping_submission(tmp_path, name, hang=False)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "exercise3",
            "--course",
            str(REPO),
            "--submission",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr  # the escape changed no score
    assert wait_until(lambda: not named(name), 2), f"{name} outlived its grading"


def _class_folder(tmp_path: Path, name: str) -> tuple[Path, Path]:
    submissions = tmp_path / "submissions"
    (submissions / "alice" / "exercises").mkdir(parents=True)
    escaping_submission(submissions / "alice" / "exercises", name, hang=True)
    return submissions, tmp_path / "graded"


@pytest.mark.slow
@layer("whole process tree killed")
@pytest.mark.parametrize("command", ["grade", "grade batch"])
def test_a_grader_killed_by_sigkill_takes_its_gradings_with_it(
    tmp_path: Path, command: str
) -> None:
    """As when the OOM killer ends the grader: its worker, the worker's children, and (in a
    batch) the grading processes and fork servers end within a second or two, and the next
    grader removes the cgroup it left."""
    name = marker()
    if command == "grade":
        path = escaping_submission(tmp_path, name, hang=True)
        arguments = ["exercise3", "--course", str(REPO), "--submission", str(path)]
    else:
        submissions, graded = _class_folder(tmp_path, name)
        arguments = ["batch", str(submissions), "--out", str(graded), "--course", str(REPO)]
    grader = subprocess.Popen(
        [sys.executable, "-m", "grader", *arguments],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_until(lambda: named(name), 60), "the escaping process never started"
        grader.send_signal(signal.SIGKILL)
        grader.wait(timeout=10)
        assert wait_until(lambda: not named(name), 3), f"{name} outlived its killed grader"
    finally:
        grader.kill()
        for pid in named(name):
            os.kill(pid, signal.SIGKILL)
    if not cgroups.cgroups_available():
        return
    left = [
        folder for h in cgroups.hierarchies() for folder in h.root.glob(f"grade-*-{grader.pid}-*")
    ]
    cgroups._swept.clear()
    group = cgroups.GradingCgroups.make(64)  # the next grader's first cgroup sweeps
    assert group is not None
    group.remove()
    assert not [folder for folder in left if folder.exists()]


SHARED_MEMORY = """
import ctypes
from multiprocessing import shared_memory

libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p


def leave(key, name):
    shmid = libc.shmget(key, 4096, 0o1666)
    if shmid >= 0:
        ctypes.memmove(libc.shmat(shmid, None, 0), b"note", 4)
    try:
        posix = shared_memory.SharedMemory(name=name, create=True, size=4096)
        posix.buf[:4] = b"note"
        posix._mmap = None  # keep it: nothing unlinks it at exit
    except OSError:
        pass
    return shmid


def find(key, name):
    try:
        shared_memory.SharedMemory(name=name).close()
        posix = True
    except OSError:
        posix = False
    return [libc.shmget(key, 0, 0) >= 0, posix]
"""


def _host_segments() -> set[int]:
    lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    return {int(line.split()[0]) for line in lines}


@pytest.fixture(params=["fresh", "forked"])
def launcher(request: pytest.FixtureRequest) -> Iterator[Launcher]:
    made = Launcher()
    if request.param == "forked":
        made.use_forkserver()
    yield made
    made.close()


def session(code: str, launcher: Launcher, limits: Limits | None = None) -> StudentSession:
    made = StudentSession(
        Source("probe.py", "probe.py", code),
        limits or Limits(call_seconds=10),
        time.monotonic() + 60,
        start_worker=launcher.take,
    )
    assert made.load(), made.load_error
    return made


@layer("private IPC")
def test_shared_memory_dies_with_its_grading(launcher: Launcher) -> None:
    key, name = int(uuid.uuid4().int % 2**30) + 1, marker()
    first = session(SHARED_MEMORY, launcher)
    try:
        StudentModule(first).leave(key, name)
    finally:
        first.close()
    assert key not in _host_segments()
    assert not Path(f"/dev/shm/{name}").exists()
    second = session(SHARED_MEMORY, launcher)
    try:
        assert StudentModule(second).find(key, name) == [False, False]
    finally:
        second.close()


HOLD_MEMORY = """
import os
import time


def hold(children, megabytes):
    report_read, report_write = os.pipe()
    alive = set()
    for _ in range(children):
        pid = os.fork()
        if pid == 0:
            try:
                block = bytearray(megabytes * 1024 * 1024)
                for index in range(0, len(block), 4096):
                    block[index] = 1
                os.write(report_write, b"x")
                time.sleep(60)
            finally:
                os._exit(0)
        alive.add(pid)

    def reap():
        for pid in list(alive):
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                alive.discard(pid)

    os.set_blocking(report_read, False)
    reported, deadline = 0, time.monotonic() + 15
    while reported < len(alive) and time.monotonic() < deadline:
        try:
            reported += len(os.read(report_read, 64))
        except BlockingIOError:
            time.sleep(0.05)
        reap()
    time.sleep(0.5)
    reap()
    return len(alive)
"""


@pytest.mark.slow
@layer("grading cgroup")
def test_memory_is_limited_for_the_grading_as_a_whole(launcher: Launcher) -> None:
    """Three children each under the per-process limit, together over the grading's: the
    kernel stops some, so that what is alive at once fits the grading's memory_mb."""
    limits = Limits(call_seconds=30, wall_seconds=60, memory_mb=600)
    held = session(HOLD_MEMORY, launcher, limits)
    try:
        alive = StudentModule(held).hold(3, 250)
    except Exception as error:  # the kernel may pick the worker itself: a crash, named
        assert "memory" in str(error)
    else:
        assert alive * 250 < 600
    finally:
        held.close()


PROC = """
import os


def processes():
    return sorted(int(name) for name in os.listdir("/proc") if name.isdigit())


def read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read(64).decode(errors="replace")
    except OSError as error:
        return type(error).__name__
"""


@layer("private view")
def test_the_worker_sees_only_its_grading_s_processes(launcher: Launcher) -> None:
    probe = session(PROC, launcher)
    try:
        student = StudentModule(probe)
        assert student.processes() == [1]  # the worker, process 1 of its namespace
        # The grader's own command line is not there to read (the pid is the machine's).
        assert student.read(f"/proc/{os.getpid()}/cmdline") in ("FileNotFoundError", "")
    finally:
        probe.close()


ANSWER_KEY = """
import ctypes
import os
import socket

libc = ctypes.CDLL(None, use_errno=True)


def look(path):
    seen = {}
    try:
        os.stat(path)
        seen["stat"] = "ok"
    except OSError as error:
        seen["stat"] = type(error).__name__
    watcher = libc.inotify_init()
    seen["inotify"] = "ok" if libc.inotify_add_watch(watcher, path.encode(), 0x20) >= 0 else "no"
    return seen


def connect(path):
    try:
        socket.socket(socket.AF_UNIX).connect(path)
        return "connected"
    except OSError as error:
        return type(error).__name__
"""


@layer("private view")
def test_the_answer_key_cannot_be_stat_ed_or_watched(launcher: Launcher) -> None:
    probe = session(ANSWER_KEY, launcher)
    try:
        for target in ("solutions", "solutions/exercise3_chain_rule.py", "checks", "course.yaml"):
            seen = StudentModule(probe).look(str(REPO / target))
            assert seen == {"stat": "FileNotFoundError", "inotify": "no"}, target
    finally:
        probe.close()


@layer("private view")
def test_a_socket_in_a_root_only_folder_cannot_be_reached(
    launcher: Launcher, tmp_path: Path
) -> None:
    """A world-writable socket in a folder only root may enter: `nobody` with no capability,
    in a view where the folder does not exist, cannot connect."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(private / "control.sock"))
    os.chmod(private / "control.sock", 0o777)
    listener.listen()
    probe = session(ANSWER_KEY, launcher)
    try:
        assert StudentModule(probe).connect(str(private / "control.sock")) == "FileNotFoundError"
    finally:
        probe.close()
        listener.close()


@pytest.mark.slow
@layer("private view")
def test_a_submission_graded_in_the_view_scores_as_before(tmp_path: Path) -> None:
    """Correct code loses nothing in the view: the solutions of every exercise score full."""
    course = load_course(write_course(tmp_path, load_course(REPO / "course.yaml")))
    for exercise in course.exercises:
        assert exercise.solution_file is not None
        result = grade(course, exercise, exercise.solution_file)
        assert result.score == result.max_score, exercise.id


FILL = """
import os


def fill(megabytes):
    written = 0
    block = b"x" * (1 << 20)
    try:
        for number in range(megabytes):
            with open(f"part{number}", "wb") as handle:
                handle.write(block)
            written += 1
    except OSError as error:
        return [written, error.errno]
    return [written, 0]


def look():
    with open("/proc/1/cmdline", "rb") as handle:
        command = handle.read().decode(errors="replace")
    try:
        with open("/proc/1/environ", "rb") as handle:
            environment = handle.read().decode(errors="replace")
    except OSError as error:
        environment = type(error).__name__
    return [command, environment, os.getcwd()]
"""


@layer("private view")
def test_the_worker_s_folder_cannot_fill_the_disk(launcher: Launcher) -> None:
    """Its folder is a tmpfs of the grading's memory: writing stops there (no space, or the
    grading's memory), never on the machine's disk."""
    limits = Limits(call_seconds=20, wall_seconds=40, memory_mb=128)
    probe = session(FILL, launcher, limits)
    try:
        written, errno = StudentModule(probe).fill(400)
        assert written < 128 and errno == 28  # ENOSPC
    except Exception as error:  # the grading's memory ran out first
        assert "memory" in str(error)
    finally:
        probe.close()


@layer("private view")
def test_the_worker_reads_none_of_the_grader_s_settings(launcher: Launcher) -> None:
    """The worker's command line and the environment it started with (both readable in its
    /proc) hold none of the grader's settings, folders or cgroups."""
    probe = session(FILL, launcher)
    try:
        command, environment, folder = StudentModule(probe).look()
    finally:
        probe.close()
    assert folder == "/grading"
    assert "grade-worker" not in command and "cgroup" not in command
    for secret in ("grade-worker", "cgroup", '"layers"'):
        assert secret not in environment, secret


KEYRINGS = """
import ctypes

libc = ctypes.CDLL(None, use_errno=True)
USER_KEYRING = -4  # KEY_SPEC_USER_KEYRING: shared by every process of the user


def leave(add_key, description):
    added = libc.syscall(add_key, b"user", description.encode(), b"note", 4, USER_KEYRING)
    return [added, ctypes.get_errno()]


def find(keyctl, description):
    return libc.syscall(keyctl, 10, USER_KEYRING, b"user", description.encode(), 0)  # SEARCH


def clear(keyctl):
    return libc.syscall(keyctl, 7, USER_KEYRING)  # CLEAR
"""


def numbers() -> dict[str, int]:
    from grader.sandbox.seccomp import ARCHITECTURES

    return ARCHITECTURES[platform.machine()][1]


@layer("private view")
@pytest.mark.skipif(
    "system calls filtered" not in requested_layers(), reason="no seccomp filter here"
)
@pytest.mark.slow
def test_the_kernel_s_keyrings_carry_nothing_between_gradings(launcher: Launcher) -> None:
    """Every `nobody` worker shares one user keyring, which outlives them: the filter refuses
    it, so a note left by one grading never reaches the next."""
    description = marker()
    first = session(KEYRINGS, launcher)
    try:
        added, errno = StudentModule(first).leave(numbers()["add_key"], description)
    finally:
        first.close()
    second = session(KEYRINGS, launcher)
    try:
        found = StudentModule(second).find(numbers()["keyctl"], description)
        if added >= 0:  # the filter is not doing its job: leave nobody's keyring as it was
            StudentModule(second).clear(numbers()["keyctl"])
    finally:
        second.close()
    assert (added, errno) == (-1, 1)  # EPERM
    assert found == -1


SYSTEM_CALLS = """
import ctypes
import os
import subprocess
import threading

import numpy as np

libc = ctypes.CDLL(None, use_errno=True)


def refused(calls):
    results = {}
    for name, (number, arguments) in calls.items():
        results[name] = [libc.syscall(number, *arguments), ctypes.get_errno()]
    return results


def ordinary_work():
    thread = threading.Thread(target=lambda: None)
    thread.start()
    thread.join()
    child = os.fork()
    if child == 0:
        os._exit(3)
    forked = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
    ran = subprocess.run(["true"]).returncode
    return [forked, ran, float(np.linalg.norm(np.ones(4)))]
"""


@pytest.mark.skipif(
    "system calls filtered" not in requested_layers(), reason="no seccomp filter here"
)
def test_calls_a_grading_never_needs_are_refused_and_ordinary_work_is_not(
    launcher: Launcher,
) -> None:
    calls = {
        "unshare": (numbers()["unshare"], [0x10000000]),  # a new user namespace
        "io_uring_setup": (numbers()["io_uring_setup"], [8, 0]),
        "bpf": (numbers()["bpf"], [0, 0, 0]),
        "ptrace": (numbers()["ptrace"], [0, 0, 0, 0]),  # PTRACE_TRACEME
    }
    probe = session(SYSTEM_CALLS, launcher)
    try:
        student = StudentModule(probe)
        assert student.refused(calls) == {name: [-1, 1] for name in calls}
        assert student.ordinary_work() == [3, 0, 2.0]  # threads, fork, subprocess, numpy
    finally:
        probe.close()
