"""Public checks for exercise 4, gradient descent: steps computed by hand, paths on the lesson's
bowl z = x² + y² and on a random quadratic whose gradient no code can guess, the behaviour of the
learning rate on the bowl, and stopping where the gradient vanishes. Every gradient given is a
Recorder: a path must have evaluated it at each of its points.

gradient_descent and descend_until_flat may call gradient_step. Where the student's gradient_step
shows its named mistake (an uphill step), a path or a point that follows it is that mistake
again, charged once in gradient_step's check; the other checks go on past it."""

from typing import Any

import numpy as np

from grader.checks import (
    Recorder,
    check,
    describe,
    expect_array,
    expect_close,
    expect_number,
    expect_pair,
    explaining,
    fail,
    formula,
    naming,
    shared,
    shows,
    warn_if_inputs_changed,
    with_hint,
)

# ∇(x² + y²) = 2·(x, y), as a formula: the worker evaluates it at each step (grader.formula).
bowl_gradient = formula("2 * x", "∇ of x² + y²")

common = shared(__file__, "_exercise4_mistakes")  # the mistakes both check files name


# gradient_step's mistakes -> the new point each gives for (x, grad, rate).


def rate_hint(got: np.ndarray, gradient, rate: float) -> str | None:
    """Where each row of ``got`` is the row before minus some multiple r_k of the gradient there,
    with r_k not the rate: what the multiples were."""
    rates = []
    with np.errstate(all="ignore"):
        for k in range(len(got) - 1):
            grad = np.asarray(gradient(got[k]), dtype=np.float64)
            move = got[k] - got[k + 1]
            length = float(grad @ grad)
            if not np.all(np.isfinite(move)) or not np.isfinite(length) or length == 0:
                return None
            factor = float(move @ grad) / length
            if factor == 0:
                return None
            scale = 1e-9 * (np.max(np.abs(got[k])) + 1e-300)
            if not np.allclose(move, factor * grad, rtol=1e-9, atol=scale):
                return None
            rates.append(factor)
    if len(rates) < 2 or np.allclose(rates, rate, rtol=1e-6) or np.allclose(rates, -rate):
        return None
    if np.allclose(rates, rates[0], rtol=1e-6):
        return (
            f"every step moved by {rates[0]:.6g} · grad_f(x), not rate · grad_f(x) = "
            f"{rate:g} · grad_f(x)"
        )
    return (
        f"the rate changes from step to step ({rates[0]:.6g} at the first, {rates[-1]:.6g} at the "
        f"last): every step uses the same rate, {rate:g}"
    )


SAME_ARRAY_ALL = (
    "every row is the last point, x0's row too: the path holds one array, x0's copy, changed in "
    "place (x -= ...) after each append; append a copy of each point, or step with "
    "x = x - rate · grad, a new array"
)
SAME_ARRAY = (
    "every row after the first is the last point: the path holds one array, changed in place, "
    "many times; append a copy of each point (or x = x - rate · grad, a new array)"
)


