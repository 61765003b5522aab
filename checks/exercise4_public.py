"""Public checks for exercise 4, gradient descent: steps computed by hand, paths on the lesson's
bowl z = x² + y² and on a random quadratic whose gradient no code can guess, the behaviour of the
learning rate on the bowl, and stopping where the gradient vanishes. Every gradient given is a
Recorder: a path must have evaluated it at each of its points.

gradient_descent and descend_until_flat may call gradient_step. Where the student's gradient_step
shows its named mistake (an uphill step), a path or a point that follows it is that mistake
again, charged once in gradient_step's check; the other checks go on past it."""

import numpy as np

from grader.checks import (
    Recorder,
    answer_or_none,
    check,
    describe,
    expect_array,
    expect_close,
    expect_number,
    expect_pair,
    fail,
    formula,
    shows,
    warn_if_inputs_changed,
)

# ∇(x² + y²) = 2·(x, y), as a formula: the worker evaluates it at each step (grader.formula).
bowl_gradient = formula("2 * x", "∇ of x² + y²")

# The same text in every check, and in the hidden checks: the same mistake, charged once.
UPHILL = "you stepped uphill: the step goes against the gradient, x - rate·grad"
STEP_UPHILL = ("gradient_step", UPHILL)


def quadratic_gradient(rng, size):
    """∇ of ½ xᵀ A x - bᵀ x for a random positive definite A (eigenvalues from 1 to about 5)."""
    factor = rng.normal(size=(size, size))
    matrix = factor @ factor.T / size + np.eye(size)
    offset = rng.normal(size=size)
    return formula("matrix @ x - offset", "∇f", matrix=matrix, offset=offset)


def descent(gradient, x0, rate, steps, uphill=False):
    """The path of gradient descent, computed here; uphill: with the named mistake."""
    path = [np.array(x0, dtype=np.float64)]
    for _ in range(steps):
        step = rate * gradient(path[-1])
        path.append(path[-1] + step if uphill else path[-1] - step)
    return np.array(path)


def until_flat(gradient, x0, rate, tolerance, max_steps, uphill=False):
    """descend_until_flat as its docstring defines it, computed here: (x, steps)."""
    x = np.array(x0, dtype=np.float64)
    for steps in range(max_steps):
        grad = gradient(x)
        if np.linalg.norm(grad) < tolerance:
            return x, steps
        x = x + rate * grad if uphill else x - rate * grad
    return x, max_steps


def uphill_mistake(student):
    """Whose mistake an uphill path is: gradient_step's, where the student's gradient_step steps
    uphill (at a point of this check's own), else the function under check's own."""
    x, grad = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    got = answer_or_none(student.gradient_step, x, grad, 0.1)
    return STEP_UPHILL if got is not None and shows(got, x + 0.1 * grad) else UPHILL


def expect_evaluated_along(traced, path, call, last=False):
    """The gradient given was evaluated at every point of ``path`` but the last (and at the last
    too, with ``last``): code that never asks for it cannot have followed it."""
    points = path if last else path[:-1]
    shape = np.shape(points)[1:]
    seen = [np.asarray(point, dtype=np.float64) for point in traced.inputs]
    seen = np.array([point for point in seen if point.shape == shape]).reshape(-1, *shape)
    # evaluated[k]: some point seen equals points[k] to 1e-12 relative (all at once: a path
    # of 70 steps against 70 evaluations, pair by pair, took a tenth of a second)
    axes = tuple(range(2, 2 + len(shape)))
    close = np.abs(seen[None] - points[:, None]) <= 1e-12 * np.abs(points[:, None])
    evaluated = close.all(axis=axes).any(axis=1) if seen.size else np.zeros(len(points), bool)
    for k, point in enumerate(points):
        if not evaluated[k]:
            where = "the point it returned" if last and k == len(points) - 1 else f"path[{k}]"
            fail(
                f"{call} never evaluated grad_f at {where}, {describe(point)}; each step "
                "follows grad_f at the current point: the gradient given, not one of your own"
            )


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


def expect_path(student, gradient, written, x0, rate, steps, mistake):
    """gradient_descent's path from x0 is the one computed here, and it evaluated the gradient at
    each of its points; an uphill path is ``mistake`` again."""
    traced = Recorder(gradient, gradient.__name__)
    call = f"gradient_descent({written}, x0={describe(x0)}, rate={rate:g}, steps={steps})"
    got = student.gradient_descent(traced, x0, rate, steps)
    warn_if_inputs_changed(student, call)
    if isinstance(got, np.ndarray) and got.shape == (steps, x0.size) and steps:
        fail(
            f"{call} returned {steps} rows; the path starts with x0, so it has steps + 1 = "
            f"{steps + 1} rows"
        )
    got = expect_array(got, call, (steps + 1, x0.size))
    expect_close(
        got,
        descent(gradient, x0, rate, steps),
        call,
        rtol=1e-10,
        atol=1e-12,
        mistakes={mistake: descent(gradient, x0, rate, steps, uphill=True)},
    )
    expect_evaluated_along(traced, got, call)


@check(points=2)
def test_gradient_descent_path(student, rng):
    """gradient_descent returns the start and every point after it, steps + 1 rows, on the bowl
    and on a random quadratic."""
    mistake = uphill_mistake(student)
    x0 = rng.uniform(-2, 2, size=2)
    expect_path(student, bowl_gradient, "∇ of x² + y²", x0, 0.1, 10, mistake)
    expect_path(student, bowl_gradient, "∇ of x² + y²", x0, 0.1, 0, mistake)
    gradient = quadratic_gradient(rng, 3)
    x0 = rng.normal(size=3)
    expect_path(student, gradient, "∇f = A x - b", x0, float(rng.uniform(0.05, 0.15)), 12, mistake)


