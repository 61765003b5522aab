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
the worst entry of an array, and a hint when the answer matches a known mistake. A failure that
matches one of the check's named mistakes carries it (``CheckFailed.mistake``), so that a later
check meeting the same mistake in the same function names it without charging it again
(grader.runner).

What only the worker reports (which arguments the student's code changed in place) never decides
a check: ``warn_if_inputs_changed`` adds a note for the student (``note``) and costs no points.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
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


Mistake = tuple[str, str]  # (the student's function, the hint naming the mistake)


class CheckFailed(AssertionError):
    """The student's answer is wrong; str() is the message the student reads.

    mistake: when the answer is one of the check's named mistakes, (function, hint), so that the
    grading charges that mistake in that function once (grader.runner).
    """

    def __init__(self, message: str, mistake: Mistake | None = None) -> None:
        super().__init__(message)
        self.mistake = mistake


def fail(message: str, mistake: Mistake | None = None) -> NoReturn:
    raise CheckFailed(message, mistake)


def _named_mistake(
    call: str, hint: str | None, mistakes: Mapping[str, Any] | None
) -> Mistake | None:
    """(function, hint) when ``hint`` is one of the check's own named mistakes, else None.

    The function is the name the call starts with ("relu_backward(dout=...)" -> "relu_backward"):
    the same hint in two functions is two mistakes. Generic hints (a flipped sign) name no
    mistake of their own, so they are charged wherever they occur.
    """
    function = re.match(r"[A-Za-z_]\w*", call)
    if hint is None or function is None or not mistakes or hint not in mistakes:
        return None
    return function.group(), hint


# ---------------------------------------------------------------- what a running check records


@dataclass
class CheckRecord:
    """What one running check records besides its outcome (grader.runner makes one per check).

    charged: the named mistakes earlier checks of the grading failed on, each with that check's
    title (read here, extended by the runner); repeats: those this check met again and did not
    fail on; notes: lines for the student that cost no points, each under a key that says what it
    is about (one note per key: a function changing the same argument in ten calls is one note).
    """

    charged: Mapping[Mistake, str] = field(default_factory=dict)
    repeats: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)


_record: ContextVar[CheckRecord | None] = ContextVar("check_record", default=None)


@contextmanager
def recording(record: CheckRecord) -> Iterator[CheckRecord]:
    """Within the block, notes and repeated mistakes go to ``record``."""
    token = _record.set(record)
    try:
        yield record
    finally:
        _record.reset(token)


def note(text: str, key: str | None = None) -> None:
    """Tell the student something worth knowing that costs no points (outside a check: nothing).

    key: what the note is about; of notes with the same key the student reads the first.
    """
    record = _record.get()
    if record is not None:
        record.notes.setdefault(key or text, text)


def _fail_unless_charged(message: str, mistake: Mistake | None) -> None:
    """Fail, unless ``mistake`` was charged by an earlier check: then note it and go on.

    Going on (rather than passing the check) keeps every other part of the check in force, so a
    mistake made once cannot excuse an answer that was never checked.
    """
    record = _record.get()
    earlier = record.charged.get(mistake) if record is not None and mistake else None
    if earlier is None:
        fail(message, mistake)
    assert record is not None
    record.repeats.append(f"{message} This is the mistake charged in “{earlier}”: not again here.")


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
        hint = hint_for(got_array, expected_array, mistakes)
        _fail_unless_charged(
            _with_hint(_difference(call, got_array, expected_array, wrong), hint),
            _named_mistake(call, hint, mistakes),
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
        hint = hint_for(got_array, numeric, mistakes)
        _fail_unless_charged(
            _with_hint(
                _difference(call, got_array, numeric, wrong, expected_name="central difference"),
                hint,
            ),
            _named_mistake(call, hint, mistakes),
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
        named = mistakes(numeric) if callable(mistakes) else mistakes
        hint = hint_for(got_array, numeric, named)
        _fail_unless_charged(
            _with_hint(
                _difference(call, got_array, numeric, wrong, expected_name="central difference"),
                hint,
            ),
            _named_mistake(call, hint, named),
        )


def _directional(
    value: Callable[[np.ndarray], float | Later], x: np.ndarray, direction: np.ndarray, h: float
) -> tuple[np.ndarray, float]:
    """(central difference along ``direction``, |L|) for a scalar function."""
    above_value, below_value = value(x + h * direction), value(x - h * direction)
    above, below = settle(above_value), settle(below_value)
    return np.asarray((above - below) / (2 * h)), max(abs(above), abs(below))


def warn_if_inputs_changed(
    student: StudentModule | Handle, call: str, *, docstring_asks: bool = False
) -> None:
    """Note (for no points) each argument array the latest call through ``student`` changed in
    place, with the first entry that changed.

    Only the worker reports such a change, and the student's code runs there: it is never a
    reason to take points. docstring_asks: the exercise's docstring asks to leave the inputs
    alone, so the note says so; otherwise it only says what a caller would see.
    """
    for change in changed_arguments(student):
        before, after = change.before, change.after
        unequal = np.asarray(after != before) if after.shape == before.shape else None
        if unequal is not None and after.dtype.kind == "f" and before.dtype.kind == "f":
            unequal &= ~(np.isnan(after) & np.isnan(before))
        if unequal is not None and not unequal.any():
            continue
        what = f"{call} changed its argument {change.name} in place"
        if unequal is not None:
            index = tuple(int(i) for i in np.argwhere(unequal)[0])
            was, now = _distinct(float(before[index]), float(after[index]))
            what += f" (entry {list(index)} was {was}, is now {now})"
        function = call.split("(")[0]
        if docstring_asks:
            text = (
                f"{what}; leave it as the docstring asks: work on a copy (no points depend on it)"
            )
        else:
            text = (
                f"{what}; a caller using {change.name} afterwards sees the change (no points lost)"
            )
        argument = change.name.split("[")[0]  # params['W1'] and params['b1']: one note
        note(text, key=f"changed in place: {function} {argument}")


def _distinct(was: float, now: float) -> tuple[str, str]:
    """Two different numbers written with the fewest digits (up to 17) that tell them apart."""
    for digits in (6, 10, 17):
        shown = f"{was:.{digits}g}", f"{now:.{digits}g}"
        if shown[0] != shown[1]:
            return shown
    return shown


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
