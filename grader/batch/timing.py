"""Late work: due dates (course.yaml), extensions (a CSV file) and the penalty for lateness.

course.yaml::

    late: {penalty_per_day: 10, max_penalty: 50, grace_minutes: 15}
    exercises:
      - id: exercise3
        due: 2026-12-01T23:59:00-05:00

The extensions file (``--extensions``), one row per extension::

    student,exercise,days
    alice,exercise3,2
    bob,,1            (no exercise, or `all`: every exercise)

A submission is late when it was made after its due date, plus the student's extension, plus the
grace period. Each day or part of a day after the extended due date takes ``penalty_per_day``
percent of the score earned, up to ``max_penalty`` percent. The raw score and the penalty are
both kept in the gradebook.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from grader.batch.instructor_csv import read_rows
from grader.course import Course, Exercise
from grader.errors import UsageError

EXTENSION_COLUMNS = ("student", "exercise", "days")
MAX_EXTENSIONS_BYTES = 16 * 2**20  # a line per student and exercise: a few MB for a large class

Extensions = dict[tuple[str, str], float]  # (student, exercise id or "all") -> extra days


@dataclass(frozen=True)
class Lateness:
    """days_late: whole days (started) after the extended due date, 0 if on time;
    penalty: percent of the score taken (0-100)."""

    days_late: int
    penalty: float

    def apply(self, raw_score: float) -> float:
        return raw_score * (1 - self.penalty / 100)


ON_TIME = Lateness(0, 0.0)


def lateness(
    course: Course,
    exercise: Exercise,
    student: str,
    submitted_at: datetime | None,
    extensions: Extensions,
) -> Lateness:
    """How late ``student``'s submission of ``exercise`` was, and the penalty it earns."""
    policy = course.late
    if policy is None or exercise.due is None or submitted_at is None:
        return ON_TIME
    extra = extensions.get((student, exercise.id), extensions.get((student, "all"), 0.0))
    due = exercise.due + timedelta(days=extra)
    if submitted_at <= due + timedelta(minutes=policy.grace_minutes):
        return ON_TIME
    days = math.ceil((submitted_at - due) / timedelta(days=1))
    return Lateness(days, min(days * policy.penalty_per_day, policy.max_penalty))


def read_extensions(path: Path, course: Course) -> Extensions:
    """The extensions file at ``path``; UsageError naming the line of any mistake."""
    ids = {exercise.id for exercise in course.exercises}
    rows = read_rows(path, MAX_EXTENSIONS_BYTES, EXTENSION_COLUMNS, "extension")
    extensions: Extensions = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 3:
            raise UsageError(f"{path}:{number}: expected 3 values (student,exercise,days)")
        student, exercise, days = (cell.strip() for cell in row)
        exercise = exercise or "all"
        if exercise != "all" and exercise not in ids:
            raise UsageError(
                f"{path}:{number}: no exercise {exercise!r} in the course; use an id from "
                "course.yaml, or leave it empty for every exercise"
            )
        try:
            extra = float(days)
        except ValueError:
            extra = math.nan
        if not math.isfinite(extra) or extra < 0:
            raise UsageError(f"{path}:{number}: days must be a number of days ≥ 0, got {days!r}")
        extensions[(student, exercise)] = extra
    return extensions
