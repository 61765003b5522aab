"""Public checks for exercise 7, the linear layer: the forward pass computed here, and dx, dW, db
against central differences of the student's own forward, with a batch of N >= 3 and distinct
dimensions so a transposed or misplaced gradient cannot hide."""

import numpy as np

from grader.checks import (
    check,
    expect_array,
    expect_close,
    expect_gradient,
    expect_pair,
    fail,
    then,
    warn_if_inputs_changed,
)

N, D, M = 4, 5, 3


def layer(rng, n=N, d=D, m=M):
    return rng.normal(size=(n, d)), rng.normal(size=(d, m)), rng.normal(size=m)


def backward_of(student, x, W, b, dout):
    call = f"linear_forward(x {x.shape}, W {W.shape}, b {b.shape})"
    _, cache = expect_pair(student.linear_forward(x, W, b), call)
    call = f"linear_backward(dout {dout.shape}, cache)"
    grads = student.linear_backward(dout, cache)
    if not isinstance(grads, (tuple, list)) or len(grads) != 3:
        fail(f"{call} returned {type(grads).__name__}; expected the tuple (dx, dW, db)")
    return call, grads


def output_of(student, x, W, b):
    """The forward pass's output, as a value to come: the call is sent now (grader.later)."""
    call = f"linear_forward(x {x.shape}, W {W.shape}, b {b.shape})"
    return then(
        student.linear_forward.later(x, W, b),
        lambda answer: expect_array(expect_pair(answer, call)[0], call, (x.shape[0], W.shape[1])),
    )


@check(points=2)
def test_linear_forward(student, rng):
    """linear_forward computes x @ W + b for a batch, leaving its inputs alone."""
    x, W, b = layer(rng)
    call = "linear_forward(x (4, 5), W (5, 3), b (3,))"
    out, _ = expect_pair(student.linear_forward(x, W, b), call)
    warn_if_inputs_changed(student, call)
    expect_close(
        expect_array(out, call, (N, M)),
        x @ W + b,
        call,
        rtol=1e-12,
        mistakes={"the bias b is missing": x @ W},
    )


@check(points=3)
def test_linear_backward_by_finite_differences(student, rng):
    """dx, dW and db are the gradients of Σ out·dout, as central differences of the forward say."""
    x, W, b = layer(rng)
    dout = rng.normal(size=(N, M))
    call, (dx, dW, db) = backward_of(student, x, W, b, dout)
    warn_if_inputs_changed(student, call)

    def loss(x=x, W=W, b=b):
        return then(output_of(student, x, W, b), lambda out: float(np.sum(out * dout)))

    expect_gradient(dx, lambda v: loss(x=v), x, f"{call}: dx")
    expect_gradient(
        dW,
        lambda v: loss(W=v),
        W,
        f"{call}: dW",
        mistakes={
            f"dW is divided by N = {N}; the batch's contributions are summed": (x.T @ dout) / N,
        },
    )
    expect_gradient(
        db,
        lambda v: loss(b=v),
        b,
        f"{call}: db",
        mistakes={
            f"db is averaged over the batch; sum it over the N = {N} examples": dout.mean(axis=0),
        },
    )


@check(points=1)
def test_linear_backward_shapes_with_one_example(student, rng):
    """With one example (N = 1) the gradients keep their shapes: dx (1, D), dW (D, M), db (M,)."""
    x, W, b = layer(rng, n=1)
    dout = rng.normal(size=(1, M))
    call, (dx, dW, db) = backward_of(student, x, W, b, dout)
    expect_close(expect_array(dx, f"{call}: dx", (1, D)), dout @ W.T, f"{call}: dx", rtol=1e-10)
    expect_close(expect_array(dW, f"{call}: dW", (D, M)), x.T @ dout, f"{call}: dW", rtol=1e-10)
    expect_close(expect_array(db, f"{call}: db", (M,)), dout.sum(axis=0), f"{call}: db", rtol=1e-10)
