"""Hidden checks for exercise 7, the linear layer: the reference on several shapes and on large
values, each call made twice. The forward and the backward score on their own: the backward is
checked against the reference's gradients whatever the forward's output (it needs only its cache),
and a backward that follows the forward's named mistake is not charged for it again."""

import numpy as np

from grader.checks import (
    check,
    expect_array,
    expect_matches_reference,
    expect_pair,
    expect_same_again,
    fail,
    shows,
    warn_if_inputs_changed,
)

NO_BIAS = ("linear_forward", "the bias b is missing")
SHAPES = [(3, 7, 2), (1, 4, 6), (6, 2, 5)]


def layer(rng, n, d, m):
    return rng.normal(size=(n, d)), rng.normal(size=(d, m)), rng.normal(size=m)


def large_layer(rng):
    """Large inputs with small weights."""
    x, W, b = 1e4 * rng.normal(size=(5, 4)), 1e-3 * rng.normal(size=(4, 3)), rng.normal(size=3)
    return x, W, b, 1e2 * rng.normal(size=(5, 3))


def forward_call(x, W, b):
    return f"linear_forward(x {x.shape}, W {W.shape}, b {b.shape})"


def expect_forward(student, solution, x, W, b):
    """linear_forward agrees with the reference at (x, W, b), twice."""
    call = forward_call(x, W, b)
    shape = (x.shape[0], W.shape[1])
    out, _ = expect_pair(student.linear_forward(x, W, b), call)
    warn_if_inputs_changed(student, call)
    out = expect_array(out, call, shape)
    expected, _ = solution.linear_forward(x, W, b)
    mistakes = {NO_BIAS: x @ W}
    expect_matches_reference(out, expected, call, mistakes=mistakes)
    again, _ = expect_pair(student.linear_forward(x, W, b), call)
    expect_same_again(out, again, expected, call, mistakes=mistakes)


def gradients(student, call, dout, cache, shapes):
    grads = student.linear_backward(dout, cache)
    if not isinstance(grads, (tuple, list)) or len(grads) != 3:
        fail(f"{call} returned {type(grads).__name__}; expected (dx, dW, db)")
    return [
        expect_array(grad, f"{call}: d{name}", shape)
        for grad, name, shape in zip(grads, ("x", "W", "b"), shapes, strict=True)
    ]


def expect_backward(student, solution, x, W, b, dout):
    """linear_backward, from the cache of the student's forward, agrees with the reference, twice;
    where that forward left out the bias, db = 0 (its gradient) is that mistake again."""
    call = forward_call(x, W, b)
    out, cache = expect_pair(student.linear_forward(x, W, b), call)
    without_bias = shows(out, x @ W)
    call = f"linear_backward(dout {dout.shape}, cache from {call})"
    shapes = (x.shape, W.shape, b.shape)
    got = gradients(student, call, dout, cache, shapes)
    warn_if_inputs_changed(student, call)
    _, expected_cache = solution.linear_forward(x, W, b)
    expected = solution.linear_backward(dout, expected_cache)
    follows = [None, None, {NO_BIAS: np.zeros_like(b)} if without_bias else None]
    for name, value, want, mistakes in zip(("x", "W", "b"), got, expected, follows, strict=True):
        expect_matches_reference(value, want, f"{call}: d{name}", mistakes=mistakes)
    again = gradients(student, call, dout, cache, shapes)
    for name, first, second, want, mistakes in zip(
        ("x", "W", "b"), got, again, expected, follows, strict=True
    ):
        expect_same_again(first, second, want, f"{call}: d{name}", mistakes=mistakes)


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
