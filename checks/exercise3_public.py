"""Public checks for exercise 3, the chain rule.

The lesson's f(x) = cos(x² - 1) worked out by hand, compositions built from known functions, and
finite differences of the functions the docstrings define, computed here; never the reference
solution.
"""

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from grader.checks import (
    CheckFailed,
    check,
    describe,
    expect_close,
    expect_derivative,
    expect_pair,
    fail,
    formula,
    with_hint,
)
from grader.hints import hint_for
from grader.student_code.errors import StudentRaised

# The functions passed to the student's code, as formulas: evaluated where the student's code
# calls them, every evaluation replayed here (grader.formula).
square_minus_one = formula("x**2 - 1", "square_minus_one")
twice = formula("2 * x", "twice")
minus_sin = formula("-np.sin(x)", "minus_sin")
cosine = formula("np.cos(x)", "cos")
# A line: a chain of it alone shows no mistake of the order of the chain rule's factors.
line = formula("3 * x + 2", "3x + 2")
three = formula("3 + 0 * x", "3")


def cos_of_square_minus_one(x):
    """The lesson's f(x) = cos(x² - 1), computed in the grader."""
    return np.cos(x**2 - 1)


def lesson_derivative(x):
    """-sin(x² - 1) · 2x, worked out in the grader."""
    return -np.sin(x**2 - 1) * 2 * x


# ---------------------------------------------------------------- naming a mistake in a failure
#
# The hints below only reword a failure that happens anyway: a comparison fails as it always did,
# and where the answer is exactly what one of these mistakes gives at the check's own point (and
# no other mistake here gives the same), its message says so. They charge no mistake of their own,
# so no check passes or fails other than it did.


def named_hint(got: Any, expected: Any, mistakes: Mapping[str, Any]) -> str | None:
    """The hint of the one mistake in ``mistakes`` whose value ``got`` is, where the right answer
    is not that value; None where none or several match (then nothing tells them apart)."""
    try:
        got_array = np.asarray(got, dtype=np.float64)
        expected_array = np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if got_array.shape != expected_array.shape:
        return None
    found = {
        hint
        for hint, value in mistakes.items()
        if hint_for(got_array, expected_array, {hint: value}) == hint
    }
    return found.pop() if len(found) == 1 else None


def first_line(failure: CheckFailed) -> str:
    """A failure's message without its hint: what is wrong."""
    return str(failure).split("\nHint:")[0].rstrip(".")


@contextmanager
def naming(got: Any, expected: Any, mistakes: Mapping[str, Any]) -> Iterator[None]:
    """Within the block, a failure that names no mistake of its own is told which of
    ``mistakes`` ``got`` shows (expected: the right answer for ``got``)."""
    try:
        yield
    except CheckFailed as failure:
        hint = None if failure.mistake else named_hint(got, expected, mistakes)
        if hint is None:
            raise
        raise CheckFailed(with_hint(first_line(failure), hint)) from None


@contextmanager
def explaining(errors: Mapping[tuple[str, ...], str]) -> Iterator[None]:
    """Within the block, an exception the student's code raised whose message holds every text
    of a key of ``errors`` gets that key's hint as its second line (the same error, the same
    points)."""
    try:
        yield
    except StudentRaised as error:
        hint = next(
            (hint for texts, hint in errors.items() if all(text in str(error) for text in texts)),
            None,
        )
        if hint is None or "\nHint:" in str(error):
            raise
        raise StudentRaised(with_hint(str(error).rstrip("."), hint), error.line) from None


def chain_rule_mistakes(f_prime: Callable, g: Callable, g_prime: Callable, x: Any) -> dict:
    """chain_rule's mistakes -> the value each gives for f', g, g' at x (any functions: the hidden
    checks name the same ones)."""
    with np.errstate(all="ignore"):
        outer, inner = f_prime(g(x)), g_prime(x)
        return {
            "the inner derivative g'(x) is missing: multiply f'(g(x)) by g'(x)": outer,
            "f' was evaluated at x; evaluate it at the inner value g(x)": f_prime(x) * inner,
            "only the inner derivative g'(x) is there: multiply it by f'(g(x))": inner,
            "the sign is flipped: the chain rule is f'(g(x))·g'(x), with no sign of its own": (
                -outer * inner
            ),
            "it is f'(g'(x)), the derivatives composed: multiply them, f'(g(x)) · g'(x)": f_prime(
                inner
            ),
            "it is f'(g(x)) + g'(x), the factors added: multiply them": outer + inner,
            "it is f'(g(x)) / g'(x): multiply by the inner derivative g'(x), do not divide": (
                outer / inner
            ),
            "the inner derivative was evaluated at g(x), g'(g(x)): evaluate it at x, g'(x)": (
                outer * g_prime(g(x))
            ),
            "f'(g(x)) was multiplied by g(x), the inner value: multiply by the inner derivative "
            "g'(x)": outer * g(x),
            "f' was evaluated at g'(x): evaluate it at the inner value g(x), then times g'(x)": (
                f_prime(inner) * inner
            ),
            "g and g' are swapped, f'(g'(x)) · g(x): evaluate f' at g(x), times g'(x)": f_prime(
                inner
            )
            * g(x),
            "it is f'(x): evaluate f' at g(x), and multiply by the inner derivative g'(x)": f_prime(
                x
            ),
        }


