"""Public checks for exercise 7, the linear layer: the forward pass and its cache computed here,
and dx, dW, db against central differences of x @ W + b, computed here too, with a batch of
N >= 3 and distinct dimensions so a transposed or misplaced gradient cannot hide.

The backward pass is judged on the cache (x, W, b) the check builds (or the student's forward's,
where it is that cache): a wrong cache costs the forward's points, in the forward's check. A
wrong answer is named where it is the value a known mistake gives, and an error where the
square points of checks/_exercise7_mistakes.py tell its formula; the hidden checks name the same
mistakes in the same words."""

from typing import Any

import numpy as np

from grader.checks import (
    check,
    expect_close,
    expect_gradient,
    shared,
    shows,
    warn_if_inputs_changed,
)

mistakes = shared(__file__, "_exercise7_mistakes")

N, D, M = 4, 5, 3
NO_BIAS = mistakes.NO_BIAS


def layer(rng: np.random.Generator, n: int = N, d: int = D, m: int = M) -> tuple[Any, Any, Any]:
    return rng.normal(size=(n, d)), rng.normal(size=(d, m)), rng.normal(size=m)


def backward_of(student: Any, x: Any, W: Any, b: Any, dout: Any) -> tuple[str, list, bool]:
    """(call, [dx, dW, db] as arrays, whether the student's forward left out the bias)."""
    call = f"linear_backward(dout {dout.shape}, cache)"
    grads, out = mistakes.backward_answer(student, x, W, b, dout, call)
    without_bias = out is not None and shows(out, x @ W)
    return call, mistakes.gradient_arrays(grads, call, x, W, dout), without_bias


@check(points=2)
def test_linear_forward(student, rng):
    """linear_forward computes x @ W + b for a batch, and caches (x, W, b)."""
    x, W, b = layer(rng)
    call = "linear_forward(x (4, 5), W (5, 3), b (3,))"
    out, cache = mistakes.forward_pair(student, x, W, b, call)
    warn_if_inputs_changed(student, call)
    got = mistakes.output_array(out, call, x, W, b)

    named = mistakes.forward_mistakes(x, W, got, x @ W + b)
    expect_close(got, x @ W + b, call, rtol=1e-12, mistakes=named)
    mistakes.expect_cache(cache, x, W, b, call)


@check(points=3)
def test_linear_backward_by_finite_differences(student, rng):
    """dx, dW and db are the gradients of Σ (x @ W + b)·dout, as central differences say."""
    x, W, b = layer(rng)
    dout = rng.normal(size=(N, M))
    call, (dx, dW, db), without_bias = backward_of(student, x, W, b, dout)
    warn_if_inputs_changed(student, call)

    def loss(x=x, W=W, b=b):
        return float(np.sum((x @ W + b) * dout))

    def loss_without_bias(x=x, W=W, b=b):
        return float(np.sum((x @ W) * dout))

    rolled = mistakes.rolled_answers(student, x, W, b, dout)
    for name, got, point in (("dx", dx, x), ("dW", dW, W), ("db", db, b)):
        key = name[1:]
        with mistakes.charged_by_kind():
            expect_gradient(
                got,
                lambda v, key=key: loss(**{key: v}),
                point,
                f"{call}: {name}",
                mistakes=mistakes.gradient_mistakes(name, x, W, dout, got, rolled),
                mistaken_forwards=(
                    {NO_BIAS: lambda v, key=key: loss_without_bias(**{key: v})}
                    if without_bias
                    else None
                ),
            )


def close(got: Any, expected: Any, call: str, mistakes: Any) -> None:
    expect_close(got, expected, call, rtol=1e-10, mistakes=mistakes)


@check(points=1)
def test_linear_backward_shapes_with_one_example(student, rng):
    """With one example (N = 1) the gradients keep their shapes: dx (1, D), dW (D, M), db (M,)."""
    x, W, b = layer(rng, n=1)
    dout = rng.normal(size=(1, M))
    call, grads, without_bias = backward_of(student, x, W, b, dout)
    rolled = mistakes.rolled_answers(student, x, W, b, dout)
    for name, got, want in zip(
        ("dx", "dW", "db"), grads, mistakes.true_gradients(x, W, dout), strict=True
    ):
        named = mistakes.gradient_mistakes(name, x, W, dout, got, rolled)
        if name == "db" and without_bias:
            named = {NO_BIAS: np.zeros(M), **named}
        mistakes.expect_named(got, want, f"{call}: {name}", named, compare=close)
