"""How a check ends, and what a running check records besides.

A wrong answer raises CheckFailed, with the named mistake it shows, if any: (the student's
function, the hint). The grading keeps the mistakes charged so far (grader.runner); a check that
meets one of them again says so in a note and goes on (``fail_unless_charged``), so each
mistake costs its points once. ``note`` tells the student something that costs no points.
Check files reach all of this through grader.checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, NoReturn

from grader.student_code.errors import (
    MissingFunction,
    NotImplementedYet,
    StudentRaised,
    WrongSignature,
)

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


@dataclass
class CheckRecord:
    """What one running check records besides its outcome (grader.runner makes one per check).

    charged: the named mistakes earlier checks of the grading failed on, each with that check's
    title (read here, extended by the runner); repeats: those this check met again and did not
    fail on, the first time each showed in it (a mistake seen in ten calls is one line; met_again
    holds which); notes: lines for the student that cost no points, each under a key that says
    what it is about (one note per key: a function changing the same argument in ten calls is one
    note).
    """

    charged: Mapping[Mistake, str] = field(default_factory=dict)
    repeats: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)
    met_again: set[Mistake] = field(default_factory=set)


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


def fail_unless_charged(message: str, mistake: Mistake | None) -> None:
    """Fail, unless ``mistake`` was charged by an earlier check: then note it and go on.

    Going on (rather than passing the check) keeps every other part of the check in force, so a
    mistake made once cannot excuse an answer that was never checked.
    """
    record = _record.get()
    earlier = record.charged.get(mistake) if record is not None and mistake else None
    if earlier is None:
        fail(message, mistake)
    assert record is not None and mistake is not None
    if mistake not in record.met_again:
        record.met_again.add(mistake)
        record.repeats.append(
            f"{message} This is the mistake charged in “{earlier}”: not again here."
        )


def answer_or_none(function: Callable[..., Any], *args: Any) -> Any:
    """The answer of the student's ``function`` to ``args``, or None where it gives none (it
    raises, is unfinished or missing, or takes other arguments).

    For a look at a function the check does not score, to see whether it shows a named mistake
    that the scored function's answer follows: a function the student has not written yet must
    not stop the check of one that does not need it.
    """
    try:
        return function(*args)
    except (StudentRaised, NotImplementedYet, MissingFunction, WrongSignature):
        return None
