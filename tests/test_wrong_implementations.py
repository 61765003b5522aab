"""Realistic wrong answers lose exactly the checks they should, with a hint where one fits.

Each case swaps one function of the reference solution for a mistaken version and lists the
checks that must fail; every other check must pass, and the score must drop by exactly the points
of the failed checks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import (
    Mistake,
    assert_loses_exactly_its_checks,
    mistake,
)

EXERCISE1 = [
    mistake(
        "forward difference",
        """
def numerical_derivative(f, x, h=1e-5):
    return (f(x + h) - f(x)) / h
""",
        {"numerical_derivative_is_central"},  # named: not charged again
        ("numerical_derivative_is_central", "one-sided difference"),
    ),
    mistake(
        "divides by h, not 2h",
        """
def numerical_derivative(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / h
""",
        {"numerical_derivative_is_central"},  # named: not charged again
        ("numerical_derivative_is_central", "divided by h instead of 2h"),
    ),
    mistake(
        "factor of 2 missing in F'",
        """
def two_x_squared_derivative(x):
    return 2 * x
""",
        {"two_x_squared_derivative"},
        ("two_x_squared_derivative", "power rule"),
    ),
    mistake(
        "constant derivative is a number for arrays",
        """
def three_x_derivative(x):
    return 3
""",
        {"three_x_derivative", "three_x_derivative_at_edge_cases"},
        ("three_x_derivative", "array of 3s"),
    ),
    mistake(
        "sign flipped in the difference quotient",
        """
def difference_quotient(f, x, dx):
    return (f(x) - f(x + dx)) / dx
""",
        {
            "difference_quotient",
            "difference_quotient_approaches_the_derivative",
            "difference_quotient_matches_reference",
        },
        ("difference_quotient", "sign is flipped"),
    ),
    mistake(
        "central difference where the lesson's quotient was asked",
        """
def difference_quotient(f, x, dx):
    return (f(x + dx) - f(x - dx)) / (2 * dx)
""",
        {
            "difference_quotient",
            "difference_quotient_approaches_the_derivative",
            "difference_quotient_matches_reference",
        },
        ("difference_quotient", "one-sided"),
    ),
]

EXERCISE2 = [
    mistake(
        "input changed in place and not restored",
        """
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        above = f(x)
        x[index] = old - h
        below = f(x)
        grad[index] = (above - below) / (2 * h)
    return grad
""",
        {
            "numerical_gradient_matches_reference",
            "steepest_ascent_matches_reference",
        },
    ),
    mistake(
        "forward difference in the gradient",
        """
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x, dtype=np.float64)
        step[index] = h
        grad[index] = (f(x + step) - f(x)) / h
    return grad
""",
        # Named: not charged again, nor in steepest_ascent_direction, which calls it.
        {"numerical_gradient"},
        ("numerical_gradient", "one-sided"),
    ),
    mistake(
        "gradient only for 1-D inputs",
        """
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=np.float64)
    for i in range(len(x)):
        step = np.zeros_like(x, dtype=np.float64)
        step[i] = h
        grad[i] = (f(x + step) - f(x - step)) / (2 * h)
    return grad
""",
        {"numerical_gradient", "numerical_gradient_matches_reference"},
    ),
    mistake(
        "partial derivative ignores the axis",
        """
def partial_derivative(f, point, axis, h=1e-5):
    step = np.zeros_like(point, dtype=np.float64)
    step[0] = h
    return (f(point + step) - f(point - step)) / (2 * h)
""",
        {"partial_derivative"},
        ("partial_derivative", "derivative along axis 0"),
    ),
    mistake(
        "bowl gradient without the 2",
        """
def bowl_gradient(x, y):
    return np.array([x, y])
""",
        {"plane_and_bowl_gradients", "exact_gradients_at_edge_cases"},
        ("plane_and_bowl_gradients", "half what it should be"),
    ),
    mistake(
        "direction not normalised",
        """
def steepest_ascent_direction(f, x, h=1e-5):
    return numerical_gradient(f, x, h)
""",
        {"steepest_ascent_direction", "steepest_ascent_matches_reference"},
        ("steepest_ascent_direction", "divide it by its length"),
    ),
    mistake(
        "descent instead of ascent",
        """
def steepest_ascent_direction(f, x, h=1e-5):
    grad = numerical_gradient(f, x, h)
    return -grad / np.linalg.norm(grad)
