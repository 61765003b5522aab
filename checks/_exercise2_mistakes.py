"""Exercise 2's named mistakes, which its public and hidden checks both name, in the same words.

Each mistake is a hint (what is wrong and what to do) and the value that mistake gives at a check's
own inputs, computed here with numpy; never read from the student's code. Loaded by the check files
with ``shared(__file__, "_exercise2_mistakes")``."""

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from grader.checks import (
    Recorder,
    answer_or_none,
    close_to,
    formula,
    offered,
    with_hint,
)
from grader.student_code.errors import StudentRaised

ONE_SIDED_HINT = (
    "you took a one-sided difference; use the central difference (f(x + h·e) - f(x - h·e)) / (2h)"
)
ONE_SIDED_BACKWARDS = ONE_SIDED_HINT + " (you stepped backwards only)"
DIVIDED_BY_H = "you divided by h instead of 2h"
DIFFERENCE_SIGN = (
    "the sign is flipped: the central difference is (f(x + h·e) - f(x - h·e)) / (2h), the value "
    "at x + h·e first"
)
HALF_FORWARD = (
    "this is (f(x + h·e) - f(x)) / (2h): the central difference subtracts f(x - h·e), not f(x)"
)
NOT_DIVIDED = "this is f(x + h·e) - f(x - h·e), not yet divided by 2h"
TIMES_H = (
    "this is (f(x + h·e) - f(x - h·e)) / 2 * h, which multiplies by h: put 2h in parentheses, "
    "/ (2 * h)"
)
OVER_TWO = "this is divided by 2, not by 2h: (f(x + h·e) - f(x - h·e)) / (2 * h)"
EVERY_AXIS = (
    "this steps every coordinate at once (point + h moves them all): step along `axis` only, "
    "point + h·e with e 1 at axis and 0 elsewhere"
)
SAME_POINT = (
    "f was evaluated twice at the same point, so the difference is 0: point + h·e and "
    "point - h·e must differ, each its own float array (a name set to point, such as "
    "plus = point, is that same array, not a copy; an int array stores h as 0)"
)
ONLY_AT_X = (
    "f was only evaluated at x itself, so every partial is 0: evaluate f at x stepped, "
    "x + h·e_i and x - h·e_i (stepping a copy of x, such as x.flatten(), leaves x as it is)"
)
EVERY_ENTRY = (
    "every entry is one number, f stepped in all entries at once, (f(x + h) - f(x - h)) / (2h): "
    "step one entry at a time, x + h·e_i for each index i"
)
ROWS = (
    "grad[i] for i in range(len(x)) steps a whole row of x at once (step[i] = h sets every "
    "entry of row i): step one entry at a time, for index in np.ndindex(x.shape)"
)
STEP_NOT_RESET = (
    "step is not reset: at each entry it still holds h at every earlier entry, so each partial "
    "adds up the earlier ones; start every entry from a fresh step of zeros"
)
NOT_RESTORED = (
    "x[index] is not put back after each entry: every later partial is taken at a point moved "
    "by -h in the earlier entries; restore x[index] = old, as x must be unchanged afterwards"
)
GRAD_IS_X = (
    "grad is x itself (grad = x makes no copy): each partial written into grad overwrote an "
    "entry of x, and the later partials were taken at that changed x; start from "
    "grad = np.zeros_like(x)"
)
XOR = "^ is Python's bitwise xor (exclusive or), not a power: write x**2"
# Steps a student may fix in place of the h given: numpy's sqrt(eps) among them.
STEPS = (*(10.0**-k for k in range(1, 16)), 1.4901161193847656e-08, 0.5, 1.0)
STEP = 1e-5  # the docstrings' default h


def other_axis_hint(axis: int) -> str:
    return f"this is the derivative along axis {axis}; step along `axis` only"


def step_is_ignored(step: float) -> str:
    return (
        f"h is ignored: this is the central difference with a fixed step of {step:g}; step by "
        "the h given"
    )


def default_step_is(step: float) -> str:
    small = (
        ", so small that rounding swamps the difference (f(x ± h·e) agree in all but their last "
        "digits)"
        if step < 1e-8
        else ""
    )
    return f"the default step is {step:g}{small}: the signature's default is h=1e-5"


def float32_step(h: float) -> str:
    return (
        f"the step is a float32 array: h rounds to {float(np.float32(h)):.9g} in float32, but the "
        "quotient divides by 2h: make the step float64, np.zeros_like(point, dtype=float)"
    )


