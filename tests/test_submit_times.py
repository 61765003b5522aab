"""Submission times per exercise, from sources the student does not write: a zip's own date (not
its entries'), the collected copy's file dates (not commit dates, unless --commit-dates), the
--times file, Gradescope's metadata."""

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

from grader.batch import submit_times
from grader.batch.clone_times import last_change_times
from grader.batch.command import _plan
from grader.batch.discover import discover
from grader.course import Course, load_course
from tests.helpers import REPO, write_course

EXERCISE1 = "exercise1_derivatives.py"
EXERCISE2 = "exercise2_gradients.py"
SOLUTION1 = (REPO / "solutions" / EXERCISE1).read_bytes()
SOLUTION2 = (REPO / "solutions" / EXERCISE2).read_bytes()
DUE = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)
EARLY = DUE - timedelta(days=1)  # well before the due date
MONTH_LATE = DUE + timedelta(days=31)  # 31 days late: the most penalty, 50 %


@pytest.fixture
def late_course(tmp_path: Path, course: Course) -> Course:
    """The course with exercises 1 and 2 due at DUE: 10 % a day, at most 50 %."""
    path = write_course(tmp_path, course)
    data = yaml.safe_load(path.read_text())
    data["late"] = {"penalty_per_day": 10, "max_penalty": 50, "grace_minutes": 15}
    data["exercises"][0]["due"] = DUE.isoformat()
    data["exercises"][1]["due"] = DUE.isoformat()
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_course(path)


def touch(path: Path, when: datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()), follow_symlinks=False)


def batch(
    submissions: Path, out: Path, course: Course, *options: str
) -> subprocess.CompletedProcess[str]:
    """`grade batch` of exercises 1 and 2 as a command."""
    return subprocess.run(
        [
            *(sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out)),
            *("--course", str(course.path), "--exercise", "exercise1", "exercise2", *options),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


def grades(out: Path) -> dict[str, dict[str, str]]:
    rows = csv.DictReader(io.StringIO((out / "grades.csv").read_text()))
    return {row["student"]: row for row in rows}


def full_marks(out: Path) -> dict[str, str]:
    """Each exercise's points possible, from a student with the solution on time."""
    return grades(out)["ontime"]


def git(folder: Path, *command: str, when: datetime | None = None) -> None:
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(folder),
        "GIT_AUTHOR_NAME": "s",
        "GIT_AUTHOR_EMAIL": "s@x",
        "GIT_COMMITTER_NAME": "s",
        "GIT_COMMITTER_EMAIL": "s@x",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    if when is not None:
        environment["GIT_AUTHOR_DATE"] = environment["GIT_COMMITTER_DATE"] = when.isoformat()
    subprocess.run(["git", *command], cwd=folder, env=environment, check=True)


def on_time_folder(submissions: Path) -> None:
    """Student "ontime": both solutions, files dated before the due date (no git)."""
    folder = submissions / "ontime"
    folder.mkdir(parents=True)
    for name, data in ((EXERCISE1, SOLUTION1), (EXERCISE2, SOLUTION2)):
        (folder / name).write_bytes(data)
        touch(folder / name, EARLY)


def halved(points: str) -> str:
    return f"{float(points) / 2:g}"


class TestZips:
    def test_backdated_entries_are_late_by_the_zips_own_date(
        self, tmp_path: Path, late_course: Course
    ) -> None:
        submissions = tmp_path / "submissions"
        on_time_folder(submissions)
        with zipfile.ZipFile(submissions / "zed.zip", "w") as archive:
            for name, data in ((EXERCISE1, SOLUTION1), (EXERCISE2, SOLUTION2)):
                archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 11, 30, 12, 0, 0)), data)
        touch(submissions / "zed.zip", MONTH_LATE)  # collected a month late
        done = batch(submissions, tmp_path / "out", late_course)
        assert done.returncode == 0, done.stderr
        full = full_marks(tmp_path / "out")
        zed = grades(tmp_path / "out")["zed"]
        assert zed["exercise1"] == halved(full["exercise1"])
        assert zed["exercise2"] == halved(full["exercise2"])


