"""Public checks for exercise 2, partial derivatives and gradients.

Fixed values from the lesson, properties of the steepest-ascent direction, and finite differences
computed by the grader; never the reference solution. A wrong answer is told the mistake it
shows: the value a mistaken formula or loop gives at the check's own inputs, computed here.
"""

from typing import Any

import numpy as np

from grader import finite_diff
from grader.checks import (
    Recorder,
    answer_or_none,
    check,
    close_to,
    describe,
    differs,
    expect_array,
    expect_close,
    expect_number,
    fail,
    formula,
    offered,
    shared,
    warn_if_inputs_changed,
    with_hint,
)
from grader.student_code.errors import StudentRaised

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


common = shared(__file__, "_exercise2_mistakes")  # the mistakes both check files name


ONE_COORDINATE = (
    "f takes the whole point, an array of shape (n,), not one coordinate: evaluate "
    "f(point + h·e), with e 1 at axis and 0 elsewhere"
)


def partial_answer(
    student: Any, traced: Recorder, point: np.ndarray, axis: int, **step: float
) -> Any:
    """The student's partial_derivative(traced, point, axis, **step); where it raised after
    calling f with something other than an array shaped like point, the error says so."""
    try:
        return student.partial_derivative(traced, point, axis, **step)
    except StudentRaised as error:
        given = traced.inputs
        if not given or all(np.shape(p) == point.shape for p in given):
            raise
        raise StudentRaised(with_hint(str(error).rstrip("."), ONE_COORDINATE), error.line) from None


