"""Exercise 3's named mistakes, which its public and hidden checks both name, in the same words.

Each mistake is a hint (what is wrong and what to do) and the value that mistake gives at a check's
own inputs, computed here with numpy; never read from the student's code. Loaded by the check files
with ``shared(__file__, "_exercise3_mistakes")``."""

from collections.abc import Callable
from typing import Any

import numpy as np


def cos_of_square_minus_one(x):
    """The lesson's f(x) = cos(x² - 1), computed in the grader."""
    return np.cos(x**2 - 1)


def lesson_derivative(x):
    """-sin(x² - 1) · 2x, worked out in the grader."""
    return -np.sin(x**2 - 1) * 2 * x


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
