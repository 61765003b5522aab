"""Running an exercise's checks against a submission: the grader's light check runner.

Checks are pytest-style functions (see grader.checks) collected from the files course.yaml names.
Each runs in the grader's process with its fixtures; it reaches the student's code only through
the worker (grader.student_code). Its outcome becomes a CheckResult: passed, failed (CheckFailed or
AssertionError: a wrong answer) or error (the student's code raised, timed out, crashed).

The worker is started first, so it imports numpy while the grader imports the checks.

Each mistake is charged once: the named mistakes a check fails on (the ``mistake`` of
grader.check_outcome.CheckFailed) are remembered, and a later check of the same grading that
meets one again goes on past it (grader.check_outcome.CheckRecord); if nothing else in it fails
it keeps its points, and a note says where the mistake was charged. Notes a check makes (an
argument changed in place, say) join the exercise's notes and cost nothing.
"""

from __future__ import annotations

import inspect
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from grader.check_outcome import CheckFailed, CheckRecord, Mistake, recording
from grader.checks import CheckInfo
from grader.course import Course, Exercise
from grader.course_modules import import_file
from grader.errors import CourseError
from grader.flags import suspicious_uses
from grader.results import CheckResult, ExerciseResult
from grader.sandbox.layers import active_layer_names, inactive_layers
from grader.signatures import with_course_signature
from grader.student_code.errors import (
    LoadFailed,
    StudentError,
    WrongSignature,
)
from grader.student_code.objects import StudentModule
from grader.student_code.session import StudentSession
from grader.submission import SubmissionProblem, read_source

PUBLIC_FIXTURES = frozenset({"student", "rng"})
HIDDEN_FIXTURES = PUBLIC_FIXTURES | {"solution"}


@dataclass(frozen=True)
class Check:
    """One check function and what the grader needs to run and score it."""

    id: str
    title: str
    points: float
    hidden: bool
    function: Callable[..., None]
    fixtures: tuple[str, ...]


# ---------------------------------------------------------------- collecting checks


def _collect(path: Path, hidden: bool) -> list[Check]:
    module = import_file(path, "checks")
    allowed = HIDDEN_FIXTURES if hidden else PUBLIC_FIXTURES
    found = []
    for name, function in vars(module).items():
        info = getattr(function, "__check__", None)
        if not isinstance(info, CheckInfo):
            continue
        fixtures = tuple(inspect.signature(function).parameters)
        unknown = [fixture for fixture in fixtures if fixture not in allowed]
        if unknown:
            why = (
                "public checks must not use the solution: put this check in the hidden file"
                if unknown == ["solution"]
                else f"the fixtures are {', '.join(sorted(allowed))}"
            )
            raise CourseError(
                f"{path}:{function.__code__.co_firstlineno}: {name} asks for "
                f"{', '.join(unknown)}; {why}"
            )
        summary = (inspect.getdoc(function) or name).splitlines()[0]
        found.append(
            Check(
                id=name.removeprefix("test_"),
                title=summary,
                points=info.points,
                hidden=hidden,
                function=function,
                fixtures=fixtures,
            )
        )
    found.sort(key=lambda item: item.function.__code__.co_firstlineno)
    return found


def load_checks(course: Course, exercise: Exercise) -> list[Check]:
    """The exercise's public then hidden checks; their points must add up to the exercise's."""
    checks = _collect(exercise.checks, hidden=False)
    if exercise.hidden_checks is not None:
        checks += _collect(exercise.hidden_checks, hidden=True)
    ids = [item.id for item in checks]
    duplicates = sorted({name for name in ids if ids.count(name) > 1})
    if duplicates:
        raise CourseError(
            f"{exercise.checks}: check names used twice in {exercise.id}: "
            f"{', '.join(duplicates)}; rename one of each"
        )
    total = sum(item.points for item in checks)
    if not checks or abs(total - exercise.points) > 1e-9:
        raise CourseError(
            f"{course.path}: {exercise.id} is worth {exercise.points:g} points but its "
            f"{len(checks)} checks add up to {total:g}; make the two agree"
        )
    return checks