def answer_of(method: Callable[..., Any], *args: Any) -> Any:
    """``method(*args)``, the student's answer; an error it raises gets a hint where its message
    shows the mistake: ^ (xor) used as a power."""
    try:
        return method(*args)
    except StudentRaised as error:
        text = str(error)
        if "for ^:" not in text and "'bitwise_xor'" not in text:
            raise
        raise StudentRaised(with_hint(text.rstrip("."), XOR), error.line) from None


def along(f: Callable[[Any], Any], point: np.ndarray, direction: np.ndarray, h: float) -> float:
    """The central difference of f at ``point`` along ``direction``, with step h."""
    return float((f(point + h * direction) - f(point - h * direction)) / (2 * h))


def unit(axis: int, size: int) -> np.ndarray:
    e = np.zeros(size)
    e[axis] = 1.0
    return e


def partial_mistakes(
    f: Callable[[Any], Any],
    point: np.ndarray,
    axis: int,
    h: float,
    got: Any,
    expected: Any,
    given: bool = True,
) -> dict[str, Any]:
    """The named mistake of partial_derivative that ``got`` shows; given: h was passed (else the
    default step was used, and a step other than h is not told here: default_step_of)."""
    e = unit(axis, point.size)
    above, below, at = f(point + h * e), f(point - h * e), f(point)
    candidates: dict[str, Any] = {
        ONE_SIDED_HINT: (above - at) / h,
        ONE_SIDED_BACKWARDS: (at - below) / h,
        DIVIDED_BY_H: (above - below) / h,
        DIFFERENCE_SIGN: (below - above) / (2 * h),
        HALF_FORWARD: (above - at) / (2 * h),
        NOT_DIVIDED: above - below,
        TIMES_H: (above - below) / 2 * h,
        OVER_TWO: (above - below) / 2,
        EVERY_AXIS: along(f, point, np.ones(point.size), h),
    }
    for other in range(point.size):
        if other != axis:
            candidates[other_axis_hint(other)] = along(f, point, unit(other, point.size), h)
    rounded = e * float(np.float32(h))
    candidates[float32_step(h)] = (f(point + rounded) - f(point - rounded)) / (2 * h)
    for step in STEPS if given else ():
        if not np.isclose(step, h, rtol=1e-9, atol=0.0):
            value = along(f, point, e, step)
            if close_to(got, value, rtol=1e-9, atol=1e-13):
                candidates[step_is_ignored(step)] = value
    return offered(got, expected, candidates)


def default_step_of(
    call: Callable[[float], Any], right: Any, got: Any, step_value: Callable[[float], Any]
) -> dict[str, Any]:
    """For a call made with the default step, whose answer ``got`` is the central difference with
    another step: that step is the default's, or h is ignored, as one more call with h=1e-5
    given (``call``) tells. step_value: the central difference with a step."""
    for step in STEPS:
        if np.isclose(step, STEP, rtol=1e-9, atol=0.0):
            continue
        value = step_value(step)
        if close_to(got, value, rtol=1e-9, atol=1e-13):
            again = call(STEP)
            if close_to(again, right, rtol=1e-8, atol=1e-12):
                return {default_step_is(step): value}
            if close_to(again, value, rtol=1e-9, atol=1e-13):
                return {step_is_ignored(step): value}
            return {}
    return {}


def gradients(f: Callable[[Any], Any], x: np.ndarray, h: float) -> dict[str, np.ndarray]:
    """Each named mistake of numerical_gradient -> the gradient it gives for f at x."""
    above, below = np.zeros(x.shape), np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        step = np.zeros(x.shape)
        step[index] = h
        above[index], below[index] = f(x + step), f(x - step)
    at = f(x)
    mistakes = {
        ONE_SIDED_HINT: (above - at) / h,
        ONE_SIDED_BACKWARDS: (at - below) / h,
        DIVIDED_BY_H: (above - below) / h,
        DIFFERENCE_SIGN: (below - above) / (2 * h),
        HALF_FORWARD: (above - at) / (2 * h),
        NOT_DIVIDED: above - below,
        TIMES_H: (above - below) / 2 * h,
        OVER_TWO: (above - below) / 2,
        EVERY_ENTRY: np.full(x.shape, (f(x + h) - f(x - h)) / (2 * h)),
    }
    return {**mistakes, **drifting_gradients(f, x, h)}


