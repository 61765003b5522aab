"""Hidden checks for exercise 2, partial derivatives and gradients: the reference solution on
seeded random inputs and edge cases (shapes with a 1 in them, a zero gradient, large points)."""

import numpy as np

from grader.checks import (
    check,
    describe,
    expect_array,
    expect_close,
    warn_if_inputs_changed,
    formula,
)


def make_function(rng, shape):
    """A random smooth scalar function of an array of ``shape``, and its description."""
    weights = rng.uniform(0.5, 2.0, size=shape)
    offset = rng.uniform(-1, 1, size=shape)

    # The coupling 0.3·(Σ x)² makes a gradient taken at shifted points show. A formula: the
    # worker evaluates it where the student's code calls it (grader.formula).
    function = formula(
        "float(np.sum(weights * np.sin(x - offset)) + np.sum(weights * x**2) / 2"
        " + 0.3 * np.sum(x) ** 2)",
        "f",
        weights=weights,
        offset=offset,
    )
    return function, "Σ w·sin(x - c) + Σ w·x²/2 + 0.3·(Σ x)²"


@check(points=2)
def test_numerical_gradient_matches_reference(student, solution, rng):
    """numerical_gradient agrees with the reference on random functions and shapes."""
    for shape in [(1,), (5,), (3, 1), (2, 3), (1, 2, 3)]:
        function, written = make_function(rng, shape)
        x = rng.uniform(-3, 3, size=shape)
        call = f"numerical_gradient(f(x) = {written}, x={describe(x)})"
        got = student.numerical_gradient(function, x)
        warn_if_inputs_changed(student, call, docstring_asks=True)
        expected = solution.numerical_gradient(function, x.copy())
        expect_close(expect_array(got, call, shape), expected, call, rtol=1e-6, atol=1e-7)


@check(points=1)
def test_steepest_ascent_matches_reference(student, solution, rng):
    """steepest_ascent_direction agrees with the reference, and is zero where the gradient is."""
    bowl = formula("float(np.sum(x**2))", "f")
    call = "steepest_ascent_direction(f(p) = Σ p², x=[0, 0, 0])"
    got = expect_array(student.steepest_ascent_direction(bowl, np.zeros(3)), call, (3,))
    expect_close(got, np.zeros(3), call, atol=1e-9)
    for size in (2, 4):
        function, written = make_function(rng, (size,))
        x = rng.uniform(-3, 3, size=size)
        call = f"steepest_ascent_direction(f(x) = {written}, x={describe(x)})"
        got = student.steepest_ascent_direction(function, x)
        warn_if_inputs_changed(student, call)
        got = expect_array(got, call, (size,))
        expected = solution.steepest_ascent_direction(function, x.copy())
        expect_close(got, expected, call, rtol=1e-6, atol=1e-7)


@check(points=1)
def test_exact_gradients_at_edge_cases(student, solution, rng):
    """plane_gradient and bowl_gradient agree with the reference at negative and large points."""
    for x, y in [(-1e6, 3e7), (0.0, 0.0), (-2.5, -0.25), tuple(rng.uniform(-100, 100, size=2))]:
        x, y = float(x), float(y)
        for name in ("plane_gradient", "bowl_gradient"):
            call = f"{name}({x:g}, {y:g})"
            got = expect_array(getattr(student, name)(x, y), call, (2,))
            expect_close(got, getattr(solution, name)(x, y), call, rtol=1e-12)
        expect_close(student.bowl(x, y), solution.bowl(x, y), f"bowl({x:g}, {y:g})", rtol=1e-12)
