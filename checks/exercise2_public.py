"""Public checks for exercise 2, partial derivatives and gradients.

Fixed values from the lesson, properties of the steepest-ascent direction, and finite differences
computed by the grader; never the reference solution.
"""

import numpy as np

from grader import finite_diff
from grader.checks import (
    Recorder,
    check,
    describe,
    expect_array,
    expect_close,
    expect_number,
    fail,
    formula,
    warn_if_inputs_changed,
)

# The functions passed to the student's code, as formulas of the point x: evaluated where the
# student's code calls them, every evaluation replayed here (grader.formula).

# The lesson's z = 3x + 2y and z = x² + y², with (x, y) a vector.
plane_of_vector = formula("3 * x[0] + 2 * x[1]", "plane")
bowl_of_vector = formula("x[0] ** 2 + x[1] ** 2", "bowl")
# Its one-sided and central differences differ visibly for h = 1e-3.
cubic_of_vector = formula("x[0] ** 3 + x[0] * x[1] ** 2 - 2 * x[-1] ** 3", "f")
# sin(p0)·cos(p1)·p2: no step is exact for it, so h must be small.
wavy_of_vector = formula("np.sin(x[0]) * np.cos(x[1]) * x[2]", "f")
# Σ w·x² + Σ x³ / 3 with weights 1, 2, ...: a gradient that differs in every entry.
weighted_quartic = formula(
    "float(np.sum(np.arange(1, x.size + 1, dtype=np.float64).reshape(x.shape) * x**2)"
    " + np.sum(x**3) / 3)",
    "f",
)


def wavy_partials(p):
    return np.array(
        [
            np.cos(p[0]) * np.cos(p[1]) * p[2],
            -np.sin(p[0]) * np.sin(p[1]) * p[2],
            np.sin(p[0]) * np.cos(p[1]),
        ]
    )


def one_sided(f, x, h):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = h
        grad[index] = (f(x + step) - f(x)) / h
    return grad


def other_axis_hint(axis: int) -> str:
    return f"this is the derivative along axis {1 - axis}; step along `axis` only"


# The same text in the hidden checks, word for word: the same mistake, charged once.
ONE_SIDED_HINT = (
    "you took a one-sided difference; use the central difference (f(x + h·e) - f(x - h·e)) / (2h)"
)


@check(points=2)
def test_partial_derivative(student, rng):
    """partial_derivative is the central difference along one axis, and leaves the point alone."""
    point = np.array([1.0, 5.0])
    for function, written, expected in [
        (plane_of_vector, "z = 3x + 2y", [3.0, 2.0]),
        (bowl_of_vector, "z = x² + y²", [2.0, 10.0]),
    ]:
        for axis in (0, 1):
            call = f"partial_derivative({written}, point={describe(point)}, axis={axis})"
            got = student.partial_derivative(function, point.copy(), axis)
            expect_close(
                got,
                expected[axis],
                call,
                rtol=1e-6,
                atol=1e-6,
                mistakes={other_axis_hint(axis): expected[1 - axis]},
            )
    point = rng.uniform(-2, 2, size=3)
    for axis in range(3):
        call = (
            f"partial_derivative(f(p) = sin(p0)·cos(p1)·p2, point={describe(point)}, axis={axis})"
        )
        got = student.partial_derivative(wavy_of_vector, point, axis)
        expected = wavy_partials(point)[axis]
        expect_close(expect_number(got, call), expected, call, rtol=1e-8, atol=1e-9)
    h = 1e-3
    point = rng.uniform(-2, 2, size=3)
    for axis in range(3):
        call = (
            f"partial_derivative(f(p) = p0³ + p0·p1² - 2·p2³, point={describe(point)}, "
            f"axis={axis}, h={h:g})"
        )
        got = student.partial_derivative(cubic_of_vector, point, axis, h=h)
        warn_if_inputs_changed(student, call)
        step = np.zeros(3)
        step[axis] = h
        expected = (cubic_of_vector(point + step) - cubic_of_vector(point - step)) / (2 * h)
        expect_close(
            expect_number(got, call),
            expected,
            call,
            rtol=1e-9,
            mistakes={
                ONE_SIDED_HINT: (cubic_of_vector(point + step) - cubic_of_vector(point)) / h,
            },
        )


