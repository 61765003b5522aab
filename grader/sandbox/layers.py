"""The protection layers, as one abstraction, in the order they apply.

A layer has a name, says whether this machine has it (and if not, why not, and what follows),
says what it stops, and says where it applies:

- `Stage.BUILT_IN`: how grading works; nothing to apply, always on.
- `Stage.CHILD`: applied by the process that becomes the worker, to itself, with the grader's
  privileges, before the worker's code is loaded (grader.sandbox.child). The same sequence runs in
  a fresh interpreter and in a process forked by the fork server.
- `Stage.WORKER`: applied by the worker to itself, last, before any student code
  (grader.worker.serve); the worker reports whether it took effect.

Adding a layer: write a `Layer` subclass in a module of its own in this package, and put an
instance of it in `all_layers` below, where it applies in the sequence. `grade doctor`, the JSON
reports and the child sequence pick it up from there.

Standard library only: the worker imports this module.
"""

from __future__ import annotations

import enum
import functools
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from grader.sandbox.child import WorkerSettings

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


@dataclass(frozen=True)
class LayerReport:
    """One layer as `grade doctor` shows it: on or off here, and what it stops or why not."""

    name: str
    active: bool
    detail: str


@functools.cache
def all_layers() -> tuple[Layer, ...]:
    """Every layer, in the order it applies."""
    from grader.sandbox.cgroups import GradingCgroup
    from grader.sandbox.landlock import AnswerKeyHidden
    from grader.sandbox.namespaces import NoNetwork, PrivateIpc, WholeTreeKilled
    from grader.sandbox.privileges import UnprivilegedUser
    from grader.sandbox.resources import ResourceLimits
    from grader.sandbox.view import PrivateView

    return (
        BuiltIn(
            "separate process", "student code runs only in a worker; the grader compares and scores"
        ),
        BuiltIn(
            "strict protocol",
            "the worker sends plain numbers and arrays, parsed under limits, never unpickled",
        ),
        BuiltIn(
            "isolated interpreter",
            "python -I in a fresh temporary folder with a cleared environment",
        ),
        BuiltIn(
            "deadlines", "per call and per grading; then every process of the grading is killed"
        ),
        GradingCgroup(),
        WholeTreeKilled(),
        NoNetwork(),
        PrivateIpc(),
        PrivateView(),
        ResourceLimits(),
        AnswerKeyHidden(),
        UnprivilegedUser(),
    )


def child_layers() -> list[Layer]:
    return [layer for layer in all_layers() if layer.stage is Stage.CHILD]


def available_child_layers() -> tuple[str, ...]:
    """The names of the child-stage layers this machine has: what the grader asks for."""
    return tuple(layer.name for layer in child_layers() if layer.missing() is None)


def apply_worker_layers(settings: WorkerSettings) -> dict[str, bool]:
    """Apply the worker-stage layers to the calling worker, in order; which took effect."""
    applied: dict[str, bool] = {}
    for layer in all_layers():
        if layer.stage is Stage.WORKER:
            applied[layer.name] = layer.apply_in_worker(settings, applied)
    return applied


def layer_reports() -> list[LayerReport]:
    """Every layer, on or off on this machine, for this user (`grade doctor`)."""
    reports = []
    for layer in all_layers():
        why_not = layer.missing()
        reports.append(LayerReport(layer.name, why_not is None, why_not or layer.stops))
    return reports


def active_layer_names(
    workers_restricted: list[bool] | None = None, workers_unprivileged: list[bool] | None = None
) -> list[str]:
    """The active layers' names. Given what the workers of a grading reported, the two layers a
    worker applies to itself count only if every one of them did."""
    names = [report.name for report in layer_reports() if report.active]
    if workers_restricted and not all(workers_restricted):
        names = [name for name in names if name != "answer key hidden"]
    if workers_unprivileged and not all(workers_unprivileged):
        names = [name for name in names if name != "unprivileged user"]
    return names


def inactive_layers(active: list[str]) -> list[dict[str, str]]:
    """The layers not among ``active`` (a grading's active layers), each as ``{"name", "why"}``:
    why it is off, and what follows. For the reports, which must say so."""
    return [
        {
            "name": report.name,
            "why": report.detail
            if not report.active
            else "a worker of the grading did not apply it",
        }
        for report in layer_reports()
        if report.name not in active
    ]