class TestClones:
    @staticmethod
    def backdated_clone(submissions: Path) -> None:
        """Student "cody": both solutions in one commit dated before the due date, collected
        (the files' dates in the instructor's copy) a month late."""
        clone = submissions / "cody"
        clone.mkdir(parents=True)
        (clone / EXERCISE1).write_bytes(SOLUTION1)
        (clone / EXERCISE2).write_bytes(SOLUTION2)
        git(clone, "init", "-q", "-b", "main")
        git(clone, "add", ".")
        git(clone, "commit", "-q", "-m", "x", when=EARLY)
        for name in (EXERCISE1, EXERCISE2):
            touch(clone / name, MONTH_LATE)

    def test_a_backdated_commit_is_late_by_the_collected_copy(
        self, tmp_path: Path, late_course: Course
    ) -> None:
        submissions = tmp_path / "submissions"
        on_time_folder(submissions)
        self.backdated_clone(submissions)
        done = batch(submissions, tmp_path / "out", late_course)
        assert done.returncode == 0, done.stderr
        full = full_marks(tmp_path / "out")
        assert grades(tmp_path / "out")["cody"]["exercise1"] == halved(full["exercise1"])

    def test_commit_dates_only_when_asked_and_then_said(
        self, tmp_path: Path, late_course: Course
    ) -> None:
        submissions = tmp_path / "submissions"
        on_time_folder(submissions)
        self.backdated_clone(submissions)
        done = batch(submissions, tmp_path / "out", late_course, "--commit-dates")
        assert done.returncode == 0, done.stderr
        full = full_marks(tmp_path / "out")
        assert grades(tmp_path / "out")["cody"] == {**full, "student": "cody", "id": "cody"}
        report = (tmp_path / "out" / "report.html").read_text()
        said = report.split('id="own-dates"')[1].split("</p>")[0]
        assert "their own commit dates" in said and "cody" in said and "ontime" not in said
        # What the report and feedback are given: the times are the student's own.
        entries = discover(late_course, submissions, tmp_path / "work")
        plan = _plan(late_course, list(late_course.exercises[:2]), entries)
        _, timed = submit_times.timed(plan, entries, submit_times.Sources(commit_dates=True))
        cody = next(entry for entry in timed if entry.name == "cody")
        assert cody.own_dates
        assert cody.details["time from"] == submit_times.OWN_DATES
        assert cody.time_of("exercise1") == EARLY
        ontime = next(entry for entry in timed if entry.name == "ontime")
        assert not ontime.own_dates  # no git: the copy's dates

    def test_each_exercise_has_its_own_commit_time(
        self, tmp_path: Path, late_course: Course
    ) -> None:
        """Exercise 1 committed on time, exercise 2 a month late: only exercise 2 loses points."""
        submissions = tmp_path / "submissions"
        on_time_folder(submissions)
        clone = submissions / "ema"
        clone.mkdir()
        git(clone, "init", "-q", "-b", "main")
        (clone / EXERCISE1).write_bytes(SOLUTION1)
        git(clone, "add", ".")
        git(clone, "commit", "-q", "-m", "one", when=EARLY)
        (clone / EXERCISE2).write_bytes(SOLUTION2)
        git(clone, "add", ".")
        git(clone, "commit", "-q", "-m", "two", when=MONTH_LATE)
        done = batch(submissions, tmp_path / "out", late_course, "--commit-dates")
        assert done.returncode == 0, done.stderr
        full = full_marks(tmp_path / "out")
        ema = grades(tmp_path / "out")["ema"]
        assert ema["exercise1"] == full["exercise1"]
        assert ema["exercise2"] == halved(full["exercise2"])

    def test_each_exercise_has_its_own_file_date(self, tmp_path: Path, late_course: Course) -> None:
        """Without --commit-dates, each exercise's file's date in the collected copy."""
        submissions = tmp_path / "submissions"
        on_time_folder(submissions)
        entries = discover(late_course, submissions, tmp_path / "work")
        touch(submissions / "ontime" / EXERCISE2, MONTH_LATE)
        plan = _plan(late_course, list(late_course.exercises[:2]), entries)
        _, (entry,) = submit_times.timed(plan, entries, submit_times.Sources())
        assert entry.time_of("exercise1") == EARLY
        assert entry.time_of("exercise2") == MONTH_LATE
        assert not entry.own_dates


class TestTimesFile:
    def test_bad_rows_are_a_line_each(self, tmp_path: Path, late_course: Course) -> None:
        submissions = tmp_path / "submissions"
        on_time_folder(submissions)
        times = tmp_path / "times.csv"
        times.write_text(
            "student,exercise,submitted_at\n"
            "ontime,exercise1,2026-12-01T10:00:00+00:00\n"
            "ontime,exercise9x,2026-12-01T10:00:00+00:00\n"
            "ontime,exercise2,2026-12-01 10:00\n"
            "ontime,exercise2,yesterday\n"
            "ontime,*\n"
        )
        done = batch(submissions, tmp_path / "out", late_course, "--times", str(times))
        assert done.returncode == 2
        lines = done.stderr.splitlines()
        assert any(f"{times}:3: no exercise 'exercise9x'" in line for line in lines)
        assert any(
            f"{times}:4: '2026-12-01 10:00' is not an ISO 8601 time" in line for line in lines
        )
        assert any(f"{times}:5: 'yesterday' is not an ISO 8601 time" in line for line in lines)
        assert any(f"{times}:6: expected 3 values" in line for line in lines)
        assert "4 mistakes above" in lines[-1]
        assert not (tmp_path / "out" / "grades.csv").exists()

    def test_the_times_file_wins_over_file_dates(self, tmp_path: Path, late_course: Course) -> None:
        submissions = tmp_path / "submissions"
        on_time_folder(submissions)
        late = submissions / "lou"
        late.mkdir()
        for name, data in ((EXERCISE1, SOLUTION1), (EXERCISE2, SOLUTION2)):
            (late / name).write_bytes(data)
            touch(late / name, MONTH_LATE)  # collected late, pushed on time
        times = tmp_path / "times.csv"
        times.write_text(
            "student,exercise,submitted_at\n"
            f"lou,exercise1,{EARLY.isoformat()}\n"
            f"ontime,*,{MONTH_LATE.isoformat().replace('+00:00', 'Z')}\n"
        )
        with times.open("a") as rows:
            rows.write(f"nobody,*,{EARLY.isoformat()}\n")
        done = batch(submissions, tmp_path / "out", late_course, "--times", str(times))
        assert done.returncode == 0, done.stderr
        assert "grade: --times names 'nobody', who is not in SUBMISSIONS" in done.stderr
        by_student = grades(tmp_path / "out")
        lou, ontime = by_student["lou"], by_student["ontime"]
        # lou's exercise 1 on time by the file, exercise 2 late by the copy's date; ontime's
        # both late by the file (`*`), whatever the copy's dates say.
        assert float(lou["exercise1"]) == 2 * float(ontime["exercise1"]) > 0
        assert float(lou["exercise2"]) == float(ontime["exercise2"])

    def test_a_time_without_a_zone_is_refused(self, tmp_path: Path, late_course: Course) -> None:
        times = tmp_path / "times.csv"
        times.write_text("student,exercise,submitted_at\nann,,2026-12-01T10:00:00\n")
        with pytest.raises(submit_times.TimesRefused) as refused:
            submit_times.read_times(times, late_course)
        (line,) = refused.value.lines
        assert line.startswith(f"{times}:2: '2026-12-01T10:00:00' is not an ISO 8601 time with")


