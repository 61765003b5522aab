"""Public checks for exercise 1, derivatives.

They use fixed values from the lesson, properties, and finite differences of the functions the
docstrings define, computed here; never the reference solution. A wrong answer is told the
mistake it shows: the value a mistaken formula gives at the check's own inputs (the one-sided
difference, a missing 1/(2h), a step other than h), computed here with numpy.
"""

import itertools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from grader.checks import (
    Recorder,
    answer_or_none,
    check,
    describe,
    expect_close,
    expect_derivative,
    fail,
    formula,
    with_hint,
)
from grader.student_code.errors import StudentRaised

# The functions passed to the student's code, as formulas: evaluated where the student's code
# calls them, every evaluation replayed here (grader.formula).
# x³ - 2x: its central and one-sided differences differ visibly for h = 1e-3.
cubic = formula("x**3 - 2 * x", "cubic")
three_x = formula("3 * x", "three_x")
two_x_squared = formula("2 * x**2", "two_x_squared")
sine = formula("np.sin(x)", "sin")


# The hints of numerical_derivative, in every check of it, and in the hidden checks, word for
# word: the same mistake, charged once.
ONE_SIDED = (
    "you took a one-sided difference; use the central difference (f(x + h) - f(x - h)) / (2h), "
    "which steps both ways"
)
ONE_SIDED_BACKWARDS = ONE_SIDED + " (you stepped backwards only)"
DIVIDED_BY_H = "you divided by h instead of 2h"
ONE_SIDED_2H = (
    "this is the one-sided difference (f(x + 2h) - f(x)) / (2h); use the central difference "
    "(f(x + h) - f(x - h)) / (2h), which steps both ways"
)
HALF_FORWARD = (
    "this is (f(x + h) - f(x)) / (2h): the central difference subtracts f(x - h), not f(x)"
)
DERIVATIVE_SIGN = (
    "the sign is flipped: the central difference is (f(x + h) - f(x - h)) / (2h), the value at "
    "x + h first"
)
TIMES_H = (
    "this is (f(x + h) - f(x - h)) / 2 * h, which multiplies by h: put 2h in parentheses, / (2 * h)"
)
OVER_TWO = "this is divided by 2, not by 2h: (f(x + h) - f(x - h)) / (2 * h)"
NOT_DIVIDED = "this is f(x + h) - f(x - h), not yet divided by 2h"
ONLY_BELOW_DIVIDED = (
    "only f(x - h) is divided by 2h: put the difference in parentheses, "
    "(f(x + h) - f(x - h)) / (2 * h)"
)
ADDED = "f(x + h) and f(x - h) are added: subtract them, (f(x + h) - f(x - h)) / (2h)"
HALF_STEPS = (
    "the points x ± h/2 are only h apart, yet the difference is divided by 2h: step to x + h "
    "and x - h"
)
OUTPUT_STEPPED = (
    "h is added to the value of f, f(x) + h, not to its input: evaluate f(x + h) and f(x - h)"
)
DEFAULT_STEP = 1e-5  # numerical_derivative's default h, as its signature gives it


