"""Hidden checks for exercise 2, partial derivatives and gradients: the reference solution on
seeded random inputs and edge cases (shapes with a 1 in them, flat points, large points). A wrong
answer is told the mistake it shows, in the public checks' words, charged there once; a
steepest_ascent_direction that follows a mistake of numerical_gradient is not charged again, nor
blamed for its zero test."""

from typing import Any

import numpy as np

from grader.checks import (
    Recorder,
    answer_or_none,
    check,
    describe,
    differs,
    expect_array,
    expect_close,
    fail,
    formula,
    offered,
    shared,
    shows,
    warn_if_inputs_changed,
)

common = shared(__file__, "_exercise2_mistakes")  # the mistakes both check files name


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
        traced = Recorder(function, "f")
        got = student.numerical_gradient(traced, x)
        warn_if_inputs_changed(student, call, docstring_asks=True)
        expected = solution.numerical_gradient(function, x.copy())
        got = expect_array(got, call, shape)
        mistakes: dict[str, Any] = {}
        if differs(got, expected, rtol=1e-6, atol=1e-7):
            mistakes = (
                common.only_at_x(traced, x, got)
                or common.gradient_mistakes(
                    function, x, common.STEP, got, expected, given=False, left_out=(common.ROWS,)
                )
                or common.default_step_of(
                    lambda step, function=function, x=x: answer_or_none(
                        student.numerical_gradient, function, x.copy(), step
                    ),
                    common.central_gradient(function, x, common.STEP),
                    got,
                    lambda step, function=function, x=x: common.central_gradient(function, x, step),
                )
                or offered(
                    got,
                    expected,
                    {
                        common.ONE_SIDED_HINT: common.gradients(function, x, common.STEP)[
                            common.ONE_SIDED_HINT
                        ]
                    },
                    unique=False,
                )
            )
        expect_close(got, expected, call, rtol=1e-6, atol=1e-7, mistakes=mistakes)


def flat_points(rng):
    """(function, its formula in words, a point where it is flat, what that point is).

    Away from the origin a numerical gradient at a flat point is rarely exactly 0: the two values
    of a central difference differ by rounding, and the difference quotient is noise of length
    1e-14 or less (far below the docstring's 1e-12, so the reference returns zeros); or the
    gradient is real but tiny. Only a comparison of its length with a tolerance sees it as zero.
    """
    centre = rng.uniform(-1, 1, size=3)
    # 1e-4·|p - c|² and a saddle around c, written out so that rounding does not cancel.
    bowl = formula("1e-4 * float(np.sum(x**2) - 2 * np.sum(c * x))", "f", c=centre)
    saddle = formula(
        "1e-4 * float(x[0] ** 2 - 2 * c[0] * x[0] - x[1] ** 2 + 2 * c[1] * x[1] + x[2] ** 2"
        " - 2 * c[2] * x[2])",
        "f",
        c=centre,
    )
    # 1e-4 · 3 everywhere, up to rounding.
    plateau = formula("1e-4 * float(np.sum((x + 1) ** 2 - x**2 - 2 * x))", "f")
    tail = formula("float(np.exp(-np.sum(x**2)))", "f")
    noise = "where f is flat and the numerical gradient is rounding noise, far shorter than 1e-12"
    return [
        (bowl, "1e-4·(Σ p² - 2 c·p), c = x", centre, f"the minimum of this bowl, {noise}"),
        (
            saddle,
            "1e-4·(p0² - 2c0·p0 - p1² + 2c1·p1 + p2² - 2c2·p2), c = x",
            centre,
            f"the saddle point, {noise}",
        ),
        (
            plateau,
            "1e-4·Σ ((p + 1)² - p² - 2p)",
            rng.uniform(-3, 3, size=3),
            f"a plateau (f is 3e-4 everywhere), {noise}",
        ),
        (
            tail,
            "exp(-Σ p²)",
            np.array([4.0, -3.0, 4.0]),
            "the flat tail of a bump, where the gradient's length is 2e-17, below 1e-12",
        ),
    ]


