"""Dropping root: the worker becomes `nobody` before any student code runs.

Used only when the worker starts as root (the grader runs as root). The worker keeps one
capability, CAP_DAC_READ_SEARCH, so it can still reach Python where only root could (pyenv under
/root, say); what it may actually read is decided by Landlock (grader.landlock), applied first.
As `nobody` it cannot signal or trace the grader's processes, and limits on the number of
processes bind it. Standard library only: the worker imports this.
"""

from __future__ import annotations

import ctypes
import os
import resource

from grader.libc import libc as loaded_libc

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


def become_nobody(home: str) -> bool:
    """Switch to uid and gid `nobody`, keeping only CAP_DAC_READ_SEARCH; True if done.

    ``home`` (the worker's folder) is given to `nobody` first. Returns False, still root, if a step
    before the switch fails; raises SystemExit if one after it fails, so that no student code runs
    in a half-dropped process.
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False
    libc = loaded_libc()
    try:
        os.chown(home, NOBODY, NOBODY)
        if libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0:
            return False
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    except OSError:
        return False
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
    # A backstop where no pids cgroup could be made: it binds `nobody`, never root. It counts
    # every `nobody` process on the machine, so it is generous.
    resource.setrlimit(resource.RLIMIT_NPROC, (NOBODY_PROCESS_LIMIT, NOBODY_PROCESS_LIMIT))
    return os.getuid() == NOBODY and os.geteuid() == NOBODY
