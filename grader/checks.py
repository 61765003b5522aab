"""What a course's check files use: the `check` decorator and assertions with friendly messages.

A check is a pytest-style function in a check file (checks/exercise1_public.py)::

    @check(points=2)
    def test_central_difference(student, rng):
        \"\"\"numerical_derivative takes the central difference.\"\"\"
        got = student.numerical_derivative(cube, 2.0, h=1e-3)
        expect_close(got, 12.000001, call="numerical_derivative(x³, 2, h=0.001)")

Its fixtures are ``student`` (the submission, run in a worker), ``rng`` (a numpy Generator seeded
from the course seed, the exercise and the check's name) and, in hidden checks only, ``solution``
(the reference module). The grader runs checks with its own light runner; ``pytest`` runs the same
files against the reference answers through grader.pytest_plugin. Nothing here imports pytest.

Every ``expect_*`` raises CheckFailed with a message for the student: the call, expected vs got,
the worst entry of an array, and a hint when the answer matches a known mistake.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import numpy as np

from grader import finite_diff
from grader.formula import Formula, formula  # noqa: F401  (for check files)
from grader.hints import hint_for
from grader.later import Later, settle, then
from grader.proxy import Handle, StudentModule, changed_arguments

CheckFunction = TypeVar("CheckFunction", bound=Callable[..., None])


@dataclass(frozen=True)
class CheckInfo:
    """What the `check` decorator records on a check function."""

    points: float


def check(points: float) -> Callable[[CheckFunction], CheckFunction]:
    """Mark a function as a check worth ``points``; its docstring's first line is its title."""
    if not points > 0:
        raise ValueError("a check is worth more than 0 points")

    def mark(function: CheckFunction) -> CheckFunction:
        function.__check__ = CheckInfo(points=float(points))  # type: ignore[attr-defined]
        return function

    return mark


class CheckFailed(AssertionError):
    """The student's answer is wrong; str() is the message the student reads."""


def fail(message: str) -> NoReturn:
    raise CheckFailed(message)


# ---------------------------------------------------------------- describing values


def describe(value: Any) -> str:
    """A short text for a value in a message: 2.5, [1, -2, 0.5], an array of shape (3, 4)."""
    if value is None or isinstance(value, (bool, str)):
        return repr(value)[:80]
    if isinstance(value, (int, float, np.number)):
        return f"{float(value):.6g}" if isinstance(value, (float, np.floating)) else str(value)
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return f"{value.item():.6g}"
        if value.size <= 6 and value.ndim == 1:
            return "[" + ", ".join(f"{item:.6g}" for item in value.tolist()) + "]"
        return f"an array of shape {value.shape}"
    if isinstance(value, tuple):
        inner = ", ".join(describe(item) for item in value[:4])
        return f"({inner}{', …' if len(value) > 4 else ''})"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    if isinstance(value, dict):
        return f"a dict with keys {', '.join(map(str, list(value)[:6]))}"
    return repr(value)[:80]


def _kind(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (bool, np.bool_)):
        return f"the bool {value}"
    if isinstance(value, (int, float, np.number)):
        return f"the number {describe(value)}"
    if value is None:
        return "None (is a `return` missing?)"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    return describe(value)


def _with_hint(message: str, hint: str | None) -> str:
    return f"{message}. Hint: {hint}." if hint else f"{message}."


# ---------------------------------------------------------------- types and shapes


def expect_number(value: Any, call: str) -> float:
    """``value`` as a float; fails unless it is a real number (a 0-d array counts)."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        fail(f"{call} returned {_kind(value)}; expected a number")
    return float(value)


def expect_array(value: Any, call: str, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` as a float64 array of ``shape``; fails on another type or shape."""
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
        fail(f"{call} returned {_kind(value)}; expected an array of shape {shape}")
    if value.shape != shape:
        hint = None
        if value.size == math.prod(shape) and tuple(n for n in value.shape if n != 1) == tuple(
            n for n in shape if n != 1
        ):
            hint = "it has an extra dimension of size 1 (for a sum, leave out keepdims=True)"
        elif value.ndim == 2 and value.shape == shape[::-1]:
            hint = "it is transposed"
        fail(
            _with_hint(
                f"{call} returned an array of shape {value.shape}; expected shape {shape}", hint
            )
        )
    return value.astype(np.float64)


