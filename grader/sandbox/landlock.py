"""Landlock: the worker gives up every file it does not need, before any student code runs.

Linux 5.13+ lets an unprivileged process restrict its own file access to an allow-list. The worker
keeps read access to Python, its packages, the grader package and system folders, and read-write
access to its own temporary folder; everything else becomes unreadable. The course's answer key
(solutions, hidden checks) and other submissions are never on the list. Where the kernel has
Landlock's scopes (ABI 6+), it also can no longer signal processes outside its restriction. The
restriction holds for every process the student's code starts.

Standard library only: the worker imports this. Linux system call numbers are the same on x86_64
and aarch64 (the generic table), which is all this module supports; elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
from collections.abc import Iterable

from grader.sandbox.layer import Layer, Stage
from grader.sandbox.libc import libc
from grader.sandbox.settings import WorkerSettings

SYSCALLS = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446)}
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

# File access rights by the ABI version that introduced them.
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
ABI_1_RIGHTS = (1 << 13) - 1  # execute ... make_sym
REFER, TRUNCATE = 1 << 13, 1 << 14
READ_ONLY = EXECUTE | READ_FILE | READ_DIR


# Scopes (ABI 6+): no signals to, and no connections to abstract Unix sockets of, processes
# outside the restricted ones: a worker cannot signal its grader or its fork server even where
# it runs as the same user.
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1
SCOPES_ABI = 6


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


@functools.cache
def _syscalls() -> tuple[ctypes.CDLL, tuple[int, int, int]] | None:
    numbers = SYSCALLS.get(platform.machine())
    if numbers is None or not os.path.exists("/proc/self"):
        return None
    return libc(), numbers


@functools.cache
def abi_version() -> int:
    """The kernel's Landlock ABI version, or 0 if Landlock is not available."""
    found = _syscalls()
    if found is None:
        return 0
    libc, (create, _, _) = found
    version = libc.syscall(create, None, ctypes.c_size_t(0), CREATE_RULESET_VERSION)
    return max(int(version), 0)


def restrict_to(read_only: Iterable[str], read_write: Iterable[str]) -> bool:
    """Allow only these paths (and what lies beneath them) from now on; True if it took effect.

    Paths that do not exist are skipped. Once restricted, a process cannot lift the restriction.
    """
    version = abi_version()
    found = _syscalls()
    if version < 1 or found is None:
        return False
    libc, (create, add_rule, restrict_self) = found
    handled = ABI_1_RIGHTS | (REFER if version >= 2 else 0) | (TRUNCATE if version >= 3 else 0)
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if version >= SCOPES_ABI else 0
    attr = _RulesetAttr(handled, 0, scoped)
    # An older kernel reads only the fields it knows: give it just those (the first one).
    size = ctypes.sizeof(attr) if scoped else ctypes.sizeof(ctypes.c_uint64)
    ruleset = libc.syscall(create, ctypes.byref(attr), ctypes.c_size_t(size), 0)
    if ruleset < 0:
        return False
    try:
        rules = [(path, READ_ONLY) for path in read_only]
        rules += [(path, handled) for path in read_write]
        for path, rights in rules:
            try:
                descriptor = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                # Rights a file cannot have (directory rights on a file) make the call fail.
                allowed = (
                    rights
                    if os.path.isdir(path)
                    else rights & (EXECUTE | READ_FILE | WRITE_FILE | TRUNCATE)
                )
                rule = _PathBeneathAttr(allowed, descriptor)
                if libc.syscall(add_rule, ruleset, RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
                    return False
            finally:
                os.close(descriptor)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return False
        return libc.syscall(restrict_self, ruleset, 0) == 0
    finally:
        os.close(ruleset)


class AnswerKeyHidden(Layer):
    name = "answer key hidden"
    stage = Stage.WORKER
    stops = (
        "Landlock: the worker reads only Python, its packages and system folders, and writes "
        "only its own folder"
    )

    def missing(self) -> str | None:
        if abi_version() >= 1:
            return None
        return "needs Linux 5.13+ with Landlock enabled: the worker can open files by path"

    def apply_in_worker(self, settings: WorkerSettings, applied: dict[str, bool]) -> bool:
        """Keep read access to what grader.sandbox.paths lists and read-write access to the
        worker's own folder; lose every other file. True if the kernel applied it."""
        from grader.sandbox.paths import readable_paths

        return restrict_to(read_only=readable_paths(), read_write=[os.getcwd(), "/dev/null"])
