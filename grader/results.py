"""What a grading produces: one CheckResult per check, grouped in an ExerciseResult.

Points are floats (a course may give half points); a check scores all its points or none.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from grader.student_code.errors import STUDENT_ERRORS

Status = Literal["passed", "failed", "error"]
# The kinds of error a check can end in: each error of the student's code (the function raised,
# was left unfinished, is missing or takes other parameters; the call timed out; the worker
# crashed; the file could not be loaded), then the check was not run, or the check itself failed.
ERROR_KINDS = (*(error.kind for error in STUDENT_ERRORS), "not run", "check")


def grading_environment() -> dict[str, str]:
    """The Python and numpy versions a grading runs with, {"python": "3.11.7", "numpy": ...}.

    The worker runs the grader's own interpreter, so these are the grader's: never what a
    worker says about itself.
    """
    return {"python": platform.python_version(), "numpy": np.__version__}


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome.

    id: the check function's name without ``test_`` (stable, for gradebooks);
    title: its docstring's first line (for people); status: passed, failed (a wrong answer) or
    error (the student's code raised, timed out, crashed, or could not be loaded);
    seconds: wall time the check took;
    kind: for an error, what kind (ERROR_KINDS), so a class report can count timeouts and crashes;
    line: for an error, the submission's line it happened at, where known (1-based, in the
    script graded: a notebook's code cells one after the other).
    """

    id: str
    title: str
    score: float
    max_score: float
    status: Status
    hidden: bool
    message: str
    seconds: float = 0.0
    kind: str = ""
    line: int | None = None


@dataclass
class ExerciseResult:
    """The grading of one exercise's submission.

    file: the graded file as the user named it (None if there was none);
    problem: why the file could not be run at all, if so (every check then scores 0);
    output: what the student's code printed (capped);
    notes: what the student should know that is not a check (which file was chosen, notebook code
    left out);
    flags: for the instructor, suspicious imports and calls in the code (grader.flags);
    sandbox: the protection layers that were active for this grading (grader.sandbox.layers);
    sandbox_off: the others, each {"name", "why"}: why it was off and what follows;
    hidden_points: in a student release, the points of the hidden checks left out of it;
    environment: the Python and numpy versions it was graded with (grading_environment).
    """

    exercise: str
    title: str
    max_score: float
    file: str | None
    checks: list[CheckResult] = field(default_factory=list)
    problem: str | None = None
    output: str = ""
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    sandbox: list[str] = field(default_factory=list)
    sandbox_off: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    hidden_points: float = 0.0  # points of hidden checks graded later, not here (a release)
    environment: dict[str, str] = field(default_factory=grading_environment)

    @property
    def score(self) -> float:
        return sum(result.score for result in self.checks)

    @property
    def full_marks(self) -> bool:
        return self.score >= self.max_score


@dataclass
class CourseResult:
    """Several exercises graded in one run (``grade all``)."""

    exercises: list[ExerciseResult]

    @property
    def score(self) -> float:
        return sum(result.score for result in self.exercises)

    @property
    def max_score(self) -> float:
        return sum(result.max_score for result in self.exercises)

    @property
    def full_marks(self) -> bool:
        return all(result.full_marks for result in self.exercises)
