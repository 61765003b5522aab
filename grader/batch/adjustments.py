"""Adjustments: points an instructor adds to or takes from a score, read from a CSV file.

The file (``grade batch ... --adjustments adjustments.csv``), one row per student and exercise::

    student,exercise,points,comment
    alice,exercise3,2,"Your notebook's cell 4 was right; the grader missed it"
    bob,exercise5,-3,Copied the forward pass from the lesson without citing it

``points`` is a number: positive adds, negative takes. ``comment`` is required: the student reads
it in their feedback. ``student`` is the student's name as grades.csv shows it (or the key their
feedback file is named after); ``exercise`` an exercise id of the run.

An adjustment is kept in the gradebook by student and exercise, not by grading: it applies to
whatever grading is current, so it survives every regrade (a changed submission, changed checks).
The adjusted score is clamped to [0, the exercise's points].

The file is read as the roster and the extensions are (grader.batch.timing): opened only once it
is known to be a regular file, read with a cap, decoded as UTF-8. Every mistake is one line
naming the file, the row, the column and the fix (see AdjustmentsRefused); the run grades nothing
until the file is right.
"""

from __future__ import annotations

import difflib
import getpass
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from grader.batch.instructor_csv import RowsRefused, read_rows
from grader.course import Course, Exercise

COLUMNS = ("student", "exercise", "points", "comment")
MAX_ADJUSTMENTS_BYTES = 16 * 2**20  # a row per student and exercise: a few MB for a large class
MAX_COMMENT_CHARS = 2_000


@dataclass(frozen=True)
class Adjustment:
    """One adjustment of one student's exercise: the points it adds (negative: takes) and the
    comment the student is shown; ``who`` made it and ``when`` (ISO 8601, UTC), for the record."""

    points: float
    comment: str
    who: str = ""
    when: str = ""

    def apply(self, score: float, max_score: float) -> float:
        """``score`` adjusted, clamped to [0, ``max_score``]."""
        return min(max(score + self.points, 0.0), max_score)


@dataclass(frozen=True)
class AdjustmentRow:
    """One row of the file: ``row`` is its line number in the file (the header is row 1), and
    ``student`` as written; ``key`` is filled in once the student is found in the run."""

    row: int
    student: str
    exercise: str
    points: float
    comment: str
    key: str = ""


class AdjustmentsRefused(RowsRefused):
    """The adjustments file has mistakes: ``lines``, one per mistake."""


def current_user() -> str:
    """The OS user running the command (by user id; the login name when that has no entry)."""
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        try:
            return getpass.getuser()
        except OSError:
            return f"uid {os.geteuid()}"


def read_adjustments(path: Path, course: Course, exercises: list[Exercise]) -> list[AdjustmentRow]:
    """The rows of the adjustments file at ``path``, for a run grading ``exercises``.

    UsageError if the file cannot be read or has no header; AdjustmentsRefused listing every bad
    row (a points cell that is no number, an empty comment, an exercise not in the run, a second
    row for one student and exercise)."""
    rows = read_rows(path, MAX_ADJUSTMENTS_BYTES, COLUMNS, "adjustment")
    in_run = {exercise.id for exercise in exercises}
    in_course = {exercise.id for exercise in course.exercises}
    found: list[AdjustmentRow] = []
    mistakes: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"{path}: row {number}"
        if len(row) != len(COLUMNS):
            mistakes.append(
                f"{where}: {len(row)} values, expected 4 (student,exercise,points,comment); "
                'quote a comment holding a comma: "like, this"'
            )
            continue
        student, exercise, points_text, comment = (cell.strip() for cell in row)
        problems = []
        if not student:
            problems.append(f"{where}, column student: empty; name the student as grades.csv does")
        if exercise not in in_run:
            problems.append(
                f"{where}, column exercise: {_exercise_fix(exercise, in_run, in_course)}"
            )
        points = _number(points_text)
        if points is None:
            problems.append(
                f"{where}, column points: {points_text!r} is not a number; write the points to "
                "add (2, 1.5) or take (-3)"
            )
        if not comment:
            problems.append(
                f"{where}, column comment: empty; say why, the student reads it in the feedback"
            )
        elif len(comment) > MAX_COMMENT_CHARS:
            problems.append(
                f"{where}, column comment: {len(comment)} characters; keep it to "
                f"{MAX_COMMENT_CHARS}"
            )
        earlier = seen.get((student, exercise))
        if earlier is not None and student and exercise:
            problems.append(
                f"{where}: {student} already has an adjustment of {exercise} in row {earlier}; "
                "put them in one row"
            )
        seen.setdefault((student, exercise), number)
        mistakes += problems
        if not problems and points is not None:
            found.append(AdjustmentRow(number, student, exercise, points, comment))
    if mistakes:
        raise AdjustmentsRefused(path, mistakes)
    return found


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _exercise_fix(exercise: str, in_run: set[str], in_course: set[str]) -> str:
    if not exercise:
        return "empty; give the id of the exercise adjusted (from course.yaml)"
    if exercise in in_course:
        return f"{exercise} is not graded in this run; add it to --exercise, or leave the row out"
    close = difflib.get_close_matches(exercise, sorted(in_run), n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"no exercise {exercise!r} in this run{hint} (use an id from course.yaml)"


def match_students(
    path: Path, rows: list[AdjustmentRow], students: Iterable[tuple[str, str]]
) -> list[AdjustmentRow]:
    """``rows`` with each student's key, from the run's ``students`` (name, key); a student
    named by name first, then by key, then by either in any case when only one matches.
    AdjustmentsRefused, a line per row, for a student not in the run or named twice."""
    names: dict[str, str] = {}
    keys: set[str] = set()
    folded: dict[str, set[str]] = {}
    for name, key in students:
        names.setdefault(name, key)
        keys.add(key)
        for text in (name, key):
            folded.setdefault(text.casefold(), set()).add(key)
    matched: list[AdjustmentRow] = []
    mistakes: list[str] = []
    first: dict[tuple[str, str], int] = {}
    for row in rows:
        # grades.csv shows a name a spreadsheet would run as a formula after a quote: '=x
        student = row.student.removeprefix("'") if row.student not in names else row.student
        found = names.get(student) or (student if student in keys else None)
        if found is None and len(folded.get(row.student.casefold(), ())) == 1:
            found = next(iter(folded[row.student.casefold()]))
        where = f"{path}: row {row.row}, column student"
        if found is None:
            close = difflib.get_close_matches(row.student, sorted(names), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            mistakes.append(
                f"{where}: no student {row.student!r} in SUBMISSIONS{hint} (name the student as "
                "grades.csv does, or leave the row out)"
            )
            continue
        earlier = first.setdefault((found, row.exercise), row.row)
        if earlier != row.row:
            mistakes.append(
                f"{where}: {row.student} is the student of row {earlier} too, with the same "
                f"exercise {row.exercise}; put them in one row"
            )
            continue
        matched.append(replace(row, key=found))
    if mistakes:
        raise AdjustmentsRefused(path, mistakes)
    return matched
