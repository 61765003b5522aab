"""The C library, loaded once per process: ctypes's dlopen costs about 0.1 ms a time, and a forked
worker inherits the loaded handle from its fork server instead of paying for it again."""

from __future__ import annotations

import ctypes
import functools


@functools.cache
def libc() -> ctypes.CDLL:
    """The C library this process already has mapped, with errno kept for ctypes.get_errno."""
    return ctypes.CDLL(None, use_errno=True)
