"""Exercise 1's named mistakes, which its public and hidden checks both name, in the same words.

Each mistake is a hint (what is wrong and what to do) and the value that mistake gives at a check's
own inputs, computed here with numpy; never read from the student's code. Loaded by the check files
with ``shared(__file__, "_exercise1_mistakes")``."""

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from grader.checks import (
    answer_or_none,
    close_to,
    offered,
    with_hint,
)
from grader.student_code.errors import StudentRaised

# The hints of numerical_derivative, in every check of it: the same mistake, charged once.
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


# The hints of difference_quotient, in each of its checks.
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
CENTRAL_OVER_DX = (
    "this is (f(x + dx) - f(x - dx)) / dx, a rise over 2·dx divided by dx alone: the difference "
    "quotient steps forward only, (f(x + dx) - f(x)) / dx"
)
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
        CENTRAL_OVER_DX: (after - function(x - dx)) / dx,
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
            if close_to(got, value(function, x, step), rtol=1e-9, atol=1e-13):
                candidates[dx_is_ignored(step, kind)] = value(function, x, step)
    return offered(got, expected, candidates) or offered(got, expected, named or {}, unique=False)


# The exact functions' hints.
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
    return shown if there is not None and close_to(again(SECOND_POINT), there, rtol=1e-6) else {}


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
        tight = [e for e in estimates if close_to(got, e, rtol=1e-9, atol=1e-13)]
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


# ---------------------------------------------------------------- naming mistakes
# Each mistake is recognised by its value at the check's own inputs, the value the mistaken
# formula gives there, computed here with numpy; never from the student's code.

# Steps a student may fix in place of the h (or dx) given: numpy's sqrt(eps) among them.
STEPS = (
    *(10.0**-k for k in range(1, 16)),
    1.4901161193847656e-08,
    0.5,
    1.0,
)


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
        if not np.isclose(step, h, rtol=1e-9, atol=0.0) and close_to(
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
        if close_to(again, central(function, x, DEFAULT_STEP), rtol=1e-8):
            candidates[default_step_is(step)] = central(function, x, step)
        elif close_to(again, central(function, x, step), rtol=1e-9, atol=1e-13):
            candidates[step_is_ignored(step)] = central(function, x, step)
    return offered(got, expected, candidates) or offered(
        got, expected, first_named(function, x, DEFAULT_STEP), unique=False
    )