def compose_answer(pairs: list, x: Any, mistake: str = "") -> tuple[Any, Any]:
    """(value, derivative) of the chain at x as compose defines it, or as ``mistake`` (a key of
    COMPOSE_LOOPS) computes it."""
    value, derivative = x, 0.0 if mistake in ("sums", "zero") else 1.0
    links = list(reversed(pairs)) if mistake == "reversed" else pairs
    with np.errstate(all="ignore"):
        for function, function_prime in links:
            if mistake == "after":
                value = function(value)
                slope = function_prime(value)
            else:
                slope = {"at x": function_prime(x), "values": function(value)}.get(
                    mistake, function_prime(value)
                )
                value = function(x if mistake == "from x" else value)
            if mistake in ("sums", "sums from 1"):
                derivative = derivative + slope
            elif mistake == "overwrites":
                derivative = slope
            else:
                derivative = derivative * slope
    return value, derivative


# The mistakes of compose's loop, each as compose_answer computes it -> its hint (for the value,
# for the derivative): None where that part is right.
COMPOSE_LOOPS: dict[str, tuple[str | None, str | None]] = {
    "after": (
        None,
        "each derivative must be evaluated at its function's input, before the value moves on",
    ),
    "reversed": (
        "the functions were applied in the wrong order: the first pair is the innermost, "
        "applied first",
    )
    * 2,
    "sums": (None, "the links' derivatives were added: multiply them, starting from 1.0"),
    "sums from 1": (None, "the links' derivatives were added to 1.0: multiply them instead"),
    "zero": (
        None,
        "the derivative is 0: a running product that starts at 0 stays 0; start it at 1.0",
    ),
    "overwrites": (
        None,
        "only the last link's derivative is there: multiply each link's derivative into the "
        "running product, derivative = derivative * function_prime(value)",
    ),
    "at x": (
        None,
        "each derivative was evaluated at x: evaluate each at its function's input, the value "
        "so far",
    ),
    "values": (
        None,
        "the running product multiplies the functions' values: multiply their derivatives, "
        "function_prime(value)",
    ),
    "from x": (
        "each function was applied to x itself: apply each to the value so far, "
        "value = function(value)",
        None,
    ),
}


def compose_mistakes(pairs: list, x: Any) -> tuple[dict, dict]:
    """(value mistakes, derivative mistakes) of compose for ``pairs`` at x: hint -> value."""
    right_value, right_derivative = compose_answer(pairs, x)
    values: dict[str, Any] = {
        "the pair is (derivative, value): return (value, derivative)": right_derivative
    }
    derivatives: dict[str, Any] = {
        "the pair is (derivative, value): return (value, derivative)": right_value
    }
    for mistake, (value_hint, derivative_hint) in COMPOSE_LOOPS.items():
        value, derivative = compose_answer(pairs, x, mistake)
        if value_hint:
            values[value_hint] = value
        if derivative_hint:
            derivatives[derivative_hint] = derivative
    return values, derivatives


COMPOSE_ERRORS = {
    (
        "RecursionError",
        "lambda",
    ): "the chain calls itself without end: a lambda made in a loop looks up h "
    "and the pair when it runs, not when it was made (late binding); loop over the pairs inside "
    "one function instead",
}
EMPTY_CHAIN_ERRORS = {
    ("IndexError",): "an empty list has no first pair: compose([]) is the identity, (x, 1.0); "
    "start from value, derivative = x, 1.0 and loop over every pair",
}


def cos_mistakes(x: Any) -> dict:
    """cos_of_square_minus_one's mistakes -> the value each gives at x."""
    return {
        "it is cos(x)² - 1, the cosine squared: take the cosine of x² - 1, np.cos(x**2 - 1)": (
            np.cos(x) ** 2 - 1
        ),
        "the angle was taken in degrees: np.cos works in radians, so leave out np.radians": np.cos(
            np.radians(x**2 - 1)
        ),
        "it is cos(x²) - 1: the -1 goes inside the cosine, np.cos(x**2 - 1)": np.cos(x**2) - 1,
        "it is cos(2x - 1): x*2 is 2x; x² is x**2": np.cos(2 * x - 1),
    }


def derivative_mistakes(x: Any) -> dict:
    """cos_of_square_minus_one_derivative's mistakes -> the value each gives at x."""
    inner = 2 * x
    return {
        "the inner derivative 2x was put inside the sine, -sin(2x): multiply by it instead, "
        "-sin(x² - 1) · 2x": -np.sin(inner),
        "the inner derivative of x² - 1 is 2x: the constant -1 differentiates to 0, not -1": (
            -np.sin(x**2 - 1) * (inner - 1)
        ),
        "it is -cos(x² - 1) · 2x: the derivative of cos is -sin": -np.cos(x**2 - 1) * inner,
        "the inner derivative of x² - 1 is 2x, not 2": -np.sin(x**2 - 1) * 2,
        "the inner derivative of x² - 1 is 2x, not x²": -np.sin(x**2 - 1) * x**2,
    }


