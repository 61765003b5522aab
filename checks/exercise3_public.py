"""Public checks for exercise 3, the chain rule.

The lesson's f(x) = cos(x² - 1) worked out by hand, compositions built from known functions, and
finite differences of the functions the docstrings define, computed here; never the reference
solution.
"""

from typing import Any

import numpy as np

from grader.checks import (
    check,
    describe,
    expect_close,
    expect_derivative,
    expect_pair,
    explaining,
    fail,
    formula,
    naming,
    shared,
)

# The functions passed to the student's code, as formulas: evaluated where the student's code
# calls them, every evaluation replayed here (grader.formula).
square_minus_one = formula("x**2 - 1", "square_minus_one")
twice = formula("2 * x", "twice")
minus_sin = formula("-np.sin(x)", "minus_sin")
cosine = formula("np.cos(x)", "cos")
# A line: a chain of it alone shows no mistake of the order of the chain rule's factors.
line = formula("3 * x + 2", "3x + 2")
three = formula("3 + 0 * x", "3")


common = shared(__file__, "_exercise3_mistakes")  # the mistakes both check files name


CHAIN_MISTAKES = {
    "the inner derivative g'(x) is missing: multiply f'(g(x)) by g'(x)": lambda x: (
        -np.sin(x**2 - 1)
    ),
    "f' was evaluated at x; evaluate it at the inner value g(x)": lambda x: -np.sin(x) * 2 * x,
    "only the inner derivative g'(x) is there: multiply it by f'(g(x))": twice,
}


@check(points=2)
def test_chain_rule_on_lesson_example(student, rng):
    """chain_rule gives the lesson's -sin(x² - 1) · 2x for f = cos and g = x² - 1."""
    for x in (2.0, -1.5, 0.3, float(rng.uniform(-3, 3)), rng.uniform(-2, 2, size=(2, 3))):
        call = f"chain_rule(f' = -sin, g(x) = x² - 1, g'(x) = 2x, x={describe(x)})"
        got = student.chain_rule(minus_sin, square_minus_one, twice, x)
        with naming(
            "chain_rule",
            got,
            common.lesson_derivative(x),
            common.chain_rule_mistakes(minus_sin, square_minus_one, twice, x),
        ):
            expect_close(
                got,
                common.lesson_derivative(x),
                call,
                rtol=1e-10,
                atol=1e-12,
                mistakes={
                    **{hint: mistake(x) for hint, mistake in CHAIN_MISTAKES.items()},
                    "the sign is flipped: the chain rule is f'(g(x))·g'(x), with no sign of its "
                    "own (f' = -sin brings the minus)": -common.lesson_derivative(x),
                },
            )


@check(points=2)
def test_compose_two_functions(student, rng):
    """compose([(g, g'), (cos, -sin)]) gives the value and derivative of cos(g(x))."""
    pairs = [(square_minus_one, twice), (cosine, minus_sin)]
    chained = student.compose(pairs)
    if not callable(chained):
        fail(f"compose(...) returned {describe(chained)}; it should return a function")
    for count, x in enumerate((2.0, -0.7, rng.uniform(-2, 2, size=4))):
        call = f"compose([(x² - 1, 2x), (cos, -sin)])({describe(x)})"
        with explaining(common.COMPOSE_ERRORS):
            value, derivative = expect_pair(chained(x), call, ("value", "derivative"))
        value_mistakes, derivative_mistakes_ = common.compose_mistakes(pairs, x)
        if count:
            # Right the first time, the identity after: the first call used the pairs up.
            value_mistakes[USED_UP] = x
        with naming("compose", value, np.cos(x**2 - 1), value_mistakes):
            expect_close(
                value,
                np.cos(x**2 - 1),
                call + " value",
                rtol=1e-10,
                atol=1e-12,
                mistakes={
                    "the functions were applied in the wrong order: the first pair "
                    "is the innermost, applied first": np.cos(x) ** 2 - 1
                },
            )
        with naming("compose", derivative, common.lesson_derivative(x), derivative_mistakes_):
            expect_close(
                derivative,
                common.lesson_derivative(x),
                call + " derivative",
                rtol=1e-10,
                atol=1e-12,
                mistakes={
                    "each derivative must be evaluated at its function's input, before "
                    "the value moves on": -np.sin(np.cos(x**2 - 1)) * 2 * (x**2 - 1),
                    "the functions were applied in the wrong order: the first pair is "
                    "the innermost, applied first": 2 * np.cos(x) * -np.sin(x),
                },
            )


