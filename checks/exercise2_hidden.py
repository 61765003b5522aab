"""Hidden checks for exercise 2, partial derivatives and gradients: the reference solution on
seeded random inputs and edge cases (shapes with a 1 in them, flat points, large points). A wrong
answer is told the mistake it shows, in the public checks' words, charged there once; a
steepest_ascent_direction that follows a mistake of numerical_gradient is not charged again, nor
blamed for its zero test."""

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from grader.checks import (
    Recorder,
    answer_or_none,
    check,
    describe,
    expect_array,
    expect_close,
    fail,
    formula,
    shows,
    warn_if_inputs_changed,
    with_hint,
)
from grader.student_code.errors import StudentRaised

# ---------------------------------------------------------------- naming mistakes (shared)
# The same definitions, word for word, in the hidden checks: the same mistake, charged once.
# Each mistake is recognised by its value at the check's own inputs, the value the mistaken
# formula gives there, computed here with numpy; never from the student's code.

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


def differs(got: Any, expected: Any, rtol: float, atol: float) -> bool:
    """Whether ``got`` fails ``expected`` by expect_close's own test (a non-number differs)."""
    try:
        got_array = np.asarray(got, dtype=np.float64)
        expected_array = np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return True
    if got_array.shape != expected_array.shape:
        return True
    allowed = atol + rtol * np.abs(expected_array)
    return not bool(np.all(np.abs(got_array - expected_array) <= allowed))


def _close(got: Any, value: Any, rtol: float, atol: float = 1e-12) -> bool:
    try:
        got_array = np.asarray(got, dtype=np.float64)
        value_array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return (
        got_array.shape == value_array.shape
        and bool(np.all(np.isfinite(value_array)))
        and bool(np.allclose(got_array, value_array, rtol=rtol, atol=atol))
    )


def offered(
    got: Any, expected: Any, candidates: Mapping[Any, Any], unique: bool = True
) -> dict[Any, Any]:
    """The one mistake of ``candidates`` (hint -> its value) that ``got`` shows, or none.

    A hint matches to 1e-6 (grader.hints): a mistake whose value lies that close to the right
    one (or to 0) is offered only where ``got`` is that value to 1e-9, so a nearly right answer
    (or a 0) is never told a mistake; and where two mistakes give ``got`` here (to 1e-9 where
    1e-6 cannot tell), neither is named: the point cannot tell them apart. unique=False: every
    one that got shows, for the mistakes a check always named (hint_for takes the first).
    """
    shown = {}
    for key, value in candidates.items():
        if value is None or _close(expected, value, rtol=1e-12, atol=1e-15):
            continue
        if not _close(got, value, rtol=1e-6, atol=1e-9):
            continue
        near = _close(expected, value, rtol=3e-6, atol=1e-8) or bool(
            np.max(np.abs(value), initial=0.0) < 1e-6  # what a 0 would match to 1e-9
        )
        if near and not _close(got, value, rtol=1e-9, atol=1e-13):
            continue
        shown[key] = value
    if not unique:
        return shown
    if len(shown) > 1:  # told apart, if at all, by the one that got is to 1e-9
        shown = {k: v for k, v in shown.items() if _close(got, v, rtol=1e-9, atol=1e-13)}
    return shown if len(shown) == 1 else {}


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
            if _close(got, value, rtol=1e-9, atol=1e-13):
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
        if _close(got, value, rtol=1e-9, atol=1e-13):
            again = call(STEP)
            if _close(again, right, rtol=1e-8, atol=1e-12):
                return {default_step_is(step): value}
            if _close(again, value, rtol=1e-9, atol=1e-13):
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
            if _close(got, value, rtol=1e-9, atol=1e-13):
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
    if got is None or _close(got, central_gradient(PROBE, PROBE_POINT, STEP), rtol=1e-7):
        return None
    mistakes = {**gradients(PROBE, PROBE_POINT, STEP), **only_at_x(traced, PROBE_POINT, got)}
    shown = [
        name
        for name in FOLLOWED
        if name in mistakes and _close(got, mistakes[name], rtol=1e-9, atol=1e-13)
    ]
    return shown[0] if len(shown) == 1 else None


def direction_of(grad: np.ndarray) -> np.ndarray:
    """The direction steepest_ascent_direction gives for the gradient ``grad``."""
    length = np.linalg.norm(grad)
    return np.zeros_like(grad) if length < 1e-12 else grad / length


