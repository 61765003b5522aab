"""mount(2) for the private view and its probe: the flags, and one call that raises OSError.
Standard library only."""

from __future__ import annotations

import ctypes
import os

from grader.sandbox.libc import libc

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2


def mount(source: str | None, target: str, kind: str | None, flags: int, data: str = "") -> None:
    """mount(2): ``source`` (a path, or a file system's name) on ``target``, of file system
    ``kind`` (None for a bind or a remount), with ``flags`` (MS_*) and ``data`` options."""
    result = libc().mount(
        None if source is None else os.fsencode(source),
        os.fsencode(target),
        None if kind is None else kind.encode(),
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"mount {source or kind} on {target}: {os.strerror(error)}")
