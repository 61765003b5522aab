"""Namespaces: a worker's own process tree, network and IPC, and the chain that ends them.

The process tree. The worker is process 1 of a PID namespace of its own: when it ends, the kernel
kills every process left in the namespace, children that called setsid(), double forks,
anything. It holds a parent-death signal, set again once it has dropped root (which clears it,
`rearm_parent_death`), which the student's code cannot clear: the system-call filter
(grader.sandbox.seccomp) refuses that prctl. The chain that ends a grading:

    grader --(pdeathsig)--> keeper or fork server --(pdeathsig)--> worker --(namespace)--> all

so a grader killed by SIGKILL (the OOM killer) takes its gradings' processes with it at once.
(An init of our own above the worker would hold the signal without the filter, but costs a
fork per worker: a sixth of a batch's speed, measured.)

Network and IPC. A new network namespace has only a loopback that is down: no connection at all.
A new IPC namespace (with a new UTS namespace) gives the worker its own SysV shared memory,
semaphores and message queues, which die with it, and which no other grading can see.

All of these need root or CAP_SYS_ADMIN. GRADE_NO_NAMESPACES=1 switches them off, as on a
machine that forbids them. Standard library only: the worker's starting process imports this.
"""

from __future__ import annotations

import ctypes
import functools
import os
import select
import signal
from collections.abc import Callable
from typing import NoReturn

from grader.sandbox.layer import NO_NAMESPACES, Layer, Stage, switched_off
from grader.sandbox.libc import libc
from grader.sandbox.settings import WorkerSettings

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NAME = 15
PR_SET_CHILD_SUBREAPER = 36
INIT_FAILED = 71  # the process could not become the worker: a layer failed, or its parent died


@functools.cache
def _unshare_function() -> Callable[[int], None]:
    """os.unshare where Python has it (3.12+), else the C library's unshare(2). Looked up in the
    grader or the fork server, never for the first time in a child after fork."""
    if hasattr(os, "unshare"):
        return os.unshare
    loaded = libc()

    def unshare(flags: int) -> None:
        if loaded.unshare(flags) != 0:
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
    if libc().setns(fd, nstype) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


# The namespace kinds probed, each one flag, and what the probe's exit status says of each.
PROBED_KINDS = (CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNS, CLONE_NEWUSER)
VIEW_MOUNTS = 1 << len(PROBED_KINDS)  # the probe's bit for "a view's mounts can be made"


def can_unshare(flags: int) -> bool:
    """Whether a child process may create these namespaces here, and they are not switched off."""
    allowed = _probe()
    kinds = [kind for kind in PROBED_KINDS if flags & kind]
    return not switched_off(NO_NAMESPACES) and all(allowed & kind for kind in kinds)


def can_mount_view() -> bool:
    """Whether a worker could mount its private view here: a tmpfs, and a /proc of a new PID
    namespace, in a mount namespace of its own (a container may allow the namespaces and refuse
    these)."""
    return not switched_off(NO_NAMESPACES) and bool(_probe() & VIEW_MOUNTS)


@functools.cache
def _probe() -> int:
    """What a child process may do here, as a worker would (as an ordinary user, inside a user
    namespace of its own): each namespace kind of `PROBED_KINDS` it may create, and
    `VIEW_MOUNTS`, as bits. Probed once for all, by one child and its child (~3 ms), whose exit
    statuses carry the bits."""
    if not hasattr(os, "fork"):
        return 0
    _unshare_function()  # loaded here, so the child only calls it
    import grader.sandbox.mounts  # noqa: F401  (and this, which the probe's child uses)

    probe = os.fork()
    if probe == 0:  # the probe child: never returns into the grader's code
        allowed = 0
        try:
            if not running_as_root():
                enter_user_namespace()
            # A new user namespace last: after it, this process has no right over the mount
            # namespace it made before, where the view's mounts are tried.
            for kind in (*[kind for kind in PROBED_KINDS if kind != CLONE_NEWUSER], CLONE_NEWUSER):
                if kind == CLONE_NEWUSER and allowed & CLONE_NEWPID and allowed & CLONE_NEWNS:
                    allowed |= _view_mounts_allowed()
                try:
                    _unshare_function()(kind)
                    allowed |= kind
                except OSError:
                    pass
        finally:
            _report_bits(allowed)
    _, status = os.waitpid(probe, 0)
    return _bits_of(os.waitstatus_to_exitcode(status))


def _view_mounts_allowed() -> int:
    """`VIEW_MOUNTS` if a child (process 1 of the PID namespace the caller made) may make a
    view's mounts in the caller's new mount namespace, else 0."""
    from grader.sandbox.mounts import MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_REC, mount

    init = os.fork()
    if init == 0:
        try:
            mount(None, "/", None, MS_REC | MS_PRIVATE)  # the tmpfs is the probe's alone
            mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=64k")
            os.mkdir("/tmp/proc")
            mount("proc", "/tmp/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        except BaseException:
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(init, 0)
    return VIEW_MOUNTS if os.waitstatus_to_exitcode(status) == 0 else 0


def _report_bits(allowed: int) -> NoReturn:
    """End the probe child with ``allowed`` as its exit status: one bit per kind, in order."""
    code = sum(1 << index for index, kind in enumerate(PROBED_KINDS) if allowed & kind)
    os._exit(code | (1 << len(PROBED_KINDS) if allowed & VIEW_MOUNTS else 0))


def _bits_of(code: int) -> int:
    if code < 0:
        return 0
    allowed = sum(kind for index, kind in enumerate(PROBED_KINDS) if code & (1 << index))
    return allowed | (VIEW_MOUNTS if code & (1 << len(PROBED_KINDS)) else 0)


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def enter_user_namespace() -> None:
    """Move this process into a user namespace of its own, where its user and group are
    themselves: it then holds every capability there and none outside, enough to make the other
    namespaces and the private view (an ordinary user's way to them)."""
    uid, gid = os.getuid(), os.getgid()
    unshare(CLONE_NEWUSER)
    for name, text in (
        ("setgroups", "deny"),
        ("uid_map", f"{uid} {uid} 1"),
        ("gid_map", f"{gid} {gid} 1"),
    ):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)


