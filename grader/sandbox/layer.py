"""What a protection layer is: a name, whether this machine has it, what it stops, and where and
how it applies. Each layer is a subclass of `Layer` in a module of its own; grader.sandbox.layers
lists them in order.

Where a layer applies:

- `Stage.BUILT_IN`: how grading works; nothing to apply, always on.
- `Stage.CHILD`: applied by the process that becomes the worker, to itself, with the grader's
  privileges, before the worker's code is loaded (grader.sandbox.child). The same sequence runs in
  a fresh interpreter and in a process forked by the fork server.
- `Stage.WORKER`: applied by the worker to itself, last, before any student code
  (grader.worker.serve); the worker reports whether it took effect.

Standard library only: the worker imports this module.
"""

from __future__ import annotations

import enum
import os
from typing import ClassVar

from grader.sandbox.settings import WorkerSettings

NO_NAMESPACES = "GRADE_NO_NAMESPACES"  # set to 1: grade as where namespaces are forbidden
NO_CGROUPS = "GRADE_NO_CGROUPS"  # set to 1: grade as where no cgroup can be made


class Stage(enum.Enum):
    BUILT_IN = "built in"
    CHILD = "before the worker starts"
    WORKER = "in the worker, on itself"


def switched_off(variable: str) -> bool:
    """Whether the environment variable ``variable`` asks for a layer family to be off."""
    return os.environ.get(variable, "") not in ("", "0")


class Layer:
    """One protection layer. Subclasses set the class attributes and override what applies."""

    name: ClassVar[str]
    stage: ClassVar[Stage]
    stops: ClassVar[str]  # what it stops, when on: one line for `grade doctor`

    def missing(self) -> str | None:
        """Why this machine lacks the layer, and what follows, or None if it has it."""
        return None

    def apply(self, settings: WorkerSettings) -> None:
        """Apply the layer to the calling process (`Stage.CHILD`); raise OSError if it fails,
        and the worker is not started."""

    def apply_in_worker(self, settings: WorkerSettings, applied: dict[str, bool]) -> bool:
        """Apply the layer to the worker itself (`Stage.WORKER`), given which earlier ones took
        effect (``applied``, by name); whether it took effect."""
        return False

    def applies_to(self, settings: WorkerSettings) -> bool:
        """Whether the grader asked for this layer in ``settings`` (it asks for those it has)."""
        return self.name in settings.layers


class BuiltIn(Layer):
    """A layer that is how grading works: always on, nothing to apply."""

    stage = Stage.BUILT_IN

    def __init__(self, name: str, stops: str) -> None:
        self.name = name  # type: ignore[misc]
        self.stops = stops  # type: ignore[misc]