def expect_flat(got, call, size, where, following=None):
    """Fail unless ``got`` is all zeros, naming the mistake that gives what it is instead;
    following: {(numerical_gradient, hint): the direction its mistake gives}, where the student's
    numerical_gradient makes one (that mistake again, not one of the zero test)."""
    got = expect_array(got, call, (size,))
    if np.allclose(got, 0.0, rtol=0.0, atol=1e-9):
        return
    if following and shows(got, next(iter(following.values()))):
        expect_close(got, np.zeros(size), call, atol=1e-9, mistakes=following)
        return
    if not np.all(np.isfinite(got)):
        fail(
            f"{call} returned {describe(got)} at {where}; a gradient of (almost) no length "
            "cannot be divided by its length: return all zeros when the length is below 1e-12"
        )
    if abs(np.linalg.norm(got) - 1.0) < 1e-6:
        fail(
            f"{call} returned the unit vector {describe(got)} at {where}; a gradient shorter "
            "than 1e-12 counts as zero, and the direction is then all zeros. Compare the "
            "gradient's length with 1e-12, not with 0: a numerical gradient is rarely exactly 0"
        )
    fail(f"{call} returned {describe(got)} at {where}; expected all zeros there")


@check(points=1)
def test_steepest_ascent_matches_reference(student, solution, rng):
    """steepest_ascent_direction agrees with the reference, and is zero where f is flat."""
    mistake = common.gradient_mistake(student)

    def following(function, x):
        return common.followed(mistake, function, x)

    bowl = formula("float(np.sum(x**2))", "f")
    call = "steepest_ascent_direction(f(p) = Σ p², x=[0, 0, 0])"
    got = student.steepest_ascent_direction(bowl, np.zeros(3))
    where = "the bottom of the bowl, where f is flat"
    expect_flat(got, call, 3, where, following(bowl, np.zeros(3)))
    for function, written, x, why in flat_points(rng):
        call = f"steepest_ascent_direction(f(p) = {written}, x={describe(x)})"
        got = student.steepest_ascent_direction(function, x.copy())
        expect_flat(got, call, 3, why, following(function, x))
    for size in (2, 4):
        function, written = make_function(rng, (size,))
        x = rng.uniform(-3, 3, size=size)
        call = f"steepest_ascent_direction(f(x) = {written}, x={describe(x)})"
        got = student.steepest_ascent_direction(function, x)
        warn_if_inputs_changed(student, call)
        got = expect_array(got, call, (size,))
        expected = solution.steepest_ascent_direction(function, x.copy())
        mistakes: dict[Any, Any] = {}
        if differs(got, expected, rtol=1e-6, atol=1e-7):
            grad = common.central_gradient(function, x, common.STEP)
            mistakes = following(function, x) or common.direction_named(
                got, expected, common.direction_mistakes(grad)
            )
        expect_close(got, expected, call, rtol=1e-6, atol=1e-7, mistakes=mistakes)


@check(points=1)
def test_exact_gradients_at_edge_cases(student, solution, rng):
    """plane_gradient and bowl_gradient agree with the reference at negative and large points."""
    for x, y in [(-1e6, 3e7), (0.0, 0.0), (-2.5, -0.25), tuple(rng.uniform(-100, 100, size=2))]:
        x, y = float(x), float(y)
        for name in ("plane_gradient", "bowl_gradient"):
            call = f"{name}({x:g}, {y:g})"
            got = expect_array(getattr(student, name)(x, y), call, (2,))
            expected = getattr(solution, name)(x, y)
            mistakes = {}
            if differs(got, expected, rtol=1e-12, atol=1e-9):
                mistakes = common.surface_gradient_named(got, expected, name, x, y)
            expect_close(got, expected, call, rtol=1e-12, mistakes=mistakes)
