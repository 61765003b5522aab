"""Hidden checks for exercise 4, gradient descent: the reference on random quadratics of several
sizes, and edge cases (zero steps, a start that is already flat, a gradient whose entries are
each below the tolerance but whose length is not, one dimension). Where the student's
gradient_step steps uphill (its named mistake, charged in its own check), a path or a point that
follows it is not charged again."""

import numpy as np

from grader.checks import (
    check,
    describe,
    expect_array,
    expect_matches_reference,
    expect_number,
    expect_pair,
    fail,
    formula,
    shared,
    shows,
    warn_if_inputs_changed,
)

common = shared(__file__, "_exercise4_mistakes")  # the mistakes both check files name


def quadratic_gradient(rng, size):
    """∇ of ½ xᵀ A x - bᵀ x for a random positive definite A."""
    factor = rng.normal(size=(size, size))
    matrix = factor @ factor.T / size + np.eye(size)
    offset = rng.normal(size=size)
    return formula("matrix @ x - offset", "∇f", matrix=matrix, offset=offset)


def uphill_path(gradient, x0, rate, steps):
    path = [np.array(x0, dtype=np.float64)]
    for _ in range(steps):
        path.append(path[-1] + rate * gradient(path[-1]))
    return np.array(path)


def until_flat_with(step, gradient, x0, rate, tolerance, max_steps):
    """descend_until_flat that steps x ↦ step(x, grad, rate): (x, steps)."""
    x = np.array(x0, dtype=np.float64)
    with np.errstate(all="ignore"):
        for steps in range(max_steps):
            grad = gradient(x)
            if np.linalg.norm(grad) < tolerance:
                return x, steps
            x = np.asarray(step(x, grad, rate), dtype=np.float64)
    return x, max_steps


def uphill_step(x, grad, rate):
    return x + rate * grad


@check(points=1)
def test_gradient_descent_matches_reference(student, solution, rng):
    """gradient_descent agrees with the reference on random quadratics in 1 to 4 dimensions."""
    probe = common.probe_step(student)
    for size, steps in [(1, 5), (3, 20), (4, 0)]:
        gradient = quadratic_gradient(rng, size)
        x0 = rng.normal(size=size)
        rate = float(rng.uniform(0.05, 0.3))
        call = f"gradient_descent(∇f, x0={describe(x0)}, rate={rate:.3g}, steps={steps})"
        got = student.gradient_descent(gradient, x0, rate, steps)
        warn_if_inputs_changed(student, call)
        expected = solution.gradient_descent(gradient, x0.copy(), rate, steps)
        mistakes = {probe.uphill: uphill_path(gradient, x0, rate, steps)}
        if probe.step is not None:  # a path that follows gradient_step's own mistake
            hint, step = probe.step
            mistakes[("gradient_step", hint)] = common.path_with(step, gradient, x0, steps, rate)
        expect_matches_reference(
            expect_array(got, call, expected.shape), expected, call, mistakes=mistakes
        )


def flat_answer(student, gradient, x0, rate, tolerance, max_steps, expected, probe, call):
    """(x, steps) of the student's descend_until_flat, or None where it follows a named mistake
    of gradient_step (an uphill step, or another the probe saw) again: noted, or failed if no
    earlier check charged it."""
    got_x, got_steps = expect_pair(
        student.descend_until_flat(gradient, x0, rate, tolerance, max_steps), call, ("x", "steps")
    )
    got_x = expect_array(got_x, call + " x", x0.shape)
    got_steps = expect_number(got_steps, call + " steps")
    followed = [(probe.uphill, uphill_step)]
    if probe.step is not None:
        hint, step = probe.step
        followed.append((("gradient_step", hint), step))
    for mistake, step in followed:
        their_x, their_steps = until_flat_with(step, gradient, x0, rate, tolerance, max_steps)
        if got_steps == their_steps and shows(got_x, their_x) and not shows(got_x, expected):
            expect_matches_reference(got_x, expected, call + " x", mistakes={mistake: their_x})
            return None
    return got_x, got_steps


@check(points=1)
def test_descend_until_flat_edge_cases(student, solution, rng):
    """descend_until_flat takes no step from a flat start, compares the gradient's length with the
    tolerance, and agrees with the reference."""
    probe = common.probe_step(student)
    bowl = formula("2 * x", "∇ of x² + y²")
    # Flat within the tolerance, not exactly: the gradient [2e-4, -3e-4] has length 3.6e-4.
    flat = np.array([1e-4, -1.5e-4])
    call = (
        f"descend_until_flat(∇ of x² + y², x0={describe(flat)}, rate=0.1, tolerance=1e-3, "
        "max_steps=10)"
    )
    got_x, got_steps = expect_pair(
        student.descend_until_flat(bowl, flat, 0.1, 1e-3, 10), call, ("x", "steps")
    )
    if expect_number(got_steps, call + " steps") != 0:
        fail(
            f"{call}: the gradient at the start has length 3.6e-4, below the tolerance, so the "
            f"start is flat and no step is taken, but it took {describe(got_steps)}. Test the "
            "gradient's length against the tolerance before each step, the first one included"
        )
    expect_matches_reference(expect_array(got_x, call + " x", (2,)), flat, call + " x")
    # Each entry of the gradient [8e-4, 8e-4] is below the tolerance, its length 1.13e-3 is not.
    start = np.array([4e-4, 4e-4])
    call = (
        f"descend_until_flat(∇ of x² + y², x0={describe(start)}, rate=0.1, tolerance=1e-3, "
        "max_steps=10)"
    )
    answer = flat_answer(student, bowl, start, 0.1, 1e-3, 10, 0.8 * start, probe, call)
    if answer is not None:
        got_x, got_steps = answer
        if got_steps == 0:
            fail(
                f"{call}: the gradient [0.0008, 0.0008] has length 0.00113, not below the "
                "tolerance, so one step is taken, but it took none. Compare the length itself, "
                "np.linalg.norm(grad), with the tolerance: not each entry, nor the squared length"
            )
        if got_steps != 1:
            fail(
                f"{call}: expected 1 step (the gradient's length is 0.00113, then 0.000905), but "
                f"it took {describe(got_steps)}"
            )
        expect_matches_reference(got_x, 0.8 * start, call + " x")
    gradient = quadratic_gradient(rng, 3)
    x0 = rng.normal(size=3)
    call = f"descend_until_flat(∇f, x0={describe(x0)}, rate=0.2, tolerance=1e-6, max_steps=200)"
    x, steps = solution.descend_until_flat(gradient, x0.copy(), 0.2, 1e-6, 200)
    answer = flat_answer(student, gradient, x0, 0.2, 1e-6, 200, x, probe, call)
    if answer is not None:
        got_x, got_steps = answer
        expect_matches_reference(got_x, x, call + " x")
        if got_steps != steps:
            fail(f"{call}: expected {steps} steps, got {describe(got_steps)}")
