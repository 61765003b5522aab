"""What `grade batch` reads: student folders, zips (safely), Gradescope exports, submission times,
due dates with extensions, the roster; and what each student's feedback may show."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from grader.batch import timing
from grader.batch.clone_times import last_commit_time
from grader.batch.discover import discover
from grader.batch.exports import StudentGrades, canvas_csv
from grader.batch.gradebook import RecordedGrading
from grader.batch.roster import match, read_roster
from grader.course import Course, load_course
from grader.errors import UsageError
from grader.submission import MAX_SUBMISSION_BYTES
from tests.helpers import REPO, solution_text, write_course

SOLUTION1 = (REPO / "solutions" / "exercise1_derivatives.py").read_text()
DUE = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)


def make_zip(path: Path, members: dict[str, bytes], when: tuple = (2026, 11, 30, 12, 0, 0)) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=when)
            archive.writestr(info, data)


def run_batch(submissions: Path, out: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """`grade batch SUBMISSIONS --out OUT OPTIONS...` as a command; it must succeed."""
    done = subprocess.run(
        [sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out), *options],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done


class TestFolders:
    def test_layouts_a_student_may_hand_in(self, tmp_path: Path, course: Course) -> None:
        submissions = tmp_path / "submissions"
        for name, inner in (("ann", "exercises"), ("bo", ""), ("cy", "repo/exercises")):
            folder = submissions / name / inner
            folder.mkdir(parents=True)
            (folder / "exercise1_derivatives.py").write_text(SOLUTION1)
        entries = discover(course, submissions, tmp_path / "work")
        assert [entry.name for entry in entries] == ["ann", "bo", "cy"]
        for entry in entries:
            assert entry.folder is not None
            assert (entry.folder / "exercise1_derivatives.py").is_file()

    def test_names_become_safe_unique_keys(self, tmp_path: Path, course: Course) -> None:
        submissions = tmp_path / "submissions"
        for name in ("Zoë Smith", "Zoë_Smith", "../x"):
            (submissions / name.replace("/", "")).mkdir(parents=True, exist_ok=True)
        keys = [entry.key for entry in discover(course, submissions, tmp_path / "work")]
        assert len(set(keys)) == len(keys)
        assert all(key.replace("-", "").replace("_", "").replace(".", "").isalnum() for key in keys)

    @staticmethod
    def clone(folder: Path, *commands: list[str]) -> Path:
        """A git clone at folder/clone with one commit made 2026-12-02 10:00 UTC, then
        ``commands`` run in it."""
        clone = folder / "clone"
        clone.mkdir()
        environment = {
            "PATH": "/usr/bin:/bin",
            "GIT_AUTHOR_NAME": "s",
            "GIT_AUTHOR_EMAIL": "s@x",
            "GIT_COMMITTER_NAME": "s",
            "GIT_COMMITTER_EMAIL": "s@x",
            "GIT_COMMITTER_DATE": "2026-12-02T10:00:00+00:00",
            "HOME": str(folder),
        }
        for command in (
            ["init", "-q"],
            ["commit", "-q", "--allow-empty", "-m", "x"],
            *commands,
        ):
            subprocess.run(["git", *command], cwd=clone, env=environment, check=True)
        return clone

    @pytest.mark.parametrize("packed", [False, True], ids=["loose", "packed"])
    def test_last_commit_time_of_a_clone(self, tmp_path: Path, packed: bool) -> None:
        clone = self.clone(tmp_path, *([["gc", "-q"]] if packed else []))
        if packed:
            assert (clone / ".git" / "packed-refs").is_file()
        assert last_commit_time(clone) == datetime(2026, 12, 2, 10, tzinfo=UTC)
        assert last_commit_time(tmp_path) is None

    def test_a_clone_cannot_make_git_run_a_program(self, tmp_path: Path) -> None:
        """The clone's own configuration is the student's: it must not choose what runs."""
        marker = tmp_path / "ran"
        program = tmp_path / "program"
        program.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
        program.chmod(0o755)
        clone = self.clone(
            tmp_path,
            ["config", "log.showSignature", "true"],
            ["config", "gpg.program", str(program)],
            ["config", "core.fsmonitor", str(program)],
        )
        # A signed commit: reading it with signatures shown would run gpg.program.
        tree = subprocess.run(
            ["git", "rev-parse", "HEAD^{tree}"], cwd=clone, capture_output=True, text=True
        ).stdout.strip()
        signed = (
            f"tree {tree}\nauthor s <s@x> 1795255200 +0000\ncommitter s <s@x> 1795255200 +0000\n"
            "gpgsig -----BEGIN PGP SIGNATURE-----\n \n AAAA\n -----END PGP SIGNATURE-----\n\nx\n"
        )
        commit = subprocess.run(
            ["git", "hash-object", "-t", "commit", "-w", "--stdin"],
            cwd=clone,
            input=signed,
            capture_output=True,
            text=True,
        ).stdout.strip()
        subprocess.run(["git", "update-ref", "HEAD", commit], cwd=clone, check=True)
        assert last_commit_time(clone) == datetime.fromtimestamp(1795255200, tz=UTC)
        assert not marker.exists()

    @pytest.mark.slow
    def test_a_link_out_of_the_clone_is_not_graded(self, tmp_path: Path, course: Course) -> None:
        """A clone whose exercise file links to the course's solution scores nothing: the
        grader, which can read the answer key, would otherwise grade the key itself."""
        folder = tmp_path / "submissions"
        (folder / "ann" / "exercises").mkdir(parents=True)
        (folder / "ann" / "exercises" / "exercise3_chain_rule.py").write_text(
            solution_text(course, "exercise3")
        )
        (folder / "bob" / "exercises").mkdir(parents=True)
        (folder / "bob" / "exercises" / "exercise3_chain_rule.py").symlink_to(
            REPO / "solutions" / "exercise3_chain_rule.py"
        )
        out = tmp_path / "out"
        run_batch(folder, out, "--exercise", "exercise3", "--course", str(course.path))
        grades = {
            row["student"]: row["exercise3"]
            for row in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))
        }
        assert grades == {"ann": "10", "bob": "0"}
        assert "symbolic link to a file outside" in (out / "feedback" / "bob.md").read_text()


class TestZips:
    def test_a_zip_is_unpacked_with_its_time(self, tmp_path: Path, course: Course) -> None:
        submissions = tmp_path / "submissions"
        submissions.mkdir()
        make_zip(
            submissions / "dana.zip",
            {"dana-repo/exercises/exercise1_derivatives.py": SOLUTION1.encode()},
        )
        collected = datetime(2026, 12, 1, 8, tzinfo=UTC)  # not the entries' 2026-11-30 12:00
        os.utime(submissions / "dana.zip", (collected.timestamp(), collected.timestamp()))
        (entry,) = discover(course, submissions, tmp_path / "work")
        assert entry.name == "dana"
        assert entry.folder is not None and entry.folder.name == "exercises"
        assert (entry.folder / "exercise1_derivatives.py").read_text() == SOLUTION1
        assert entry.submitted_at == collected  # the zip file's own time

    def test_nothing_leaves_the_folder_and_only_code_is_kept(
        self, tmp_path: Path, course: Course
    ) -> None:
        submissions = tmp_path / "submissions"
        submissions.mkdir()
        make_zip(
            submissions / "eve.zip",
            {
                "../escaped.py": b"x = 1\n",
                "/absolute.py": b"x = 1\n",
                "exercises/exercise1_derivatives.py": SOLUTION1.encode(),
                "exercises/data.bin": b"\0" * 1000,
            },
        )
        (_entry,) = discover(course, submissions, tmp_path / "work")
        unpacked = sorted(
            str(path.relative_to(tmp_path / "work")) for path in (tmp_path / "work").rglob("*.*")
        )
        assert unpacked == ["eve/exercises/exercise1_derivatives.py"]
        assert not (tmp_path / "escaped.py").exists() and not Path("/absolute.py").exists()

    @pytest.mark.slow
    def test_a_huge_file_is_cut_where_the_grader_refuses_it(
        self, tmp_path: Path, course: Course
    ) -> None:
        submissions = tmp_path / "submissions"
        submissions.mkdir()
        with zipfile.ZipFile(submissions / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("exercise1_derivatives.py", b"#" * (50 * MAX_SUBMISSION_BYTES))
        (entry,) = discover(course, submissions, tmp_path / "work")
        assert entry.folder is not None
        size = (entry.folder / "exercise1_derivatives.py").stat().st_size
        assert size == MAX_SUBMISSION_BYTES + 1

    def test_a_broken_zip_is_a_problem_not_a_crash(self, tmp_path: Path, course: Course) -> None:
        submissions = tmp_path / "submissions"
        submissions.mkdir()
        (submissions / "finn.zip").write_bytes(b"PK\x03\x04 not really")
        (entry,) = discover(course, submissions, tmp_path / "work")
        assert entry.folder is None
        assert entry.problem is not None and "could not be unpacked" in entry.problem


class TestGradescope:
    def write_export(self, folder: Path) -> None:
        metadata = {
            "submission_101": {
                ":submitters": [{":name": "Gina Park", ":sid": "1001", ":email": "gina@uni.edu"}],
                ":created_at": "2026-12-02 09:30:00.123456789 -0800",
                ":score": 0.0,
            },
            "submission_102": {
                ":submitters": [
                    {":name": "Hal Ito", ":sid": "1002", ":email": "hal@uni.edu"},
                    {":name": "Ida Ng", ":sid": "1003", ":email": "ida@uni.edu"},
                ],
                ":created_at": datetime(2026, 11, 30, 8, 0, tzinfo=UTC),
            },
        }
        folder.mkdir()
        (folder / "submission_metadata.yml").write_text(yaml.safe_dump(metadata))
        for name in metadata:
            (folder / name).mkdir()
            (folder / name / "exercise1_derivatives.py").write_text(SOLUTION1)

    def test_names_and_times_come_from_the_metadata(self, tmp_path: Path, course: Course) -> None:
        export = tmp_path / "export"
        self.write_export(export)
        entries = discover(course, export, tmp_path / "work")
        assert [entry.name for entry in entries] == ["Gina Park", "Hal Ito", "Ida Ng"]
        gina, hal, ida = entries
        assert gina.submitted_at == datetime(2026, 12, 2, 17, 30, 0, 123456, tzinfo=UTC)
        assert gina.details["sid"] == "1001" and gina.details["email"] == "gina@uni.edu"
        assert hal.folder == ida.folder == export / "submission_102"
        assert hal.submitted_at == datetime(2026, 11, 30, 8, tzinfo=UTC)

    def test_unreadable_metadata_is_one_line(self, tmp_path: Path, course: Course) -> None:
        export = tmp_path / "export"
        export.mkdir()
        (export / "submission_metadata.yml").write_text("a: [unclosed\n")
        with pytest.raises(UsageError, match=r"submission_metadata\.yml: cannot be read"):
            discover(course, export, tmp_path / "work")


@pytest.fixture
def late_course(tmp_path: Path, course: Course) -> Course:
    path = write_course(tmp_path, course)
    data = yaml.safe_load(path.read_text())
    data["late"] = {"penalty_per_day": 10, "max_penalty": 30, "grace_minutes": 15}
    data["exercises"][0]["due"] = DUE.isoformat()
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_course(path)


class TestLateWork:
    @pytest.mark.parametrize(
        ("after_due", "days", "penalty"),
        [
            (timedelta(hours=-1), 0, 0),
            (timedelta(minutes=14), 0, 0),  # within the grace period
            (timedelta(minutes=16), 1, 10),
            (timedelta(days=1, minutes=1), 2, 20),
            (timedelta(days=9), 9, 30),  # the cap
        ],
    )
    def test_penalty_per_started_day_up_to_the_cap(
        self, late_course: Course, after_due: timedelta, days: int, penalty: float
    ) -> None:
        exercise = late_course.exercises[0]
        late = timing.lateness(late_course, exercise, "ann", DUE + after_due, {})
        assert (late.days_late, late.penalty) == (days, penalty)
        assert late.apply(10.0) == pytest.approx(10.0 * (1 - penalty / 100))

    def test_an_extension_moves_the_due_date(self, late_course: Course, tmp_path: Path) -> None:
        extensions_file = tmp_path / "extensions.csv"
        extensions_file.write_text("student,exercise,days\nann,exercise1,2\nbo,,1\n")
        extensions = timing.read_extensions(extensions_file, late_course)
        exercise = late_course.exercises[0]
        moment = DUE + timedelta(days=1, hours=12)
        assert timing.lateness(late_course, exercise, "ann", moment, extensions).days_late == 0
        assert timing.lateness(late_course, exercise, "bo", moment, extensions).days_late == 1
        assert timing.lateness(late_course, exercise, "cy", moment, extensions).days_late == 2

    def test_no_time_or_no_due_date_is_on_time(self, late_course: Course) -> None:
        first, second = late_course.exercises[:2]
        assert timing.lateness(late_course, first, "ann", None, {}) == timing.ON_TIME
        assert timing.lateness(late_course, second, "ann", DUE + timedelta(days=99), {}) == (
            timing.ON_TIME
        )

    def test_batch_keeps_raw_score_and_penalty(self, late_course: Course, tmp_path: Path) -> None:
        export = tmp_path / "export"
        TestGradescope().write_export(export)  # Gina: 17 h 31 min late; Hal and Ida on time
        out = tmp_path / "out"
        roster = tmp_path / "roster.csv"
        roster.write_text(
            "Student,ID,SIS User ID,SIS Login ID,Section,Derivatives (501)\n"
            '"Park, Gina",21,1001,gina,A,\n'
            '"Ng, Ida",23,1003,ida,B,\n'
            '"Oz, Jo",24,1004,jo,B,\n'
        )
        done = run_batch(
            export,
            out,
            *("--exercise", "exercise1", "--course", str(late_course.path)),
            *("--roster", str(roster)),
        )
        # Hal Ito's sid and email are in no row: listed first, before the grading.
        assert done.stderr.splitlines()[0].startswith("grade: no roster row: Hal Ito: no roster")
        grades = {
            row["student"]: row
            for row in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))
        }
        assert grades["Gina Park"]["exercise1"] == "9"
        assert grades["Hal Ito"]["exercise1"] == grades["Ida Ng"]["exercise1"] == "10"
        import sqlite3

        with sqlite3.connect(out / "gradebook.sqlite") as db:
            row = db.execute(
                "SELECT raw_score, late_days, penalty, score FROM gradings WHERE name = 'Gina Park'"
            ).fetchone()
        assert row == (10.0, 1, 10.0, 9.0)
        assert "1 day late" in (out / "feedback" / "Gina_Park.md").read_text()
        # Matched by SIS User ID (Gradescope's sid) and SIS Login ID (the email's user part).
        canvas = list(csv.reader(io.StringIO((out / "canvas.csv").read_text())))
        header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Derivatives (501)"]
        assert canvas[0] == header
        assert canvas[1][0] == "Points Possible" and canvas[1][5] == "10"
        assert canvas[2:] == [
            ["Park, Gina", "21", "1001", "gina", "A", "9"],
            ["Ng, Ida", "23", "1003", "ida", "B", "10"],
            ["Oz, Jo", "24", "1004", "jo", "B", ""],
        ]
        report = (out / "report.html").read_text()
        # listed at the top of the report, before the scores
        unmatched = report.split('id="unmatched"')[1].split("<h2>Scores</h2>")[0]
        assert "<li>Hal Ito" in unmatched
        assert (out / "unmatched.csv").read_text().splitlines()[1].startswith("Hal Ito,")


def grading(exercise: str, score: float, tests: list[dict]) -> RecordedGrading:
    report = {"exercise": exercise, "score": score, "max_score": 10, "file": "f.py",
              "problem": None, "output": "", "notes": [], "flags": [], "sandbox": [],
              "tests": tests}  # fmt: skip
    return RecordedGrading(1, "s", "s", exercise, "h", None, score, 10, 0, 0, score, 0.1, report)


def test_canvas_file_matches_the_roster(tmp_path: Path, course: Course) -> None:
    from grader.batch.discover import StudentEntry

    roster = tmp_path / "roster.csv"
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Quiz 1 (7),Derivatives (8),exercise2 (9)\n"
        "    Points Possible,,,,,5,10.00,\n"
        '"Park, Gina",11,S1,gpark,A,4,,\n'
        '"Ito, Hal",12,S2,hito,A,5,,\n'
    )
    rows = read_roster(roster, list(course.exercises[:2]))
    students = [
        StudentGrades(
            StudentEntry(name, name, None, None), {"exercise1": grading("exercise1", s, [])}
        )
        for name, s in (("gpark", 7.5), ("zed", 3))
    ]
    matching = match(rows, [student.entry for student in students])
    text = canvas_csv(matching, list(course.exercises[:2]), students)
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        "Derivatives (8)",
        "exercise2 (9)",
    ]
    assert lines[1] == ["Points Possible", "", "", "", "", "10.00", "10"]
    assert lines[2] == ["Park, Gina", "11", "S1", "gpark", "A", "7.5", ""]
    assert lines[3] == ["Ito, Hal", "12", "S2", "hito", "A", "", ""]
    assert [problem.student for problem in matching.unmatched] == ["zed"]


@pytest.mark.parametrize(
    ("mode", "shows_message", "shows_name"),
    [
        ("full", True, True),
        ("status", False, True),
        ("total", False, False),
        ("none", False, False),
    ],
)
def test_feedback_shows_hidden_checks_as_the_course_says(
    tmp_path: Path, course: Course, mode: str, shows_message: bool, shows_name: bool
) -> None:
    from dataclasses import replace

    from grader.batch import feedback
    from grader.batch.discover import StudentEntry

    tests = [
        {"name": "public check", "id": "a", "score": 0, "max_score": 5, "status": "failed",
         "hidden": False, "message": "PUBLIC-MESSAGE", "kind": ""},
        {"name": "secret check", "id": "b", "score": 0, "max_score": 5, "status": "failed",
         "hidden": True, "message": "SECRET-MESSAGE", "kind": ""},
    ]  # fmt: skip
    student = StudentGrades(
        StudentEntry("ann", "ann", None, None), {"exercise1": grading("exercise1", 0, tests)}
    )
    shaped = replace(course, hidden_feedback=mode)
    view = feedback.student_view(shaped, [shaped.exercises[0]], student)
    for kind in ("md", "html"):
        text = feedback.render(view, kind)
        assert "PUBLIC-MESSAGE" in text
        assert ("SECRET-MESSAGE" in text) == shows_message
        assert ("secret check" in text) == shows_name
        assert ("Hidden checks: 0 / 5" in text) == (mode == "total")