def load_solution(exercise: Exercise) -> ModuleType:
    if exercise.solution_file is None:
        raise CourseError(
            f"{exercise.id} has hidden checks that use the solution but no "
            "solution_file in course.yaml; add one"
        )
    return import_file(exercise.solution_file, "solutions")


def check_rng(seed: int, exercise_id: str, check_id: str) -> np.random.Generator:
    """The random generator a check gets: the same for the same course seed, exercise and check."""
    return np.random.default_rng(
        [seed, zlib.crc32(exercise_id.encode()), zlib.crc32(check_id.encode())]
    )


# ---------------------------------------------------------------- running


class Grading:
    """The grading of one submission for one exercise: built (nothing happens), started (its file
    read and its worker started), then run (the checks imported and run), and closed.

    Building one is cheap and does nothing, so a command can plan every grading first and then
    start them all at once: each worker imports numpy while the grader imports the checks.
    """

    def __init__(
        self,
        course: Course,
        exercise: Exercise,
        path: Path,
        shown_path: str,
        notes: tuple[str, ...] = (),
        run_all_cells: bool = False,
    ) -> None:
        """``notes`` go into the result as they are (why this file was chosen, say)."""
        self.course = course
        self.exercise = exercise
        self.path = path
        self.shown_path = shown_path
        self.notes = [*notes]
        self.run_all_cells = run_all_cells
        self.started: float | None = None
        self.problem: SubmissionProblem | None = None
        self.flags: list[str] = []
        self.session: StudentSession | None = None

    def start(self) -> None:
        """Read the file and start its worker (the spare one, if it fits); the grading's time
        and its wall-clock budget count from here. Once only: later calls do nothing."""
        if self.started is not None:
            return
        self.started = time.monotonic()
        source = read_source(self.path, self.run_all_cells)
        if isinstance(source, SubmissionProblem):
            self.problem = source
            return
        self.flags = suspicious_uses(source.text)
        if source.left_out:
            from grader.notebook_code import left_out_note  # only for notebooks

            self.notes.append(left_out_note(source.left_out))
        self.session = StudentSession(
            replace(source, path=self.shown_path),
            self.exercise.limits,
            self.started + self.exercise.limits.wall_seconds,
        )
        self.session.start()

    def run(self) -> ExerciseResult:
        """Start the grading if it is not yet, run every check, close it; the result."""
        try:
            self.start()
            return self._run()
        finally:
            self.close()

    def close(self) -> None:
        """Stop the worker; safe to call more than once, and before start."""
        if self.session is not None:
            self.session.close()

    def _run(self) -> ExerciseResult:
        checks = load_checks(self.course, self.exercise)
        result = ExerciseResult(
            exercise=self.exercise.id,
            title=self.exercise.title,
            max_score=self.exercise.points,
            file=self.shown_path,
            notes=self.notes,
            flags=self.flags,
            hidden_points=self.exercise.hidden_points,
        )
        if self.problem is not None:
            result.problem = self.problem.message
        elif self.session is not None and not self.session.load():
            result.problem = f"your file could not be loaded: {self.session.load_error}"
        if result.problem is not None:
            result.checks = [
                self._not_run(item, "not run: your file could not be loaded") for item in checks
            ]
        else:
            assert self.session is not None
            student = StudentModule(self.session)
            charged: dict[Mistake, str] = {}
            notes: dict[str, str] = {}
            result.checks = [self._run_check(item, student, charged, notes) for item in checks]
            result.notes += notes.values()
        if self.session is not None:
            result.output = self.session.output()
        result.sandbox = active_layer_names(self.session.workers_applied if self.session else None)
        result.sandbox_off = inactive_layers(result.sandbox)
        assert self.started is not None
        result.seconds = time.monotonic() - self.started
        return result

    def _run_check(
        self,
        item: Check,
        student: StudentModule,
        charged: dict[Mistake, str],
        notes: dict[str, str],
    ) -> CheckResult:
        assert self.session is not None
        if time.monotonic() >= self.session.deadline:
            return self._not_run(
                item, f"not run: the grading used up its {self.exercise.limits.wall_seconds:g} s"
            )
        rng = check_rng(self.course.seed, self.exercise.id, item.id)
        return run_check(item, student, rng, self.exercise, charged, notes)

    @staticmethod
    def _not_run(item: Check, message: str) -> CheckResult:
        return CheckResult(
            id=item.id,
            title=item.title,
            score=0.0,
            max_score=item.points,
            status="error",
            hidden=item.hidden,
            message=message,
            kind="not run",
        )