# The hints of difference_quotient, in each of its checks and in the hidden ones, word for word.
DQ_CENTRAL = (
    "this is the central difference; difference_quotient is the lesson's one-sided "
    "(F(x + dx) - F(x)) / dx"
)
DQ_SIGN = (
    "the sign is flipped: the slope is (F(x + dx) - F(x)) / dx, the later value first, for a "
    "negative dx too"
)
ONLY_F_X_DIVIDED = (
    "only f(x) is divided by dx: put the difference in parentheses, (f(x + dx) - f(x)) / dx"
)
RISE_ONLY = "this is the rise f(x + dx) - f(x), not yet divided by dx"
RISE_TIMES_DX = "the rise f(x + dx) - f(x) is multiplied by dx: divide it by dx"
UPSIDE_DOWN = "this is dx / (f(x + dx) - f(x)), the quotient upside down: divide the rise by dx"
OVER_X = "the denominator is x: divide by the step dx, (f(x + dx) - f(x)) / dx"
OVER_2DX = (
    "this is divided by 2·dx: the one-sided slope divides by dx itself, (f(x + dx) - f(x)) / dx"
)
BACKWARD_QUOTIENT = (
    "this is the slope (f(x) - f(x - dx)) / dx from x - dx to x: step forward, "
    "(f(x + dx) - f(x)) / dx"
)
QUOTIENT_OUTPUT_STEPPED = (
    "dx is added to the value of f, f(x) + dx, not to its input: (f(x + dx) - f(x)) / dx"
)
F_OF_DX = "f(dx) is subtracted where f(x) belongs: (f(x + dx) - f(x)) / dx"
ALIASED_QUOTIENT = (
    "for a float x this is right, but for an array the rise is 0, f(x + dx) taken at x itself: a "
    "name set to x (x_new = x) is x, no copy, and x_new += dx moves x too; compute x + dx as a "
    "new array"
)
FLOOR_DIVISION = (
    "// is floor division, which rounds the slope down to a whole number: divide with /"
)
ABS_STEP = (
    "for a negative dx the sign is flipped (a positive dx gives the right slope): divide by dx "
    "itself, not by abs(dx); a negative dx keeps its sign"
)
POSITIVE_STEP = (
    "for a negative dx this is the slope towards x + |dx|, not x + dx: step by dx as given, a "
    "negative one too"
)


def dx_is_ignored(step: float, kind: str) -> str:
    return (
        f"dx is ignored: this is the {kind} difference with a fixed step of {step:g}; step by the "
        "dx given, (f(x + dx) - f(x)) / dx"
    )


def _ratio(top: Any, bottom: Any) -> Any:
    """top / bottom as numpy divides, inf or nan where bottom is 0 (a value no answer matches)."""
    with np.errstate(all="ignore"):
        return np.asarray(top, dtype=np.float64) / np.asarray(bottom, dtype=np.float64)


def quotient_mistakes(
    function: Callable[[Any], Any],
    x: Any,
    dx: float,
    forward_right: bool,
    got: Any,
    expected: Any,
    named: Mapping[str, Any] | None = None,
    float_right: bool = False,
) -> dict[str, Any]:
    """The named mistake of difference_quotient that ``got`` shows for ``function`` at x.

    forward_right: the same call gave the right slope for a positive dx earlier in the check; only
    then does a wrong slope for a negative dx tell that the step's sign was dropped. named: the
    check's own mistakes, offered as they always were where none of these is told. float_right:
    a float x gave the right slope earlier; only then does a rise of 0 for an array tell that x
    was stepped in place.
    """
    after, at = function(x + dx), function(x)
    rise = after - at
    candidates: dict[str, Any] = {
        ONLY_F_X_DIVIDED: after - at / dx,
        RISE_ONLY: rise,
        RISE_TIMES_DX: rise * dx,
        UPSIDE_DOWN: _ratio(dx, rise),
        OVER_X: _ratio(rise, x),
        OVER_2DX: rise / (2 * dx),
        BACKWARD_QUOTIENT: (at - function(x - dx)) / dx,
        QUOTIENT_OUTPUT_STEPPED: ((at + dx) - at) / dx,
        F_OF_DX: (after - function(dx)) / dx,
    }
    floored = rise // dx
    if np.any(floored != 0):  # a slope rounded down to 0 could be many a mistake's
        candidates[FLOOR_DIVISION] = floored
    if np.ndim(x) and float_right:
        candidates[ALIASED_QUOTIENT] = np.zeros(np.shape(x))
    candidates.update(named or {})
    if dx < 0 and forward_right:
        # The sign is right for a positive dx, and so is the step forward: for a negative dx the
        # backward slope is the slope towards x + |dx|, told as such.
        candidates.pop(DQ_SIGN, None)
        candidates.pop(BACKWARD_QUOTIENT, None)
        candidates[ABS_STEP] = rise / abs(dx)
        candidates[POSITIVE_STEP] = (function(x - dx) - at) / -dx
    for step in STEPS:
        if np.isclose(step, abs(dx), rtol=1e-9, atol=0.0):
            continue
        for kind, value in (("one-sided", forward), ("central", central)):
            if _close(got, value(function, x, step), rtol=1e-9, atol=1e-13):
                candidates[dx_is_ignored(step, kind)] = value(function, x, step)
    return offered(got, expected, candidates) or offered(got, expected, named or {}, unique=False)


