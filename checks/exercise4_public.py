"""Public checks for exercise 4, gradient descent: steps computed by hand, the behaviour of the
learning rate on the lesson's bowl z = x² + y², and stopping where the gradient vanishes."""

import numpy as np

from grader.checks import (
    check,
    describe,
    expect_array,
    expect_close,
    expect_number,
    fail,
    formula,
    warn_if_inputs_changed,
)

# ∇(x² + y²) = 2·(x, y), as a formula: the worker evaluates it at each step (grader.formula).
bowl_gradient = formula("2 * x", "∇ of x² + y²")


UPHILL = "you stepped uphill: the step goes against the gradient, x - rate·grad"


@check(points=1)
def test_gradient_step(student, rng):
    """gradient_step moves x against the gradient by rate · grad, leaving x alone."""
    cases = [(np.array([1.0, 2.0]), np.array([2.0, 4.0]), 0.1)]
    cases.append((rng.normal(size=3), rng.normal(size=3), float(rng.uniform(0.01, 1))))
    for x, grad, rate in cases:
        call = f"gradient_step(x={describe(x)}, grad={describe(grad)}, rate={rate:g})"
        got = student.gradient_step(x, grad, rate)
        warn_if_inputs_changed(student, call)
        expect_close(
            expect_array(got, call, x.shape),
            x - rate * grad,
            call,
            rtol=1e-12,
            mistakes={UPHILL: x + rate * grad},
        )


@check(points=2)
def test_gradient_descent_path(student, rng):
    """gradient_descent returns the start and every point after it, steps + 1 rows."""
    x0 = rng.uniform(-2, 2, size=2)
    rate, steps = 0.1, 10
    call = f"gradient_descent(∇ of x² + y², x0={describe(x0)}, rate={rate:g}, steps={steps})"
    got = student.gradient_descent(bowl_gradient, x0, rate, steps)
    warn_if_inputs_changed(student, call)
    expected = x0 * (1 - 2 * rate) ** np.arange(steps + 1)[:, None]
    if isinstance(got, np.ndarray) and got.shape == (steps, 2):
        fail(
            f"{call} returned {steps} rows; the path starts with x0, so it has steps + 1 = "
            f"{steps + 1} rows"
        )
    expect_close(
        expect_array(got, call, (steps + 1, 2)),
        expected,
        call,
        rtol=1e-10,
        mistakes={UPHILL: x0 * (1 + 2 * rate) ** np.arange(steps + 1)[:, None]},
    )
    call = f"gradient_descent(∇ of x² + y², x0={describe(x0)}, rate={rate:g}, steps=0)"
    expect_close(
        expect_array(student.gradient_descent(bowl_gradient, x0, rate, 0), call, (1, 2)),
        x0[None, :],
        call,
        rtol=1e-12,
    )


@check(points=2)
def test_learning_rate_decides_the_outcome(student):
    """On the bowl, rate 0.1 converges, rate 1 oscillates, rate 2.5 diverges past 1e42."""
    x0 = np.array([1.0, -0.5])
    # 0.8^70 · |x0| = 2e-7: at the bottom within 1e-6.
    call = "gradient_descent(∇ of x² + y², x0=[1, -0.5], rate=0.1, steps=70)"
    path = expect_array(student.gradient_descent(bowl_gradient, x0, 0.1, 70), call, (71, 2))
    if not np.linalg.norm(path[-1]) < 1e-6:
        fail(
            f"{call} ended at {describe(path[-1])}; with rate 0.1 each step multiplies x by "
            "0.8, so it should be at the bottom (0, 0)"
        )
    call = "gradient_descent(∇ of x² + y², x0=[1, -0.5], rate=1, steps=6)"
    path = expect_array(student.gradient_descent(bowl_gradient, x0, 1.0, 6), call, (7, 2))
    expect_close(
        path,
        x0 * (-1.0) ** np.arange(7)[:, None],
        call + " (x - 1·2x = -x: it jumps across the bowl and back)",
        rtol=1e-12,
    )
    # 70 steps of 4x pass float32's largest number (4^64 = 2^128): a float32 path overflows.
    call = "gradient_descent(∇ of x² + y², x0=[1, -0.5], rate=2.5, steps=70)"
    path = expect_array(student.gradient_descent(bowl_gradient, x0, 2.5, 70), call, (71, 2))
    growth = np.abs(path[1:] / path[:-1])
    expect_close(
        growth,
        np.full((70, 2), 4.0),
        call + ": each step's growth |x_k+1 / x_k| (x - 2.5·2x = -4x)",
        rtol=1e-12,
    )


@check(points=1)
def test_descend_until_flat(student):
    """descend_until_flat stops at the first point whose gradient is shorter than the tolerance."""
    call = "descend_until_flat(∇ of x², x0=[1], rate=0.25, tolerance=0.1, max_steps=100)"
    result = student.descend_until_flat(bowl_gradient, np.array([1.0]), 0.25, 0.1, 100)
    warn_if_inputs_changed(student, call)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{call} returned {describe(result)}; expected a pair (x, steps)")
    x, steps = result
    expect_close(expect_array(x, call + " x", (1,)), [1 / 32], call + " x", rtol=1e-12)
    if expect_number(steps, call + " steps") != 5:
        fail(
            f"{call}: expected 5 steps (x halves each step: 1, 1/2, ..., 1/32, where 2x < 0.1 "
            f"first), got {describe(steps)}"
        )
    call = "descend_until_flat(∇ of x², x0=[1], rate=0.25, tolerance=0.125, max_steps=100)"
    x, steps = student.descend_until_flat(bowl_gradient, np.array([1.0]), 0.25, 0.125, 100)
    if expect_number(steps, call + " steps") != 5:
        fail(
            f"{call}: expected 5 steps: the gradient 2x is 0.125 after 4, which is not below "
            f"the tolerance; got {describe(steps)}"
        )
    call = "descend_until_flat(∇ of x², x0=[1], rate=0.25, tolerance=0.1, max_steps=3)"
    x, steps = student.descend_until_flat(bowl_gradient, np.array([1.0]), 0.25, 0.1, 3)
    expect_close(expect_array(x, call + " x", (1,)), [1 / 8], call + " x", rtol=1e-12)
    if expect_number(steps, call + " steps") != 3:
        fail(f"{call}: expected to stop after max_steps = 3, got {describe(steps)} steps")
