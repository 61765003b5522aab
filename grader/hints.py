"""Recognising known mistakes from what a wrong answer looks like.

A check compares the student's value with the expected one; when they differ, `hint_for` looks for a
known relation between the two: the exact value a specific mistake would give (passed in by the
check, e.g. the forward difference), or a generic one (the sign flipped, a factor of 2, transposed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def matches(got: np.ndarray, candidate: Any) -> bool:
    """Whether ``got`` is ``candidate``, a mistake's value: the same shape, to 1e-6 relative."""
    try:
        candidate = np.asarray(candidate, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if candidate.shape != got.shape or not np.all(np.isfinite(candidate)):
        return False
    return bool(np.allclose(got, candidate, rtol=1e-6, atol=1e-9))


FLOAT32 = (
    "it agrees to about 7 digits, float32's precision: compute in float64, numpy's default "
    "(no dtype=np.float32 or .astype(np.float32))"
)


def _float32_rounding(got: np.ndarray, expected: np.ndarray) -> bool:
    """Whether ``got`` is ``expected`` as float32 arithmetic gives it: every entry a float32
    number, close to the expected one (within 1e-5 of the largest) where the expected ones are
    not float32 numbers themselves. A float64 computation all but never lands on float32
    numbers only, so this is no coincidence."""
    if got.size == 0 or got.shape != expected.shape or not np.all(np.isfinite(expected)):
        return False
    as32 = got.astype(np.float32).astype(np.float64)
    if not np.array_equal(as32, got):
        return False
    if np.array_equal(expected.astype(np.float32).astype(np.float64), expected):
        return False  # round numbers: float32 holds them exactly, nothing to tell
    scale = float(np.max(np.abs(expected))) or 1.0
    return bool(np.max(np.abs(got - expected)) <= 1e-5 * scale)


def _same(expected: np.ndarray, candidate: Any) -> bool:
    """Whether a mistake's value is the expected one, to rounding."""
    try:
        candidate = np.asarray(candidate, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return candidate.shape == expected.shape and bool(
        np.allclose(candidate, expected, rtol=1e-12, atol=1e-15)
    )


def generic_mistakes(expected: np.ndarray) -> dict[str, np.ndarray]:
    """Hint -> the value that mistake gives, for mistakes any numeric answer can make."""
    mistakes = {
        "the sign is flipped": -expected,
        "the result is twice what it should be (a factor of 2 too many)": 2 * expected,
        "the result is half what it should be (a factor of 2 missing)": expected / 2,
    }
    if expected.ndim == 2 and expected.shape[0] > 1 and expected.shape[1] > 1:
        mistakes["the result is transposed"] = expected.T
    return mistakes


def hint_for(got: Any, expected: Any, mistakes: Mapping[str, Any] | None = None) -> str | None:
    """The first known mistake whose value equals ``got``, specific ones before generic ones.

    got, expected: numbers or arrays (already known to differ). mistakes: hint text -> the value
    that mistake would have produced.
    """
    try:
        got_array = np.asarray(got, dtype=np.float64)
        expected_array = np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if not np.all(np.isfinite(got_array)):
        return None
    for hint, candidate in (mistakes or {}).items():
        # A mistake that gives the right answer here (-sin(x² - 1) without its inner
        # derivative, at x = 1) cannot be told from it here.
        if matches(got_array, candidate) and not _same(expected_array, candidate):
            return hint
    if _float32_rounding(got_array, expected_array):
        return FLOAT32
    if np.count_nonzero(expected_array) < 2:
        # Every generic relation to zero is zero again, and one number twice another, or its
        # negative, is as likely a coincidence of the point tried (3x + 2x against 3x + 2y at
        # y = x / 4; b + 1 against 1 + 1 at b = -3) as a factor or a sign: a generic mistake is
        # named only where two entries or more show it. A check names a number's own mistakes.
        return None
    for hint, candidate in generic_mistakes(expected_array).items():
        if candidate.shape == got_array.shape and matches(got_array, candidate):
            return hint
    return None


def differs(got: Any, expected: Any, rtol: float, atol: float) -> bool:
    """Whether ``got`` fails ``expected`` by expect_close's own test: |got - expected| <= atol +
    rtol·|expected| everywhere. A non-number, or another shape, differs."""
    try:
        got_array = np.asarray(got, dtype=np.float64)
        expected_array = np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return True
    if got_array.shape != expected_array.shape:
        return True
    allowed = atol + rtol * np.abs(expected_array)
    return not bool(np.all(np.abs(got_array - expected_array) <= allowed))


def close_to(got: Any, value: Any, rtol: float, atol: float = 1e-12) -> bool:
    """Whether ``got`` is ``value`` (a mistake's value, finite) to rtol and atol, with the same
    shape. A non-number is close to nothing."""
    try:
        got_array = np.asarray(got, dtype=np.float64)
        value_array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return (
        got_array.shape == value_array.shape
        and bool(np.all(np.isfinite(value_array)))
        and bool(np.allclose(got_array, value_array, rtol=rtol, atol=atol))
    )


def offered(
    got: Any, expected: Any, candidates: Mapping[Any, Any], unique: bool = True
) -> dict[Any, Any]:
    """The one mistake of ``candidates`` (hint -> the value that mistake gives) that ``got``
    shows, as {hint: value}, or {} when none does.

    A hint matches to 1e-6, as in hint_for. A mistake whose value lies that close to the right
    one (or to 0) is offered only where ``got`` is that value to 1e-9, so a nearly right answer
    (or a 0) is never told a mistake. Where two mistakes give ``got`` (to 1e-9 where 1e-6 cannot
    tell them apart), neither is named: the point cannot tell them apart. unique=False: every one
    that ``got`` shows, for mistakes that are named whichever comes first.
    """
    shown = {}
    for key, value in candidates.items():
        if value is None or close_to(expected, value, rtol=1e-12, atol=1e-15):
            continue  # the right answer here: nothing to tell
        if not close_to(got, value, rtol=1e-6, atol=1e-9):
            continue
        near = close_to(expected, value, rtol=3e-6, atol=1e-8) or bool(
            np.max(np.abs(value), initial=0.0) < 1e-6  # what a 0 would match to 1e-9
        )
        if near and not close_to(got, value, rtol=1e-9, atol=1e-13):
            continue
        shown[key] = value
    if not unique:
        return shown
    if len(shown) > 1:  # told apart, if at all, by the one that got is to 1e-9
        shown = {k: v for k, v in shown.items() if close_to(got, v, rtol=1e-9, atol=1e-13)}
    return shown if len(shown) == 1 else {}
