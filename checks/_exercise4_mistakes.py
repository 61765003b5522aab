"""Exercise 4's named mistakes of gradient_step, which its public and hidden checks both name, in
the same words, and which a path or a point that follows them is said to follow.

``probe_step`` calls the student's gradient_step once, at a point of this module's own, to see
which of its mistakes (``STEP_MISTAKES``, an uphill step, x changed in place) a path may follow;
``path_with`` computes that path here. The check files load this module with
``shared(__file__, "_exercise4_mistakes")``.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from grader.checks import answer_or_none, shows
from grader.student_code.objects import changed_arguments

UPHILL = "you stepped uphill: the step goes against the gradient, x - rate·grad"


STEP_UPHILL = ("gradient_step", UPHILL)


STEP_MISTAKES: dict[str, Callable[[np.ndarray, np.ndarray, float], np.ndarray]] = {
    "the rate is left out: the step is rate · grad": lambda x, grad, rate: x - grad,
    "the gradient was divided by its length (normalised): the step is rate · grad itself": (
        lambda x, grad, rate: x - rate * grad / np.linalg.norm(grad)
    ),
    "it returned the step rate · grad, not the new point: return x - rate · grad": (
        lambda x, grad, rate: rate * grad
    ),
    "the step is rate · x, not rate · grad: subtract rate times the gradient": (
        lambda x, grad, rate: x - rate * x
    ),
    "the rate is applied twice, rate² · grad: the step is rate · grad": (
        lambda x, grad, rate: x - rate * rate * grad
    ),
    "the gradient is divided by the rate: the step is rate · grad, times the rate": (
        lambda x, grad, rate: x - grad / rate
    ),
    "x did not move: return the new point, x - rate · grad": lambda x, grad, rate: x,
}


IN_PLACE = (
    "this follows the mistake in gradient_step: it changes x in place (x -= ...) and returns it, "
    "so the path's rows change with it; return a new array, x - rate · grad"
)


@dataclass(frozen=True)
class StepProbe:
    """What the student's gradient_step shows at a point of the checks' own (one call):
    uphill: whose mistake an uphill path is; step: the hint and formula of another of its named
    mistakes, where it shows one; in_place: it changed its x in place."""

    uphill: str | tuple[str, str]
    step: tuple[str, Callable] | None
    in_place: bool


def probe_step(student) -> StepProbe:
    """Call the student's gradient_step once, at a point of this file's own, to see which of its
    mistakes a path may follow."""
    x, grad = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    got = answer_or_none(student.gradient_step, x, grad, 0.1)
    in_place = got is not None and any(
        change.name == "x" and not np.array_equal(change.before, change.after)
        for change in changed_arguments(student)
    )
    uphill = STEP_UPHILL if got is not None and shows(got, x + 0.1 * grad) else UPHILL
    step = next(
        (
            (hint, formula_)
            for hint, formula_ in STEP_MISTAKES.items()
            if got is not None and shows(got, formula_(x, grad, 0.1))
        ),
        None,
    )
    return StepProbe(uphill, step, in_place)


def path_with(step: Callable, gradient, x0, steps: int, rate: float) -> np.ndarray:
    """The path of ``steps`` steps x ↦ step(x, gradient(x), rate) from x0."""
    path = [np.array(x0, dtype=np.float64)]
    with np.errstate(all="ignore"):
        for _ in range(steps):
            path.append(np.asarray(step(path[-1], gradient(path[-1]), rate), dtype=np.float64))
    return np.array(path)


def uphill_mistake(student):
    """Whose mistake an uphill path is: gradient_step's, where the student's gradient_step steps
    uphill (at a point of this check's own), else the function under check's own."""
    x, grad = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    got = answer_or_none(student.gradient_step, x, grad, 0.1)
    return STEP_UPHILL if got is not None and shows(got, x + 0.1 * grad) else UPHILL
