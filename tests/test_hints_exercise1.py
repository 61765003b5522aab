"""Exercise 1: a failing check names the mistake a realistic wrong answer makes, from the value
that mistake's formula gives at the check's own inputs; a nearly right answer, or one that only
agrees with a mistake at a point where many formulas agree, is told none."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.course import Course
from tests.helpers import assert_both_check_files_share, message_of
from tests.test_diagnosis import graded_with

DQ = "difference_quotient"
CENTRAL = "numerical_derivative_is_central"
DEFAULT = "numerical_derivative_default_step"
ND_HIDDEN = "numerical_derivative_matches_reference"

# (what the code does, the check whose message names it, words that message holds, the code)
NAMED = [
    ("floor division", DQ, "floor division", "return (f(x + dx) - f(x)) // dx"),
    ("no parentheses", DQ, "only f(x) is divided by dx", "return f(x + dx) - f(x) / dx"),
    ("divides by abs(dx)", DQ, "not by abs(dx)", "return (f(x + dx) - f(x)) / abs(dx)"),
    (
        "dx made positive",
        DQ,
        "towards x + |dx|",
        "dx = abs(dx)\n    return (f(x + dx) - f(x)) / dx",
    ),
    ("dx ignored", DQ, "dx is ignored", "h = 1e-5\n    return (f(x + h) - f(x)) / h"),
    ("divides by x", DQ, "the denominator is x", "return (f(x + dx) - f(x)) / x"),
    ("rise only", DQ, "not yet divided by dx", "return f(x + dx) - f(x)"),
    ("rise times dx", DQ, "multiplied by dx", "return (f(x + dx) - f(x)) * dx"),
    ("upside down", DQ, "upside down", "return dx / (f(x + dx) - f(x))"),
    ("over 2dx", DQ, "divided by 2·dx", "return (f(x + dx) - f(x)) / (2 * dx)"),
    ("backward slope", DQ, "from x - dx to x", "return (f(x) - f(x - dx)) / dx"),
    ("dx added to f", DQ, "f(x) + dx", "return (f(x) + dx - f(x)) / dx"),
    ("f(dx) for f(x)", DQ, "f(dx) is subtracted", "return (f(x + dx) - f(dx)) / dx"),
    ("/ 2 * h", CENTRAL, "put 2h in parentheses", "return (f(x + h) - f(x - h)) / 2 * h"),
    ("/ 2", CENTRAL, "divided by 2, not by 2h", "return (f(x + h) - f(x - h)) / 2"),
    ("no division", CENTRAL, "not yet divided by 2h", "return f(x + h) - f(x - h)"),
    (
        "one value divided",
        CENTRAL,
        "only f(x - h) is divided",
        "return f(x + h) - f(x - h) / (2 * h)",
    ),
    ("values added", CENTRAL, "are added", "return (f(x + h) + f(x - h)) / (2 * h)"),
    ("half steps", CENTRAL, "x ± h/2", "return (f(x + h / 2) - f(x - h / 2)) / (2 * h)"),
    ("h added to f", CENTRAL, "value of f, f(x) + h", "return (f(x) + h - (f(x) - h)) / (2 * h)"),
    ("f(x) for f(x - h)", CENTRAL, "not f(x)", "return (f(x + h) - f(x)) / (2 * h)"),
    ("sign", CENTRAL, "the sign is flipped", "return (f(x - h) - f(x + h)) / (2 * h)"),
    (
        "one step of 2h",
        CENTRAL,
        "(f(x + 2h) - f(x)) / (2h)",
        "return (f(x + 2 * h) - f(x)) / (2 * h)",
    ),
    ("h ignored", CENTRAL, "h is ignored", "h = 1e-5\n    return (f(x + h) - f(x - h)) / (2 * h)"),
    (
        "h ignored, at the default",
        DEFAULT,
        "h is ignored",
        "e = 1e-3\n    return (f(x + e) - f(x - e)) / (2 * e)",
    ),
]
DEFAULTS = [
    ("default 0.1", DEFAULT, "the default step is 0.1", "0.1"),
    ("default 1e-12", DEFAULT, "rounding swamps", "1e-12"),
]
EXACT = [
    ("(2x)²", "two_x_squared", "(2x)² = 4x²", "def two_x_squared(x):\n    return (2 * x) ** 2"),
    ("x²", "two_x_squared", "coefficient 2 is missing", "def two_x_squared(x):\n    return x**2"),
    ("2x", "two_x_squared", "x is not squared", "def two_x_squared(x):\n    return 2 * x"),
    ("4x", "two_x_squared", "this is 4x", "def two_x_squared(x):\n    return 2 * x * 2"),
    ("2·2^x", "two_x_squared", "2 to the power x", "def two_x_squared(x):\n    return 2 * 2**x"),
    ("xor", "two_x_squared", "bitwise xor", "def two_x_squared(x):\n    return 2 * x ^ 2"),
    (
        "exponent kept",
        "two_x_squared_derivative",
        "lowers the exponent",
        "def two_x_squared_derivative(x):\n    return 4 * x**2",
    ),
    (
        "the function",
        "two_x_squared_derivative_at_edge_cases",
        "the function itself",
        "def two_x_squared_derivative(x):\n    return 2 * x**2",
    ),
    (
        "x dropped",
        "two_x_squared_derivative",
        "the x is missing",
        "def two_x_squared_derivative(x):\n    return 4 + 0 * x",
    ),
    (
        "antiderivative",
        "two_x_squared_derivative_at_edge_cases",
        "antiderivative",
        "def two_x_squared_derivative(x):\n    return 2 * x**3 / 3",
    ),
    (
        "estimate",
        "two_x_squared_derivative_at_edge_cases",
        "finite-difference estimate",
        "def two_x_squared_derivative(x):\n    return numerical_derivative(two_x_squared, x)",
    ),
    (
        "over x",
        "two_x_squared_derivative",
        "at x = 0 it divides by zero",
        "def two_x_squared_derivative(x):\n    return 4 * x**2 / x",
    ),
    (
        "3x",
        "three_x_derivative",
        "the function itself",
        "def three_x_derivative(x):\n    return 3 * x",
    ),
    ("0", "three_x_derivative", "this is 0", "def three_x_derivative(x):\n    return 0 * x"),
    (
        "1",
        "three_x_derivative",
        "the derivative of x alone",
        "def three_x_derivative(x):\n    return np.ones_like(x, dtype=float)",
    ),
    (
        "3x / x",
        "three_x_derivative_at_edge_cases",
        "at x = 0 it divides by zero",
        "def three_x_derivative(x):\n    return 3 * x / x",
    ),
]
ALIASED = """
def numerical_derivative(f, x, h=1e-5):
    x_plus = x
    x_plus += h
    above = f(x_plus)
    x_minus = x
    x_minus -= h
    return (above - f(x_minus)) / (2 * h)