def drifting_gradients(f: Callable[[Any], Any], x: np.ndarray, h: float) -> dict[str, np.ndarray]:
    """The gradients of the loops that carry something from one entry to the next, as each
    mistaken loop computes them: a step never reset, x never restored, grad written into x; and,
    for x of 2 dimensions or more, a whole row stepped at once."""
    kept, drifted, overwritten = np.zeros(x.shape), x.copy(), x.copy()
    grads = {name: np.zeros(x.shape) for name in (STEP_NOT_RESET, NOT_RESTORED)}
    for index in np.ndindex(x.shape):
        kept[index] = h
        grads[STEP_NOT_RESET][index] = (f(x + kept) - f(x - kept)) / (2 * h)
        old = drifted[index]
        drifted[index] = old + h
        above = f(drifted)
        drifted[index] = old - h
        grads[NOT_RESTORED][index] = (above - f(drifted)) / (2 * h)
        step = np.zeros(x.shape)
        step[index] = h
        overwritten[index] = (f(overwritten + step) - f(overwritten - step)) / (2 * h)
    grads[GRAD_IS_X] = overwritten
    if x.ndim > 1:
        rows = np.zeros(x.shape)
        for i in range(len(x)):
            step = np.zeros(x.shape)
            step[i] = h
            rows[i] = (f(x + step) - f(x - step)) / (2 * h)
        grads[ROWS] = rows
    return grads


def central_gradient(f: Callable[[Any], Any], x: np.ndarray, h: float) -> np.ndarray:
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        step = np.zeros(x.shape)
        step[index] = h
        grad[index] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


