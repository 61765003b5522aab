"""What a course's check files use: the `check` decorator and assertions with friendly messages.

A check is a pytest-style function in a check file (checks/exercise1_public.py)::

    @check(points=2)
    def test_centraldifference(student, rng):
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
(grader.runner). A mistake of another function is named as the pair (function, hint): a
backward pass that follows its forward pass's named mistake is that mistake again, not a new one.

The expected derivative or gradient is always the central difference of a function the grader
computes, the one the docstring specifies (and, where the student's forward showed a named
mistake at the check's own point, of that mistaken formula too), never of the student's forward:
code that recognises the points a difference is taken at could shape the expected value.

What only the worker reports (which arguments the student's code changed in place) never decides
a check: ``warn_if_inputs_changed`` adds a note for the student (``note``) and costs no points.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from grader import finite_diff
from grader.check_messages import describe, difference, distinct, follows, kind_of, with_hint
from grader.check_outcome import (  # noqa: F401  (answer_or_none, CheckFailed, fail, note: for check files)
    CheckFailed,
    Mistake,
    answer_or_none,
    fail,
    fail_unless_charged,
    note,
)
from grader.course_modules import shared  # noqa: F401  (for check files)
from grader.formula import Formula, formula  # noqa: F401  (for check files)
from grader.hints import (  # noqa: F401  (close_to, differs, offered: for check files)
    close_to,
    differs,
    hint_for,
    matches,
    offered,
)
from grader.later import Later, settle, then
from grader.naming import explaining, naming  # noqa: F401  (for check files)
from grader.student_code.objects import Handle, StudentModule, changed_arguments

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


Mistakes = Mapping[str | Mistake, Any]  # hint, or (function, hint) -> the value it would give


def _hint(
    call: str, got: Any, expected: Any, mistakes: Mistakes | None
) -> tuple[str | None, Mistake | None]:
    """The hint for ``got`` (named mistakes first, then generic ones) and the named mistake it is.

    A hint key is a mistake of the function the call starts with ("relu_backward(dout=...)" ->
    "relu_backward"): the same hint in two functions is two mistakes. A (function, hint) key is
    that function's mistake, wherever it shows. Generic hints (a flipped sign) name no mistake of
    their own, so they are charged wherever they occur.
    """
    function = re.match(r"[A-Za-z_]\w*", call)
    texts: dict[str, Any] = {}
    named: dict[str, Mistake] = {}
    for key, value in (mistakes or {}).items():
        text = follows(key, call) if isinstance(key, tuple) else key
        texts.setdefault(text, value)
        if isinstance(key, tuple):
            named.setdefault(text, key)
        elif function is not None:
            named.setdefault(text, (function.group(), key))
    hint = hint_for(got, expected, texts)
    return hint, named.get(hint) if hint is not None else None


def shows(got: Any, mistaken: Any) -> bool:
    """Whether the student's ``got`` is ``mistaken``, the value a named mistake gives (as a hint
    recognises it): then what follows that mistake may be offered to later comparisons."""
    try:
        got_array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return matches(got_array, mistaken)


# ---------------------------------------------------------------- types and shapes


def expect_number(value: Any, call: str) -> float:
    """``value`` as a float; fails unless it is a real number (a 0-d array counts)."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        fail(f"{call} returned {kind_of(value)}; expected a number")
    try:
        return float(value)
    except OverflowError:  # an int with hundreds of digits
        fail(f"{call} returned an integer too large for a float; expected a number near the answer")