@check(points=2)
def test_numerical_gradient(student, rng):
    """numerical_gradient differentiates along every entry, for inputs of any shape."""
    for shape in [(3,), (2, 4), (2, 2, 2)]:
        x = rng.uniform(-2, 2, size=shape)
        h = 1e-4
        traced = Recorder(weighted_quartic, "f")
        call = f"numerical_gradient(f(x) = Σ w·x² + Σ x³/3, x={describe(x)}, h={h:g})"
        got = student.numerical_gradient(traced, x, h=h)
        warn_if_inputs_changed(student, call, docstring_asks=True)
        for evaluated in traced.inputs:
            if not isinstance(evaluated, np.ndarray) or evaluated.shape != shape:
                fail(
                    f"{call} called f with {describe(evaluated)}; call it with arrays "
                    f"shaped like x, {shape}"
                )
        expected, _ = finite_diff.gradient(weighted_quartic, x, h)
        got = expect_array(got, call, shape)
        expect_close(
            got,
            expected,
            call,
            rtol=1e-7,
            atol=1e-7,
            mistakes={
                ONE_SIDED_HINT: one_sided(weighted_quartic, x, h),
            },
        )


# plane and bowl, and their exact gradients, score apart: a gradient is checked against the
# lesson's formula, whatever the student's plane or bowl gives.
PROBES = [(1.0, 1.0), (-2.0, 0.5)]


@check(points=0.5)
def test_plane_and_bowl(student, rng):
    """plane and bowl are the lesson's z = 3x + 2y and z = x² + y²."""
    for x, y in [*PROBES, tuple(rng.uniform(-5, 5, size=2))]:
        x, y = float(x), float(y)
        for name, value in [("plane", 3 * x + 2 * y), ("bowl", x**2 + y**2)]:
            call = f"{name}({x:g}, {y:g})"
            expect_close(expect_number(getattr(student, name)(x, y), call), value, call, rtol=1e-12)


@check(points=0.5)
def test_plane_and_bowl_gradients(student, rng):
    """plane_gradient and bowl_gradient are [3, 2] and [2x, 2y], the lesson's exact gradients."""
    for x, y in [*PROBES, tuple(rng.uniform(-5, 5, size=2))]:
        x, y = float(x), float(y)
        for name, expected in [("plane", np.array([3.0, 2.0])), ("bowl", np.array([2 * x, 2 * y]))]:
            call = f"{name}_gradient({x:g}, {y:g})"
            got = expect_array(getattr(student, f"{name}_gradient")(x, y), call, (2,))
            expect_close(
                got,
                expected,
                call,
                rtol=1e-12,
                mistakes={
                    "the entries are swapped: [∂z/∂x, ∂z/∂y] comes in that order": expected[::-1],
                },
            )


@check(points=1)
def test_steepest_ascent_direction(student, rng):
    """steepest_ascent_direction is the unit gradient: no unit step increases f faster."""
    point = np.zeros(2)
    linear = formula("3 * x[0] + 4 * x[1]", "f")
    call = "steepest_ascent_direction(f(v) = 3·v0 + 4·v1, x=[0, 0])"
    got = expect_array(student.steepest_ascent_direction(linear, point), call, (2,))
    expect_close(
        got,
        [0.6, 0.8],
        call,
        rtol=1e-6,
        atol=1e-6,
        mistakes={
            "this is the gradient itself; divide it by its length to get a unit vector": [3.0, 4.0],
            "this points downhill; the gradient points uphill": [-0.6, -0.8],
        },
    )
    gentle = formula("0.001 * (3 * x[0] + 4 * x[1])", "f")
    call = "steepest_ascent_direction(f(v) = 0.001·(3·v0 + 4·v1), x=[0, 0])"
    got = expect_array(student.steepest_ascent_direction(gentle, point), call, (2,))
    expect_close(
        got,
        [0.6, 0.8],
        call + " (a short gradient still gives a unit direction)",
        rtol=1e-6,
        atol=1e-6,
    )
    x = rng.uniform(-2, 2, size=3)
    call = f"steepest_ascent_direction(f(p) = p0³ + p0·p1² - 2·p2³, x={describe(x)})"
    got = student.steepest_ascent_direction(cubic_of_vector, x)
    warn_if_inputs_changed(student, call)
    got = expect_array(got, call, (3,))
    if abs(np.linalg.norm(got) - 1) > 1e-6:
        fail(f"{call} has length {np.linalg.norm(got):.6g}; a direction has length 1")
    step = 1e-4
    best = cubic_of_vector(x + step * got)
    for _ in range(50):
        other = rng.normal(size=3)
        other /= np.linalg.norm(other)
        if cubic_of_vector(x + step * other) > best + 1e-10:
            fail(
                f"{call} gave {describe(got)}, but f rises faster along {describe(other)}; "
                "the steepest ascent is along the gradient"
            )
