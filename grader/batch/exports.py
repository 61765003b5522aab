"""Gradebook exports: grades.csv, adjustments.csv, and the file Canvas's gradebook imports.

grades.csv: ``student,<exercise ids in course order>,total``, one row per student, scores after
any late penalty and any adjustment (grader.batch.adjustments; clamped to [0, the exercise's
points]); an exercise with nothing handed in counts 0.

adjustments.csv: ``student,exercise,points,comment,score_before,score,who,changed_at``, one row
per adjustment that counts now, of the students and exercises of the run.

canvas.csv, made from a roster (a CSV exported from Canvas's gradebook, or written by hand, with
at least the columns ``Student,ID,SIS User ID,SIS Login ID,Section``): those five columns, then one
column per exercise, then a ``Points Possible`` row under the header. A roster row is matched to a
submission by SIS Login ID, then ID, then SIS User ID, then the student's name (any case), against
the submission's name and, for a Gradescope export, its sid and email. A student in the roster
with no submission gets empty cells (Canvas leaves those grades as they are).

Text cells (a student's name, an adjustment's comment, the roster's columns) are written through
grader.safe_text.csv_cell: one a spreadsheet would run as a formula (``=HYPERLINK(...)``,
``@SUM(...)``) starts with a single quote, and control characters are shown as escapes. Scores are
numbers the grader wrote, and are written as they are.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from grader import safe_text
from grader.batch.adjustments import Adjustment
from grader.batch.discover import StudentEntry
from grader.batch.gradebook import RecordedGrading
from grader.course import Exercise
from grader.errors import UsageError

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MATCH_ORDER = ("SIS Login ID", "ID", "SIS User ID", "Student")


@dataclass
class StudentGrades:
    """One student's current gradings, by exercise id (none for an exercise not graded), and
    the instructor's adjustments of them, by exercise id."""

    entry: StudentEntry
    gradings: dict[str, RecordedGrading] = field(default_factory=dict)
    adjustments: dict[str, Adjustment] = field(default_factory=dict)

    def unadjusted(self, exercise: str) -> float:
        """The exercise's score after any late penalty, before any adjustment."""
        grading = self.gradings.get(exercise)
        return grading.score if grading is not None else 0.0

    def score(self, exercise: str) -> float:
        """The exercise's score: after any late penalty and adjustment, clamped to [0, its
        points]; 0 if it was not graded (an adjustment needs a grading to adjust)."""
        grading = self.gradings.get(exercise)
        if grading is None:
            return 0.0
        adjustment = self.adjustments.get(exercise)
        if adjustment is None:
            return grading.score
        return adjustment.apply(grading.score, grading.max_score)

    def total(self) -> float:
        return sum(self.score(exercise) for exercise in self.gradings)


def number(value: float) -> str:
    """A score as a spreadsheet wants it: no trailing zeros, at most 4 decimals."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def grades_csv(exercises: list[Exercise], students: list[StudentGrades]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", *(exercise.id for exercise in exercises), "total"])
    for student in students:
        writer.writerow(
            [
                safe_text.csv_cell(student.entry.name),
                *(number(student.score(exercise.id)) for exercise in exercises),
                number(student.total()),
            ]
        )
    return out.getvalue()


ADJUSTMENT_COLUMNS = (
    *("student", "exercise", "points", "comment"),
    *("score_before", "score", "who", "changed_at"),
)


def adjustments_csv(exercises: list[Exercise], students: list[StudentGrades]) -> str:
    """The adjustments that count now, with the scores before and after them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ADJUSTMENT_COLUMNS)
    for student in students:
        for exercise in exercises:
            adjustment = student.adjustments.get(exercise.id)
            if adjustment is None or exercise.id not in student.gradings:
                continue
            writer.writerow(
                [
                    safe_text.csv_cell(student.entry.name),
                    exercise.id,
                    number(adjustment.points),
                    safe_text.csv_cell(adjustment.comment),
                    number(student.unadjusted(exercise.id)),
                    number(student.score(exercise.id)),
                    safe_text.csv_cell(adjustment.who),
                    adjustment.when,
                ]
            )
    return out.getvalue()


def read_roster(path: Path) -> list[dict[str, str]]:
    """The roster's rows (Canvas's own "Points Possible" and muting rows left out)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [name for name in CANVAS_COLUMNS if name not in (reader.fieldnames or [])]
            if missing:
                raise UsageError(
                    f"{path}:1: the roster lacks the column(s) {', '.join(missing)}; export the "
                    "gradebook from Canvas (Grades > Export) and pass that file"
                )
            rows = [
                {name: (row.get(name) or "").strip() for name in CANVAS_COLUMNS} for row in reader
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise UsageError(f"{path}: cannot be read as a CSV file ({error})") from None
    return [
        row
        for row in rows
        if row["Student"] and not row["Student"].lower().startswith(("points possible", "    "))
    ]


def _identities(entry: StudentEntry) -> set[str]:
    found = {entry.name, entry.key, entry.details.get("sid", ""), entry.details.get("email", "")}
    if "@" in entry.details.get("email", ""):
        found.add(entry.details["email"].split("@")[0])
    return {item.casefold() for item in found if item}


def canvas_csv(
    roster: list[dict[str, str]], exercises: list[Exercise], students: list[StudentGrades]
) -> tuple[str, list[str]]:
    """The Canvas import file, and the names of students with no roster row."""
    by_identity: dict[str, StudentGrades] = {}
    for student in students:
        for identity in _identities(student.entry):
            by_identity.setdefault(identity, student)
    matched: set[str] = set()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CANVAS_COLUMNS, *(exercise.id for exercise in exercises)])
    writer.writerow(["Points Possible", "", "", "", "", *(number(e.points) for e in exercises)])
    for row in roster:
        match = next(
            (
                by_identity[row[column].casefold()]
                for column in MATCH_ORDER
                if row[column] and row[column].casefold() in by_identity
            ),
            None,
        )
        if match is not None:
            matched.add(match.entry.key)
        cells = [
            ""
            if match is None or exercise.id not in match.gradings
            else number(match.score(exercise.id))
            for exercise in exercises
        ]
        writer.writerow([*(safe_text.csv_cell(row[column]) for column in CANVAS_COLUMNS), *cells])
    unmatched = [student.entry.name for student in students if student.entry.key not in matched]
    return out.getvalue(), unmatched
