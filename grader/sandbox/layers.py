"""The protection layers, in the order they apply, and which of them this machine has.

Adding a layer: write a `grader.sandbox.layer.Layer` subclass in a module of its own in this
package, and put an instance of it in `all_layers` below, where it applies in the sequence.
`grade doctor`, the JSON reports and the child sequence (grader.sandbox.child) pick it up from
there. Standard library only: the worker imports this module.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from grader.sandbox.cgroups import GradingCgroup
from grader.sandbox.landlock import AnswerKeyHidden
from grader.sandbox.layer import BuiltIn, Layer, Stage
from grader.sandbox.namespaces import NoNetwork, PrivateIpc, UserNamespace, WholeTreeKilled
from grader.sandbox.privileges import UnprivilegedUser
from grader.sandbox.resources import ResourceLimits
from grader.sandbox.seccomp import SystemCallFilter
from grader.sandbox.settings import WorkerSettings
from grader.sandbox.view import PrivateView


@dataclass(frozen=True)
class LayerReport:
    """One layer as `grade doctor` shows it: on or off here, and what it stops or why not."""

    name: str
    active: bool
    detail: str


@functools.cache
def all_layers() -> tuple[Layer, ...]:
    """Every layer, in the order it applies."""
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
        UserNamespace(),
        WholeTreeKilled(),
        NoNetwork(),
        PrivateIpc(),
        PrivateView(),
        ResourceLimits(),
        AnswerKeyHidden(),
        UnprivilegedUser(),
        SystemCallFilter(),
    )


def child_layers() -> list[Layer]:
    return [layer for layer in all_layers() if layer.stage is Stage.CHILD]


def available_child_layers() -> tuple[str, ...]:
    """The names of the child-stage layers this machine has."""
    return tuple(layer.name for layer in child_layers() if layer.missing() is None)


def requested_layers() -> tuple[str, ...]:
    """The names of the layers the grader asks a worker for (in its settings): every child- and
    worker-stage layer this machine has, as the grader sees it (its switches included)."""
    return tuple(
        layer.name
        for layer in all_layers()
        if layer.stage is not Stage.BUILT_IN and layer.missing() is None
    )


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


def active_layer_names(workers_applied: list[dict[str, bool]] | None = None) -> list[str]:
    """The active layers' names. Given what the workers of a grading reported (each a dict of
    the worker-stage layers it applied to itself), such a layer counts only if every one of
    them applied it."""
    names = [report.name for report in layer_reports() if report.active]
    if not workers_applied:
        return names
    own = {layer.name for layer in all_layers() if layer.stage is Stage.WORKER}
    return [
        name
        for name in names
        if name not in own or all(applied.get(name, False) for applied in workers_applied)
    ]


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
