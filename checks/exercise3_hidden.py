"""Hidden checks for exercise 3, the chain rule: the reference solution on random chains, points
and shapes, negative and large x."""

from typing import Any

import numpy as np

from grader.checks import (
    check,
    describe,
    expect_close,
    expect_derivative,
    expect_pair,
    explaining,
    formula,
    naming,
    shared,
)

common = shared(__file__, "_exercise3_mistakes")  # the mistakes both check files name


# Each function and its derivative, as formulas: evaluated where the student's code calls them,
# every evaluation replayed here (grader.formula).
LINKS = {
    "sin": (formula("np.sin(x)", "sin"), formula("np.cos(x)", "cos")),
    "tanh": (formula("np.tanh(x)", "tanh"), formula("1 - np.tanh(x) ** 2", "tanh'")),
    "x² - 1": (formula("x**2 - 1", "g"), formula("2 * x", "g'")),
    "3x + 2": (formula("3 * x + 2", "g"), formula("3 + 0 * x", "g'")),
    "exp(-x²/4)": (
        formula("np.exp(-(x**2) / 4)", "g"),
        formula("-x / 2 * np.exp(-(x**2) / 4)", "g'"),
    ),
}


def random_chain(rng, length):
    names = [str(name) for name in rng.choice(list(LINKS), size=length)]
    return names, [LINKS[name] for name in names]


@check(points=2)
def test_compose_long_chain_matches_reference(student, solution, rng):
    """compose agrees with the reference on random chains of 1 to 6 functions."""
    for length in (1, 3, 6):
        names, pairs = random_chain(rng, length)
        chained = student.compose(pairs)
        expected_chain = solution.compose(pairs)
        for x in (float(rng.uniform(-1.5, 1.5)), rng.uniform(-1.5, 1.5, size=(2, 2))):
            call = f"compose([{', '.join(names)}])({describe(x)})"
            with explaining(common.COMPOSE_ERRORS):
                value, derivative = expect_pair(chained(x), call, ("value", "derivative"))
            expected_value, expected_derivative = expected_chain(x)
            value_mistakes, derivative_mistakes_ = common.compose_mistakes(pairs, x)
            with naming("compose", value, expected_value, value_mistakes):
                expect_close(value, expected_value, call + " value", rtol=1e-10, atol=1e-12)
            with naming("compose", derivative, expected_derivative, derivative_mistakes_):
                expect_close(
                    derivative, expected_derivative, call + " derivative", rtol=1e-9, atol=1e-12
                )


@check(points=1)
def test_chain_rule_matches_reference(student, solution, rng):
    """chain_rule agrees with the reference for other functions, points and shapes."""
    for outer, inner in [("sin", "x² - 1"), ("tanh", "3x + 2"), ("exp(-x²/4)", "sin")]:
        f_prime = LINKS[outer][1]
        g, g_prime = LINKS[inner]
        for x in (
            float(rng.uniform(-2, 2)),
            rng.uniform(-2, 2, size=(3,)),
            rng.uniform(-2, 2, size=(2, 1, 2)),
        ):
            call = f"chain_rule(f = {outer}, g = {inner}, x={describe(x)})"
            got = student.chain_rule(f_prime, g, g_prime, x)
            expected = solution.chain_rule(f_prime, g, g_prime, x)
            with naming(
                "chain_rule", got, expected, common.chain_rule_mistakes(f_prime, g, g_prime, x)
            ):
                expect_close(got, expected, call, rtol=1e-10, atol=1e-12)


@check(points=1)
def test_lesson_derivative_at_edge_cases(student, solution, rng):
    """The derivative of cos(x² - 1) holds at negative and large x and for arrays."""
    for x in (-1.0, -4.2, 30.0, -1e3, rng.uniform(-10, 10, size=(4,)), rng.uniform(-1, 1, (2, 3))):
        call = f"cos_of_square_minus_one_derivative({describe(x)})"
        got = student.cos_of_square_minus_one_derivative(x)
        with naming(
            "cos_of_square_minus_one_derivative",
            got,
            common.lesson_derivative(x),
            lesson_mistakes(got, x),
        ):
            expect_close(
                got, solution.cos_of_square_minus_one_derivative(x), call, rtol=1e-9, atol=1e-9
            )
            if np.max(np.abs(x)) < 20:
                expect_derivative(got, solution.cos_of_square_minus_one, x, call)


def lesson_mistakes(got: Any, x: Any) -> dict:
    """Every mistake of cos_of_square_minus_one_derivative -> its value at x, as the public checks
    name them; a numerical estimate is one where ``got`` is one."""
    mistakes = {
        "the inner derivative g'(x) is missing: multiply f'(g(x)) by g'(x)": -np.sin(x**2 - 1),
        "f' was evaluated at x; evaluate it at the inner value g(x)": -np.sin(x) * 2 * x,
        "only the inner derivative g'(x) is there: multiply it by f'(g(x))": 2 * x,
        "the sign is flipped: cos' = -sin": -common.lesson_derivative(x),
    }
    mistakes.update(common.derivative_mistakes(np.asarray(x, dtype=np.float64)))
    estimate = common.numerical_estimate(got, x)
    if estimate is not None:
        mistakes[estimate] = got
    return mistakes
