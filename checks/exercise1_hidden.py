"""Hidden checks for exercise 1, derivatives: the reference solution on seeded random inputs and
on edge cases (negative and large x, arrays of several shapes). A wrong answer is told the
mistake it shows, in the public checks' words: the same mistake, charged once."""

from collections.abc import Callable
from typing import Any

import numpy as np

from grader.checks import (
    answer_or_none,
    check,
    close_to,
    describe,
    differs,
    expect_close,
    expect_derivative,
    formula,
    shared,
    warn_if_inputs_changed,
)

# As formulas, evaluated where the student's code calls them (grader.formula).
FUNCTIONS = {
    "sin(x)": formula("np.sin(x)", "sin"),
    "exp(x / 4)": formula("np.exp(x / 4)", "f"),
    "x³ - 2x": formula("x**3 - 2 * x", "f"),
}
SHAPES = [(), (5,), (2, 3), (2, 2, 2)]

common = shared(__file__, "_exercise1_mistakes")  # the mistakes both check files name


# A step taken in place on a name for an array x (x_minus = x; x_minus -= h) moves x itself;
# for a float the same code is right. Told only where a float's derivative is right.
ALIASED_ONCE = (
    "for a float x this is right, but for an array f was given x itself in place of x - h: a "
    "step taken in place (x_minus = x, then x_minus -= h) moves x itself, it is no copy; compute "
    "x + h and x - h as new arrays"
)
ALIASED_TWICE = (
    "for a float x this is right, but for an array f was given the same point twice (the "
    "difference is 0): a step taken in place (x_plus = x, then x_plus += h) moves x itself, it "
    "is no copy; compute x + h and x - h as new arrays"
)


def aliased_mistakes(
    student: Any, function: Callable[[Any], Any], x: Any, h: float, got: Any
) -> dict[str, Any]:
    """The in-place step that ``got`` shows for an array x, where a float's answer is right (one
    more call, made only for an array answer of that value)."""
    candidates = {
        ALIASED_ONCE: (function(x + h) - function(x)) / (2 * h),
        ALIASED_TWICE: np.zeros_like(x),
    }
    shown = {key: value for key, value in candidates.items() if close_to(got, value, rtol=1e-9)}
    if not shown:
        return {}
    cube = FUNCTIONS["x³ - 2x"]
    again = answer_or_none(student.numerical_derivative, cube, 2.0, 1e-3)
    return shown if close_to(again, common.central(cube, 2.0, 1e-3), rtol=1e-9) else {}


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
            mistakes: dict[str, Any] = {}
            if differs(got, expected, rtol=1e-8, atol=1e-9):
                if np.ndim(x) > 0:
                    mistakes = aliased_mistakes(student, function, x, h, got)
                if not mistakes:
                    mistakes = common.numerical_derivative_mistakes(function, x, h, got, expected)
            expect_close(got, expected, call, rtol=1e-8, atol=1e-9, mistakes=mistakes)


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
        got = common.answer_of(student.two_x_squared_derivative, x)
        expected = solution.two_x_squared_derivative(x)
        mistakes: dict[str, Any] = {}
        if differs(got, expected, rtol=1e-12, atol=1e-9):
            mistakes = common.square_derivative_mistakes(
                x,
                got,
                expected,
                lambda point: answer_or_none(student.two_x_squared_derivative, point),
            )
        expect_close(got, expected, call, rtol=1e-12, mistakes=mistakes)
        small = np.asarray(x) / max(1.0, float(np.max(np.abs(x))))
        got = common.answer_of(student.two_x_squared_derivative, small)
        mistakes = {}
        if differs(got, 4 * small, rtol=1e-9, atol=1e-9):
            mistakes = common.square_derivative_mistakes(
                small,
                got,
                4 * small,
                lambda point: answer_or_none(student.two_x_squared_derivative, point),
            )
        expect_derivative(
            got,
            solution.two_x_squared,
            small,
            f"two_x_squared_derivative({describe(small)})",
            mistakes=mistakes,
        )


@check(points=0.5)
def test_three_x_derivative_at_edge_cases(student, solution, rng):
    """3 holds at negative and large x and for arrays of several shapes."""
    for x in edge_cases(rng):
        call = f"three_x_derivative({describe(x)})"
        got = common.answer_of(student.three_x_derivative, x)
        expected = solution.three_x_derivative(x)
        mistakes: dict[str, Any] = {}
        if differs(got, expected, rtol=1e-12, atol=1e-9):
            mistakes = common.linear_derivative_mistakes(
                x, got, expected, lambda point: answer_or_none(student.three_x_derivative, point)
            )
        expect_close(got, expected, call, rtol=1e-12, mistakes=mistakes)


@check(points=1)
def test_difference_quotient_matches_reference(student, solution, rng):
    """difference_quotient agrees with the reference for negative steps and arrays."""
    forward_right = float_right = False
    for (written, function), shape in zip(FUNCTIONS.items(), SHAPES, strict=False):
        x = sample(rng, shape)
        for dx in (0.3, -0.05, 1e-4):
            call = f"difference_quotient(f(x) = {written}, x={describe(x)}, dx={dx:g})"
            got = student.difference_quotient(function, x, dx)
            expected = solution.difference_quotient(function, x, dx)
            mistakes: dict[str, Any] = {}
            if differs(got, expected, rtol=1e-9, atol=1e-9):
                mistakes = common.quotient_mistakes(
                    function, x, dx, forward_right, got, expected, None, float_right
                )
                forward_right = forward_right and dx < 0
            else:
                forward_right = forward_right or dx > 0
                float_right = float_right or not np.ndim(x)
            expect_close(got, expected, call, rtol=1e-9, mistakes=mistakes)
