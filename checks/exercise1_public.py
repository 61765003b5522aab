"""Public checks for exercise 1, derivatives.

They use fixed values from the lesson, properties, and finite differences of the functions the
docstrings define, computed here; never the reference solution.
"""

import itertools

import numpy as np

from grader.checks import (
    Recorder,
    check,
    describe,
    expect_close,
    expect_derivative,
    fail,
    formula,
    with_hint,
)

# The functions passed to the student's code, as formulas: evaluated where the student's code
# calls them, every evaluation replayed here (grader.formula).
# x³ - 2x: its central and one-sided differences differ visibly for h = 1e-3.
cubic = formula("x**3 - 2 * x", "cubic")
three_x = formula("3 * x", "three_x")
two_x_squared = formula("2 * x**2", "two_x_squared")
sine = formula("np.sin(x)", "sin")


# The same texts in every check of numerical_derivative, and in the hidden checks, word for word:
# the same mistake, charged once.
ONE_SIDED = (
    "you took a one-sided difference; use the central difference (f(x + h) - f(x - h)) / (2h), "
    "which steps both ways"
)
ONE_SIDED_BACKWARDS = ONE_SIDED + " (you stepped backwards only)"
DIVIDED_BY_H = "you divided by h instead of 2h"
DEFAULT_STEP = 1e-5  # numerical_derivative's default h, as its signature gives it


def derivative_mistakes(function, x, h):
    """Each named mistake of numerical_derivative -> the value it gives for ``function`` at x."""
    central = (function(x + h) - function(x - h)) / (2 * h)
    return {
        ONE_SIDED: (function(x + h) - function(x)) / h,
        ONE_SIDED_BACKWARDS: (function(x) - function(x - h)) / h,
        DIVIDED_BY_H: 2 * central,
    }


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
    for function, written, x, dx in cases:
        call = f"difference_quotient({written}, x={describe(x)}, dx={dx:g})"
        expected = (function(x + dx) - function(x)) / dx
        central = (function(x + dx) - function(x - dx)) / (2 * dx)
        got = student.difference_quotient(function, x, dx)
        expect_close(
            got,
            expected,
            call,
            rtol=1e-9,
            mistakes={
                "this is the central difference; difference_quotient is the lesson's one-sided "
                "(F(x + dx) - F(x)) / dx": central,
                "the sign is flipped: the slope is (F(x + dx) - F(x)) / dx, the later value "
                "first, for a negative dx too": -expected,
            },
        )


@check(points=1)
def test_difference_quotient_approaches_the_derivative(student):
    """As dx shrinks, the difference quotient of F = 2x² at x = 3 approaches F'(3) = 12."""
    errors = []
    for dx in (1e-1, 1e-2, 1e-3, 1e-4):
        got = student.difference_quotient(two_x_squared, 3.0, dx)
        expect_close(
            got, 12 + 2 * dx, f"difference_quotient(F(x) = 2x², x=3, dx={dx:g})", rtol=1e-6
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
        expect_close(got, expected, call, rtol=1e-9, mistakes=derivative_mistakes(cubic, x, h))
        points = sorted(float(np.asarray(p)) for p in traced.inputs)
        if points and min(points) > x - h / 2:
            fail(f"{call} only evaluated f at {describe(np.array(points))}: {ONE_SIDED}")


@check(points=1)
def test_numerical_derivative_default_step(student, rng):
    """numerical_derivative's default h is small: F' of 2x² is 4x, of sin(x) is cos(x)."""
    for x in (3.0, *rng.uniform(-10, 10, size=3)):
        got = student.numerical_derivative(two_x_squared, float(x))
        expect_close(
            got,
            4 * x,
            f"numerical_derivative(F(x) = 2x², x={x:g})",
            rtol=1e-6,
            atol=1e-6,
            mistakes=derivative_mistakes(two_x_squared, float(x), DEFAULT_STEP),
        )
    for x in rng.uniform(-3, 3, size=3):
        got = student.numerical_derivative(sine, float(x))
        expect_close(
            got,
            np.cos(x),
            f"numerical_derivative(F(x) = sin(x), x={x:g})",
            rtol=1e-8,
            atol=1e-9,
            mistakes=derivative_mistakes(sine, float(x), DEFAULT_STEP),
        )


# Each function scores on its own: a derivative is checked against 2x² and 3x computed here,
# whatever the student's two_x_squared and three_x give.
POINTS = [3.0, -2.0, 0.0]


@check(points=0.5)
def test_two_x_squared(student, rng):
    """two_x_squared is 2x², for a number and for arrays."""
    for x in [*POINTS, rng.uniform(-5, 5, size=4), rng.uniform(-5, 5, size=(2, 3))]:
        expect_close(
            student.two_x_squared(x),
            2 * np.asarray(x) ** 2,
            f"two_x_squared({describe(x)})",
            rtol=1e-12,
        )


@check(points=0.5)
def test_two_x_squared_derivative(student, rng):
    """two_x_squared_derivative is 4x, as finite differences of 2x² confirm."""
    for x in [*POINTS, rng.uniform(-5, 5, size=4), rng.uniform(-5, 5, size=(2, 3))]:
        got = student.two_x_squared_derivative(x)
        call = f"two_x_squared_derivative({describe(x)})"
        power_rule = {POWER_RULE: 2 * np.asarray(x, dtype=float)}
        expect_derivative(got, two_x_squared, x, call, mistakes=power_rule)
        expect_close(got, 4 * np.asarray(x), call, rtol=1e-12)


# The named mistake of two_x_squared_derivative, in its public and its hidden check alike.
POWER_RULE = (
    "d(2x²)/dx = 2·2x = 4x: the coefficient 2 stays, and the power rule brings the exponent 2 "
    "down as a factor"
)


@check(points=0.5)
def test_three_x(student, rng):
    """three_x is 3x, for a number and for arrays."""
    for x in [3.0, -7.5, rng.uniform(-5, 5, size=5), rng.uniform(-5, 5, size=(3, 2))]:
        expect_close(student.three_x(x), 3 * np.asarray(x), f"three_x({describe(x)})", rtol=1e-12)


@check(points=0.5)
def test_three_x_derivative(student, rng):
    """three_x_derivative is 3 everywhere, an array of 3s for an array x."""
    for x in [3.0, -7.5, rng.uniform(-5, 5, size=5), rng.uniform(-5, 5, size=(3, 2))]:
        got = student.three_x_derivative(x)
        call = f"three_x_derivative({describe(x)})"
        if isinstance(x, np.ndarray) and not isinstance(got, np.ndarray):
            fail(
                with_hint(
                    f"{call} returned {describe(got)}, not an array shaped like x",
                    "for an array x return an array of 3s, e.g. np.full_like(x, 3.0)",
                )
            )
        expect_derivative(got, three_x, x, call)
        expect_close(got, np.full_like(np.asarray(x, dtype=float), 3.0), call, rtol=1e-12)
