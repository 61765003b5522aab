"""What can go wrong in the student's code, as the checks see it: one exception class per kind.

Each class carries ``kind``, the name reports and gradebooks count it under
(grader.results.ERROR_KINDS); a worker names its failure by the same kind (grader.wire.Raised),
and FROM_FAILURE turns it back into the class. The message of each is for the student.
"""

from __future__ import annotations

from typing import ClassVar

from grader.wire import FailureKind


class StudentError(Exception):
    """The student's code did not produce a value; the message is for the student.

    line: the submission's line it happened at, where known (1-based, in the script the grader
    ran: a notebook's cells one after the other), for reports that point at it.
    """

    status = "error"
    kind: ClassVar[str] = "raised"

    def __init__(self, message: str = "", line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class StudentRaised(StudentError):
    """The function raised an exception."""

    kind = "raised"


class NotImplementedYet(StudentError):
    """The function still raises NotImplementedError."""

    kind = "unfinished"


class MissingFunction(StudentError):
    """No function of that name in the submission."""

    kind = "missing"


class WrongSignature(StudentError):
    """The function's parameters do not accept the documented call."""

    kind = "signature"


class CallTimedOut(StudentError):
    """The call did not return before its deadline."""

    kind = "timeout"


class WorkerCrashed(StudentError):
    """The worker process exited, was killed, or sent bytes the grader cannot accept."""

    kind = "crash"


class LoadFailed(StudentError):
    """The submission could not be loaded at all."""

    kind = "load"


# Every kind, in the order reports list them.
STUDENT_ERRORS: tuple[type[StudentError], ...] = (
    StudentRaised,
    NotImplementedYet,
    MissingFunction,
    WrongSignature,
    CallTimedOut,
    WorkerCrashed,
    LoadFailed,
)

# The error a worker's failure (grader.wire.Raised.kind) stands for.
FROM_FAILURE: dict[FailureKind, type[StudentError]] = {
    "raised": StudentRaised,
    "unfinished": NotImplementedYet,
    "missing": MissingFunction,
    "signature": WrongSignature,
    "crash": WorkerCrashed,
    "timeout": CallTimedOut,
}