def run_check(
    item: Check,
    student: StudentModule,
    rng: np.random.Generator,
    exercise: Exercise,
    charged: dict[Mistake, str] | None = None,
    notes: dict[str, str] | None = None,
) -> CheckResult:
    """Run one check with its fixtures and turn its outcome into a CheckResult.

    charged: the named mistakes earlier checks of this grading failed on, each with that check's
    title (grader.check_outcome.CheckRecord); this check's own is added. notes: where the check's
    notes for the student go (by key, the first of each kept), and the mistakes it met again.
    """
    fixtures: dict[str, Any] = {"student": student, "rng": rng}
    if "solution" in item.fixtures:
        fixtures["solution"] = load_solution(exercise)
    started = time.monotonic()
    status, message, kind = "passed", "", ""
    line: int | None = None
    record = CheckRecord(charged=charged if charged is not None else {})
    try:
        # A diverging answer makes the check's own arithmetic overflow: that is the check's
        # business (it fails the answer), never a warning on the student's terminal.
        with recording(record), np.errstate(all="ignore"):
            item.function(**{name: fixtures[name] for name in item.fixtures})
    except CheckFailed as failure:
        status, message = "failed", str(failure) or f"{item.title}: not so"
        if charged is not None and failure.mistake and failure.mistake not in charged:
            charged[failure.mistake] = item.title
    except AssertionError as failure:
        status, message = "failed", str(failure) or f"{item.title}: not so"
    except LoadFailed as error:
        status, message = "error", f"not run: your file could not be loaded: {error}"
        kind, line = error.kind, error.line
    except StudentError as error:
        status, message = "error", str(error)
        if isinstance(error, WrongSignature):
            message = with_course_signature(message, exercise.solution_file)
        kind, line = error.kind, error.line
    except Exception as error:  # a bug in the check itself, or a value it did not expect
        status, kind = "error", "check"
        message = (
            f"the check itself failed ({type(error).__name__}: {error}); your "
            "instructor should look at this"
        )
    if notes is not None:
        for key, text in [*record.notes.items(), *((text, text) for text in record.repeats)]:
            notes.setdefault(key, text)
    return CheckResult(
        id=item.id,
        title=item.title,
        score=item.points if status == "passed" else 0.0,
        max_score=item.points,
        status=status,  # type: ignore[arg-type]
        hidden=item.hidden,
        message=message,
        seconds=time.monotonic() - started,
        kind=kind,
        line=line,
    )


def not_submitted(course: Course, exercise: Exercise, message: str) -> ExerciseResult:
    """The result for an exercise with no file to grade: every check 0, ``message`` says why."""
    result = ExerciseResult(
        exercise=exercise.id,
        title=exercise.title,
        max_score=exercise.points,
        file=None,
        problem=message,
        hidden_points=exercise.hidden_points,
    )
    result.checks = [
        Grading._not_run(item, "not run: nothing was submitted")
        for item in load_checks(course, exercise)
    ]
    return result


def grade(
    course: Course,
    exercise: Exercise,
    path: Path,
    shown_path: str | None = None,
    run_all_cells: bool = False,
) -> ExerciseResult:
    """Grade the file at ``path`` for ``exercise``: start its worker, run every check."""
    return Grading(
        course, exercise, path, shown_path or str(path), run_all_cells=run_all_cells
    ).run()