"""

CASES = (
    [
        (name, check_id, words, f"def difference_quotient(f, x, dx):\n    {body}\n")
        for name, check_id, words, body in NAMED[:13]
    ]
    + [
        (name, check_id, words, f"def numerical_derivative(f, x, h=1e-5):\n    {body}\n")
        for name, check_id, words, body in NAMED[13:]
    ]
    + [
        (
            name,
            check_id,
            words,
            f"def numerical_derivative(f, x, h={step}):\n"
            "    return (f(x + h) - f(x - h)) / (2 * h)\n",
        )
        for name, check_id, words, step in DEFAULTS
    ]
    + [(name, check_id, words, code + "\n") for name, check_id, words, code in EXACT]
    + [("stepped in place", ND_HIDDEN, "x itself in place of x - h", ALIASED)]
    + [
        (
            "dx stepped in place",
            DQ,
            "x_new += dx moves x too",
            "def difference_quotient(f, x, dx):\n    x_new = x\n    x_new += dx\n"
            "    return (f(x_new) - f(x)) / dx\n",
        )
    ]
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("check_id", "words", "code"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_the_mistake_is_named(
    course: Course, tmp_path: Path, check_id: str, words: str, code: str
) -> None:
    result = graded_with(course, "exercise1", code, tmp_path)
    message = message_of(result, check_id)
    assert words in message.partition("Hint:")[2] or words in message, message
    assert result.score < result.max_score


@pytest.mark.parametrize(
    ("check_id", "code"),
    [
        # central + 1e-6 is near the one-sided difference of sin at h = 1e-5, but not it
        (
            DEFAULT,
            "def numerical_derivative(f, x, h=1e-5):\n"
            "    return (f(x + h) - f(x - h)) / (2 * h) + 1e-6\n",
        ),
        # x + 3 is 2x at x = 3 only
        ("two_x_squared_derivative", "def two_x_squared_derivative(x):\n    return x + 3\n"),
        # x² + x is 4x at x = 3 only
        ("two_x_squared", "def two_x_squared(x):\n    return x**2 + x\n"),
    ],
    ids=["nearly central", "2x at 3 only", "4x at 3 only"],
)
def test_a_value_that_only_resembles_a_mistake_is_told_none(
    course: Course, tmp_path: Path, check_id: str, code: str
) -> None:
    message = message_of(graded_with(course, "exercise1", code, tmp_path), check_id)
    assert message and "Hint:" not in message, message


def test_the_hidden_checks_name_each_mistake_in_the_public_checks_words() -> None:
    assert_both_check_files_share(
        "exercise1",
        {
            "quotient_mistakes",
            "numerical_derivative_mistakes",
            "square_derivative_mistakes",
            "linear_derivative_mistakes",
        },
    )