def same_point_twice(traced: Recorder, got: Any) -> dict[str, Any]:
    """SAME_POINT, where f was evaluated at one point only (twice or more) and got is 0."""
    points = traced.inputs
    if (
        len(points) >= 2
        and all(np.array_equal(p, points[0]) for p in points)
        and close_to(got, 0.0, rtol=0.0)
    ):
        return {common.SAME_POINT: 0.0}
    return {}


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
            traced = Recorder(function, function.__name__)
            got = partial_answer(student, traced, point.copy(), axis)
            mistakes: dict[str, Any] = {}
            if differs(got, expected[axis], rtol=1e-6, atol=1e-6):
                mistakes = same_point_twice(traced, got) or common.partial_mistakes(
                    function, point, axis, common.STEP, got, expected[axis], given=False
                )
            expect_close(
                got,
                expected[axis],
                call,
                rtol=1e-6,
                atol=1e-6,
                mistakes=mistakes
                or offered(
                    got,
                    expected[axis],
                    {common.other_axis_hint(1 - axis): expected[1 - axis]},
                    False,
                ),
            )
    point = rng.uniform(-2, 2, size=3)
    for axis in range(3):
        call = (
            f"partial_derivative(f(p) = sin(p0)·cos(p1)·p2, point={describe(point)}, axis={axis})"
        )
        traced = Recorder(wavy_of_vector, "f")
        got = expect_number(partial_answer(student, traced, point, axis), call)
        expected = wavy_partials(point)[axis]
        mistakes = {}
        if differs(got, expected, rtol=1e-8, atol=1e-9):
            e = common.unit(axis, 3)
            mistakes = (
                same_point_twice(traced, got)
                or common.partial_mistakes(
                    wavy_of_vector, point, axis, common.STEP, got, expected, given=False
                )
                or common.default_step_of(
                    lambda step, axis=axis: answer_or_none(
                        student.partial_derivative, wavy_of_vector, point.copy(), axis, step
                    ),
                    common.along(wavy_of_vector, point, e, common.STEP),
                    got,
                    lambda step, e=e: common.along(wavy_of_vector, point, e, step),
                )
            )
        expect_close(got, expected, call, rtol=1e-8, atol=1e-9, mistakes=mistakes)
    h = 1e-3
    point = rng.uniform(-2, 2, size=3)
    for axis in range(3):
        call = (
            f"partial_derivative(f(p) = p0³ + p0·p1² - 2·p2³, point={describe(point)}, "
            f"axis={axis}, h={h:g})"
        )
        traced = Recorder(cubic_of_vector, "f")
        got = partial_answer(student, traced, point, axis, h=h)
        warn_if_inputs_changed(student, call)
        step = np.zeros(3)
        step[axis] = h
        expected = (cubic_of_vector(point + step) - cubic_of_vector(point - step)) / (2 * h)
        got = expect_number(got, call)
        mistakes = {}
        if differs(got, expected, rtol=1e-9, atol=1e-9):
            mistakes = same_point_twice(traced, got) or common.partial_mistakes(
                cubic_of_vector, point, axis, h, got, expected
            )
        expect_close(
            got,
            expected,
            call,
            rtol=1e-9,
            mistakes=mistakes
            or offered(
                got,
                expected,
                {
                    common.ONE_SIDED_HINT: (cubic_of_vector(point + step) - cubic_of_vector(point))
                    / h
                },
                False,
            ),
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
        mistakes: dict[str, Any] = {}
        if differs(got, expected, rtol=1e-7, atol=1e-7):
            mistakes = (
                common.only_at_x(traced, x, got)
                or common.gradient_mistakes(weighted_quartic, x, h, got, expected)
                or offered(
                    got,
                    expected,
                    {
                        common.ONE_SIDED_HINT: common.gradients(weighted_quartic, x, h)[
                            common.ONE_SIDED_HINT
                        ]
                    },
                    False,
                )
            )
        expect_close(got, expected, call, rtol=1e-7, atol=1e-7, mistakes=mistakes)


# plane and bowl, and their exact gradients, score apart: a gradient is checked against the
# lesson's formula, whatever the student's plane or bowl gives.
PROBES = [(1.0, 1.0), (-2.0, 0.5)]
SECOND_POINT = (-1.3, 0.7)  # where a mistake told at (1, 1) is confirmed


def surface_mistakes(name: str, x: float, y: float) -> dict[str, float]:
    """Each named mistake of plane or bowl -> the value it gives at (x, y)."""
    if name == "plane":
        return {
            "y is not used: this is 3x + 2x; the second term is 2y": 5 * x,
            "x is not used: this is 3y + 2y; the first term is 3x": 5 * y,
            "the coefficients are swapped: z = 3x + 2y, 3 with x and 2 with y": 2 * x + 3 * y,
            "this is 3x · 2y: the terms are added, 3x + 2y": 6 * x * y,
            "the sign of 2y is flipped: z = 3x + 2y": 3 * x - 2 * y,
        }
    return {
        "this is (x + y)², which adds the cross term 2xy: square each, x**2 + y**2": (x + y) ** 2,
        "y is not squared: z = x**2 + y**2": x**2 + y,
        "x is not squared: z = x**2 + y**2": x + y**2,
        "this is the length √(x² + y²): the bowl is x² + y², with no square root": float(
            np.hypot(x, y)
        ),
        "the squares are multiplied: add them, x**2 + y**2": x**2 * y**2,
        "the sign of y² is flipped: z = x**2 + y**2": x**2 - y**2,
    }


@check(points=0.5)
def test_plane_and_bowl(student, rng):
    """plane and bowl are the lesson's z = 3x + 2y and z = x² + y²."""
    for x, y in [*PROBES, tuple(rng.uniform(-5, 5, size=2))]:
        x, y = float(x), float(y)
        for name, value in [("plane", 3 * x + 2 * y), ("bowl", x**2 + y**2)]:
            call = f"{name}({x:g}, {y:g})"
            got = expect_number(common.answer_of(getattr(student, name), x, y), call)
            mistakes = {}
            if differs(got, value, rtol=1e-12, atol=1e-9):
                mistakes = offered(got, value, surface_mistakes(name, x, y))
                if mistakes and (abs(x) == abs(y) or (x.is_integer() and y.is_integer())):
                    # At (1, 1) many formulas agree (3x + 2y + 1 and 6xy): told only where
                    # the student's answer at a second point is that mistake's value too.
                    (key,) = mistakes
                    again = answer_or_none(getattr(student, name), *SECOND_POINT)
                    if not close_to(again, surface_mistakes(name, *SECOND_POINT)[key], 1e-6):
                        mistakes = {}
            expect_close(got, value, call, rtol=1e-12, mistakes=mistakes)


@check(points=0.5)
def test_plane_and_bowl_gradients(student, rng):
    """plane_gradient and bowl_gradient are [3, 2] and [2x, 2y], the lesson's exact gradients."""
    for x, y in [*PROBES, tuple(rng.uniform(-5, 5, size=2))]:
        x, y = float(x), float(y)
        for name, expected in [("plane", np.array([3.0, 2.0])), ("bowl", np.array([2 * x, 2 * y]))]:
            call = f"{name}_gradient({x:g}, {y:g})"
            got = expect_array(getattr(student, f"{name}_gradient")(x, y), call, (2,))
            mistakes = {}
            if differs(got, expected, rtol=1e-12, atol=1e-9):
                mistakes = common.surface_gradient_named(got, expected, f"{name}_gradient", x, y)
            expect_close(
                got,
                expected,
                call,
                rtol=1e-12,
                mistakes=mistakes
                or offered(got, expected, {common.SWAPPED: expected[::-1]}, False),
            )


NOT_DIVIDED_BY_LENGTH = "this is the gradient itself; divide it by its length to get a unit vector"


@check(points=1)
def test_steepest_ascent_direction(student, rng):
    """steepest_ascent_direction is the unit gradient: no unit step increases f faster."""
    point = np.zeros(2)
    linear = formula("3 * x[0] + 4 * x[1]", "f")
    call = "steepest_ascent_direction(f(v) = 3·v0 + 4·v1, x=[0, 0])"
    got = expect_array(student.steepest_ascent_direction(linear, point), call, (2,))
    first = {
        NOT_DIVIDED_BY_LENGTH: [3.0, 4.0],
        "this points downhill; the gradient points uphill": [-0.6, -0.8],
    }
    expected = np.array([0.6, 0.8])
    mistakes: dict[Any, Any] = {}
    mistake = None
    if differs(got, expected, rtol=1e-6, atol=1e-6):
        mistake = common.gradient_mistake(student)
        mistakes = common.followed(mistake, linear, point) or common.direction_named(
            got, expected, {**first, **common.direction_mistakes(np.array([3.0, 4.0]))}
        )
    expect_close(
        got,
        expected,
        call,
        rtol=1e-6,
        atol=1e-6,
        mistakes=mistakes or offered(got, expected, first, False),
    )
    gentle = formula("0.001 * (3 * x[0] + 4 * x[1])", "f")
    call = "steepest_ascent_direction(f(v) = 0.001·(3·v0 + 4·v1), x=[0, 0])"
    got = expect_array(student.steepest_ascent_direction(gentle, point), call, (2,))
    mistakes = {}
    if differs(got, expected, rtol=1e-6, atol=1e-6):
        mistake = mistake or common.gradient_mistake(student)
        grad = np.array([0.003, 0.004])
        mistakes = common.followed(mistake, gentle, point) or common.direction_named(
            got,
            expected,
            {
                "this is all zeros, as for a zero gradient, but this gradient's length is 0.005: "
                "short, not zero; only a length below 1e-12 counts as zero": np.zeros(2),
                NOT_DIVIDED_BY_LENGTH: grad,
                **common.direction_mistakes(grad),
            },
        )
    expect_close(
        got,
        expected,
        call + " (a short gradient still gives a unit direction)",
        rtol=1e-6,
        atol=1e-6,
        mistakes=mistakes,
    )
    x = rng.uniform(-2, 2, size=3)
    call = f"steepest_ascent_direction(f(p) = p0³ + p0·p1² - 2·p2³, x={describe(x)})"
    got = student.steepest_ascent_direction(cubic_of_vector, x)
    warn_if_inputs_changed(student, call)
    got = expect_array(got, call, (3,))
    grad = common.central_gradient(cubic_of_vector, x, common.STEP)

    def told(message: str) -> None:
        """Fail with ``message``, or with the named mistake that ``got`` shows (where an earlier
        check charged it: noted, and the check ends, as that mistake is all this is)."""
        shown = common.followed(mistake or common.gradient_mistake(student), cubic_of_vector, x)
        shown = shown or common.direction_named(
            got,
            common.direction_of(grad),
            {NOT_DIVIDED_BY_LENGTH: grad, **common.direction_mistakes(grad)},
        )
        if not shown or not differs(got, common.direction_of(grad), rtol=1e-6, atol=1e-7):
            fail(message)
        expect_close(got, common.direction_of(grad), call, rtol=1e-6, atol=1e-7, mistakes=shown)

    if abs(np.linalg.norm(got) - 1) > 1e-6:
        told(f"{call} has length {np.linalg.norm(got):.6g}; a direction has length 1")
        return
    step = 1e-4
    best = cubic_of_vector(x + step * got)
    for _ in range(50):
        other = rng.normal(size=3)
        other /= np.linalg.norm(other)
        if cubic_of_vector(x + step * other) > best + 1e-10:
            told(
                f"{call} gave {describe(got)}, but f rises faster along {describe(other)}; "
                "the steepest ascent is along the gradient"
            )
            return