def expect_pair(value: Any, call: str) -> tuple[Any, Any]:
    """``value`` as a tuple or list of two items."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        fail(f"{call} returned {_kind(value)}; expected a pair (value, derivative)")
    return value[0], value[1]


def expect_like(value: Any, reference: Any, call: str) -> np.ndarray:
    """A number for a number, an array of the same shape for an array; returned as float64."""
    if isinstance(reference, np.ndarray) and reference.ndim > 0:
        return expect_array(value, call, reference.shape)
    return np.float64(expect_number(value, call))  # type: ignore[return-value]


# ---------------------------------------------------------------- values


def expect_close(
    got: Any,
    expected: Any,
    call: str,
    *,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    mistakes: Mapping[str, Any] | None = None,
) -> None:
    """Fail unless ``got`` equals ``expected`` within |got - expected| <= atol + rtol*|expected|.

    expected: a number or an array; ``got`` must be of the same kind and shape.
    mistakes: hint text -> the value that mistake would give, tried before the generic hints.
    """
    expected_array = np.asarray(expected, dtype=np.float64)
    got_array = expect_like(got, expected_array, call)
    allowed = atol + rtol * np.abs(expected_array)
    wrong = ~(np.abs(got_array - expected_array) <= allowed)
    if np.any(wrong):
        fail(
            _with_hint(
                _difference(call, got_array, expected_array, wrong),
                hint_for(got_array, expected_array, mistakes),
            )
        )


def expect_derivative(
    got: Any,
    f: Callable[[np.ndarray], Any],
    x: Any,
    call: str,
    *,
    h: float = finite_diff.STEP,
    mistakes: Mapping[str, Any] | None = None,
) -> None:
    """Fail unless ``got`` is the derivative of the elementwise function ``f`` at ``x``.

    The expected value is the central difference of ``f`` (which may be the student's own function),
    with the tolerance of grader.finite_diff.
    """
    x_array = np.asarray(x, dtype=np.float64)
    name = getattr(f, "__name__", "f")

    def values(points: np.ndarray) -> np.ndarray:
        # f may be the student's function: its answer is checked like any other.
        argument = points if x_array.ndim else float(points)
        return expect_like(f(argument), points, f"{name}({describe(argument)})")

    numeric, scale = finite_diff.elementwise_derivative(values, x_array, h)
    got_array = expect_like(got, numeric if x_array.ndim else np.float64(numeric), call)
    wrong = ~finite_diff.within_tolerance(got_array, numeric, scale, h)
    if np.any(wrong):
        fail(
            _with_hint(
                _difference(call, got_array, numeric, wrong, expected_name="central difference"),
                hint_for(got_array, numeric, mistakes),
            )
        )


def expect_matches_reference(
    got: Any, expected: Any, call: str, *, mistakes: Mapping[str, Any] | None = None
) -> None:
    """Fail unless ``got`` equals the reference's ``expected`` up to rounding.

    The tolerance (relative 1e-7, absolute 1e-9 of the largest expected entry) allows sums taken in
    another order, and nothing a real mistake produces.
    """
    expected_array = np.asarray(expected, dtype=np.float64)
    largest = float(np.max(np.abs(expected_array))) if expected_array.size else 0.0
    expect_close(
        got, expected_array, call, rtol=1e-7, atol=1e-9 * largest + 1e-12, mistakes=mistakes
    )


def expect_gradient(
    got: Any,
    f: Callable[[np.ndarray], Any],
    x: Any,
    call: str,
    *,
    h: float = finite_diff.STEP,
    mistakes: Mapping[str, Any] | Callable[[np.ndarray], Mapping[str, Any]] | None = None,
) -> None:
    """Fail unless ``got`` is the gradient of the scalar function ``f`` at the array ``x``.

    f: maps an array shaped like x to a number, for example the sum of a forward pass's output
    times a fixed upstream gradient (then the gradient is what the backward pass returns); or to
    a Later of one (grader.later: ``then(student.forward.later(v), ...)``), so that all the calls
    are sent before their answers are read. Up to 500 entries every one is checked by central
    differences (2·x.size calls of f); above that, three random directions, and a full check
    only to locate a failure.
    mistakes: as for expect_close, or a function of the true (numeric) gradient giving them, for
    mistakes defined relative to it ("the 1/N is missing": N times the gradient).
    """
    x_array = np.asarray(x, dtype=np.float64)
    got_array = expect_array(got, call, x_array.shape)

    def value(point: np.ndarray) -> float | Later:
        return then(f(point), lambda answer: expect_number(answer, call))

    if x_array.size > 500:
        directions = np.random.default_rng(0).normal(size=(3, *x_array.shape))
        agree = all(
            finite_diff.within_tolerance(
                np.sum(got_array * direction),
                *_directional(value, x_array, direction, h),
                h,
            ).all()
            for direction in directions
        )
        if agree:
            return
    numeric, scale = finite_diff.gradient(value, x_array, h)
    wrong = ~finite_diff.within_tolerance(got_array, numeric, scale, h)
    if np.any(wrong):
        fail(
            _with_hint(
                _difference(call, got_array, numeric, wrong, expected_name="central difference"),
                hint_for(got_array, numeric, mistakes(numeric) if callable(mistakes) else mistakes),
            )
        )


def _directional(
    value: Callable[[np.ndarray], float | Later], x: np.ndarray, direction: np.ndarray, h: float
) -> tuple[np.ndarray, float]:
    """(central difference along ``direction``, |L|) for a scalar function."""
    above_value, below_value = value(x + h * direction), value(x - h * direction)
    above, below = settle(above_value), settle(below_value)
    return np.asarray((above - below) / (2 * h)), max(abs(above), abs(below))


def expect_inputs_unchanged(student: StudentModule | Handle, call: str) -> None:
    """Fail if the latest call through ``student`` changed one of its argument arrays in place."""
    for change in changed_arguments(student):
        before, after = change.before, change.after
        unequal = np.asarray(after != before)
        if after.dtype.kind == "f" and before.dtype.kind == "f":
            unequal &= ~(np.isnan(after) & np.isnan(before))
        if after.shape != before.shape or not unequal.any():
            fail(f"{call} changed its input {change.name} in place; leave the input as it was")
        index = tuple(int(i) for i in np.argwhere(unequal)[0])
        fail(
            f"{call} changed its input {change.name} (entry {list(index)} was "
            f"{before[index]:.6g}, is now {after[index]:.6g}); leave the input as it was: "
            "restore any entry you change, or work on a copy"
        )


def _difference(
    call: str,
    got: np.ndarray,
    expected: np.ndarray,
    wrong: np.ndarray,
    expected_name: str = "expected",
) -> str:
    if got.ndim == 0:
        return f"{call}: {expected_name} {expected.item():.10g}, got {got.item():.10g}"
    error = np.where(wrong, np.abs(got - expected), -np.inf)
    error = np.where(np.isnan(error), np.inf, error)
    worst = np.unravel_index(int(np.argmax(error)), got.shape)
    index = list(int(i) for i in worst)
    return (
        f"{call}: {int(wrong.sum())} of {wrong.size} entries differ; worst at {index}: "
        f"{expected_name} {expected[worst]:.10g}, got {got[worst]:.10g}"
    )


# ---------------------------------------------------------------- grader functions


class Recorder:
    """A grader function that remembers every point it was evaluated at.

    Pass it to the student's code instead of ``function``; afterwards ``inputs`` lists the
    arguments (copies of arrays), in order.
    """

    def __init__(self, function: Callable[..., Any], name: str) -> None:
        self._function = function
        self.__name__ = name
        self.inputs: list[Any] = []
        # A formula is evaluated in the worker and replayed here, through this Recorder: the
        # inputs are recorded all the same (grader.formula).
        self.mirrors = function if isinstance(function, Formula) else None

    def __call__(self, x: Any) -> Any:
        self.inputs.append(np.array(x, dtype=np.float64) if isinstance(x, np.ndarray) else x)
        return self._function(x)