USED_UP = (
    "its first call was right and this later call is the identity, as if pairs were empty: the "
    "first call used the pairs up; each call must leave pairs as they are (loop over them, no pop)"
)
EMPTY_DERIVATIVE = {
    "the derivative is 0: a running product that starts at 0 stays 0; start it at 1.0, the "
    "identity's derivative": 0.0
}


@check(points=1)
def test_compose_empty_list_is_identity(student, rng):
    """compose([]) is the identity: value x, derivative 1; a chain of one function is that one."""
    chained = student.compose([])
    for x in (0.5, -3.0, rng.uniform(-2, 2, size=3)):
        call = f"compose([])({describe(x)})"
        with explaining({**common.EMPTY_CHAIN_ERRORS, **common.COMPOSE_ERRORS}):
            value, derivative = expect_pair(chained(x), call, ("value", "derivative"))
        expect_close(value, x, call + " value", rtol=1e-15)
        expected = 1.0 if np.ndim(derivative) == 0 else np.ones_like(x)
        zero = {hint: np.zeros_like(expected) for hint in EMPTY_DERIVATIVE}
        with naming("compose", derivative, expected, zero):
            expect_close(derivative, expected, call + " derivative", rtol=1e-15)
    # Else a compose that ignores its pairs would pass.
    pairs = [(line, three)]
    chained = student.compose(pairs)
    for count, x in enumerate((0.5, rng.uniform(-2, 2, size=3))):
        call = f"compose([(3x + 2, 3)])({describe(x)})"
        with explaining(common.COMPOSE_ERRORS):
            value, derivative = expect_pair(chained(x), call, ("value", "derivative"))
        value_mistakes, derivative_mistakes_ = common.compose_mistakes(pairs, x)
        if count:
            value_mistakes[USED_UP] = x
        with naming("compose", value, 3 * x + 2, value_mistakes):
            expect_close(value, 3 * x + 2, call + " value", rtol=1e-12)
        expected = 3.0 if np.ndim(derivative) == 0 else np.full_like(x, 3.0)
        with naming("compose", derivative, expected, derivative_mistakes_):
            expect_close(derivative, expected, call + " derivative", rtol=1e-12)


@check(points=0.5)
def test_cos_of_square_minus_one(student, rng):
    """cos_of_square_minus_one is cos(x² - 1), for a number and for arrays."""
    for x in (1.0, 0.0, -2.0, float(rng.uniform(-3, 3)), rng.uniform(-2, 2, size=(3, 2))):
        got = student.cos_of_square_minus_one(x)
        with naming(
            "cos_of_square_minus_one",
            got,
            common.cos_of_square_minus_one(np.asarray(x)),
            common.cos_mistakes(np.asarray(x)),
        ):
            expect_close(
                got,
                common.cos_of_square_minus_one(np.asarray(x)),
                f"cos_of_square_minus_one({describe(x)})",
                rtol=1e-12,
                atol=1e-15,
            )


@check(points=0.5)
def test_cos_of_square_minus_one_derivative(student, rng):
    """Its derivative by hand: zero at x = 1, equal to finite differences of cos(x² - 1)."""
    for x in (1.0, 0.0, -2.0, float(rng.uniform(-3, 3)), rng.uniform(-2, 2, size=(3, 2))):
        call = f"cos_of_square_minus_one_derivative({describe(x)})"
        got = student.cos_of_square_minus_one_derivative(x)
        mistakes = {hint: mistake(x) for hint, mistake in CHAIN_MISTAKES.items()}
        mistakes["the sign is flipped: cos' = -sin"] = -common.lesson_derivative(x)
        with naming(
            "cos_of_square_minus_one_derivative",
            got,
            common.lesson_derivative(x),
            lesson_mistakes(got, x),
        ):
            expect_derivative(got, common.cos_of_square_minus_one, x, call, mistakes=mistakes)
            expect_close(
                got, common.lesson_derivative(x), call, rtol=1e-12, atol=1e-15, mistakes=mistakes
            )


def lesson_mistakes(got: Any, x: Any) -> dict:
    """Every mistake of cos_of_square_minus_one_derivative -> its value at x; a numerical
    estimate is one where ``got`` is one."""
    mistakes = {hint: mistake(x) for hint, mistake in CHAIN_MISTAKES.items()}
    mistakes["the sign is flipped: cos' = -sin"] = -common.lesson_derivative(x)
    mistakes.update(common.derivative_mistakes(np.asarray(x, dtype=np.float64)))
    estimate = common.numerical_estimate(got, x)
    if estimate is not None:
        mistakes[estimate] = got
    return mistakes