def path_mistakes(probe: common.StepProbe, gradient, x0, rate: float, steps: int, got: Any) -> dict:
    """gradient_descent's mistakes -> the path each gives (and gradient_step's, where the
    student's shows one), for the check's own gradient and start."""
    right = common.path_with(lambda x, grad, r: x - r * grad, gradient, x0, steps, rate)
    ramp = np.arange(steps + 1)[:, None] * rate
    start = np.array(x0, dtype=np.float64)
    shifted = np.vstack([right[1:], right[-1:]])
    repeated = np.vstack([right[:1], np.repeat(right[-1:], steps, axis=0)])
    mistakes: dict[Any, Any] = {}
    if probe.in_place:
        mistakes[common.IN_PLACE + " (every row after the first is the last point)"] = repeated
        mistakes[common.IN_PLACE + " (each row holds the point one step after it)"] = shifted
    else:
        mistakes[SAME_ARRAY] = repeated
        mistakes[SAME_ARRAY_ALL] = np.repeat(right[-1:], steps + 1, axis=0)
        mistakes[
            "each row holds the point one step after it and x0 is lost: the step changed "
            "path[k] in place; compute each new point as a new array"
        ] = shifted
    if probe.step is not None:
        hint, step = probe.step
        mistakes[("gradient_step", hint)] = common.path_with(step, gradient, x0, steps, rate)
    mistakes.update(
        {
            "x0 is there twice and each row is one step behind: store each point after its "
            "step": np.vstack([right[:1], right[:-1]]),
            "every step used the gradient at x0: evaluate grad_f at the current point, each "
            "step": start - ramp * gradient(start),
            "every row is x0, the point never moved: each row is one step from the row before, "
            "path[k + 1] = path[k] - rate · grad_f(path[k])": np.repeat(start[None], steps + 1, 0),
        }
    )
    zero = np.asarray(gradient(np.zeros_like(start)), dtype=np.float64)
    if np.any(zero != 0):
        mistakes[
            "every step used the gradient at 0, a row not filled yet: evaluate grad_f at the "
            "current point, path[k]"
        ] = start - ramp * zero
    if isinstance(got, np.ndarray) and got.shape == right.shape:
        for filled in range(1, steps + 1):
            candidate = np.vstack([right[:filled], np.zeros((steps + 1 - filled, start.size))])
            if shows(got, candidate):
                mistakes[
                    f"rows {filled} on are left at zero, never filled: fill every row up to "
                    "path[steps], the last step included"
                ] = candidate
                break
        if not any(shows(got, value) for value in mistakes.values()):
            hint = rate_hint(np.asarray(got, dtype=np.float64), gradient, rate)
            if hint is not None:
                mistakes[hint] = got
    return mistakes


def expect_path_shape(got: Any, right: np.ndarray, call: str) -> None:
    """Where ``got`` has another shape than the path ``right`` but is a part of it (cut short,
    one step too many, the last point only), fail saying so; else nothing (the shape is then
    checked as before)."""
    if not isinstance(got, np.ndarray) or got.shape == right.shape or got.dtype.kind not in "iuf":
        return
    steps, size = right.shape[0] - 1, right.shape[1]
    message = f"{call} returned an array of shape {got.shape}; expected shape {right.shape}"
    if got.shape == (size,) and shows(got, right[-1]):
        fail(
            with_hint(
                message,
                "it returned only the last point: return the whole path, every point from x0 on",
            )
        )
    if got.ndim != 2 or got.shape[1] != size:
        return
    rows = got.shape[0]
    if rows == steps + 2 and shows(got[: steps + 1], right):
        fail(
            with_hint(
                message,
                "it took one step too many, steps + 2 rows: take steps steps, and the path is x0 "
                "and one point per step",
            )
        )
    if 0 < rows <= steps and shows(got, right[:rows]):
        if rows == steps:
            hint = (
                "it took one step too few, the last step is missing: the path is x0 and one "
                "point per step, steps + 1 rows"
            )
        else:
            hint = (
                f"it stopped early, after {rows - 1} of the {steps} steps: take every step, "
                "even where the point barely moves or grows huge (it may overflow to inf)"
            )
        fail(with_hint(message, hint))


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


