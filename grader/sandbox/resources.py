"""Resource limits on each process of a grading: address space, CPU time, file size, open files,
core dumps. Always available; the grading's cgroup (grader.sandbox.cgroups) limits its processes
together where the machine has one. Standard library only.
"""

from __future__ import annotations

import contextlib
import resource

from grader.limits import Limits
from grader.sandbox.layer import Layer, Stage
from grader.sandbox.settings import WorkerSettings

FILE_SIZE_LIMIT = 16 * 1024 * 1024  # bytes any one file the worker writes may reach
OPEN_FILES_LIMIT = 256  # file descriptors; Python, numpy and the pipes use about 20


def limit_resources(limits: Limits) -> None:
    """Limit the calling process (and what it starts) as ``limits`` says.

    The CPU limit's soft value is one second below the hard one, so the kernel first sends
    SIGXCPU, which the grader can name, rather than an anonymous SIGKILL.
    """
    memory = limits.memory_mb * 1024 * 1024
    cpu_seconds = int(limits.wall_seconds) + 2  # a backstop; the wall deadline normally kills first
    for name, soft, hard in (
        (resource.RLIMIT_AS, memory, memory),
        (resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 1),
        (resource.RLIMIT_FSIZE, FILE_SIZE_LIMIT, FILE_SIZE_LIMIT),  # Python turns it into OSError
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_NOFILE, OPEN_FILES_LIMIT, OPEN_FILES_LIMIT),
    ):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(name, (soft, hard))


class ResourceLimits(Layer):
    name = "resource limits"
    stage = Stage.CHILD
    stops = "per process: memory, CPU time, file size, open files and core dumps"

    def apply(self, settings: WorkerSettings) -> None:
        limit_resources(settings.limits)

    def applies_to(self, settings: WorkerSettings) -> bool:
        return True