class TestGradescope:
    def test_the_metadata_time_not_the_files(self, tmp_path: Path, late_course: Course) -> None:
        export = tmp_path / "export"
        (export / "submission_1").mkdir(parents=True)
        (export / "submission_2").mkdir(parents=True)
        metadata = {
            "submission_1": {":submitters": [{":name": "Gil"}], ":created_at": EARLY},
            "submission_2": {":submitters": [{":name": "Hana"}], ":created_at": MONTH_LATE},
        }
        (export / "submission_metadata.yml").write_text(yaml.safe_dump(metadata))
        for folder, when in (("submission_1", MONTH_LATE), ("submission_2", EARLY)):
            (export / folder / EXERCISE1).write_bytes(SOLUTION1)
            touch(export / folder / EXERCISE1, when)  # the files' dates say the opposite
        entries = discover(late_course, export, tmp_path / "work")
        plan = _plan(late_course, list(late_course.exercises[:1]), entries)
        _, (gil, hana) = submit_times.timed(plan, entries, submit_times.Sources())
        assert gil.time_of("exercise1") == EARLY and hana.time_of("exercise1") == MONTH_LATE
        assert gil.details["time from"] == "Gradescope"


class TestCommitHistory:
    def test_a_files_history_is_read_without_the_clones_configuration(self, tmp_path: Path) -> None:
        """The clone's configuration is the student's: reading a file's last commit must not run
        the programs it names, even for a signed commit."""
        marker = tmp_path / "ran"
        program = tmp_path / "program"
        program.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
        program.chmod(0o755)
        clone = tmp_path / "clone"
        clone.mkdir()
        git(clone, "init", "-q", "-b", "main")
        (clone / "exercises").mkdir()
        (clone / "exercises" / EXERCISE1).write_bytes(SOLUTION1)
        git(clone, "add", ".")
        git(clone, "commit", "-q", "-m", "one", when=EARLY)
        for key, value in (("log.showSignature", "true"), ("gpg.program", str(program))):
            git(clone, "config", key, value)
        git(clone, "config", "core.fsmonitor", str(program))
        (clone / "exercises" / EXERCISE2).write_bytes(SOLUTION2)
        git(clone, "add", ".")
        tree = subprocess.run(
            ["git", "write-tree"], cwd=clone, capture_output=True, text=True, check=True
        ).stdout.strip()
        parent = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=clone, capture_output=True, text=True, check=True
        ).stdout.strip()
        stamp = int(MONTH_LATE.timestamp())
        signed = (
            f"tree {tree}\nparent {parent}\nauthor s <s@x> {stamp} +0000\n"
            f"committer s <s@x> {stamp} +0000\n"
            "gpgsig -----BEGIN PGP SIGNATURE-----\n \n AAAA\n -----END PGP SIGNATURE-----\n\nx\n"
        )
        commit = subprocess.run(
            ["git", "hash-object", "-t", "commit", "-w", "--stdin"],
            cwd=clone,
            input=signed,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        subprocess.run(["git", "update-ref", "HEAD", commit], cwd=clone, check=True)
        marker.unlink(missing_ok=True)  # `git add` above ran the fsmonitor: the test's own git
        paths = [f"exercises/{EXERCISE1}", f"exercises/{EXERCISE2}", "exercises/nothing.py"]
        # A path is taken literally, never as pathspec magic (which would match every file).
        assert last_change_times(clone, [*paths, ":(glob)**"]) == {
            f"exercises/{EXERCISE1}": EARLY,
            f"exercises/{EXERCISE2}": MONTH_LATE,
        }
        assert last_change_times(tmp_path, paths) == {}  # no clone
        assert not marker.exists()
