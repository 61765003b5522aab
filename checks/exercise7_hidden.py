"""Hidden checks for exercise 7, the linear layer: the reference on several shapes and on large
values, each call made twice. The forward and the backward score on their own: the backward is
judged on the cache (x, W, b) the check builds (or the student's forward's, where it is that
cache), whatever the forward's output, and a backward that follows the forward's named mistake
is not charged for it again. The mistakes are named in the public checks' words
(checks/_exercise7_mistakes.py)."""

from typing import Any

import numpy as np

from grader.checks import (
    check,
    expect_matches_reference,
    expect_same_again,
    shared,
    shows,
    warn_if_inputs_changed,
)

mistakes = shared(__file__, "_exercise7_mistakes")

NO_BIAS = mistakes.NO_BIAS
SHAPES = [(3, 7, 2), (1, 4, 6), (6, 2, 5)]


def layer(rng: np.random.Generator, n: int, d: int, m: int) -> tuple[Any, Any, Any]:
    return rng.normal(size=(n, d)), rng.normal(size=(d, m)), rng.normal(size=m)


def large_layer(rng: np.random.Generator) -> tuple[Any, Any, Any, Any]:
    """Large inputs with small weights."""
    x, W, b = 1e4 * rng.normal(size=(5, 4)), 1e-3 * rng.normal(size=(4, 3)), rng.normal(size=3)
    return x, W, b, 1e2 * rng.normal(size=(5, 3))


def forward_call(x: Any, W: Any, b: Any) -> str:
    return f"linear_forward(x {x.shape}, W {W.shape}, b {b.shape})"


def expect_forward(student: Any, solution: Any, x: Any, W: Any, b: Any) -> None:
    """linear_forward agrees with the reference at (x, W, b), twice, and caches (x, W, b)."""
    call = forward_call(x, W, b)
    out, cache = mistakes.forward_pair(student, x, W, b, call)
    warn_if_inputs_changed(student, call)
    out = mistakes.output_array(out, call, x, W, b)
    expected, _ = solution.linear_forward(x, W, b)
    named = mistakes.forward_mistakes(x, W, out, expected)
    expect_matches_reference(out, expected, call, mistakes=named)
    mistakes.expect_cache(cache, x, W, b, call)
    again, _ = mistakes.forward_pair(student, x, W, b, call)
    expect_same_again(out, again, expected, call, mistakes=named)


def expect_backward(student: Any, solution: Any, x: Any, W: Any, b: Any, dout: Any) -> None:
    """linear_backward, from the cache (x, W, b), agrees with the reference, twice; where the
    student's forward left out the bias, db = 0 (its gradient) is that mistake again."""
    call = f"linear_backward(dout {dout.shape}, cache from {forward_call(x, W, b)})"
    grads, out = mistakes.backward_answer(student, x, W, b, dout, call)
    got = mistakes.gradient_arrays(grads, call, x, W, dout)
    warn_if_inputs_changed(student, call)
    without_bias = out is not None and shows(out, x @ W)
    _, expected_cache = solution.linear_forward(x, W, b)
    expected = solution.linear_backward(dout, expected_cache)
    rolled = mistakes.rolled_answers(student, x, W, b, dout)
    named = []
    for name, value in zip(("dx", "dW", "db"), got, strict=True):
        known = mistakes.gradient_mistakes(name, x, W, dout, value, rolled)
        if name == "db" and without_bias:
            known = {NO_BIAS: np.zeros_like(b), **known}
        named.append(known)
    for name, value, want, known in zip(("dx", "dW", "db"), got, expected, named, strict=True):
        mistakes.expect_named(value, want, f"{call}: {name}", known)
    again, _ = mistakes.backward_answer(student, x, W, b, dout, call)
    again = mistakes.gradient_arrays(again, call, x, W, dout)
    for name, first, second, want, known in zip(
        ("dx", "dW", "db"), got, again, expected, named, strict=True
    ):
        with mistakes.charged_by_kind():
            expect_same_again(first, second, want, f"{call}: {name}", mistakes=known)


@check(points=1)
def test_linear_forward_matches_reference(student, solution, rng):
    """linear_forward agrees with the reference for several sizes and for large values."""
    for n, d, m in SHAPES:
        expect_forward(student, solution, *layer(rng, n, d, m))
    x, W, b, _ = large_layer(rng)
    expect_forward(student, solution, x, W, b)


@check(points=2)
def test_linear_backward_matches_reference(student, solution, rng):
    """linear_backward agrees with the reference for several batch and layer sizes."""
    for n, d, m in SHAPES:
        x, W, b = layer(rng, n, d, m)
        expect_backward(student, solution, x, W, b, rng.normal(size=(n, m)))


@check(points=1)
def test_linear_backward_large_values(student, solution, rng):
    """Large inputs with small weights: the reference's gradients, to rounding."""
    expect_backward(student, solution, *large_layer(rng))
