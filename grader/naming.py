"""Naming the mistake of a failure that happens anyway, around a block of a check.

A check compares as it always does; where the comparison fails and the answer is exactly what one
of the check's listed mistakes gives at its own point (and no other listed mistake gives the
same), ``naming`` adds that mistake's hint as the message's second line and charges it once, as
a mistake of the student's function (grader.check_outcome). ``explaining`` adds a hint to an
error the student's code raised, from what its message says; an error is never excused.

A mistake met again, which an earlier check charged, is noted and ends the ``naming`` block
without failing: the check goes on after the block. Put in the block only the comparison the
mistake is about, and keep after it whatever else the check must verify. Check files reach both
through grader.checks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from grader.check_messages import follows, with_hint
from grader.check_outcome import CheckFailed, fail_unless_charged
from grader.hints import hint_for
from grader.student_code.errors import StudentRaised

Key = str | tuple[str, str]  # a hint of the function under check, or (function, hint)


def named_hint(got: Any, expected: Any, mistakes: Mapping[Key, Any]) -> Key | None:
    """The key of the one mistake in ``mistakes`` (hint, or (function, hint), -> the value it
    gives) whose value ``got`` is, where the right answer ``expected`` is not that value; None
    where none or several match (then nothing tells them apart)."""
    try:
        got_array = np.asarray(got, dtype=np.float64)
        expected_array = np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if got_array.shape != expected_array.shape:
        return None
    found = [
        key
        for key, value in mistakes.items()
        if hint_for(got_array, expected_array, {"named": value}) == "named"
    ]
    return found[0] if len(found) == 1 else None


def first_line(failure: CheckFailed) -> str:
    """A failure's message without its hint: what is wrong."""
    return str(failure).split("\nHint:")[0].rstrip(".")


@contextmanager
def naming(function: str, got: Any, expected: Any, mistakes: Mapping[Key, Any]) -> Iterator[None]:
    """Within the block, a failure that names no mistake of its own is told which of
    ``mistakes`` ``got`` shows (expected: the right answer for ``got``): a hint is a mistake of
    the student's ``function``, a (function, hint) key another function's mistake that the answer
    follows. It is charged once in a grading, where it is first met: a later check, public or
    hidden, that meets it again notes it and goes on after the block."""
    try:
        yield
    except CheckFailed as failure:
        key = None if failure.mistake else named_hint(got, expected, mistakes)
        if key is None:
            raise
        mistake = key if isinstance(key, tuple) else (function, key)
        fail_unless_charged(with_hint(first_line(failure), follows(mistake, function)), mistake)


@contextmanager
def explaining(errors: Mapping[tuple[str, ...], str]) -> Iterator[None]:
    """Within the block, an exception the student's code raised whose message holds every text
    of a key of ``errors`` gets that key's hint as its second line (the same error, the same
    points)."""
    try:
        yield
    except StudentRaised as error:
        hint = next(
            (hint for texts, hint in errors.items() if all(text in str(error) for text in texts)),
            None,
        )
        if hint is None or "\nHint:" in str(error):
            raise
        raise StudentRaised(with_hint(str(error).rstrip("."), hint), error.line) from None
