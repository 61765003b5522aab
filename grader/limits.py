"""The limits one grading runs under, as course.yaml sets them (standard library only)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """What one grading may use.

    wall_seconds: the whole grading of one exercise, every check included.
    call_seconds: one call into student code (loading the file counts as a call).
    memory_mb: address space of the worker process, in MiB.
    output_kb: how much of what the student's code prints is kept, in KiB.
    """

    wall_seconds: float = 30.0
    call_seconds: float = 5.0
    memory_mb: int = 1024
    output_kb: int = 64
