"""The words of a failing check: values described briefly, where an array answer is wrong, and
the hint appended on a line of its own. Used by grader.checks; a check file imports ``describe``
and ``with_hint`` from there."""

from __future__ import annotations

import re
from typing import Any

import numpy as np


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
        return f"a list of {items(len(value))}"
    if isinstance(value, dict):
        return f"a dict with keys {', '.join(map(str, list(value)[:6]))}"
    return repr(value)[:80]


def items(count: int) -> str:
    return "1 item" if count == 1 else f"{count} items"


def kind_of(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (bool, np.bool_)):
        return f"the bool {value}"
    if isinstance(value, (int, float, np.number)):
        return f"the number {describe(value)}"
    if value is None:
        return "None (is a `return` missing?)"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {items(len(value))}"
    return describe(value)


def with_hint(message: str, hint: str | None) -> str:
    """A failing check's message: what is wrong (``message``) on its first line, and the hint,
    what the answer looks like and what to do, on the second."""
    if not hint:
        return f"{message}."
    return f"{message}.\nHint: {hint.rstrip('.')}."


def distinct(was: float, now: float) -> tuple[str, str]:
    """Two different numbers written with the fewest digits (up to 17) that tell them apart."""
    for digits in (6, 10, 17):
        shown = f"{was:.{digits}g}", f"{now:.{digits}g}"
        if shown[0] != shown[1]:
            return shown
    return shown


def difference(
    call: str,
    got: np.ndarray,
    expected: np.ndarray,
    wrong: np.ndarray,
    expected_name: str = "expected",
) -> str:
    """'dW: 3 of 12 entries differ, all in row 2; worst at [2, 1]: expected 0.5, got 1.5', or
    for a number 'f(2): expected 4, got 5'. wrong: a boolean array of got's shape."""
    if got.ndim == 0:
        return f"{call}: {expected_name} {expected.item():.10g}, got {got.item():.10g}"
    error = np.where(wrong, np.abs(got - expected), -np.inf)
    error = np.where(np.isnan(error), np.inf, error)
    worst = np.unravel_index(int(np.argmax(error)), got.shape)
    index = list(int(i) for i in worst)
    return (
        f"{call}: {int(wrong.sum())} of {wrong.size} entries differ{where_wrong(wrong)}; "
        f"worst at {index}: {expected_name} {expected[worst]:.10g}, got {got[worst]:.10g}"
    )


def where_wrong(wrong: np.ndarray) -> str:
    """', all in row 2' (or 'in column 0') when a matrix's wrong entries lie in one row or one
    column of several, and more than one is wrong: a fact that points at one sample, one unit or
    one label, never a guess at the cause. '' otherwise."""
    if wrong.ndim != 2 or int(wrong.sum()) < 2:
        return ""
    rows = np.flatnonzero(wrong.any(axis=1))
    columns = np.flatnonzero(wrong.any(axis=0))
    if len(rows) == 1 and wrong.shape[0] > 1:
        return f", all in row {int(rows[0])}"
    if len(columns) == 1 and wrong.shape[1] > 1:
        return f", all in column {int(columns[0])}"
    return ""


def follows(mistake: tuple[str, str], call: str = "") -> str:
    """The hint for an answer of ``call`` that follows ``mistake``, (function, hint): its hint,
    said to be another function's where the call is not that function's (a backward following
    its forward)."""
    function, hint = mistake
    if re.match(rf"{re.escape(function)}\b", call):
        return hint
    return f"this follows the mistake in {function}: {hint}"