def only_at_x(traced: Recorder, x: np.ndarray, got: Any) -> dict[str, np.ndarray]:
    """ONLY_AT_X, where every evaluation of f was at x itself and ``got`` is all zeros."""
    points = traced.inputs
    if points and all(np.array_equal(p, x) for p in points) and _close(got, np.zeros(x.shape), 0.0):
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
    if _close(candidates.get(SUM_LENGTH), candidates.get(L1_LENGTH), rtol=1e-12):
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


def make_function(rng, shape):
    """A random smooth scalar function of an array of ``shape``, and its description."""
    weights = rng.uniform(0.5, 2.0, size=shape)
    offset = rng.uniform(-1, 1, size=shape)

    # The coupling 0.3·(Σ x)² makes a gradient taken at shifted points show. A formula: the
    # worker evaluates it where the student's code calls it (grader.formula).
    function = formula(
        "float(np.sum(weights * np.sin(x - offset)) + np.sum(weights * x**2) / 2"
        " + 0.3 * np.sum(x) ** 2)",
        "f",
        weights=weights,
        offset=offset,
    )
    return function, "Σ w·sin(x - c) + Σ w·x²/2 + 0.3·(Σ x)²"


@check(points=2)
def test_numerical_gradient_matches_reference(student, solution, rng):
    """numerical_gradient agrees with the reference on random functions and shapes."""
    for shape in [(1,), (5,), (3, 1), (2, 3), (1, 2, 3)]:
        function, written = make_function(rng, shape)
        x = rng.uniform(-3, 3, size=shape)
        call = f"numerical_gradient(f(x) = {written}, x={describe(x)})"
        traced = Recorder(function, "f")
        got = student.numerical_gradient(traced, x)
        warn_if_inputs_changed(student, call, docstring_asks=True)
        expected = solution.numerical_gradient(function, x.copy())
        got = expect_array(got, call, shape)
        mistakes: dict[str, Any] = {}
        if differs(got, expected, rtol=1e-6, atol=1e-7):
            mistakes = (
                only_at_x(traced, x, got)
                or gradient_mistakes(
                    function, x, STEP, got, expected, given=False, left_out=(ROWS,)
                )
                or default_step_of(
                    lambda step, function=function, x=x: answer_or_none(
                        student.numerical_gradient, function, x.copy(), step
                    ),
                    central_gradient(function, x, STEP),
                    got,
                    lambda step, function=function, x=x: central_gradient(function, x, step),
                )
                or offered(
                    got,
                    expected,
                    {ONE_SIDED_HINT: gradients(function, x, STEP)[ONE_SIDED_HINT]},
                    unique=False,
                )
            )
        expect_close(got, expected, call, rtol=1e-6, atol=1e-7, mistakes=mistakes)


def flat_points(rng):
    """(function, its formula in words, a point where it is flat, what that point is).

    Away from the origin a numerical gradient at a flat point is rarely exactly 0: the two values
    of a central difference differ by rounding, and the difference quotient is noise of length
    1e-14 or less (far below the docstring's 1e-12, so the reference returns zeros); or the
    gradient is real but tiny. Only a comparison of its length with a tolerance sees it as zero.
    """
    centre = rng.uniform(-1, 1, size=3)
    # 1e-4·|p - c|² and a saddle around c, written out so that rounding does not cancel.
    bowl = formula("1e-4 * float(np.sum(x**2) - 2 * np.sum(c * x))", "f", c=centre)
    saddle = formula(
        "1e-4 * float(x[0] ** 2 - 2 * c[0] * x[0] - x[1] ** 2 + 2 * c[1] * x[1] + x[2] ** 2"
        " - 2 * c[2] * x[2])",
        "f",
        c=centre,
    )
    # 1e-4 · 3 everywhere, up to rounding.
    plateau = formula("1e-4 * float(np.sum((x + 1) ** 2 - x**2 - 2 * x))", "f")
    tail = formula("float(np.exp(-np.sum(x**2)))", "f")
    noise = "where f is flat and the numerical gradient is rounding noise, far shorter than 1e-12"
    return [
        (bowl, "1e-4·(Σ p² - 2 c·p), c = x", centre, f"the minimum of this bowl, {noise}"),
        (
            saddle,
            "1e-4·(p0² - 2c0·p0 - p1² + 2c1·p1 + p2² - 2c2·p2), c = x",
            centre,
            f"the saddle point, {noise}",
        ),
        (
            plateau,
            "1e-4·Σ ((p + 1)² - p² - 2p)",
            rng.uniform(-3, 3, size=3),
            f"a plateau (f is 3e-4 everywhere), {noise}",
        ),
        (
            tail,
            "exp(-Σ p²)",
            np.array([4.0, -3.0, 4.0]),
            "the flat tail of a bump, where the gradient's length is 2e-17, below 1e-12",
        ),
    ]


