"""Public checks for exercise 7, the linear layer: the forward pass computed here, and dx, dW, db
against central differences of x @ W + b, computed here too (the student's forward is called at
the check's own points only, for its cache), with a batch of N >= 3 and distinct dimensions so a
transposed or misplaced gradient cannot hide."""

import numpy as np

from grader.checks import (
    check,
    expect_array,
    expect_close,
    expect_gradient,
    expect_pair,
    fail,
    shows,
    warn_if_inputs_changed,
    with_hint,
)

N, D, M = 4, 5, 3
NO_BIAS = ("linear_forward", "the bias b is missing")


def layer(rng, n=N, d=D, m=M):
    return rng.normal(size=(n, d)), rng.normal(size=(d, m)), rng.normal(size=m)


def backward_of(student, x, W, b, dout):
    """(call, (dx, dW, db), whether the forward showed the missing bias) for the student's layer."""
    call = f"linear_forward(x {x.shape}, W {W.shape}, b {b.shape})"
    out, cache = expect_pair(student.linear_forward(x, W, b), call)
    without_bias = shows(out, x @ W)
    call = f"linear_backward(dout {dout.shape}, cache)"
    grads = student.linear_backward(dout, cache)
    if not isinstance(grads, (tuple, list)) or len(grads) != 3:
        fail(f"{call} returned {type(grads).__name__}; expected the tuple (dx, dW, db)")
    expect_in_order(grads, call, {"dx": x.shape, "dW": W.shape, "db": b.shape}, dout.shape[0])
    return call, grads, without_bias


def expect_in_order(grads, call, shapes, n):
    """Fail, naming the order, when the gradients come in another order than (dx, dW, db) (their
    shapes tell which is which), and name the axis when db is summed over the wrong one."""
    got = [np.shape(grad) if isinstance(grad, np.ndarray) else None for grad in grads]
    wanted = list(shapes.values())
    if (
        got != wanted
        and sorted(map(str, got)) == sorted(map(str, wanted))
        and len(set(map(str, wanted))) == 3
    ):
        order = [name for shape in got for name, want in shapes.items() if want == shape]
        fail(
            with_hint(
                f"{call} returned arrays shaped as ({', '.join(order)})",
                "return the tuple in the order (dx, dW, db)",
            )
        )
    db_shape = got[2]
    if db_shape == (n,) and shapes["db"] != (n,):
        fail(
            with_hint(
                f"{call}: db has shape {db_shape}, one entry per example; expected {shapes['db']}",
                "db sums dout over the batch, its first axis: np.sum(dout, axis=0)",
            )
        )


@check(points=2)
def test_linear_forward(student, rng):
    """linear_forward computes x @ W + b for a batch."""
    x, W, b = layer(rng)
    call = "linear_forward(x (4, 5), W (5, 3), b (3,))"
    out, _ = expect_pair(student.linear_forward(x, W, b), call)
    warn_if_inputs_changed(student, call)
    expect_close(
        expect_array(out, call, (N, M)),
        x @ W + b,
        call,
        rtol=1e-12,
        mistakes={NO_BIAS: x @ W},
    )


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

    expect_gradient(
        dx,
        lambda v: loss(x=v),
        x,
        f"{call}: dx",
        mistaken_forwards={NO_BIAS: lambda v: loss_without_bias(x=v)} if without_bias else None,
    )
    expect_gradient(
        dW,
        lambda v: loss(W=v),
        W,
        f"{call}: dW",
        mistakes={
            f"dW is divided by N = {N}; the batch's contributions are summed": (x.T @ dout) / N,
        },
        mistaken_forwards={NO_BIAS: lambda v: loss_without_bias(W=v)} if without_bias else None,
    )
    expect_gradient(
        db,
        lambda v: loss(b=v),
        b,
        f"{call}: db",
        mistakes={
            f"db is averaged over the batch; sum it over the N = {N} examples": dout.mean(axis=0),
        },
        mistaken_forwards={NO_BIAS: lambda v: loss_without_bias(b=v)} if without_bias else None,
    )


@check(points=1)
def test_linear_backward_shapes_with_one_example(student, rng):
    """With one example (N = 1) the gradients keep their shapes: dx (1, D), dW (D, M), db (M,)."""
    x, W, b = layer(rng, n=1)
    dout = rng.normal(size=(1, M))
    call, (dx, dW, db), without_bias = backward_of(student, x, W, b, dout)
    expect_close(expect_array(dx, f"{call}: dx", (1, D)), dout @ W.T, f"{call}: dx", rtol=1e-10)
    expect_close(expect_array(dW, f"{call}: dW", (D, M)), x.T @ dout, f"{call}: dW", rtol=1e-10)
    expect_close(
        expect_array(db, f"{call}: db", (M,)),
        dout.sum(axis=0),
        f"{call}: db",
        rtol=1e-10,
        mistakes={NO_BIAS: np.zeros(M)} if without_bias else None,
    )
