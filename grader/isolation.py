"""The layers that keep a worker from harming anything, and which of them this machine provides.

Always active: a separate process; Python's isolated mode; a fresh temporary folder and a cleared
environment; limits on memory, CPU time, file size and core dumps; deadlines with the process
group killed. Active where the machine allows it: a network namespace with no working interface,
so the worker can open no connection at all, and a PID namespace, so that no process the worker
starts outlives it (both need root, or CAP_SYS_ADMIN); Landlock, so the worker can read no file
but Python's, its packages' and the system's (Linux 5.13+, no privileges needed), after which a
worker started as root becomes `nobody` (grader.privileges).

`grade doctor` prints these; the JSON report lists the active ones for each grading. With
GRADE_NO_NAMESPACES=1 in the environment the namespace layers are switched off, as on a machine
that forbids them (to test and measure that case).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader import landlock
from grader.libc import libc as loaded_libc

CLONE_NEWNET = 0x40000000
CLONE_NEWPID = 0x20000000


@dataclass(frozen=True)
class Layer:
    """One protection layer: its name, whether it is active here, and what it stops or why not."""

    name: str
    active: bool
    detail: str


@functools.cache
def _unshare_function() -> Callable[[int], None]:
    """os.unshare where Python has it (3.12+), else the C library's unshare(2).

    Looked up in the grader, never for the first time in a child after fork.
    """
    if hasattr(os, "unshare"):
        return os.unshare
    import ctypes  # only on Pythons without os.unshare

    libc = loaded_libc()

    def unshare(flags: int) -> None:
        if libc.unshare(flags) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error))

    return unshare


def unshare(flags: int) -> None:
    """unshare(2): move the calling process into new namespaces (CLONE_* ``flags``)."""
    _unshare_function()(flags)


def setns(fd: int, nstype: int) -> None:
    """setns(2): join the namespace open at ``fd``; for CLONE_NEWPID, the one this process's
    next children are created in."""
    if hasattr(os, "setns"):
        os.setns(fd, nstype)
        return
    import ctypes  # only on Pythons without os.setns (before 3.12)

    if loaded_libc().setns(fd, nstype) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


def enter_network_namespace() -> None:
    """Move the calling process into a new network namespace (from a child, before exec)."""
    unshare(CLONE_NEWNET)


NO_NAMESPACES = "GRADE_NO_NAMESPACES"  # set to 1: grade as where namespaces are forbidden


def namespaces_switched_off() -> bool:
    return os.environ.get(NO_NAMESPACES, "") not in ("", "0")


@functools.cache
def _can_unshare(flags: int) -> bool:
    """Whether a child process may create these namespaces here (probed once, by fork: ~2 ms)."""
    if not hasattr(os, "fork"):
        return False
    _unshare_function()  # loaded here, so the child only calls it
    pid = os.fork()
    if pid == 0:  # the probe child: never returns into the grader's code
        try:
            _unshare_function()(flags)
        except OSError:
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def network_namespace_available() -> bool:
    """Whether the worker can be given a network namespace of its own."""
    return not namespaces_switched_off() and _can_unshare(CLONE_NEWNET)


# Runs the worker as process 1 of a new PID namespace: when it dies, the kernel kills every
# process left in the namespace, children that called setsid() included.
PID_NAMESPACE_PREFIX = ("--pid", "--fork", "--kill-child=SIGKILL")


def pid_namespace_command() -> tuple[str, ...]:
    """The command prefix that starts a process in a new PID namespace, or () if there is none
    here (util-linux's unshare is missing, or the namespace may not be created)."""
    if namespaces_switched_off():
        return ()
    unshare = _unshare_program()
    if unshare is None or not _can_unshare(CLONE_NEWPID):
        return ()
    return (unshare, *PID_NAMESPACE_PREFIX)


def pid_namespace_available() -> bool:
    """Whether a forked worker can become process 1 of a PID namespace (grader.forkserver)."""
    return not namespaces_switched_off() and _can_unshare(CLONE_NEWPID)


@functools.cache
def _unshare_program() -> str | None:
    return shutil.which("unshare")


PROCESS_LIMIT = 128  # processes and threads one worker may have at once
_cgroup_numbers = itertools.count(1)  # with the grader's pid, a name no other worker has


def _pids_hierarchies() -> list[Path]:
    """Where a pids cgroup for a worker could be made: cgroup v1's pids hierarchy, or a v2
    hierarchy that already hands the pids controller to its children."""
    candidates = [Path("/sys/fs/cgroup/pids")]
    for v2 in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified")):
        try:
            if "pids" in (v2 / "cgroup.subtree_control").read_text().split():
                candidates.append(v2)
        except OSError:
            continue
    return [path for path in candidates if path.is_dir()]


def _remove_stale_cgroups(hierarchy: Path) -> None:
    """Remove the empty cgroups left by graders that were killed (``kill -9``) before they could
    remove their own: their names hold the pid of a grader that no longer runs."""
    for group in hierarchy.glob("grade-*-*-*"):
        owner = group.name.split("-")[-2]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            with contextlib.suppress(OSError):
                group.rmdir()  # refused while processes remain in it


_swept: set[Path] = set()


def make_process_cgroup(limit: int = PROCESS_LIMIT, kind: str = "worker") -> Path | None:
    """A new cgroup allowing ``limit`` processes, or None where none can be made; ``kind``
    (worker, forkserver) goes into its name."""
    for hierarchy in _pids_hierarchies():
        if hierarchy not in _swept:
            _swept.add(hierarchy)
            _remove_stale_cgroups(hierarchy)
        group = hierarchy / f"grade-{kind}-{os.getpid()}-{next(_cgroup_numbers)}"
        try:
            group.mkdir()
        except OSError:
            continue
        try:
            (group / "pids.max").write_text(str(limit))
            return group
        except OSError:
            remove_process_cgroup(group)
    return None


def enter_process_cgroup(group: Path) -> None:
    """Move the calling process into ``group`` (from a child, before exec)."""
    with open(group / "cgroup.procs", "w") as procs:
        procs.write(str(os.getpid()))


def remove_process_cgroup(group: Path) -> None:
    """Remove an emptied cgroup; a few tries, as killed processes take a moment to go."""
    for _ in range(20):
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)


