"""Public checks for exercise 1, derivatives.

They use fixed values from the lesson, properties, and finite differences of the functions the
docstrings define, computed here; never the reference solution. A wrong answer is told the
mistake it shows: the value a mistaken formula gives at the check's own inputs (the one-sided
difference, a missing 1/(2h), a step other than h), computed here with numpy.
"""

import itertools
from typing import Any

import numpy as np

from grader.checks import (
    Recorder,
    answer_or_none,
    check,
    close_to,
    describe,
    differs,
    expect_close,
    expect_derivative,
    fail,
    formula,
    offered,
    shared,
    with_hint,
)

# The functions passed to the student's code, as formulas: evaluated where the student's code
# calls them, every evaluation replayed here (grader.formula).
# x³ - 2x: its central and one-sided differences differ visibly for h = 1e-3.
cubic = formula("x**3 - 2 * x", "cubic")
three_x = formula("3 * x", "three_x")
two_x_squared = formula("2 * x**2", "two_x_squared")
sine = formula("np.sin(x)", "sin")


common = shared(__file__, "_exercise1_mistakes")  # the mistakes both check files name


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
        named = {common.DQ_CENTRAL: central_difference, common.DQ_SIGN: -expected}
        if differs(got, expected, rtol=1e-9, atol=1e-9):
            named = common.quotient_mistakes(
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
            mistakes = common.quotient_mistakes(two_x_squared, 3.0, dx, True, got, expected)
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
            mistakes = common.numerical_derivative_mistakes(cubic, x, h, got, expected)
        expect_close(got, expected, call, rtol=1e-9, mistakes=mistakes)
        points = sorted(float(np.asarray(p)) for p in traced.inputs)
        if points and min(points) > x - h / 2:
            fail(f"{call} only evaluated f at {describe(np.array(points))}: {common.ONE_SIDED}")


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
            mistakes = common.default_step_mistakes(student, function, x, got, expected)
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
        got = common.answer_of(student.two_x_squared, x)
        expected = 2 * np.asarray(x) ** 2
        mistakes: dict[str, Any] = {}
        if differs(got, expected, rtol=1e-12, atol=1e-9):
            mistakes = common.square_mistakes(
                x, got, expected, lambda point: answer_or_none(student.two_x_squared, point)
            )
        expect_close(got, expected, f"two_x_squared({describe(x)})", rtol=1e-12, mistakes=mistakes)


@check(points=0.5)
def test_two_x_squared_derivative(student, rng):
    """two_x_squared_derivative is 4x, as finite differences of 2x² confirm."""
    for x in [*POINTS, rng.uniform(-5, 5, size=4), rng.uniform(-5, 5, size=(2, 3))]:
        got = common.answer_of(student.two_x_squared_derivative, x)
        call = f"two_x_squared_derivative({describe(x)})"
        expected = 4 * np.asarray(x)
        mistakes: dict[str, Any] = {}
        if differs(got, expected, rtol=1e-12, atol=1e-9):
            mistakes = common.square_derivative_mistakes(
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
        array = np.asarray(x, dtype=np.float64)
        with np.errstate(all="ignore"):
            powers = [np.power(3.0, array), array**3]
        got = student.three_x(x)
        # 3 ** x and x ** 3 agree at x = 3: one hint for both.
        power = next((value for value in powers if close_to(got, value, rtol=1e-9)), powers[0])
        mistakes = {
            "this is a power, 3 ** x or x ** 3: 3x is the product 3 * x": power,
            "this is x + 3: 3x is the product 3 * x": array + 3,
        }
        call = f"three_x({describe(x)})"
        expect_close(got, 3 * array, call, rtol=1e-12, mistakes=offered(got, 3 * array, mistakes))


@check(points=0.5)
def test_three_x_derivative(student, rng):
    """three_x_derivative is 3 everywhere, an array of 3s for an array x."""
    for x in [3.0, -7.5, rng.uniform(-5, 5, size=5), rng.uniform(-5, 5, size=(3, 2))]:
        got = common.answer_of(student.three_x_derivative, x)
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
            mistakes = common.linear_derivative_mistakes(
                x, got, expected, lambda point: answer_or_none(student.three_x_derivative, point)
            )
        expect_derivative(got, three_x, x, call, mistakes=mistakes)
        expect_close(got, expected, call, rtol=1e-12, mistakes=mistakes)
