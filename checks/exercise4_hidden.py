"""Hidden checks for exercise 4, gradient descent: the reference on random quadratics of several
sizes, and edge cases (zero steps, a start that is already flat, one dimension)."""

import numpy as np

from grader.checks import (
    check,
    describe,
    expect_array,
    warn_if_inputs_changed,
    expect_matches_reference,
    expect_number,
    fail,
    formula,
)


def quadratic_gradient(rng, size):
    """∇ of ½ xᵀ A x - bᵀ x for a random positive definite A."""
    factor = rng.normal(size=(size, size))
    matrix = factor @ factor.T / size + np.eye(size)
    offset = rng.normal(size=size)
    return formula("matrix @ x - offset", "∇f", matrix=matrix, offset=offset)


@check(points=1)
def test_gradient_descent_matches_reference(student, solution, rng):
    """gradient_descent agrees with the reference on random quadratics in 1 to 4 dimensions."""
    for size, steps in [(1, 5), (3, 20), (4, 0)]:
        gradient = quadratic_gradient(rng, size)
        x0 = rng.normal(size=size)
        rate = float(rng.uniform(0.05, 0.3))
        call = f"gradient_descent(∇f, x0={describe(x0)}, rate={rate:.3g}, steps={steps})"
        got = student.gradient_descent(gradient, x0, rate, steps)
        warn_if_inputs_changed(student, call)
        expected = solution.gradient_descent(gradient, x0.copy(), rate, steps)
        expect_matches_reference(expect_array(got, call, expected.shape), expected, call)


@check(points=1)
def test_descend_until_flat_edge_cases(student, solution, rng):
    """descend_until_flat takes no step from a flat start, and agrees with the reference."""
    gradient = quadratic_gradient(rng, 3)
    x0 = rng.normal(size=3)
    call = f"descend_until_flat(∇f, x0={describe(x0)}, rate=0.2, tolerance=1e-6, max_steps=500)"
    x, steps = solution.descend_until_flat(gradient, x0.copy(), 0.2, 1e-6, 500)
    got_x, got_steps = student.descend_until_flat(gradient, x0, 0.2, 1e-6, 500)
    expect_matches_reference(expect_array(got_x, call + " x", (3,)), x, call + " x")
    if expect_number(got_steps, call + " steps") != steps:
        fail(f"{call}: expected {steps} steps, got {describe(got_steps)}")
    flat = np.zeros(2)
    call = "descend_until_flat(∇ of x² + y², x0=[0, 0], rate=0.1, tolerance=1e-3, max_steps=10)"
    bowl = formula("2 * x", "∇ of x² + y²")
    got_x, got_steps = student.descend_until_flat(bowl, flat, 0.1, 1e-3, 10)
    if expect_number(got_steps, call + " steps") != 0:
        fail(f"{call}: the start is already flat, so no step is taken; got {describe(got_steps)}")
    expect_matches_reference(expect_array(got_x, call + " x", (2,)), flat, call + " x")