""",
        {"steepest_ascent_direction", "steepest_ascent_matches_reference"},
        ("steepest_ascent_direction", "points downhill"),
    ),
    mistake(
        "no guard for a zero gradient",
        """
def steepest_ascent_direction(f, x, h=1e-5):
    grad = numerical_gradient(f, x, h)
    return grad / np.linalg.norm(grad)
""",
        {"steepest_ascent_matches_reference"},
        ("steepest_ascent_matches_reference", "cannot be divided by its length"),
    ),
    mistake(
        "zero gradient tested with == 0",
        """
def steepest_ascent_direction(f, x, h=1e-5):
    grad = numerical_gradient(f, x, h)
    length = np.linalg.norm(grad)
    if length == 0:
        return np.zeros_like(grad)
    return grad / length
""",
        {"steepest_ascent_matches_reference"},
        ("steepest_ascent_matches_reference", "length with 1e-12, not with 0"),
    ),
]

EXERCISE3 = [
    mistake(
        "inner derivative forgotten",
        """
def chain_rule(f_prime, g, g_prime, x):
    return f_prime(g(x))
""",
        {"chain_rule_on_lesson_example"},
        ("chain_rule_on_lesson_example", "inner derivative g'(x) is missing"),
    ),
    mistake(
        "outer derivative taken at x",
        """
def chain_rule(f_prime, g, g_prime, x):
    return f_prime(x) * g_prime(x)
""",
        {"chain_rule_on_lesson_example"},
        ("chain_rule_on_lesson_example", "evaluate it at the inner value"),
    ),
    mistake(
        "sign flipped",
        """
def chain_rule(f_prime, g, g_prime, x):
    return -f_prime(g(x)) * g_prime(x)
""",
        {"chain_rule_on_lesson_example", "chain_rule_matches_reference"},
        ("chain_rule_on_lesson_example", "sign is flipped"),
    ),
    mistake(
        "composition applied outermost first",
        """
def compose(pairs):
    def chained(x):
        value, derivative = x, 1.0
        for function, function_prime in reversed(pairs):
            derivative = derivative * function_prime(value)
            value = function(value)
        return value, derivative
    return chained
""",
        {"compose_two_functions"},
        ("compose_two_functions", "wrong order"),
    ),
    mistake(
        "derivative taken after the value moved on",
        """
def compose(pairs):
    def chained(x):
        value, derivative = x, 1.0
        for function, function_prime in pairs:
            value = function(value)
            derivative = derivative * function_prime(value)
        return value, derivative
    return chained
""",
        {"compose_two_functions"},
        ("compose_two_functions", "evaluated at its function's input"),
    ),
    mistake(
        "derivative starts at 0",
        """
def compose(pairs):
    def chained(x):
        value, derivative = x, 0.0
        for function, function_prime in pairs:
            derivative = derivative * function_prime(value)
            value = function(value)
        return value, derivative
    return chained
""",
        {
            "compose_two_functions",
            "compose_empty_list_is_identity",
        },
    ),
    mistake(
        "lesson derivative without the inner 2x",
        """
def cos_of_square_minus_one_derivative(x):
    return -np.sin(x**2 - 1)
""",
        {"cos_of_square_minus_one_derivative"},
        ("cos_of_square_minus_one_derivative", "inner derivative g'(x) is missing"),
    ),
    mistake(
        "lesson derivative with the sign flipped",
        """
def cos_of_square_minus_one_derivative(x):
    return np.sin(x**2 - 1) * 2 * x
""",
        {"cos_of_square_minus_one_derivative"},
        ("cos_of_square_minus_one_derivative", "sign is flipped"),
    ),
]

CASES = (
    [("exercise1", case) for case in EXERCISE1]
    + [("exercise2", case) for case in EXERCISE2]
    + [("exercise3", case) for case in EXERCISE3]
)


@pytest.mark.parametrize(
    ("exercise_id", "case"), CASES, ids=[f"{exercise}-{case.name}" for exercise, case in CASES]
)
def test_mistake_loses_exactly_its_checks(
    course, tmp_path: Path, exercise_id: str, case: Mistake
) -> None:
    assert_loses_exactly_its_checks(course, exercise_id, case, tmp_path)


@pytest.mark.parametrize("exercise_id", ["exercise1", "exercise2", "exercise3"])
def test_each_exercise_has_five_realistic_mistakes(exercise_id: str) -> None:
    assert sum(exercise == exercise_id for exercise, _ in CASES) >= 5