# The exact functions' hints, in the public and the hidden checks alike.
POWER_RULE = (
    "d(2x²)/dx = 2·2x = 4x: the coefficient 2 stays, and the power rule brings the exponent 2 "
    "down as a factor"
)
KEEPS_EXPONENT = (
    "the power rule lowers the exponent by one: d(2x²)/dx = 2·2x¹ = 4x, not 4x² (the exponent "
    "2 comes down and x keeps the power 1)"
)
DERIVATIVE_IS_ITSELF = "this is 2x², the function itself, not its derivative: d(2x²)/dx = 4x"
NO_X = "the x is missing: d(2x²)/dx = 4x, not the constant 4"
ANTIDERIVATIVE = "this is 2x³/3, the antiderivative (integral) of 2x², not its derivative 4x"
ESTIMATE = (
    "this is a finite-difference estimate, off by its step or by rounding, not the exact "
    "derivative: return 4 * x"
)
THREE_X_ITSELF = "this is 3x, the function itself: its derivative is 3 at every x"
ZERO_SLOPE = "this is 0: the slope of 3x is 3 at every x"
SLOPE_OF_X = "this is 1, the derivative of x alone: the coefficient stays, d(3x)/dx = 3"
SQUARE_OF_2X = "this is (2x)² = 4x²: only x is squared, 2 * x**2"
NO_COEFFICIENT = "the coefficient 2 is missing: 2 * x**2"
NOT_SQUARED = "this is 2x: x is not squared, 2 * x**2"
FOUR_X = "this is 4x (the derivative of 2x²), not 2x²: square x, 2 * x**2"
POWER_OF_TWO = "this is 2·2^x, 2 to the power x: the square of x is x**2"
XOR = "^ is Python's bitwise xor (exclusive or), not a power: write x**2"
ZERO_DIVISION = (
    "at x = 0 it divides by zero: the derivative holds at x = 0 too, and needs no division"
)


def answer_of(method: Callable[..., Any], x: Any, *more: Any) -> Any:
    """``method(x, *more)``, the student's answer; an error it raises gets a hint where its
    message shows the mistake: ^ (xor) used as a power, or a division by zero at x = 0."""
    try:
        return method(x, *more)
    except StudentRaised as error:
        text = str(error)
        hint = None
        if "for ^:" in text or "'bitwise_xor'" in text:
            hint = XOR
        elif "ZeroDivisionError" in text and np.ndim(x) == 0 and x == 0:
            hint = ZERO_DIVISION
        if hint is None:
            raise
        raise StudentRaised(with_hint(text.rstrip("."), hint), error.line) from None


SECOND_POINT = -1.3  # where a mistake told at a small whole number is confirmed


def confirmed(
    shown: dict[str, Any],
    x: Any,
    again: Callable[[float], Any] | None,
    build: Callable[[Any], Mapping[str, Any]],
) -> dict[str, Any]:
    """``shown``, unless x is a small whole number (3, -2), where many formulas agree (x² + x
    and 4x at 3): there a mistake is told only where the student's answer at SECOND_POINT
    (``again``, one more call) is that mistake's value there too."""
    if not shown or again is None or np.ndim(x) or not float(x).is_integer() or abs(x) > 5:
        return shown
    (key,) = shown
    there = build(SECOND_POINT).get(key)
    return shown if there is not None and _close(again(SECOND_POINT), there, rtol=1e-6) else {}