def bowl_path(student, x0, rate, steps, mistake):
    """(call, path) of gradient_descent on the bowl, or (call, None) where the path is the uphill
    mistake again (then nothing more is asked of it)."""
    traced = Recorder(bowl_gradient, bowl_gradient.__name__)
    call = f"gradient_descent(∇ of x² + y², x0={describe(x0)}, rate={rate:g}, steps={steps})"
    path = expect_array(student.gradient_descent(traced, x0, rate, steps), call, (steps + 1, 2))
    uphill = descent(bowl_gradient, x0, rate, steps, uphill=True)
    if shows(path, uphill):
        expect_close(
            path, descent(bowl_gradient, x0, rate, steps), call, mistakes={mistake: uphill}
        )
        return call, None
    expect_evaluated_along(traced, path, call)
    return call, path


@check(points=2)
def test_learning_rate_decides_the_outcome(student):
    """On the bowl, rate 0.1 converges, rate 1 oscillates, rate 2.5 diverges past 1e42."""
    mistake = uphill_mistake(student)
    x0 = np.array([1.0, -0.5])
    # 0.8^70 · |x0| = 2e-7: at the bottom within 1e-6.
    call, path = bowl_path(student, x0, 0.1, 70, mistake)
    if path is not None and not np.linalg.norm(path[-1]) < 1e-6:
        fail(
            f"{call} ended at {describe(path[-1])}; with rate 0.1 each step multiplies x by "
            "0.8, so it should be at the bottom (0, 0)"
        )
    call, path = bowl_path(student, x0, 1.0, 6, mistake)
    if path is not None:
        expect_close(
            path,
            x0 * (-1.0) ** np.arange(7)[:, None],
            call + " (x - 1·2x = -x: it jumps across the bowl and back)",
            rtol=1e-12,
        )
    # 70 steps of 4x pass float32's largest number (4^64 = 2^128): a float32 path overflows.
    call, path = bowl_path(student, x0, 2.5, 70, mistake)
    if path is not None:
        growth = np.abs(path[1:] / path[:-1])
        expect_close(
            growth,
            np.full((70, 2), 4.0),
            call + ": each step's growth |x_k+1 / x_k| (x - 2.5·2x = -4x)",
            rtol=1e-12,
        )


def flat_result(student, gradient, written, x0, rate, tolerance, max_steps, mistake):
    """(call, x, steps) of descend_until_flat, x and steps checked against the result computed
    here; x is None where the result is the uphill mistake again."""
    traced = Recorder(gradient, gradient.__name__)
    call = (
        f"descend_until_flat({written}, x0={describe(x0)}, rate={rate:g}, "
        f"tolerance={tolerance:g}, max_steps={max_steps})"
    )
    result = student.descend_until_flat(traced, x0, rate, tolerance, max_steps)
    warn_if_inputs_changed(student, call)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{call} returned {describe(result)}; expected a pair (x, steps)")
    x, steps = expect_pair(result, call)
    x = expect_array(x, call + " x", x0.shape)
    steps = expect_number(steps, call + " steps")
    expected_x, _ = until_flat(gradient, x0, rate, tolerance, max_steps)
    uphill_x, uphill_steps = until_flat(gradient, x0, rate, tolerance, max_steps, uphill=True)
    if shows(x, uphill_x) and steps == uphill_steps and not shows(x, expected_x):
        expect_close(x, expected_x, call + " x", mistakes={mistake: uphill_x})
        return call, None, steps
    if steps < max_steps:
        expect_evaluated_along(traced, x[None, :], call, last=True)
    return call, x, steps


@check(points=1)
def test_descend_until_flat(student, rng):
    """descend_until_flat stops at the first point whose gradient is shorter than the tolerance."""
    mistake = uphill_mistake(student)
    one = np.array([1.0])
    call, x, steps = flat_result(student, bowl_gradient, "∇ of x²", one, 0.25, 0.1, 100, mistake)
    if x is not None:
        expect_close(x, [1 / 32], call + " x", rtol=1e-12)
        if steps != 5:
            fail(
                f"{call}: expected 5 steps (x halves each step: 1, 1/2, ..., 1/32, where 2x < 0.1 "
                f"first), got {describe(steps)}"
            )
    call, x, steps = flat_result(student, bowl_gradient, "∇ of x²", one, 0.25, 0.125, 100, mistake)
    if x is not None and steps != 5:
        fail(
            f"{call}: expected 5 steps: the gradient 2x is 0.125 after 4, which is not below "
            f"the tolerance; got {describe(steps)}"
        )
    call, x, steps = flat_result(student, bowl_gradient, "∇ of x²", one, 0.25, 0.1, 3, mistake)
    if x is not None:
        expect_close(x, [1 / 8], call + " x", rtol=1e-12)
        if steps != 3:
            fail(f"{call}: expected to stop after max_steps = 3, got {describe(steps)} steps")
    gradient = quadratic_gradient(rng, 2)
    x0 = rng.normal(size=2)
    call, x, steps = flat_result(student, gradient, "∇f = A x - b", x0, 0.1, 1e-4, 300, mistake)
    if x is not None:
        expected_x, expected_steps = until_flat(gradient, x0, 0.1, 1e-4, 300)
        expect_close(x, expected_x, call + " x", rtol=1e-9, atol=1e-12)
        if steps != expected_steps:
            fail(f"{call}: expected {expected_steps} steps, got {describe(steps)}")
