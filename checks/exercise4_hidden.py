"""Hidden checks for exercise 4, gradient descent: the reference on random quadratics of several
sizes, and edge cases (zero steps, a start that is already flat, a gradient whose entries are
each below the tolerance but whose length is not, one dimension). Where the student's
gradient_step steps uphill (its named mistake, charged in its own check), a path or a point that
follows it is not charged again."""

import numpy as np

from grader.checks import (
    answer_or_none,
    check,
    describe,
    expect_array,
    expect_matches_reference,
    expect_number,
    fail,
    formula,
    shows,
    warn_if_inputs_changed,
)

# As in the public checks, word for word: the same mistake, charged once.
UPHILL = "you stepped uphill: the step goes against the gradient, x - rate·grad"
STEP_UPHILL = ("gradient_step", UPHILL)


def quadratic_gradient(rng, size):
    """∇ of ½ xᵀ A x - bᵀ x for a random positive definite A."""
    factor = rng.normal(size=(size, size))
    matrix = factor @ factor.T / size + np.eye(size)
    offset = rng.normal(size=size)
    return formula("matrix @ x - offset", "∇f", matrix=matrix, offset=offset)


def uphill_mistake(student):
    """Whose mistake an uphill path is: gradient_step's, where the student's gradient_step steps
    uphill (at a point of this check's own), else the function under check's own."""
    x, grad = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    got = answer_or_none(student.gradient_step, x, grad, 0.1)
    return STEP_UPHILL if got is not None and shows(got, x + 0.1 * grad) else UPHILL


def uphill_path(gradient, x0, rate, steps):
    path = [np.array(x0, dtype=np.float64)]
    for _ in range(steps):
        path.append(path[-1] + rate * gradient(path[-1]))
    return np.array(path)


def uphill_until_flat(gradient, x0, rate, tolerance, max_steps):
    x = np.array(x0, dtype=np.float64)
    for steps in range(max_steps):
        grad = gradient(x)
        if np.linalg.norm(grad) < tolerance:
            return x, steps
        x = x + rate * grad
    return x, max_steps


@check(points=1)
def test_gradient_descent_matches_reference(student, solution, rng):
    """gradient_descent agrees with the reference on random quadratics in 1 to 4 dimensions."""
    mistake = uphill_mistake(student)
    for size, steps in [(1, 5), (3, 20), (4, 0)]:
        gradient = quadratic_gradient(rng, size)
        x0 = rng.normal(size=size)
        rate = float(rng.uniform(0.05, 0.3))
        call = f"gradient_descent(∇f, x0={describe(x0)}, rate={rate:.3g}, steps={steps})"
        got = student.gradient_descent(gradient, x0, rate, steps)
        warn_if_inputs_changed(student, call)
        expected = solution.gradient_descent(gradient, x0.copy(), rate, steps)
        expect_matches_reference(
            expect_array(got, call, expected.shape),
            expected,
            call,
            mistakes={mistake: uphill_path(gradient, x0, rate, steps)},
        )


def flat_answer(student, gradient, x0, rate, tolerance, max_steps, expected, mistake, call):
    """(x, steps) of the student's descend_until_flat, or None where it is the uphill mistake
    again (noted, or failed if no earlier check charged it)."""
    got_x, got_steps = student.descend_until_flat(gradient, x0, rate, tolerance, max_steps)
    got_x = expect_array(got_x, call + " x", x0.shape)
    got_steps = expect_number(got_steps, call + " steps")
    uphill_x, uphill_steps = uphill_until_flat(gradient, x0, rate, tolerance, max_steps)
    if got_steps == uphill_steps and shows(got_x, uphill_x) and not shows(got_x, expected):
        expect_matches_reference(got_x, expected, call + " x", mistakes={mistake: uphill_x})
        return None
    return got_x, got_steps


@check(points=1)
def test_descend_until_flat_edge_cases(student, solution, rng):
    """descend_until_flat takes no step from a flat start, compares the gradient's length with the
    tolerance, and agrees with the reference."""
    mistake = uphill_mistake(student)
    bowl = formula("2 * x", "∇ of x² + y²")
    # Flat within the tolerance, not exactly: the gradient [2e-4, -3e-4] has length 3.6e-4.
    flat = np.array([1e-4, -1.5e-4])
    call = (
        f"descend_until_flat(∇ of x² + y², x0={describe(flat)}, rate=0.1, tolerance=1e-3, "
        "max_steps=10)"
    )
    got_x, got_steps = student.descend_until_flat(bowl, flat, 0.1, 1e-3, 10)
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
    answer = flat_answer(student, bowl, start, 0.1, 1e-3, 10, 0.8 * start, mistake, call)
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
    answer = flat_answer(student, gradient, x0, 0.2, 1e-6, 200, x, mistake, call)
    if answer is not None:
        got_x, got_steps = answer
        expect_matches_reference(got_x, x, call + " x")
        if got_steps != steps:
            fail(f"{call}: expected {steps} steps, got {describe(got_steps)}")