def square_candidates(x: Any) -> dict[str, Any]:
    """Each named mistake of two_x_squared -> the value it gives at x."""
    x = np.asarray(x, dtype=np.float64)
    return {
        SQUARE_OF_2X: (2 * x) ** 2,
        NO_COEFFICIENT: x**2,
        NOT_SQUARED: 2 * x,
        FOUR_X: 4 * x,
        POWER_OF_TWO: 2 * 2.0**x,
    }


def square_mistakes(
    x: Any, got: Any, expected: Any, again: Callable[[float], Any] | None = None
) -> dict[str, Any]:
    """The named mistake of two_x_squared that ``got`` shows at x (again: as for confirmed)."""
    shown = offered(got, expected, square_candidates(x))
    return confirmed(shown, x, again, square_candidates)


def square_derivative_candidates(x: Any) -> dict[str, Any]:
    """Each named mistake of two_x_squared_derivative -> the value it gives at x."""
    array = np.asarray(x, dtype=np.float64)
    return {
        POWER_RULE: 2 * array,
        KEEPS_EXPONENT: 4 * array**2,
        DERIVATIVE_IS_ITSELF: 2 * array**2,
        NO_X: np.full_like(array, 4.0),
        ANTIDERIVATIVE: 2 * array**3 / 3,
    }


def square_derivative_mistakes(
    x: Any, got: Any, expected: Any, again: Callable[[float], Any] | None = None
) -> dict[str, Any]:
    """The named mistake of two_x_squared_derivative that ``got`` shows at x; an estimate is
    one a central or one-sided difference of 2x² gives, with a step students take (again: as
    for confirmed)."""
    array = np.asarray(x, dtype=np.float64)
    candidates = square_derivative_candidates(x)

    def square(point: Any) -> Any:
        return 2 * point**2

    for step in (1e-5, 1e-4, 1e-6, 1e-3, 1e-7, 1e-8, 1e-2):
        estimates = [central(square, x, step), forward(square, x, step)]
        estimates.append((square(x) - square(x - step)) / step)
        tight = [e for e in estimates if _close(got, e, rtol=1e-9, atol=1e-13)]
        if tight:
            candidates[ESTIMATE] = tight[0]
            break
    shown = offered(got, expected, candidates)
    if ESTIMATE not in shown:
        shown = confirmed(shown, x, again, square_derivative_candidates)
    if shown:
        return shown
    first = offered(got, expected, {POWER_RULE: 2 * array}, unique=False)
    return confirmed(first, x, again, square_derivative_candidates)


def linear_derivative_candidates(x: Any) -> dict[str, Any]:
    """Each named mistake of three_x_derivative -> the value it gives at x."""
    array = np.asarray(x, dtype=np.float64)
    return {
        THREE_X_ITSELF: 3 * array,
        ZERO_SLOPE: np.zeros_like(array),
        SLOPE_OF_X: np.ones_like(array),
    }


def linear_derivative_mistakes(
    x: Any, got: Any, expected: Any, again: Callable[[float], Any] | None = None
) -> dict[str, Any]:
    """The named mistake of three_x_derivative that ``got`` shows at x (again: as for
    confirmed)."""
    shown = offered(got, expected, linear_derivative_candidates(x))
    return confirmed(shown, x, again, linear_derivative_candidates)


# ---------------------------------------------------------------- naming mistakes (shared)
# The same definitions, word for word, in the hidden checks: the same mistake, charged once.
# Each mistake is recognised by its value at the check's own inputs, the value the mistaken
# formula gives there, computed here with numpy; never from the student's code.

