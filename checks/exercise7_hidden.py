"""Hidden checks for exercise 7, the linear layer: the reference on several shapes, hygiene, and
large values."""

import numpy as np

from grader.checks import (
    check,
    expect_array,
    expect_matches_reference,
    expect_pair,
    fail,
    warn_if_inputs_changed,
)


def both_passes(student, x, W, b, dout):
    call = f"linear_forward(x {x.shape}, W {W.shape}, b {b.shape})"
    out, cache = expect_pair(student.linear_forward(x, W, b), call)
    out = expect_array(out, call, (x.shape[0], W.shape[1]))
    call_back = f"linear_backward(dout {dout.shape}, cache from {call})"
    grads = student.linear_backward(dout, cache)
    if not isinstance(grads, (tuple, list)) or len(grads) != 3:
        fail(f"{call_back} returned {type(grads).__name__}; expected (dx, dW, db)")
    shapes = (x.shape, W.shape, b.shape)
    named = [
        expect_array(grad, f"{call_back}: d{name}", shape)
        for grad, name, shape in zip(grads, ("x", "W", "b"), shapes, strict=True)
    ]
    return call, call_back, out, named


@check(points=2)
def test_linear_matches_reference(student, solution, rng):
    """Forward and backward agree with the reference for several batch and layer sizes."""
    for n, d, m in [(3, 7, 2), (1, 4, 6), (6, 2, 5)]:
        x, W, b = rng.normal(size=(n, d)), rng.normal(size=(d, m)), rng.normal(size=m)
        dout = rng.normal(size=(n, m))
        call, call_back, out, grads = both_passes(student, x, W, b, dout)
        expected_out, cache = solution.linear_forward(x, W, b)
        expect_matches_reference(out, expected_out, call)
        for name, got, expected in zip(
            ("x", "W", "b"), grads, solution.linear_backward(dout, cache), strict=True
        ):
            expect_matches_reference(got, expected, f"{call_back}: d{name}")


@check(points=1)
def test_linear_hygiene(student, rng):
    """Inputs unchanged, the same call twice the same result, zero dout zero gradients."""
    x, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    call = "linear_forward(x (4, 3), W (3, 2), b (2,))"
    first, cache = expect_pair(student.linear_forward(x, W, b), call)
    warn_if_inputs_changed(student, call)
    second, _ = expect_pair(student.linear_forward(x, W, b), call)
    if not np.array_equal(expect_array(first, call, (4, 2)), second):
        fail(f"{call} gave a different result the second time")
    student.linear_backward(rng.normal(size=(4, 2)), cache)
    warn_if_inputs_changed(student, "linear_backward(dout (4, 2), cache)")
    grads = student.linear_backward(np.zeros((4, 2)), cache)
    if any(np.any(np.asarray(grad) != 0) for grad in grads):
        fail("linear_backward(zeros, cache) is not zero; every gradient is linear in dout")


@check(points=1)
def test_linear_large_values(student, solution, rng):
    """Large inputs with small weights: the reference's values, to rounding."""
    x, W, b = 1e4 * rng.normal(size=(5, 4)), 1e-3 * rng.normal(size=(4, 3)), rng.normal(size=3)
    dout = 1e2 * rng.normal(size=(5, 3))
    call, call_back, out, grads = both_passes(student, x, W, b, dout)
    expected_out, cache = solution.linear_forward(x, W, b)
    expect_matches_reference(out, expected_out, call)
    for name, got, expected in zip(
        ("x", "W", "b"), grads, solution.linear_backward(dout, cache), strict=True
    ):
        expect_matches_reference(got, expected, f"{call_back}: d{name}")