def expect_flat(got, call, size, where, following=None):
    """Fail unless ``got`` is all zeros, naming the mistake that gives what it is instead;
    following: {(numerical_gradient, hint): the direction its mistake gives}, where the student's
    numerical_gradient makes one (that mistake again, not one of the zero test)."""
    got = expect_array(got, call, (size,))
    if np.allclose(got, 0.0, rtol=0.0, atol=1e-9):
        return
    if following and shows(got, next(iter(following.values()))):
        expect_close(got, np.zeros(size), call, atol=1e-9, mistakes=following)
        return
    if not np.all(np.isfinite(got)):
        fail(
            f"{call} returned {describe(got)} at {where}; a gradient of (almost) no length "
            "cannot be divided by its length: return all zeros when the length is below 1e-12"
        )
    if abs(np.linalg.norm(got) - 1.0) < 1e-6:
        fail(
            f"{call} returned the unit vector {describe(got)} at {where}; a gradient shorter "
            "than 1e-12 counts as zero, and the direction is then all zeros. Compare the "
            "gradient's length with 1e-12, not with 0: a numerical gradient is rarely exactly 0"
        )
    fail(f"{call} returned {describe(got)} at {where}; expected all zeros there")


@check(points=1)
def test_steepest_ascent_matches_reference(student, solution, rng):
    """steepest_ascent_direction agrees with the reference, and is zero where f is flat."""
    mistake = gradient_mistake(student)

    def following(function, x):
        return followed(mistake, function, x)

    bowl = formula("float(np.sum(x**2))", "f")
    call = "steepest_ascent_direction(f(p) = Σ p², x=[0, 0, 0])"
    got = student.steepest_ascent_direction(bowl, np.zeros(3))
    where = "the bottom of the bowl, where f is flat"
    expect_flat(got, call, 3, where, following(bowl, np.zeros(3)))
    for function, written, x, why in flat_points(rng):
        call = f"steepest_ascent_direction(f(p) = {written}, x={describe(x)})"
        got = student.steepest_ascent_direction(function, x.copy())
        expect_flat(got, call, 3, why, following(function, x))
    for size in (2, 4):
        function, written = make_function(rng, (size,))
        x = rng.uniform(-3, 3, size=size)
        call = f"steepest_ascent_direction(f(x) = {written}, x={describe(x)})"
        got = student.steepest_ascent_direction(function, x)
        warn_if_inputs_changed(student, call)
        got = expect_array(got, call, (size,))
        expected = solution.steepest_ascent_direction(function, x.copy())
        mistakes: dict[Any, Any] = {}
        if differs(got, expected, rtol=1e-6, atol=1e-7):
            grad = central_gradient(function, x, STEP)
            mistakes = following(function, x) or direction_named(
                got, expected, direction_mistakes(grad)
            )
        expect_close(got, expected, call, rtol=1e-6, atol=1e-7, mistakes=mistakes)


@check(points=1)
def test_exact_gradients_at_edge_cases(student, solution, rng):
    """plane_gradient and bowl_gradient agree with the reference at negative and large points."""
    for x, y in [(-1e6, 3e7), (0.0, 0.0), (-2.5, -0.25), tuple(rng.uniform(-100, 100, size=2))]:
        x, y = float(x), float(y)
        for name in ("plane_gradient", "bowl_gradient"):
            call = f"{name}({x:g}, {y:g})"
            got = expect_array(getattr(student, name)(x, y), call, (2,))
            expected = getattr(solution, name)(x, y)
            mistakes = {}
            if differs(got, expected, rtol=1e-12, atol=1e-9):
                mistakes = surface_gradient_named(got, expected, name, x, y)
            expect_close(got, expected, call, rtol=1e-12, mistakes=mistakes)
