"""Dropping root: the worker becomes `nobody` before any student code runs.

Used only when the worker starts as root (the grader runs as root), and only once its files are
limited: by the private view (grader.sandbox.view), where nothing but what the worker needs
exists, or by Landlock (grader.sandbox.landlock). In the private view the worker keeps no
capability at all: the folders above Python's are the view's own, readable by anyone. With
Landlock alone it keeps CAP_DAC_READ_SEARCH, so it can still reach Python where only root could
(pyenv under /root, say), and Landlock decides what it may read. As `nobody` it cannot signal or
trace the grader's processes, and limits on the number of processes bind it. Standard library
only: the worker imports this.
"""

from __future__ import annotations

import ctypes
import os
import resource

from grader.sandbox.layer import Layer, Stage
from grader.sandbox.libc import libc as loaded_libc
from grader.sandbox.namespaces import UserNamespace, rearm_parent_death
from grader.sandbox.settings import WorkerSettings
from grader.sandbox.view import PrivateView

PR_CAP_AMBIENT_CLEAR_ALL = 4

NOBODY = 65534
NOBODY_PROCESS_LIMIT = 1024
CAP_DAC_READ_SEARCH = 2
CAPABILITY_VERSION_3 = 0x20080522
PR_SET_KEEPCAPS = 8
PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE = 47, 2


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def become_nobody(home: str, keep_read_capability: bool) -> bool:
    """Switch to uid and gid `nobody`; True if done. With ``keep_read_capability`` the process
    keeps CAP_DAC_READ_SEARCH (and its children get it too), else no capability at all.

    ``home`` (the worker's folder) is given to `nobody` first. Returns False, still root, if a step
    before the switch fails; raises SystemExit if one after it fails, so that no student code runs
    in a half-dropped process.
    """
    if not _root():
        return False
    libc = loaded_libc()
    try:
        os.chown(home, NOBODY, NOBODY)
        if keep_read_capability and libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0:
            return False
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)  # without KEEPCAPS, every capability goes with root
    except OSError:
        return False
    if keep_read_capability:
        bit = 1 << CAP_DAC_READ_SEARCH
        header = _CapHeader(CAPABILITY_VERSION_3, 0)
        data = (_CapData * 2)(_CapData(bit, bit, bit), _CapData(0, 0, 0))
        if (
            libc.capset(ctypes.byref(header), data) != 0
            or libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_DAC_READ_SEARCH, 0, 0) != 0
        ):
            raise SystemExit(
                f"the worker could not keep its one capability (errno {ctypes.get_errno()})"
            )
    # A backstop where no cgroup could be made: it binds `nobody`, never root. It counts every
    # `nobody` process on the machine, so it is generous.
    resource.setrlimit(resource.RLIMIT_NPROC, (NOBODY_PROCESS_LIMIT, NOBODY_PROCESS_LIMIT))
    return os.getuid() == NOBODY and os.geteuid() == NOBODY


def drop_capabilities() -> None:
    """Give up every capability (an ordinary user's worker holds them all in its own user
    namespace, where it made its namespaces and view); raises SystemExit if it cannot, so that no
    student code runs with them."""
    libc = loaded_libc()
    header = _CapHeader(CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)(_CapData(0, 0, 0), _CapData(0, 0, 0))
    if (
        libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0
        or libc.capset(ctypes.byref(header), data) != 0
    ):
        raise SystemExit(
            f"the worker could not give up its capabilities (errno {ctypes.get_errno()})"
        )


def _root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


class UnprivilegedUser(Layer):
    name = "unprivileged user"
    stage = Stage.WORKER
    stops = (
        "a worker started as root becomes `nobody` once its files are limited: with no "
        "capability in the private view, else keeping only the one to reach Python's files"
    )

    def missing(self) -> str | None:
        from grader.sandbox.landlock import abi_version

        if _root() and abi_version() < 1 and PrivateView().missing() is not None:
            return "the worker runs as root: dropping it needs Landlock or the private view first"
        return None

    def apply_in_worker(self, settings: WorkerSettings, applied: dict[str, bool]) -> bool:
        """Become `nobody` where this worker runs as root and its files are already limited (by
        Landlock, or the private view); True if the worker now runs unprivileged."""
        if not _root():
            if UserNamespace.name in settings.layers:
                drop_capabilities()  # those it held in its own user namespace
                rearm_parent_death()  # which entering it cleared
            return True
        view = PrivateView.name in settings.layers
        if not (applied.get("answer key hidden") or view):
            return False
        # In the private view the folders above Python's are ours and readable: no capability.
        become_nobody(os.getcwd(), keep_read_capability=not view)
        rearm_parent_death()  # the change of user cleared it
        return not _root()
