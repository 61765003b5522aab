"""Adjustments (`grade batch --adjustments CSV`) and the gradebook's current gradings.

An instructor's adjustment adds or takes points, clamped to [0, the exercise's points], is shown
to the student with its comment and in every export, survives a regrade, and is recorded with
who made it and when; a file with mistakes stops the run before anything is graded, with a line
per mistake. The gradebook marks the one grading of each student and exercise the outputs show.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.batch.adjustments import (
    Adjustment,
    AdjustmentRow,
    AdjustmentsRefused,
    match_students,
    read_adjustments,
)
from grader.batch.discover import StudentEntry
from grader.batch.exports import StudentGrades, adjustments_csv, canvas_csv, grades_csv
from grader.batch.gradebook import SCHEMA_VERSION, Gradebook, RecordedGrading
from grader.batch.roster import Roster, match
from grader.course import Course
from grader.errors import UsageError
from tests.helpers import REPO

SOLUTION = (REPO / "solutions" / "exercise1_derivatives.py").read_text()
STUB = (REPO / "exercises" / "exercise1_derivatives.py").read_text()
HEADER = "student,exercise,points,comment\n"
FORMULA = '=HYPERLINK("http://evil.example/","click") <script>alert(1)</script> *bold*'
ADJUSTMENTS = (
    HEADER + "ann,exercise1,-4,Copied from the lesson\n"  # 10 - 4 = 6
    "bob,exercise1,-4,Handed in late by email\n"  # 0 - 4: clamped to 0
    "cy,exercise1,3,Your notebook was right\n"  # 0 + 3 = 3
    f'dee,exercise1,5,"{FORMULA.replace(chr(34), chr(34) * 2)}"\n'  # 10 + 5: clamped to 10
)
ROSTER = (
    "Student,ID,SIS User ID,SIS Login ID,Section,Derivatives (101)\n"
    "Ann,1,S1,ann,A\nBob,2,S2,bob,A\nCy,3,S3,cy,A\nDee,4,S4,dee,A\nEve,5,S5,eve,A\n"
)


def batch(submissions: Path, out: Path, *options: str | Path) -> subprocess.CompletedProcess:
    """`grade batch SUBMISSIONS --out OUT --exercise exercise1 OPTIONS...`, one grading process."""
    return subprocess.run(
        [
            *(sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out)),
            *("--exercise", "exercise1", "--jobs", "1", "--course", str(REPO / "course.yaml")),
            *map(str, options),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


def grades(out: Path) -> dict[str, str]:
    rows = csv.DictReader(io.StringIO((out / "grades.csv").read_text()))
    return {row["student"]: row["exercise1"] for row in rows}


def query(out: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return db.execute(sql).fetchall()


def make_class(folder: Path) -> Path:
    """ann, dee and eve hand in the solution (10 points), bob and cy the stub (0)."""
    submissions = folder / "submissions"
    for name, text in (("ann", SOLUTION), ("bob", STUB), ("cy", STUB), ("dee", SOLUTION)):
        (submissions / name).mkdir(parents=True)
        (submissions / name / "exercise1_derivatives.py").write_text(text)
    (submissions / "eve").mkdir()
    (submissions / "eve" / "exercise1_derivatives.py").write_text(SOLUTION)
    return submissions


@dataclass(frozen=True)
class Run:
    folder: Path
    submissions: Path
    out: Path
    done: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The class graded once, with the adjustments and a roster."""
    folder = tmp_path_factory.mktemp("adjusted")
    submissions = make_class(folder)
    (folder / "adjustments.csv").write_text(ADJUSTMENTS)
    (folder / "roster.csv").write_text(ROSTER)
    out = folder / "out"
    done = batch(
        submissions,
        out,
        *("--adjustments", folder / "adjustments.csv", "--roster", folder / "roster.csv"),
    )
    assert done.returncode == 0, done.stderr
    return Run(folder, submissions, out, done)