# Steps a student may fix in place of the h (or dx) given: numpy's sqrt(eps) among them.
STEPS = (
    *(10.0**-k for k in range(1, 16)),
    1.4901161193847656e-08,
    0.5,
    1.0,
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
    return not bool(
        np.all(np.abs(got_array - expected_array) <= atol + rtol * np.abs(expected_array))
    )


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


def central(function: Callable[[Any], Any], x: Any, h: float) -> Any:
    return (function(x + h) - function(x - h)) / (2 * h)


def forward(function: Callable[[Any], Any], x: Any, h: float) -> Any:
    return (function(x + h) - function(x)) / h


def step_is_ignored(step: float) -> str:
    return (
        f"h is ignored: this is the central difference with a fixed step of {step:g}; step by "
        "the h given"
    )


def default_step_is(step: float) -> str:
    small = (
        ", so small that rounding swamps the difference (f(x + h) and f(x - h) agree in all "
        "but their last digits)"
        if step < 1e-8
        else ""
    )
    return f"the default step is {step:g}{small}: the signature's default is h=1e-5"


def fixed_step(function: Callable[[Any], Any], x: Any, h: float, got: Any) -> float | None:
    """The step other than ``h`` whose central difference ``got`` is, to 1e-9, if any."""
    for step in STEPS:
        if not np.isclose(step, h, rtol=1e-9, atol=0.0) and _close(
            got, central(function, x, step), rtol=1e-9, atol=1e-13
        ):
            return step
    return None


def first_named(function: Callable[[Any], Any], x: Any, h: float) -> dict[str, Any]:
    """The mistakes numerical_derivative's checks named first, offered as they always were where
    no other is told."""
    above, below, at = function(x + h), function(x - h), function(x)
    return {
        ONE_SIDED: (above - at) / h,
        ONE_SIDED_BACKWARDS: (at - below) / h,
        DIVIDED_BY_H: (above - below) / h,
    }


def derivative_mistakes(function: Callable[[Any], Any], x: Any, h: float) -> dict[str, Any]:
    """Each named mistake of numerical_derivative -> the value it gives for ``function`` at x."""
    above, below, at = function(x + h), function(x - h), function(x)
    right = (above - below) / (2 * h)
    return {
        ONE_SIDED: (above - at) / h,
        ONE_SIDED_BACKWARDS: (at - below) / h,
        DIVIDED_BY_H: 2 * right,
        ONE_SIDED_2H: (function(x + 2 * h) - at) / (2 * h),
        HALF_FORWARD: (above - at) / (2 * h),
        DERIVATIVE_SIGN: (below - above) / (2 * h),
        TIMES_H: (above - below) / 2 * h,
        OVER_TWO: (above - below) / 2,
        NOT_DIVIDED: above - below,
        ONLY_BELOW_DIVIDED: above - below / (2 * h),
        ADDED: (above + below) / (2 * h),
        HALF_STEPS: (function(x + h / 2) - function(x - h / 2)) / (2 * h),
        OUTPUT_STEPPED: ((at + h) - (at - h)) / (2 * h),
    }


def numerical_derivative_mistakes(
    function: Callable[[Any], Any], x: Any, h: float, got: Any, expected: Any
) -> dict[str, Any]:
    """The named mistake of numerical_derivative that ``got`` shows, for an explicit step h."""
    candidates: dict[str, Any] = derivative_mistakes(function, x, h)
    step = fixed_step(function, x, h, got)
    if step is not None:
        candidates[step_is_ignored(step)] = central(function, x, step)
    return offered(got, expected, candidates) or offered(
        got, expected, first_named(function, x, h), unique=False
    )


def default_step_mistakes(
    student: Any, function: Callable[[Any], Any], x: Any, got: Any, expected: Any
) -> dict[str, Any]:
    """As numerical_derivative_mistakes, for a call with the default step: a step other than
    1e-5 is the default's, or h ignored, as one more call with h=1e-5 given tells."""
    candidates: dict[str, Any] = derivative_mistakes(function, x, DEFAULT_STEP)
    step = fixed_step(function, x, DEFAULT_STEP, got)
    if step is not None:
        again = answer_or_none(student.numerical_derivative, function, x, DEFAULT_STEP)
        if _close(again, central(function, x, DEFAULT_STEP), rtol=1e-8):
            candidates[default_step_is(step)] = central(function, x, step)
        elif _close(again, central(function, x, step), rtol=1e-9, atol=1e-13):
            candidates[step_is_ignored(step)] = central(function, x, step)
    return offered(got, expected, candidates) or offered(
        got, expected, first_named(function, x, DEFAULT_STEP), unique=False
    )


@check(points=1)
def test_difference_quotient(student, rng):
    """difference_quotient is the slope (F(x + dx) - F(x)) / dx of the lesson."""
    cases = [
        (three_x, "F(x) = 3x", 3.0, 0.1),
        (two_x_squared, "F(x) = 2x²", 3.0, 0.5),
        (two_x_squared, "F(x) = 2x²", -1.5, -0.25),
        (cubic, "F(x) = x³ - 2x", 0.7, 1e-3),
    ]
    x_array = rng.uniform(-4, 4, size=(2, 3))
    cases.append((two_x_squared, "F(x) = 2x²", x_array, 0.01))
    forward_right = float_right = False
    for function, written, x, dx in cases:
        call = f"difference_quotient({written}, x={describe(x)}, dx={dx:g})"
        expected = (function(x + dx) - function(x)) / dx
        central_difference = (function(x + dx) - function(x - dx)) / (2 * dx)
        got = student.difference_quotient(function, x, dx)
        named = {DQ_CENTRAL: central_difference, DQ_SIGN: -expected}
        if differs(got, expected, rtol=1e-9, atol=1e-9):
            named = quotient_mistakes(
                function, x, dx, forward_right, got, expected, named, float_right
            )
            forward_right = forward_right and dx < 0
        else:
            forward_right = forward_right or dx > 0
            float_right = float_right or not np.ndim(x)
        expect_close(got, expected, call, rtol=1e-9, mistakes=named)


@check(points=1)
def test_difference_quotient_approaches_the_derivative(student):
    """As dx shrinks, the difference quotient of F = 2x² at x = 3 approaches F'(3) = 12."""
    errors = []
    for dx in (1e-1, 1e-2, 1e-3, 1e-4):
        got = student.difference_quotient(two_x_squared, 3.0, dx)
        expected = 12 + 2 * dx
        mistakes: dict[str, Any] = {}
        if differs(got, expected, rtol=1e-6, atol=1e-9):
            mistakes = quotient_mistakes(two_x_squared, 3.0, dx, True, got, expected)
        expect_close(
            got,
            expected,
            f"difference_quotient(F(x) = 2x², x=3, dx={dx:g})",
            rtol=1e-6,
            mistakes=mistakes,
        )
        errors.append(abs(float(got) - 12))
    if not all(later < earlier for earlier, later in itertools.pairwise(errors)):
        fail("the difference quotient of 2x² at x = 3 should get closer to 12 as dx shrinks")


@check(points=2)
def test_numerical_derivative_is_central(student, rng):
    """numerical_derivative takes the central difference (f(x + h) - f(x - h)) / (2h)."""
    for x in (2.0, -1.3, float(rng.uniform(-3, 3))):
        h = 1e-3
        traced = Recorder(cubic, "cubic")
        call = f"numerical_derivative(f(x) = x³ - 2x, x={x:g}, h={h:g})"
        got = student.numerical_derivative(traced, x, h=h)
        expected = (cubic(x + h) - cubic(x - h)) / (2 * h)
        mistakes: dict[str, Any] = {}
        if differs(got, expected, rtol=1e-9, atol=1e-9):
            mistakes = numerical_derivative_mistakes(cubic, x, h, got, expected)
        expect_close(got, expected, call, rtol=1e-9, mistakes=mistakes)
        points = sorted(float(np.asarray(p)) for p in traced.inputs)
        if points and min(points) > x - h / 2:
            fail(f"{call} only evaluated f at {describe(np.array(points))}: {ONE_SIDED}")


@check(points=1)
def test_numerical_derivative_default_step(student, rng):
    """numerical_derivative's default h is small: F' of 2x² is 4x, of sin(x) is cos(x)."""
    cases = [(two_x_squared, "2x²", float(x), 4 * x) for x in (3.0, *rng.uniform(-10, 10, size=3))]
    cases += [(sine, "sin(x)", float(x), np.cos(x)) for x in rng.uniform(-3, 3, size=3)]
    for function, written, x, expected in cases:
        got = student.numerical_derivative(function, x)
        rtol, atol = (1e-6, 1e-6) if function is two_x_squared else (1e-8, 1e-9)
        mistakes: dict[str, Any] = {}
        if differs(got, expected, rtol=rtol, atol=atol):
            mistakes = default_step_mistakes(student, function, x, got, expected)
        expect_close(
            got,
            expected,
            f"numerical_derivative(F(x) = {written}, x={x:g})",
            rtol=rtol,
            atol=atol,
            mistakes=mistakes,
        )


# Each function scores on its own: a derivative is checked against 2x² and 3x computed here,
# whatever the student's two_x_squared and three_x give.
POINTS = [3.0, -2.0, 0.0]


@check(points=0.5)
def test_two_x_squared(student, rng):
    """two_x_squared is 2x², for a number and for arrays."""
    for x in [*POINTS, rng.uniform(-5, 5, size=4), rng.uniform(-5, 5, size=(2, 3))]:
        got = answer_of(student.two_x_squared, x)
        expected = 2 * np.asarray(x) ** 2
        mistakes: dict[str, Any] = {}
        if differs(got, expected, rtol=1e-12, atol=1e-9):
            mistakes = square_mistakes(
                x, got, expected, lambda point: answer_or_none(student.two_x_squared, point)
            )
        expect_close(got, expected, f"two_x_squared({describe(x)})", rtol=1e-12, mistakes=mistakes)


@check(points=0.5)
def test_two_x_squared_derivative(student, rng):
    """two_x_squared_derivative is 4x, as finite differences of 2x² confirm."""
    for x in [*POINTS, rng.uniform(-5, 5, size=4), rng.uniform(-5, 5, size=(2, 3))]:
        got = answer_of(student.two_x_squared_derivative, x)
        call = f"two_x_squared_derivative({describe(x)})"
        expected = 4 * np.asarray(x)
        mistakes: dict[str, Any] = {}
        if differs(got, expected, rtol=1e-12, atol=1e-9):
            mistakes = square_derivative_mistakes(
                x,
                got,
                expected,
                lambda point: answer_or_none(student.two_x_squared_derivative, point),
            )
        expect_derivative(got, two_x_squared, x, call, mistakes=mistakes)
        expect_close(got, expected, call, rtol=1e-12, mistakes=mistakes)


@check(points=0.5)
def test_three_x(student, rng):
    """three_x is 3x, for a number and for arrays."""
    for x in [3.0, -7.5, rng.uniform(-5, 5, size=5), rng.uniform(-5, 5, size=(3, 2))]:
        expect_close(student.three_x(x), 3 * np.asarray(x), f"three_x({describe(x)})", rtol=1e-12)


@check(points=0.5)
def test_three_x_derivative(student, rng):
    """three_x_derivative is 3 everywhere, an array of 3s for an array x."""
    for x in [3.0, -7.5, rng.uniform(-5, 5, size=5), rng.uniform(-5, 5, size=(3, 2))]:
        got = answer_of(student.three_x_derivative, x)
        call = f"three_x_derivative({describe(x)})"
        if isinstance(x, np.ndarray) and not isinstance(got, np.ndarray):
            fail(
                with_hint(
                    f"{call} returned {describe(got)}, not an array shaped like x",
                    "for an array x return an array of 3s, e.g. np.full_like(x, 3.0)",
                )
            )
        expected = np.full_like(np.asarray(x, dtype=float), 3.0)
        mistakes: dict[str, Any] = {}
        if differs(got, expected, rtol=1e-12, atol=1e-9):
            mistakes = linear_derivative_mistakes(
                x, got, expected, lambda point: answer_or_none(student.three_x_derivative, point)
            )
        expect_derivative(got, three_x, x, call, mistakes=mistakes)
        expect_close(got, expected, call, rtol=1e-12, mistakes=mistakes)