def numerical_estimate(got: Any, x: Any) -> str | None:
    """The hint where ``got`` is a finite difference of cos(x² - 1) (central or one-sided, with a
    step from 1e-3 to 1e-8), to rounding, instead of the exact derivative."""
    try:
        got_array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    x_array = np.asarray(x, dtype=np.float64)
    if got_array.shape != x_array.shape:
        return None
    for h in (1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8):
        above, at, below = (cos_of_square_minus_one(x_array + d) for d in (h, 0.0, -h))
        for estimate in ((above - below) / (2 * h), (above - at) / h, (at - below) / h):
            if np.all(np.abs(got_array - estimate) <= 1e-12 * (1 + np.abs(estimate))):
                return (
                    f"it is a numerical estimate (a finite difference with h = {h:g}), not the "
                    "exact derivative: write the formula, -sin(x² - 1) · 2x"
                )
    return None


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
            got, lesson_derivative(x), chain_rule_mistakes(minus_sin, square_minus_one, twice, x)
        ):
            expect_close(
                got,
                lesson_derivative(x),
                call,
                rtol=1e-10,
                atol=1e-12,
                mistakes={
                    **{hint: mistake(x) for hint, mistake in CHAIN_MISTAKES.items()},
                    "the sign is flipped: the chain rule is f'(g(x))·g'(x), with no sign of its "
                    "own (f' = -sin brings the minus)": -lesson_derivative(x),
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
        with explaining(COMPOSE_ERRORS):
            value, derivative = expect_pair(chained(x), call)
        value_mistakes, derivative_mistakes_ = compose_mistakes(pairs, x)
        if count:
            # Right the first time, the identity after: the first call used the pairs up.
            value_mistakes[USED_UP] = x
        with naming(value, np.cos(x**2 - 1), value_mistakes):
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
        with naming(derivative, lesson_derivative(x), derivative_mistakes_):
            expect_close(
                derivative,
                lesson_derivative(x),
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
        with explaining({**EMPTY_CHAIN_ERRORS, **COMPOSE_ERRORS}):
            value, derivative = expect_pair(chained(x), call)
        expect_close(value, x, call + " value", rtol=1e-15)
        expected = 1.0 if np.ndim(derivative) == 0 else np.ones_like(x)
        zero = {hint: np.zeros_like(expected) for hint in EMPTY_DERIVATIVE}
        with naming(derivative, expected, zero):
            expect_close(derivative, expected, call + " derivative", rtol=1e-15)
    # Else a compose that ignores its pairs would pass.
    pairs = [(line, three)]
    chained = student.compose(pairs)
    for count, x in enumerate((0.5, rng.uniform(-2, 2, size=3))):
        call = f"compose([(3x + 2, 3)])({describe(x)})"
        with explaining(COMPOSE_ERRORS):
            value, derivative = expect_pair(chained(x), call)
        value_mistakes, derivative_mistakes_ = compose_mistakes(pairs, x)
        if count:
            value_mistakes[USED_UP] = x
        with naming(value, 3 * x + 2, value_mistakes):
            expect_close(value, 3 * x + 2, call + " value", rtol=1e-12)
        expected = 3.0 if np.ndim(derivative) == 0 else np.full_like(x, 3.0)
        with naming(derivative, expected, derivative_mistakes_):
            expect_close(derivative, expected, call + " derivative", rtol=1e-12)


@check(points=0.5)
def test_cos_of_square_minus_one(student, rng):
    """cos_of_square_minus_one is cos(x² - 1), for a number and for arrays."""
    for x in (1.0, 0.0, -2.0, float(rng.uniform(-3, 3)), rng.uniform(-2, 2, size=(3, 2))):
        got = student.cos_of_square_minus_one(x)
        with naming(got, cos_of_square_minus_one(np.asarray(x)), cos_mistakes(np.asarray(x))):
            expect_close(
                got,
                cos_of_square_minus_one(np.asarray(x)),
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
        mistakes["the sign is flipped: cos' = -sin"] = -lesson_derivative(x)
        with naming(got, lesson_derivative(x), lesson_mistakes(got, x)):
            expect_derivative(got, cos_of_square_minus_one, x, call, mistakes=mistakes)
            expect_close(got, lesson_derivative(x), call, rtol=1e-12, atol=1e-15, mistakes=mistakes)


def lesson_mistakes(got: Any, x: Any) -> dict:
    """Every mistake of cos_of_square_minus_one_derivative -> its value at x; a numerical
    estimate is one where ``got`` is one."""
    mistakes = {hint: mistake(x) for hint, mistake in CHAIN_MISTAKES.items()}
    mistakes["the sign is flipped: cos' = -sin"] = -lesson_derivative(x)
    mistakes.update(derivative_mistakes(np.asarray(x, dtype=np.float64)))
    estimate = numerical_estimate(got, x)
    if estimate is not None:
        mistakes[estimate] = got
    return mistakes
