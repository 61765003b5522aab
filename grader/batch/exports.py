"""Gradebook exports: grades.csv, adjustments.csv, and the file Canvas's gradebook imports.

grades.csv: ``student,id,<exercise ids in course order>,total``, one row per student, scores
after any late penalty and any adjustment (grader.batch.adjustments; clamped to [0, the
exercise's points]); an exercise with nothing handed in counts 0. ``id`` is the issued id the
roster matched the student by, or without one the Gradescope sid (else email) or the folder name.

adjustments.csv: ``student,exercise,points,comment,score_before,score,who,changed_at``, one row
per adjustment that counts now, of the students and exercises of the run.

canvas.csv, made from a roster (grader.batch.roster): the roster's identity columns as they are
(``Student,ID,SIS User ID,SIS Login ID,[Integration ID,]Section``), then each exercise's own
assignment column of the roster (``Title (assignment id)``), a ``Points Possible`` row under the
header, and a row per roster student; the roster's other columns are left out (Canvas leaves
assignments not in the file alone). A student with no submission, or one two submissions
matched, gets empty cells (Canvas leaves those grades as they are). unmatched.csv:
``student,reason``, the submissions given no roster row.

Text cells (a student's name, an adjustment's comment, the roster's columns) are written through
grader.safe_text.csv_cell: one a spreadsheet would run as a formula (``=HYPERLINK(...)``,
``@SUM(...)``) starts with a single quote, and control characters are shown as escapes. Scores are
numbers the grader wrote, and are written as they are.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from grader import safe_text
from grader.batch.adjustments import Adjustment
from grader.batch.discover import StudentEntry
from grader.batch.gradebook import RecordedGrading
from grader.batch.roster import Matching, entry_id
from grader.course import Exercise


@dataclass
class StudentGrades:
    """One student's current gradings, by exercise id (none for an exercise not graded), and
    the instructor's adjustments of them, by exercise id."""

    entry: StudentEntry
    gradings: dict[str, RecordedGrading] = field(default_factory=dict)
    adjustments: dict[str, Adjustment] = field(default_factory=dict)
    id: str = ""  # grades.csv's id: the issued id the roster matched (roster.entry_id if none)

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
    """grades.csv: a row per student, with the id that tells two of the same name apart."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "id", *(exercise.id for exercise in exercises), "total"])
    for student in students:
        writer.writerow(
            [
                safe_text.csv_cell(student.entry.name),
                safe_text.csv_cell(student.id or entry_id(student.entry)),
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


def unmatched_csv(matching: Matching) -> str:
    """unmatched.csv: ``student,reason``, the students given no roster row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "reason"])
    for problem in matching.unmatched:
        writer.writerow([safe_text.csv_cell(problem.student), safe_text.csv_cell(problem.reason)])
    return out.getvalue()


def canvas_csv(matching: Matching, exercises: list[Exercise], students: list[StudentGrades]) -> str:
    """The Canvas import file: the roster's identity columns, then each exercise's own
    assignment column of the roster, the Points Possible row, a row per roster student."""
    roster = matching.roster
    by_key = {student.entry.key: student for student in students}
    columns = [roster.columns[exercise.id] for exercise in exercises]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*roster.identity, *columns])
    blanks = ["Points Possible", *("" for _ in roster.identity[1:])]
    possible = [
        roster.points.get(column) or number(exercise.points)
        for column, exercise in zip(columns, exercises, strict=True)
    ]
    writer.writerow([*blanks, *(safe_text.csv_cell(cell) for cell in possible)])
    for index, row in enumerate(roster.rows):
        student = by_key.get(matching.rows.get(index, ""))
        cells = [
            ""
            if student is None or exercise.id not in student.gradings
            else number(student.score(exercise.id))
            for exercise in exercises
        ]
        identity = [safe_text.csv_cell(row.get(name, "")) for name in roster.identity]
        writer.writerow([*identity, *cells])
    return out.getvalue()