def why_no_namespace() -> str:
    if switched_off(NO_NAMESPACES):
        return f"switched off by {NO_NAMESPACES}"
    if running_as_root():
        return "needs CAP_SYS_ADMIN to create namespaces"
    return (
        "needs root, or user namespaces that an ordinary user may create (the kernel or "
        "AppArmor forbids them here)"
    )


# ---------------------------------------------------------------- dying with a parent


_parent_check: tuple[int | None, int | None] = (None, None)  # (lifeline, parent), as given


def die_with_parent(lifeline: int | None = None, parent: int | None = None) -> None:
    """SIGKILL this process when its parent dies, and end it now if the parent already has.

    The parent is known to be alive after the prctl by ``parent`` (its pid: outside a new PID
    namespace) or by ``lifeline``, the read end of a pipe whose write end only the parent holds
    (inside one, where getppid() is 0). Both are kept, for `rearm_parent_death`.
    """
    global _parent_check
    _parent_check = (lifeline, parent)
    libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if parent is not None and os.getppid() != parent:
        os._exit(INIT_FAILED)
    if lifeline is not None:
        readable, _, _ = select.select([lifeline], [], [], 0)
        if readable:  # end of file: the only writer is gone
            os._exit(INIT_FAILED)


def rearm_parent_death() -> None:
    """Set the parent-death signal again, after a change of credentials cleared it (becoming
    `nobody`, or a user namespace), and let go of the lifeline: student code comes next, and the
    system-call filter (grader.sandbox.seccomp) keeps it from clearing the signal itself."""
    lifeline, parent = _parent_check
    die_with_parent(lifeline, parent)
    if lifeline is not None:
        os.close(lifeline)


def name_process(name: bytes) -> None:
    """The name `ps -o comm` and `top` show (15 bytes at most)."""
    libc().prctl(PR_SET_NAME, ctypes.c_char_p(name[:15]), 0, 0, 0)


# ---------------------------------------------------------------- the process tree


def enter_pid_namespace() -> None:
    """Fork into a new PID namespace: the child returns as its process 1; this process stays
    behind as the keeper, ends as the child ended, and takes it down if it is itself killed.

    What util-linux's ``unshare --pid --fork --kill-child`` does, without its exec.
    """
    unshare(CLONE_NEWPID)
    lifeline_read, lifeline_write = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(lifeline_write)
        die_with_parent(lifeline=lifeline_read)
        return
    os.close(lifeline_read)
    name_process(b"grade-keeper")
    private_process()
    _, status = os.waitpid(child, 0)
    end_as(os.waitstatus_to_exitcode(status))


def end_as(status: int) -> NoReturn:
    """End this process as one that ended with ``status`` (negative: killed by that signal)."""
    if status < 0:
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    os._exit(status if status >= 0 else INIT_FAILED)


def private_process() -> None:
    """Keep this process's memory, environment and file descriptors out of /proc for every other
    process of the same user (a worker that shares its user, as an ordinary user's does)."""
    libc().prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


# ---------------------------------------------------------------- the layers


class UserNamespace(Layer):
    name = "user namespace"
    stage = Stage.CHILD

    @property
    def stops(self) -> str:  # type: ignore[override]
        if running_as_root():
            return "not needed: the grader runs as root, which makes the namespaces itself"
        return (
            "the namespaces and the private view are made in a user namespace of the worker's "
            "own, which gives it no right outside"
        )

    def missing(self) -> str | None:
        if running_as_root() or can_unshare(CLONE_NEWUSER):
            return None
        return why_no_namespace() + ": the namespace layers and the private view are off"

    def apply(self, settings: WorkerSettings) -> None:
        if not running_as_root():
            enter_user_namespace()


class WholeTreeKilled(Layer):
    name = "whole process tree killed"
    stage = Stage.CHILD
    stops = (
        "a PID namespace of its own, ended with its grader: no process the worker starts "
        "outlives the grading, not even if the grader is killed"
    )

    def missing(self) -> str | None:
        if can_unshare(CLONE_NEWPID):
            return None
        return (
            why_no_namespace() + "; a process the worker starts can outlive a grader that is "
            "killed, and, where no cgroup ends it, its grading"
        )

    def apply(self, settings: WorkerSettings) -> None:
        if os.getpid() != 1:  # the fork server may already have forked it into one
            enter_pid_namespace()


class NoNetwork(Layer):
    name = "no network"
    stage = Stage.CHILD
    stops = "a network namespace with no working interface: no connection, loopback included"

    def missing(self) -> str | None:
        return None if can_unshare(CLONE_NEWNET) else why_no_namespace()

    def apply(self, settings: WorkerSettings) -> None:
        unshare(CLONE_NEWNET)


class PrivateIpc(Layer):
    name = "private IPC"
    stage = Stage.CHILD
    stops = (
        "IPC and UTS namespaces: shared memory, semaphores and message queues of its own, "
        "gone with the grading"
    )

    def missing(self) -> str | None:
        if can_unshare(CLONE_NEWIPC | CLONE_NEWUTS):
            return None
        return (
            why_no_namespace()
            + "; SysV shared memory can outlive a grading and be read by the next"
        )

    def apply(self, settings: WorkerSettings) -> None:
        unshare(CLONE_NEWIPC | CLONE_NEWUTS)