def expect_array(value: Any, call: str, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` as a float64 array of ``shape``; fails on another type or shape."""
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
        fail(f"{call} returned {kind_of(value)}; expected an array of shape {shape}")
    if value.shape != shape:
        hint = None
        same_sizes = tuple(n for n in value.shape if n != 1) == tuple(n for n in shape if n != 1)
        if value.ndim == 2 and value.shape == shape[::-1]:
            hint = "it is transposed"
        elif same_sizes and value.ndim > len(shape):
            hint = (
                f"it has an extra dimension of size 1: the result is {shape} (where a sum made "
                "it, leave out keepdims=True; where you made it, write the shape without the 1)"
            )
        elif same_sizes and shape[0] == 1 and value.ndim < len(shape):
            hint = (
                f"the axis of size 1 at the front is missing: the result keeps the shape {shape} "
                "even for one row (a batch of one example)"
            )
        elif same_sizes and value.ndim < len(shape):
            hint = (
                f"it lacks a dimension of size 1: reshape it to {shape}, or keep the axis "
                "(keepdims=True, or index with a slice such as [:, :1])"
            )
        fail(
            with_hint(
                f"{call} returned an array of shape {value.shape}; expected shape {shape}", hint
            )
        )
    return value.astype(np.float64)


def expect_pair(value: Any, call: str, names: tuple[str, str] | None = None) -> tuple[Any, Any]:
    """``value`` as a tuple or list of two items; names: what the two are, as the docstring
    calls them (("out", "cache")), for the message."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        pair = f"the pair ({names[0]}, {names[1]})" if names else "a pair of two items"
        fail(f"{call} returned {kind_of(value)}; expected {pair}")
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
    mistakes: Mistakes | None = None,
) -> None:
    """Fail unless ``got`` equals ``expected`` within |got - expected| <= atol + rtol*|expected|.

    expected: a number or an array; ``got`` must be of the same kind and shape.
    mistakes: hint text -> the value that mistake would give, tried before the generic hints; a
    key (function, hint) is another function's named mistake, for an answer that follows it
    (a backward consistent with its forward's mistake).
    """
    expected_array = np.asarray(expected, dtype=np.float64)
    got_array = expect_like(got, expected_array, call)
    allowed = atol + rtol * np.abs(expected_array)
    wrong = ~(np.abs(got_array - expected_array) <= allowed)
    if np.any(wrong):
        hint, mistake = _hint(call, got_array, expected_array, mistakes)
        fail_unless_charged(
            with_hint(difference(call, got_array, expected_array, wrong), hint), mistake
        )


def expect_derivative(
    got: Any,
    f: Callable[[np.ndarray], Any],
    x: Any,
    call: str,
    *,
    h: float = finite_diff.STEP,
    mistakes: Mistakes | None = None,
    mistaken_forwards: Mapping[Mistake, Callable[[np.ndarray], Any]] | None = None,
) -> None:
    """Fail unless ``got`` is the derivative of the elementwise function ``f`` at ``x``.

    f: the grader's function, the one the docstring specifies (never the student's: code that
    recognises the points x ± h could shape the expected value). The expected value is the
    central difference of ``f``, with the tolerance of grader.finite_diff.
    mistakes: as for expect_close.
    mistaken_forwards: (function, hint) of a named mistake in the forward pass -> the function
    that forward computes with it, in place of ``f`` (the grader's too); give one only where the
    student's forward showed that mistake at x. A derivative of it, by the same differences and
    tolerance, is that mistake again: excused where an earlier check charged it, else failed
    with its hint.
    """
    x_array = np.asarray(x, dtype=np.float64)

    def differences(function: Callable[[Any], Any]) -> tuple[np.ndarray, np.ndarray]:
        name = getattr(function, "__name__", "f")

        def values(points: np.ndarray) -> np.ndarray:
            argument = points if x_array.ndim else float(points)
            return expect_like(function(argument), points, f"{name}({describe(argument)})")

        return finite_diff.elementwise_derivative(values, x_array, h)

    numeric, scale = differences(f)
    got_array = expect_like(got, numeric if x_array.ndim else np.float64(numeric), call)
    wrong = ~finite_diff.within_tolerance(got_array, numeric, scale, h)
    if np.any(wrong):
        message = difference(call, got_array, numeric, wrong, expected_name="central difference")
        for followed, mistaken in (mistaken_forwards or {}).items():
            if finite_diff.within_tolerance(got_array, *differences(mistaken), h).all():
                fail_unless_charged(with_hint(message, follows(followed, call)), followed)
                return
        hint, mistake = _hint(call, got_array, numeric, mistakes)
        fail_unless_charged(with_hint(message, hint), mistake)


def expect_matches_reference(
    got: Any, expected: Any, call: str, *, mistakes: Mistakes | None = None
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
    mistakes: Mistakes | Callable[[np.ndarray], Mistakes] | None = None,
    mistaken_forwards: Mapping[Mistake, Callable[[np.ndarray], Any]] | None = None,
) -> None:
    """Fail unless ``got`` is the gradient of the scalar function ``f`` at the array ``x``.

    f: the grader's function, mapping an array shaped like x to a number, for example the sum of
    the specified forward pass's output times a fixed upstream gradient (then the gradient is
    what the backward pass returns); or to a Later of one (grader.later), so that all the calls
    are sent before their answers are read. Never the student's forward: code that recognises
    the points x ± h·e_i could shape the expected value. Up to 500 entries every one is checked
    by central differences (2·x.size calls of f); above that, three random directions, and a
    full check only to locate a failure.
    mistakes: as for expect_close, or a function of the true (numeric) gradient giving them, for
    mistakes defined relative to it ("the 1/N is missing": N times the gradient).
    mistaken_forwards: (function, hint) of a named mistake in the forward pass -> the scalar
    function that forward gives with it, in place of ``f`` (the grader's too); give one only
    where the student's forward showed that mistake at x. A gradient of it, by the same central
    differences and tolerance, is that mistake again: excused where an earlier check charged it
    (grader.runner), else failed with its hint.
    """
    x_array = np.asarray(x, dtype=np.float64)
    got_array = expect_array(got, call, x_array.shape)

    def scalar(function: Callable[[np.ndarray], Any]) -> Callable[[np.ndarray], float | Later]:
        return lambda point: then(function(point), lambda answer: expect_number(answer, call))

    value = scalar(f)
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
        message = difference(call, got_array, numeric, wrong, expected_name="central difference")
        for followed, mistaken in (mistaken_forwards or {}).items():
            other, other_scale = finite_diff.gradient(scalar(mistaken), x_array, h)
            if finite_diff.within_tolerance(got_array, other, other_scale, h).all():
                fail_unless_charged(with_hint(message, follows(followed, call)), followed)
                return
        named = mistakes(numeric) if callable(mistakes) else mistakes
        hint, mistake = _hint(call, got_array, numeric, named)
        fail_unless_charged(with_hint(message, hint), mistake)


def _directional(
    value: Callable[[np.ndarray], float | Later], x: np.ndarray, direction: np.ndarray, h: float
) -> tuple[np.ndarray, float]:
    """(central difference along ``direction``, |L|) for a scalar function."""
    above_value, below_value = value(x + h * direction), value(x - h * direction)
    above, below = settle(above_value), settle(below_value)
    return np.asarray((above - below) / (2 * h)), max(abs(above), abs(below))


def expect_same_again(
    first: Any, second: Any, expected: Any, call: str, *, mistakes: Mistakes | None = None
) -> None:
    """The same call made a second time gave ``second``: it must be ``first`` again or, failing
    that, the reference's ``expected`` still; else the function kept something from its first
    call. Check ``first`` against ``expected`` before (so a wrong answer given twice is not
    right here); ``mistakes`` as for expect_close.
    """
    try:
        same = type(first) is type(second) and bool(
            np.array_equal(np.asarray(first), np.asarray(second))
        )
    except (TypeError, ValueError):
        same = False
    if same:
        return
    try:
        expect_matches_reference(second, expected, call, mistakes=mistakes)
    except CheckFailed as failure:
        raise CheckFailed(
            f"the same call a second time: {failure} The first call gave the right result: "
            "keep nothing from one call to the next.",
            failure.mistake,
        ) from None


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
            was, now = distinct(float(before[index]), float(after[index]))
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