@functools.cache
def process_limit_available() -> bool:
    group = make_process_cgroup()
    if group is None:
        return False
    remove_process_cgroup(group)
    return True


def protection_layers() -> list[Layer]:
    """Every layer, active or not, on this machine, for this user."""
    network = network_namespace_available()
    tree = bool(pid_namespace_command())
    files = landlock.abi_version() >= 1
    processes = process_limit_available()
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    return [
        Layer(
            "separate process",
            True,
            "student code runs only in a worker; the grader compares and scores",
        ),
        Layer(
            "strict protocol",
            True,
            "the worker sends plain numbers and arrays, parsed under limits, never unpickled",
        ),
        Layer(
            "isolated interpreter",
            True,
            "python -I in a fresh temporary folder with a cleared environment",
        ),
        Layer("resource limits", True, "memory, CPU time, file size, open files and core dumps"),
        Layer("deadlines", True, "per call and per grading; the worker's process group is killed"),
        Layer(
            "whole process tree killed",
            tree,
            "a PID namespace: children that left the process group die with the worker"
            if tree
            else f"switched off by {NO_NAMESPACES}"
            if namespaces_switched_off()
            else "needs util-linux's unshare and the right to create a PID namespace; "
            "a child that calls setsid() can outlive its grading",
        ),
        Layer(
            "no network",
            network,
            "a network namespace with no working interface"
            if network
            else f"switched off by {NO_NAMESPACES}"
            if namespaces_switched_off()
            else "needs root or CAP_SYS_ADMIN to create a network namespace",
        ),
        Layer(
            "unprivileged user",
            not root or files,
            (
                "the worker drops root for `nobody` after Landlock, keeping only the capability to "
                "reach Python's files"
                if root
                else "the worker runs as the grader's own user"
            )
            if not root or files
            else "the worker runs as root: dropping it needs Landlock first",
        ),
        Layer(
            "process count limited",
            processes,
            f"a pids cgroup: at most {PROCESS_LIMIT} processes, so a fork bomb stops there"
            if processes
            else "needs a writable pids cgroup (root, or a delegated cgroup v2)",
        ),
        Layer(
            "answer key hidden",
            files,
            "Landlock: the worker reads only Python, its packages and system folders, and "
            "writes only its own folder"
            if files
            else "needs Linux 5.13+ with Landlock enabled: the worker can open files by path",
        ),
    ]


def active_layer_names(
    workers_restricted: list[bool] | None = None, workers_unprivileged: list[bool] | None = None
) -> list[str]:
    """The active layers' names. Given what the workers of a grading reported, the two layers a
    worker applies to itself count only if every one of them did."""
    names = [layer.name for layer in protection_layers() if layer.active]
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    if workers_restricted and not all(workers_restricted):
        names = [name for name in names if name != "answer key hidden"]
    if root and workers_unprivileged and not all(workers_unprivileged):
        names = [name for name in names if name != "unprivileged user"]
    return names