def expect_called(traced, call, steps):
    """A path of one step or more evaluated the gradient given at least once: an answer that
    never asks for it is worked out without it, and no named mistake excuses it."""
    if steps and not traced.inputs:
        fail(
            f"{call} never evaluated grad_f; each step follows grad_f at the current point: the "
            "gradient given, not one of your own"
        )


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
            if not len(seen):
                fail(
                    f"{call} never evaluated grad_f, at {where} ({describe(point)}) or anywhere; "
                    "each step follows grad_f at the current point: the gradient given, not one "
                    "of your own"
                )
            # grad_f was called, elsewhere: the path holds other points than those it stepped
            # from (an array changed in place after it was stored, a row stored late).
            todo = (
                "return the point whose gradient it found shorter than the tolerance"
                if last and k == len(points) - 1
                else "each row of the path must be a point it stepped from (store a copy of "
                "each point, or build each new point as a new array)"
            )
            fail(
                f"{call} never evaluated grad_f at {where}, {describe(point)}, though it did at "
                f"{len(seen)} other points: {todo}"
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
        got = expect_array(got, call, x.shape)
        steps = {hint: step(x, grad, rate) for hint, step in common.STEP_MISTAKES.items()}
        with naming("gradient_step", got, x - rate * grad, steps):
            expect_close(
                got, x - rate * grad, call, rtol=1e-12, mistakes={common.UPHILL: x + rate * grad}
            )


def expect_path(student, gradient, written, x0, rate, steps, probe):
    """gradient_descent's path from x0 is the one computed here, and it evaluated the gradient at
    each of its points; an uphill path is ``probe.uphill`` again."""
    traced = Recorder(gradient, gradient.__name__)
    call = f"gradient_descent({written}, x0={describe(x0)}, rate={rate:g}, steps={steps})"
    got = student.gradient_descent(traced, x0, rate, steps)
    warn_if_inputs_changed(student, call)
    expect_called(traced, call, steps)
    right = descent(gradient, x0, rate, steps)
    expect_path_shape(got, right, call)
    if isinstance(got, np.ndarray) and got.shape == (steps, x0.size) and steps:
        fail(
            f"{call} returned {steps} rows; the path starts with x0, so it has steps + 1 = "
            f"{steps + 1} rows"
        )
    got = expect_array(got, call, (steps + 1, x0.size))
    with naming(
        "gradient_descent", got, right, path_mistakes(probe, gradient, x0, rate, steps, got)
    ):
        expect_close(
            got,
            right,
            call,
            rtol=1e-10,
            atol=1e-12,
            mistakes={probe.uphill: descent(gradient, x0, rate, steps, uphill=True)},
        )
        expect_evaluated_along(traced, got, call)


@check(points=2)
def test_gradient_descent_path(student, rng):
    """gradient_descent returns the start and every point after it, steps + 1 rows, on the bowl
    and on a random quadratic."""
    probe = common.probe_step(student)
    x0 = rng.uniform(-2, 2, size=2)
    expect_path(student, bowl_gradient, "∇ of x² + y²", x0, 0.1, 10, probe)
    expect_path(student, bowl_gradient, "∇ of x² + y²", x0, 0.1, 0, probe)
    gradient = quadratic_gradient(rng, 3)
    x0 = rng.normal(size=3)
    expect_path(student, gradient, "∇f = A x - b", x0, float(rng.uniform(0.05, 0.15)), 12, probe)


def bowl_path(student, x0, rate, steps, probe):
    """(call, path, naming) of gradient_descent on the bowl, or (call, None, naming) where the
    path is the uphill mistake again (then nothing more is asked of it); naming: what names the
    mistake of a failure that follows."""
    traced = Recorder(bowl_gradient, bowl_gradient.__name__)
    call = f"gradient_descent(∇ of x² + y², x0={describe(x0)}, rate={rate:g}, steps={steps})"
    got = student.gradient_descent(traced, x0, rate, steps)
    expect_called(traced, call, steps)
    right = descent(bowl_gradient, x0, rate, steps)
    expect_path_shape(got, right, call)
    path = expect_array(got, call, (steps + 1, 2))
    named = naming(
        "gradient_descent", path, right, path_mistakes(probe, bowl_gradient, x0, rate, steps, path)
    )
    uphill = descent(bowl_gradient, x0, rate, steps, uphill=True)
    if shows(path, uphill):
        expect_close(path, right, call, mistakes={probe.uphill: uphill})
        return call, None, named
    with naming(
        "gradient_descent", path, right, path_mistakes(probe, bowl_gradient, x0, rate, steps, path)
    ):
        expect_evaluated_along(traced, path, call)
    return call, path, named


@check(points=2)
def test_learning_rate_decides_the_outcome(student):
    """On the bowl, rate 0.1 converges, rate 1 oscillates, rate 2.5 diverges past 1e42."""
    probe = common.probe_step(student)
    x0 = np.array([1.0, -0.5])
    # 0.8^70 · |x0| = 2e-7: at the bottom within 1e-6.
    call, path, named = bowl_path(student, x0, 0.1, 70, probe)
    with named:
        if path is not None and not np.linalg.norm(path[-1]) < 1e-6:
            fail(
                f"{call} ended at {describe(path[-1])}; with rate 0.1 each step multiplies x by "
                "0.8, so it should be at the bottom (0, 0)"
            )
    call, path, named = bowl_path(student, x0, 1.0, 6, probe)
    with named:
        if path is not None:
            expect_close(
                path,
                x0 * (-1.0) ** np.arange(7)[:, None],
                call + " (x - 1·2x = -x: it jumps across the bowl and back)",
                rtol=1e-12,
            )
    # 70 steps of 4x pass float32's largest number (4^64 = 2^128): a float32 path overflows.
    call, path, named = bowl_path(student, x0, 2.5, 70, probe)
    with named:
        if path is not None:
            growth = np.abs(path[1:] / path[:-1])
            expect_close(
                growth,
                np.full((70, 2), 4.0),
                call + ": each step's growth |x_k+1 / x_k| (x - 2.5·2x = -4x)",
                rtol=1e-12,
            )


def stopping(gradient, x0, rate, tolerance, max_steps, flat, step=None):
    """(x, steps) of descent from x0 that stops where ``flat(x, grad)`` or after max_steps;
    step: the x ↦ step(x, grad, rate) it takes, if not x - rate · grad."""
    x = np.array(x0, dtype=np.float64)
    with np.errstate(all="ignore"):
        for steps in range(max_steps):
            grad = gradient(x)
            if flat(x, grad):
                return x, steps
            x = x - rate * grad if step is None else np.asarray(step(x, grad, rate), np.float64)
    return x, max_steps


def flat_mistakes(gradient, x0, rate, tolerance, max_steps, followed=None) -> dict:
    """descend_until_flat's mistakes -> the (x, steps) each gives, as one array [*x, steps];
    followed: (hint, step) of gradient_step's named mistake, where the student's shows one."""
    tests = {
        "it stopped where the point's length, not the gradient's, fell below the tolerance: "
        "test np.linalg.norm(grad) < tolerance": lambda x, grad: np.linalg.norm(x) < tolerance,
        "it stopped where the step's length, rate · |grad|, fell below the tolerance: compare "
        "the gradient's own length": lambda x, grad: np.linalg.norm(rate * grad) < tolerance,
        "a gradient as long as the tolerance counted as flat: stop only where its length is "
        "below it, not equal to it": lambda x, grad: np.linalg.norm(grad) <= tolerance,
        "it compared each entry of the gradient with the tolerance: compare the length itself, "
        "np.linalg.norm(grad)": lambda x, grad: np.max(np.abs(grad)) < tolerance,
        "it compared the squared length with the tolerance: compare the length itself, "
        "np.linalg.norm(grad)": lambda x, grad: grad @ grad < tolerance,
    }
    right = np.linalg.norm
    mistakes: dict[Any, Any] = {
        hint: np.append(*stopping(gradient, x0, rate, tolerance, max_steps, flat))
        for hint, flat in tests.items()
    }
    if followed is not None:
        hint, step = followed
        mistakes[("gradient_step", hint)] = np.append(
            *stopping(
                gradient, x0, rate, tolerance, max_steps, lambda x, g: right(g) < tolerance, step
            )
        )
    x, steps = stopping(gradient, x0, rate, tolerance, max_steps, lambda x, g: right(g) < tolerance)
    if steps < max_steps:
        mistakes[
            "x is right but steps is one too many: count the steps taken, not the test of the "
            "last point"
        ] = np.append(x, steps + 1)
    else:
        mistakes[
            f"x is right (max_steps = {max_steps} steps taken) but steps is one too few, the "
            "last value of range(max_steps): return max_steps where it stops after max_steps "
            "steps"
        ] = np.append(x, max_steps - 1)
        longer = stopping(
            gradient, x0, rate, tolerance, max_steps + 1, lambda x, g: right(g) < tolerance
        )
        mistakes["it took max_steps + 1 steps: stop after max_steps steps, at most"] = np.append(
            *longer
        )
    return mistakes


FLAT_ERRORS = {
    ("truth value of an array",): "an if (or while) got an array of comparisons, one per "
    "entry: compare one number, the gradient's length np.linalg.norm(grad), with the tolerance",
}


def flat_result(student, gradient, written, x0, rate, tolerance, max_steps, probe):
    """(call, x, steps) of descend_until_flat, x and steps checked against the result computed
    here; x is None where the result is the uphill mistake again."""
    traced = Recorder(gradient, gradient.__name__)
    call = (
        f"descend_until_flat({written}, x0={describe(x0)}, rate={rate:g}, "
        f"tolerance={tolerance:g}, max_steps={max_steps})"
    )
    with explaining(FLAT_ERRORS):
        result = student.descend_until_flat(traced, x0, rate, tolerance, max_steps)
    warn_if_inputs_changed(student, call)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{call} returned {describe(result)}; expected a pair (x, steps)")
    x, steps = expect_pair(result, call)
    x = expect_array(x, call + " x", x0.shape)
    steps = expect_number(steps, call + " steps")
    expected_x, _ = until_flat(gradient, x0, rate, tolerance, max_steps)
    uphill_x, uphill_steps = until_flat(gradient, x0, rate, tolerance, max_steps, uphill=True)
    expected_steps = until_flat(gradient, x0, rate, tolerance, max_steps)[1]
    mistakes = flat_mistakes(gradient, x0, rate, tolerance, max_steps, probe.step)
    named = naming(
        "descend_until_flat", np.append(x, steps), np.append(expected_x, expected_steps), mistakes
    )
    if shows(x, uphill_x) and steps == uphill_steps and not shows(x, expected_x):
        expect_close(x, expected_x, call + " x", mistakes={probe.uphill: uphill_x})
        return call, None, steps, named
    if steps < max_steps:
        with naming(
            "descend_until_flat",
            np.append(x, steps),
            np.append(expected_x, expected_steps),
            mistakes,
        ):
            expect_evaluated_along(traced, x[None, :], call, last=True)
    return call, x, steps, named


@check(points=1)
def test_descend_until_flat(student, rng):
    """descend_until_flat stops at the first point whose gradient is shorter than the tolerance."""
    probe = common.probe_step(student)
    one = np.array([1.0])
    call, x, steps, named = flat_result(
        student, bowl_gradient, "∇ of x²", one, 0.25, 0.1, 100, probe
    )
    with named:
        if x is not None:
            expect_close(x, [1 / 32], call + " x", rtol=1e-12)
            if steps != 5:
                fail(
                    f"{call}: expected 5 steps (x halves each step: 1, 1/2, ..., 1/32, where "
                    f"2x < 0.1 first), got {describe(steps)}"
                )
    call, x, steps, named = flat_result(
        student, bowl_gradient, "∇ of x²", one, 0.25, 0.125, 100, probe
    )
    with named:
        if x is not None and steps != 5:
            fail(
                f"{call}: expected 5 steps: the gradient 2x is 0.125 after 4, which is not below "
                f"the tolerance; got {describe(steps)}"
            )
    call, x, steps, named = flat_result(student, bowl_gradient, "∇ of x²", one, 0.25, 0.1, 3, probe)
    with named:
        if x is not None:
            expect_close(x, [1 / 8], call + " x", rtol=1e-12)
            if steps != 3:
                fail(f"{call}: expected to stop after max_steps = 3, got {describe(steps)} steps")
    gradient = quadratic_gradient(rng, 2)
    x0 = rng.normal(size=2)
    call, x, steps, named = flat_result(
        student, gradient, "∇f = A x - b", x0, 0.1, 1e-4, 300, probe
    )
    with named:
        if x is not None:
            expected_x, expected_steps = until_flat(gradient, x0, 0.1, 1e-4, 300)
            expect_close(x, expected_x, call + " x", rtol=1e-9, atol=1e-12)
            if steps != expected_steps:
                fail(f"{call}: expected {expected_steps} steps, got {describe(steps)}")