def gradient_mistakes(
    f: Callable[[Any], Any],
    x: np.ndarray,
    h: float,
    got: Any,
    expected: Any,
    given: bool = True,
    left_out: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The named mistake of numerical_gradient that ``got`` shows; given: as for
    partial_mistakes; left_out: mistakes a check does not name (charged where they show)."""
    candidates = {k: v for k, v in gradients(f, x, h).items() if k not in left_out}
    for step in STEPS if given else ():
        if not np.isclose(step, h, rtol=1e-9, atol=0.0):
            value = central_gradient(f, x, step)
            if close_to(got, value, rtol=1e-9, atol=1e-13):
                candidates[step_is_ignored(step)] = value
                break
    return offered(got, expected, candidates)


# The mistakes of numerical_gradient that change the direction of the gradient, which
# steepest_ascent_direction follows where it calls numerical_gradient. (An x not restored is
# charged in steepest_ascent_direction again: it leaves the caller's x moved.)
FOLLOWED = (
    ONE_SIDED_HINT,
    ONE_SIDED_BACKWARDS,
    DIFFERENCE_SIGN,
    HALF_FORWARD,
    STEP_NOT_RESET,
    GRAD_IS_X,
    EVERY_ENTRY,
    ONLY_AT_X,
)
# Where the student's numerical_gradient is tried: a point of 3 entries and a function whose
# partials depend on every entry, so that each mistake of FOLLOWED shows.
PROBE = formula("float(np.sum(x**3) + 0.3 * np.sum(x) ** 2)", "f")
PROBE_POINT = np.array([0.5, -1.0, 2.0])


def gradient_mistake(student: Any) -> str | None:
    """The mistake of FOLLOWED that the student's numerical_gradient makes, at this check's own
    point (one call), or None."""
    traced = Recorder(PROBE, "f")
    got = answer_or_none(student.numerical_gradient, traced, PROBE_POINT.copy())
    if got is None or close_to(got, central_gradient(PROBE, PROBE_POINT, STEP), rtol=1e-7):
        return None
    mistakes = {**gradients(PROBE, PROBE_POINT, STEP), **only_at_x(traced, PROBE_POINT, got)}
    shown = [
        name
        for name in FOLLOWED
        if name in mistakes and close_to(got, mistakes[name], rtol=1e-9, atol=1e-13)
    ]
    return shown[0] if len(shown) == 1 else None


def direction_of(grad: np.ndarray) -> np.ndarray:
    """The direction steepest_ascent_direction gives for the gradient ``grad``."""
    length = np.linalg.norm(grad)
    return np.zeros_like(grad) if length < 1e-12 else grad / length


def only_at_x(traced: Recorder, x: np.ndarray, got: Any) -> dict[str, np.ndarray]:
    """ONLY_AT_X, where every evaluation of f was at x itself and ``got`` is all zeros."""
    points = traced.inputs
    if (
        points
        and all(np.array_equal(p, x) for p in points)
        and close_to(got, np.zeros(x.shape), 0.0)
    ):
        return {ONLY_AT_X: np.zeros(x.shape)}
    return {}


def followed(mistake: str | None, f: Callable[[Any], Any], x: np.ndarray) -> dict[Any, Any]:
    """The direction steepest_ascent_direction gives for f at x where it follows ``mistake`` of
    numerical_gradient, keyed as that mistake."""
    if mistake is None:
        return {}
    grad = np.zeros(x.shape) if mistake == ONLY_AT_X else gradients(f, x, STEP)[mistake]
    return {("numerical_gradient", mistake): direction_of(grad)}


L1_LENGTH = (
    "this is the gradient divided by the sum of its entries' sizes (its L1 length): divide by "
    "its Euclidean length, np.linalg.norm(grad), the square root of the sum of squares"
)
SUM_LENGTH = (
    "this is the gradient divided by the sum of its entries: divide by its Euclidean length, "
    "np.linalg.norm(grad), the square root of the sum of squares"
)
SQUARED_LENGTH = (
    "this is the gradient divided by its squared length g·g: take its square root, "
    "np.linalg.norm(grad)"
)
LARGEST_ENTRY = (
    "this is the gradient divided by its largest entry: divide by its Euclidean length, "
    "np.linalg.norm(grad)"
)
ENTRY_COUNT = (
    "this is the gradient divided by its number of entries: divide by its Euclidean length, "
    "np.linalg.norm(grad)"
)
DOWNHILL = "this points downhill; the gradient points uphill"


def direction_mistakes(grad: np.ndarray) -> dict[str, np.ndarray]:
    """Each named mistake of steepest_ascent_direction -> the direction it gives for ``grad``."""
    with np.errstate(all="ignore"):
        return {
            L1_LENGTH: grad / np.sum(np.abs(grad)),
            SUM_LENGTH: grad / np.sum(grad),
            SQUARED_LENGTH: grad / (grad @ grad),
            LARGEST_ENTRY: grad / np.max(np.abs(grad)),
            ENTRY_COUNT: grad / grad.size,
            DOWNHILL: -direction_of(grad),
        }


def direction_named(got: Any, expected: Any, candidates: Mapping[Any, Any]) -> dict[Any, Any]:
    """As offered, where the sum of the entries and their sizes are the same (no entry negative):
    then the two are one mistake, told as the L1 length."""
    candidates = dict(candidates)
    if close_to(candidates.get(SUM_LENGTH), candidates.get(L1_LENGTH), rtol=1e-12):
        candidates.pop(SUM_LENGTH)
    return offered(got, expected, candidates)


SWAPPED = "the entries are swapped: [∂z/∂x, ∂z/∂y] comes in that order"
HALF = "half"


def surface_gradient_named(got: Any, expected: Any, name: str, x: float, y: float) -> dict:
    """The named mistake of plane_gradient or bowl_gradient that ``got`` shows at (x, y)."""
    shown = offered(got, expected, gradient_of_surface_mistakes(name, x, y))
    return {key: value for key, value in shown.items() if key != HALF}


def gradient_of_surface_mistakes(name: str, x: float, y: float) -> dict[str, np.ndarray]:
    """Each named mistake of plane_gradient or bowl_gradient -> the value it gives at (x, y)."""
    if name == "plane_gradient":
        return {
            SWAPPED: np.array([2.0, 3.0]),
            "these are the terms 3x and 2y, not their slopes: the gradient of 3x + 2y is [3, 2], "
            "the same at every point": np.array([3 * x, 2 * y]),
        }
    mistakes = {
        # [x, y] is told by the generic hint (half), charged in each check; here only so that
        # a point where another mistake gives the same is not told that other one.
        HALF: np.array([x, y]),
        SWAPPED: np.array([2 * y, 2 * x]),
        "these are the terms x² and y², not their derivatives: [2x, 2y]": np.array([x**2, y**2]),
        "the x and y are missing: the partials of x² + y² are [2x, 2y]": np.array([2.0, 2.0]),
        "∂z/∂y is 2y, not 2x: [2x, 2y]": np.array([2 * x, 2 * x]),
        "∂z/∂x is 2x, not 2y: [2x, 2y]": np.array([2 * y, 2 * y]),
    }
    if x**2 == x and y**2 == y:  # at (1, 1), [x, y] is [x², y²]: both are told
        del (
            mistakes[HALF],
            mistakes["these are the terms x² and y², not their derivatives: [2x, 2y]"],
        )
        mistakes[
            "the result is half what it should be, [x, y], which here is also [x², y²], the "
            "terms: the partials of x² + y² are [2x, 2y]"
        ] = np.array([x, y])
    if x**2 != y**2:  # else np.gradient's differences are 0, as other code's could be
        mistakes[
            "np.gradient differences neighbouring samples of the array it is given "
            "([y² - x², y² - x²] here); it does not differentiate z: the partials of x² + y² are "
            "[2x, 2y]"
        ] = np.full(2, y**2 - x**2)
    return mistakes