@pytest.fixture(scope="module")
def second(first: Run, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """A copy of the first run's class and output, bob's file changed to the solution, graded
    again without --adjustments."""
    folder = tmp_path_factory.mktemp("regraded")
    submissions, out = folder / "submissions", folder / "out"
    shutil.copytree(first.submissions, submissions)
    shutil.copytree(first.out, out)
    (submissions / "bob" / "exercise1_derivatives.py").write_text(SOLUTION)
    done = batch(submissions, out)
    assert done.returncode == 0, done.stderr
    assert "1 to grade" in done.stderr
    return Run(folder, submissions, out, done)


class TestAdjustedScores:
    def test_an_adjustment_adds_and_takes_clamped(self, first: Run) -> None:
        assert grades(first.out) == {"ann": "6", "bob": "0", "cy": "3", "dee": "10", "eve": "10"}

    def test_the_gradebook_keeps_the_checks_score(self, first: Run) -> None:
        rows = query(first.out, "SELECT student, score FROM gradings ORDER BY student")
        assert rows == [("ann", 10.0), ("bob", 0.0), ("cy", 0.0), ("dee", 10.0), ("eve", 10.0)]
        adjusted = query(
            first.out,
            "SELECT student, adjustment, adjusted_score FROM current_gradings ORDER BY student",
        )
        assert adjusted == [
            ("ann", -4.0, 6.0),
            ("bob", -4.0, 0.0),
            ("cy", 3.0, 3.0),
            ("dee", 5.0, 10.0),
            ("eve", 0.0, 10.0),
        ]

    def test_canvas_gets_the_adjusted_scores(self, first: Run) -> None:
        rows = list(csv.reader(io.StringIO((first.out / "canvas.csv").read_text())))
        assert [row[-1] for row in rows[2:]] == ["6", "0", "3", "10", "10"]

    def test_feedback_shows_the_points_and_the_comment(self, first: Run) -> None:
        for kind in ("md", "html"):
            cy = (first.out / "feedback" / f"cy.{kind}").read_text()
            assert "Your notebook was right" in cy and "+3 points" in cy
            assert "(3 / 10)" in cy
            ann = (first.out / "feedback" / f"ann.{kind}").read_text()
            assert "Copied from the lesson" in ann and "-4 points" in ann.replace("\\-", "-")
            assert "(6 / 10)" in ann
            eve = (first.out / "feedback" / f"eve.{kind}").read_text()
            assert "Adjusted" not in eve

    def test_feedback_escapes_the_comment(self, first: Run) -> None:
        html = (first.out / "feedback" / "dee.html").read_text()
        assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        markdown = (first.out / "feedback" / "dee.md").read_text()
        assert "\\<script\\>" in markdown and "\\*bold\\*" in markdown
        assert "<script>" not in markdown

    def test_a_formula_in_a_comment_is_made_safe_in_the_export(self, first: Run) -> None:
        rows = list(csv.DictReader(io.StringIO((first.out / "adjustments.csv").read_text())))
        dee = next(row for row in rows if row["student"] == "dee")
        assert dee["comment"] == "'" + FORMULA
        assert (dee["points"], dee["score_before"], dee["score"]) == ("5", "10", "10")
        assert sorted(row["student"] for row in rows) == ["ann", "bob", "cy", "dee"]


class TestHistory:
    def test_who_and_when_and_the_file_are_recorded(self, first: Run) -> None:
        rows = query(
            first.out,
            "SELECT student, points, removed, source_file, who, changed_at FROM adjustments",
        )
        assert len(rows) == 4
        for _, _, removed, source, who, when in rows:
            assert removed == 0
            assert source == str(first.folder / "adjustments.csv")
            assert who
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", when), when

    def test_a_changed_file_adds_rows_and_records_removals(
        self, first: Run, tmp_path: Path
    ) -> None:
        out = tmp_path / "out"
        shutil.copytree(first.out, out)
        changed = tmp_path / "adjustments.csv"
        kept = [line for line in ADJUSTMENTS.splitlines(keepends=True) if line.startswith("dee")]
        changed.write_text(
            HEADER
            + 'ann,exercise1,-2,"Copied from the lesson, in part"\n'  # changed
            + "bob,exercise1,-4,Handed in late by email\n"  # the same; cy's row is gone
            + "".join(kept)
        )
        done = batch(first.submissions, out, "--adjustments", changed)
        assert done.returncode == 0, done.stderr
        assert "1 new or changed, 1 removed" in done.stderr
        history = query(
            out, "SELECT student, points, comment, removed FROM adjustments ORDER BY id"
        )
        assert history[4:] == [
            ("ann", -2.0, "Copied from the lesson, in part", 0),
            ("cy", 0.0, "", 1),
        ]
        assert grades(out)["ann"] == "8" and grades(out)["cy"] == "0"
        assert "Your notebook was right" not in (out / "feedback" / "cy.md").read_text()
        current = query(out, "SELECT student, points FROM current_adjustments ORDER BY student")
        assert current == [("ann", -2.0), ("bob", -4.0), ("dee", 5.0)]


class TestARegrade:
    def test_the_adjustment_survives_a_changed_submission(self, second: Run) -> None:
        assert grades(second.out)["bob"] == "6"  # the solution's 10, less 4
        for kind in ("md", "html"):
            assert (
                "Handed in late by email" in (second.out / "feedback" / f"bob.{kind}").read_text()
            )

    def test_the_current_grading_is_marked(self, second: Run) -> None:
        rows = query(second.out, "SELECT student, current, raw_score FROM gradings ORDER BY id")
        bobs = [(current, raw) for student, current, raw in rows if student == "bob"]
        assert bobs == [(0, 0.0), (1, 10.0)]
        marked = query(second.out, "SELECT student, exercise FROM current_gradings")
        assert sorted(marked) == [
            (name, "exercise1") for name in ("ann", "bob", "cy", "dee", "eve")
        ]

    def test_the_documented_query_counts_each_student_once(self, second: Run) -> None:
        """docs/batch.md's query counts the failures of the current gradings: bob's old stub
        fails as cy's does, but only cy's counts now."""
        docs = (REPO / "docs" / "batch.md").read_text()
        sql = re.search(r'sqlite3 graded/gradebook\.sqlite \\\n\s+"([^"]+)"', docs)
        assert sql is not None, "the query is no longer in docs/batch.md"
        documented = dict(query(second.out, sql.group(1)))
        every = dict(
            query(
                second.out,
                "SELECT check_id, count(*) FROM check_results WHERE status != 'passed' GROUP BY 1",
            )
        )
        assert documented and every
        assert set(documented) == set(every)
        assert all(count == 1 for count in documented.values())  # cy's stub alone
        assert all(count == 2 for count in every.values())  # with bob's old grading


def test_a_resumed_run_marks_what_a_stopped_one_graded(first: Run, tmp_path: Path) -> None:
    """A run stopped after recording bob's new grading, before writing the outputs, leaves the
    old grading marked, as the outputs on disk show it; the run that finishes marks the new one,
    though it grades nothing."""
    import hashlib

    from grader.batch.command import checks_version
    from grader.course import load_course

    submissions, out = tmp_path / "submissions", tmp_path / "out"
    shutil.copytree(first.submissions, submissions)
    shutil.copytree(first.out, out)
    (submissions / "bob" / "exercise1_derivatives.py").write_text(SOLUTION)
    course = load_course(REPO / "course.yaml")
    version = checks_version(course, course.exercise("exercise1"))
    key = ("bob", "exercise1", hashlib.sha256(SOLUTION.encode()).hexdigest(), version)
    book = Gradebook(out / "gradebook.sqlite")
    book.record(key, "bob", None, TestGradebook.report(10), 0.1, "t")  # then the stop
    book.close()
    marked = "SELECT file_hash FROM gradings WHERE student = 'bob' AND current = 1"
    assert query(out, marked) != [(key[2],)]
    done = batch(submissions, out)
    assert done.returncode == 0, done.stderr
    assert "0 to grade" in done.stderr
    assert query(out, marked) == [(key[2],)]
    assert grades(out)["bob"] == "6"


class TestRefused:
    def test_bad_rows_get_a_line_each_and_nothing_is_graded(self, tmp_path: Path) -> None:
        submissions = make_class(tmp_path)
        bad = tmp_path / "adjustments.csv"
        bad.write_text(
            HEADER + "ann,exercise1,two,Points in words\n"  # row 2: points
            "bob,exercise1,1,\n"  # row 3: no comment
            "\n"
            "cy,exercise99,1,No such exercise\n"  # row 5: exercise
            "dee,exercise1,1,a,b\n"  # row 6: five cells
            "eve,exercise1,1,First\n"
            "eve,exercise1,2,Second\n"  # row 8: twice
        )
        out = tmp_path / "out"
        done = batch(submissions, out, "--adjustments", bad)
        assert done.returncode == 2
        lines = done.stderr.splitlines()
        assert len(lines) == 6, done.stderr
        for line, row, column in zip(
            lines,
            (2, 3, 5, 6, 8),
            ("points", "comment", "exercise", None, None),
            strict=False,
        ):
            assert line.startswith(f"grade: {bad}: row {row}"), line
            if column:
                assert f"column {column}:" in line
        assert "'two' is not a number" in lines[0]
        assert "5 mistakes" in lines[-1] and "nothing was graded" in lines[-1]
        assert not (out / "gradebook.sqlite").exists()

    def test_a_student_not_in_the_run_is_one_line(self, tmp_path: Path) -> None:
        submissions = make_class(tmp_path)
        bad = tmp_path / "adjustments.csv"
        bad.write_text(HEADER + "ann,exercise1,1,Fine\nanne,exercise1,1,Typo\n")
        out = tmp_path / "out"
        done = batch(submissions, out, "--adjustments", bad)
        assert done.returncode == 2
        lines = done.stderr.splitlines()
        assert len(lines) == 2, done.stderr
        assert f"{bad}: row 3, column student: no student 'anne'" in lines[0]
        assert "did you mean ann?" in lines[0]
        assert not (out / "gradebook.sqlite").exists()


class TestReading:
    def test_a_good_file(self, tmp_path: Path, course: Course) -> None:
        path = tmp_path / "a.csv"
        path.write_text("\ufeffStudent, Exercise ,points,comment\nann,exercise1, 1.5 ,Good\n\n")
        rows = read_adjustments(path, course, list(course.exercises))
        assert rows == [AdjustmentRow(2, "ann", "exercise1", 1.5, "Good")]

    @pytest.mark.parametrize(
        ("text", "says"),
        [
            (b"", "the first line must be"),
            (b"student,exercise,points\nann,exercise1,1\n", "the first line must be"),
            (b"student,exercise,points,comment\nann,exercise1,1,\xff\n", "save it as CSV UTF-8"),
        ],
    )
    def test_no_header_or_no_csv(
        self, tmp_path: Path, course: Course, text: bytes, says: str
    ) -> None:
        path = tmp_path / "a.csv"
        path.write_bytes(text)
        with pytest.raises(UsageError, match=says):
            read_adjustments(path, course, list(course.exercises))

    def test_not_a_number(self, tmp_path: Path, course: Course) -> None:
        path = tmp_path / "a.csv"
        path.write_text(HEADER + "ann,exercise1,nan,x\nann,exercise2,inf,x\nann,exercise3,,x\n")
        with pytest.raises(AdjustmentsRefused) as refused:
            read_adjustments(path, course, list(course.exercises))
        assert len(refused.value.lines) == 3
        assert all("column points" in line for line in refused.value.lines)

    def test_an_exercise_left_out_of_the_run(self, tmp_path: Path, course: Course) -> None:
        path = tmp_path / "a.csv"
        path.write_text(HEADER + "ann,exercise2,1,x\n")
        with pytest.raises(AdjustmentsRefused) as refused:
            read_adjustments(path, course, [course.exercise("exercise1")])
        assert "exercise2 is not graded in this run; add it to --exercise" in refused.value.lines[0]

    def test_a_fifo_is_refused_unopened(self, tmp_path: Path, course: Course) -> None:
        import os

        path = tmp_path / "a.csv"
        os.mkfifo(path)
        with pytest.raises(UsageError, match="not a CSV file"):
            read_adjustments(path, course, list(course.exercises))

    def test_students_by_name_key_or_case(self, tmp_path: Path) -> None:
        rows = [
            AdjustmentRow(2, "Zoë Smith", "exercise1", 1, "a"),
            AdjustmentRow(3, "Bo_Li", "exercise1", 1, "b"),
            AdjustmentRow(4, "CY", "exercise1", 1, "c"),
            AdjustmentRow(5, "'=cmd", "exercise1", 1, "as grades.csv shows =cmd"),
        ]
        students = [("Zoë Smith", "Zo_Smith"), ("Bo Li", "Bo_Li"), ("cy", "cy"), ("=cmd", "cmd")]
        matched = match_students(tmp_path / "a.csv", rows, students)
        assert [row.key for row in matched] == ["Zo_Smith", "Bo_Li", "cy", "cmd"]
        twice = [*rows, AdjustmentRow(6, "Zo_Smith", "exercise1", 2, "d")]
        with pytest.raises(AdjustmentsRefused) as refused:
            match_students(tmp_path / "a.csv", twice, students)
        assert refused.value.lines == [
            f"{tmp_path / 'a.csv'}: row 6, column student: Zo_Smith is the student of row 2 "
            "too, with the same exercise exercise1; put them in one row"
        ]

    def test_clamped(self) -> None:
        assert Adjustment(5, "x").apply(8, 10) == 10
        assert Adjustment(-3, "x").apply(2, 10) == 0
        assert Adjustment(-1.5, "x").apply(8, 10) == 6.5


def _grading(score: float) -> RecordedGrading:
    report = {"score": score, "max_score": 10, "file": "f.py", "tests": []}
    return RecordedGrading(1, "ann", "ann", "exercise1", "h", None, score, 10, 0, 0, score, 0.1,
                           report)  # fmt: skip


def test_exports_use_the_adjusted_score(course: Course, tmp_path: Path) -> None:
    entry = StudentEntry("ann", "ann", None, None)
    student = StudentGrades(
        entry,
        {"exercise1": _grading(7), "exercise2": _grading(9)},
        {"exercise1": Adjustment(2, "+@SUM(A1)", "root", "t"), "exercise2": Adjustment(4, "x")},
    )
    exercises = list(course.exercises[:2])
    assert grades_csv(exercises, [student]).splitlines()[1] == "ann,ann,9,10,19"
    columns = {"exercise1": "Derivatives (1)", "exercise2": "Partial derivatives (2)"}
    roster = Roster(Path("roster.csv"), ["Student", "ID", "SIS User ID", "SIS Login ID"], [])
    roster.rows.append({"Student": "Ann", "ID": "1", "SIS User ID": "", "SIS Login ID": "ann"})
    roster.columns.update(columns)
    text = canvas_csv(match(roster, [entry]), exercises, [student])
    assert text.splitlines()[2] == "Ann,1,,ann,9,10"
    lines = adjustments_csv(exercises, [student]).splitlines()
    assert lines[1] == "ann,exercise1,2,'+@SUM(A1),7,9,root,t"


class TestGradebook:
    KEY_OLD = ("ann", "exercise1", "old", "v")
    KEY_NEW = ("ann", "exercise1", "new", "v")

    @staticmethod
    def report(score: float) -> dict:
        return {"score": score, "max_score": 10, "file": "f.py", "tests": []}

    def test_mark_current(self, tmp_path: Path) -> None:
        book = Gradebook(tmp_path / "gradebook.sqlite")
        book.record(self.KEY_OLD, "ann", None, self.report(2), 0.1, "t")
        book.record(self.KEY_NEW, "ann", None, self.report(9), 0.1, "t")
        book.record(("bo", "exercise1", "h", "v"), "bo", None, self.report(5), 0.1, "t")
        book.mark_current([self.KEY_OLD, ("bo", "exercise1", "h", "v")])
        book.mark_current([self.KEY_NEW])  # bo is not in this run: keeps the mark
        book.sync_adjustments(
            [AdjustmentRow(2, "ann", "exercise1", 3, "c", "ann")],
            {"ann": "ann"},
            {("ann", "exercise1")},
            "a.csv",
            "me",
            "t",
        )
        book.close()
        rows = query(
            tmp_path,
            "SELECT student, file_hash, score, adjusted_score FROM current_gradings ORDER BY 1",
        )
        assert rows == [("ann", "new", 9.0, 10.0), ("bo", "h", 5.0, 5.0)]

    def test_history_of_adjustments(self, tmp_path: Path) -> None:
        book = Gradebook(tmp_path / "gradebook.sqlite")
        scope = {("ann", "exercise1"), ("ann", "exercise2"), ("bo", "exercise1")}
        names = {"ann": "Ann", "bo": "Bo"}

        def sync(*rows: tuple[str, str, float, str]) -> tuple[int, int]:
            given = [AdjustmentRow(2, key, ex, p, c, key) for key, ex, p, c in rows]
            return book.sync_adjustments(given, names, scope, "a.csv", "me", "t")

        assert sync(("ann", "exercise1", 1, "a"), ("bo", "exercise1", 2, "b")) == (2, 0)
        assert sync(("ann", "exercise1", 1, "a"), ("bo", "exercise1", 2, "b")) == (0, 0)
        assert sync(("ann", "exercise1", 1, "a2"), ("bo", "exercise1", 2, "b")) == (1, 0)
        assert sync(("ann", "exercise1", 1, "a2")) == (0, 1)
        assert sync(("ann", "exercise1", 1, "a2")) == (0, 0)  # a removal is recorded once
        book.sync_adjustments([], names, set(), "a.csv", "me", "t")  # out of scope: kept
        assert book.adjustments() == {("ann", "exercise1"): Adjustment(1, "a2", "me", "t")}
        assert sync(("bo", "exercise1", 2, "b")) == (1, 1)  # bo back, ann removed
        book.close()
        rows = query(tmp_path, "SELECT name, comment, removed FROM adjustments ORDER BY id")
        assert rows == [
            ("Ann", "a", 0),
            ("Bo", "b", 0),
            ("Ann", "a2", 0),
            ("Bo", "", 1),
            ("Bo", "b", 0),
            ("Ann", "", 1),
        ]

    def test_a_gradebook_of_schema_1_is_upgraded(self, tmp_path: Path) -> None:
        path = tmp_path / "gradebook.sqlite"
        book = Gradebook(path)
        book.record(self.KEY_OLD, "ann", None, self.report(2), 0.1, "t")
        book.close()
        with sqlite3.connect(path) as db:
            db.executescript(
                "DROP VIEW current_gradings; DROP VIEW current_adjustments; "
                "ALTER TABLE gradings DROP COLUMN current; "
                "UPDATE meta SET value = '1' WHERE key = 'schema';"
            )
        book = Gradebook(path)
        book.mark_current([self.KEY_OLD])
        book.close()
        assert query(tmp_path, "SELECT value FROM meta") == [(SCHEMA_VERSION,)]
        assert query(tmp_path, "SELECT file_hash FROM current_gradings") == [("old",)]


@pytest.mark.parametrize(("mode", "shown"), [("status", "(9 / 10)"), ("none", "(5 / 5)")])
def test_feedback_adjusts_the_score_it_shows(course: Course, mode: str, shown: str) -> None:
    """With hidden checks shown (status), the whole score is adjusted; with none shown, the
    public checks' score, clamped to their points."""
    from dataclasses import replace

    from grader.batch import feedback

    tests = [
        {"name": "public", "id": "a", "score": 3, "max_score": 5, "status": "failed",
         "hidden": False, "message": "m", "kind": ""},
        {"name": "secret", "id": "b", "score": 4, "max_score": 5, "status": "failed",
         "hidden": True, "message": "m", "kind": ""},
    ]  # fmt: skip
    grading = _grading(7)
    grading = replace(grading, report={**grading.report, "tests": tests})
    student = StudentGrades(
        StudentEntry("ann", "ann", None, None),
        {"exercise1": grading},
        {"exercise1": Adjustment(2, "Well argued")},
    )
    shaped = replace(course, hidden_feedback=mode)
    view = feedback.student_view(shaped, [shaped.exercises[0]], student)
    for kind in ("md", "html"):
        text = feedback.render(view, kind)
        assert shown in text and "Well argued" in text
