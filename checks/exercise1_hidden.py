"""Hidden checks for exercise 1, derivatives: the reference solution on seeded random inputs and
on edge cases (negative and large x, arrays of several shapes)."""

import numpy as np

from grader.checks import (
    check,
    describe,
    expect_close,
    expect_derivative,
    formula,
    warn_if_inputs_changed,
)

# As formulas, evaluated where the student's code calls them (grader.formula).
FUNCTIONS = {
    "sin(x)": formula("np.sin(x)", "sin"),
    "exp(x / 4)": formula("np.exp(x / 4)", "f"),
    "x³ - 2x": formula("x**3 - 2 * x", "f"),
}
SHAPES = [(), (5,), (2, 3), (2, 2, 2)]
# As in the public checks, word for word: the same mistake, charged once.
ONE_SIDED = (
    "you took a one-sided difference; use the central difference (f(x + h) - f(x - h)) / (2h), "
    "which steps both ways"
)
ONE_SIDED_BACKWARDS = ONE_SIDED + " (you stepped backwards only)"
DIVIDED_BY_H = "you divided by h instead of 2h"

# As in the public checks: the same mistake, in the same words.
POWER_RULE = (
    "d(2x²)/dx = 2·2x = 4x: the coefficient 2 stays, and the power rule brings the exponent 2 "
    "down as a factor"
)


def sample(rng, shape, low=-4.0, high=4.0):
    value = rng.uniform(low, high, size=shape)
    return float(value) if shape == () else value


@check(points=1)
def test_numerical_derivative_matches_reference(student, solution, rng):
    """numerical_derivative agrees with the reference on random functions, points and shapes."""
    for (written, function), shape in zip(FUNCTIONS.items(), SHAPES[1:] + SHAPES[:1], strict=False):
        x = sample(rng, shape)
        for h in (1e-3, 1e-5):
            call = f"numerical_derivative(f(x) = {written}, x={describe(x)}, h={h:g})"
            expected = solution.numerical_derivative(function, x, h)
            got = student.numerical_derivative(function, x, h=h)
            warn_if_inputs_changed(student, call)
            expect_close(
                got,
                expected,
                call,
                rtol=1e-8,
                atol=1e-9,
                mistakes={
                    ONE_SIDED: (function(x + h) - function(x)) / h,
                    ONE_SIDED_BACKWARDS: (function(x) - function(x - h)) / h,
                    DIVIDED_BY_H: 2 * expected,
                },
            )


def edge_cases(rng):
    return [
        -1e6,
        2.5e8,
        -3.5,
        0.0,
        sample(rng, (4,), -1e3, 1e3),
        sample(rng, (3, 2)),
        sample(rng, (2, 2, 2), -50, 50),
    ]


@check(points=0.5)
def test_two_x_squared_derivative_at_edge_cases(student, solution, rng):
    """4x holds at negative and large x and for arrays of several shapes."""
    for x in edge_cases(rng):
        call = f"two_x_squared_derivative({describe(x)})"
        got = student.two_x_squared_derivative(x)
        expect_close(
            got,
            solution.two_x_squared_derivative(x),
            call,
            rtol=1e-12,
            mistakes={POWER_RULE: 2 * np.asarray(x, dtype=float)},
        )
        small = np.asarray(x) / max(1.0, float(np.max(np.abs(x))))
        expect_derivative(
            student.two_x_squared_derivative(small),
            solution.two_x_squared,
            small,
            f"two_x_squared_derivative({describe(small)})",
            mistakes={POWER_RULE: 2 * small},
        )


@check(points=0.5)
def test_three_x_derivative_at_edge_cases(student, solution, rng):
    """3 holds at negative and large x and for arrays of several shapes."""
    for x in edge_cases(rng):
        call = f"three_x_derivative({describe(x)})"
        expect_close(
            student.three_x_derivative(x), solution.three_x_derivative(x), call, rtol=1e-12
        )


@check(points=1)
def test_difference_quotient_matches_reference(student, solution, rng):
    """difference_quotient agrees with the reference for negative steps and arrays."""
    for (written, function), shape in zip(FUNCTIONS.items(), SHAPES, strict=False):
        x = sample(rng, shape)
        for dx in (0.3, -0.05, 1e-4):
            call = f"difference_quotient(f(x) = {written}, x={describe(x)}, dx={dx:g})"
            expect_close(
                student.difference_quotient(function, x, dx),
                solution.difference_quotient(function, x, dx),
                call,
                rtol=1e-9,
            )
