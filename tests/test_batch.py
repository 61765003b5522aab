"""`grade batch`: a synthetic class graded to the right scores, resumed after Ctrl-C and kill -9,
its outputs, and what it says about bad input.

The class is made by benchmarks/synthetic_class.py from the solutions, the stubs and the wrong
answers of test_wrong_implementations*.py, which says what each file must score.
"""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.synthetic_class import make_class
from grader.course import Course, load_course
from tests.helpers import REPO, write_course

STUDENTS = 12


def batch(course: Course, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run `grade batch` as a user would, in a separate process."""
    done = subprocess.run(
        [sys.executable, "-m", "grader", "batch", *map(str, args), "--course", str(course.path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def read_grades(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def expected_scores(folder: Path) -> dict[tuple[str, str], str]:
    with (folder / "expected.csv").open(newline="") as handle:
        return {
            (row["student"], row["exercise"]): row["expected"] for row in csv.DictReader(handle)
        }


def assert_scores_as_expected(grades: list[dict[str, str]], expected: dict) -> None:
    checked = 0
    for row in grades:
        for exercise, value in row.items():
            if exercise in ("student", "id", "total"):
                continue
            want = expected[(row["student"], exercise)]
            if want:
                assert float(value) == pytest.approx(float(want)), (row["student"], exercise)
                checked += 1
    assert checked > 0


def descendants(root: int) -> set[int]:
    """The processes below ``root`` now (from /proc), zombies left out."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(stat.parent.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def gradebook_rows(out: Path) -> list[tuple]:
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return db.execute(
            "SELECT student, exercise, file_hash, checks_version FROM gradings"
        ).fetchall()


def graded_so_far(out: Path) -> int:
    """How many gradings a running batch has committed: 0 until its gradebook exists. The batch
    puts the gradebook in place with its tables (grader.batch.gradebook.create), so a file that
    is there can be read at once; an error reading it is a failure, not a reason to wait."""
    return len(gradebook_rows(out)) if (out / "gradebook.sqlite").exists() else 0


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory, course: Course) -> Course:
    """The course with shorter limits, so that the class's looping files time out sooner; still
    ten times what the slowest correct call takes, as the class is graded in parallel."""
    folder = tmp_path_factory.mktemp("course")
    return load_course(write_course(folder, course, call_seconds=3, wall_seconds=8))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory, quick: Course) -> Path:
    folder = tmp_path_factory.mktemp("class")
    make_class(quick, folder, STUDENTS, loops=2, seed=7)
    return folder


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, quick: Course, synthetic: Path) -> Path:
    out = tmp_path_factory.mktemp("out")
    batch(quick, synthetic / "submissions", "--out", out, "--jobs", "2")
    return out


@pytest.mark.slow
class TestOneRun:
    def test_every_score_is_the_expected_one(self, graded: Path, synthetic: Path) -> None:
        grades = read_grades(graded / "grades.csv")
        assert [row["student"] for row in grades] == [f"student{n:03d}" for n in range(STUDENTS)]
        assert_scores_as_expected(grades, expected_scores(synthetic))

    def test_totals_add_up(self, graded: Path, quick: Course) -> None:
        header = ["student", "id", *(exercise.id for exercise in quick.exercises), "total"]
        with (graded / "grades.csv").open() as handle:
            assert next(csv.reader(handle)) == header
        for row in read_grades(graded / "grades.csv"):
            parts = [float(row[exercise.id]) for exercise in quick.exercises]
            assert float(row["total"]) == pytest.approx(sum(parts))

    def test_looping_files_lose_points_but_not_the_class(
        self, graded: Path, synthetic: Path, quick: Course
    ) -> None:
        expected = expected_scores(synthetic)
        loops = [key for key, value in expected.items() if value == ""]
        assert len(loops) == 2
        grades = {row["student"]: row for row in read_grades(graded / "grades.csv")}
        for student, exercise in loops:
            assert float(grades[student][exercise]) < quick.exercise(exercise).points
        report = (graded / "report.html").read_text()
        assert "timed out" in report

    def test_gradebook_records_every_grading_once(self, graded: Path, quick: Course) -> None:
        rows = gradebook_rows(graded)
        pairs = [(student, exercise) for student, exercise, _, _ in rows]
        assert len(pairs) == len(set(pairs)) == STUDENTS * len(quick.exercises)
        with sqlite3.connect(graded / "gradebook.sqlite") as db:
            checks = db.execute("SELECT count(*) FROM check_results").fetchone()[0]
            missing = db.execute(
                "SELECT count(*) FROM gradings WHERE file_hash = 'none' AND raw_score = 0"
            ).fetchone()[0]
        assert checks > len(rows)
        assert missing > 0  # the class has exercises handed in by no file

    def test_outputs_are_readable_like_any_file_written_here(self, graded: Path) -> None:
        mask = os.umask(0o022)
        os.umask(mask)
        for path in [graded / "grades.csv", graded / "report.html", *graded.glob("feedback/*")]:
            assert path.stat().st_mode & 0o777 == 0o666 & ~mask, path

    def test_feedback_for_every_student(self, graded: Path) -> None:
        for number in range(STUDENTS):
            for suffix in (".md", ".html"):
                text = (graded / "feedback" / f"student{number:03d}{suffix}").read_text()
                assert f"student{number:03d}" in text
                assert "exercise11" in text

    def test_report_shows_the_class(self, graded: Path, quick: Course) -> None:
        report = (graded / "report.html").read_text()
        assert report.count("<svg") == 2  # the distribution and the averages, drawn inline
        assert f"<strong>{STUDENTS}</strong> students" in report
        for exercise in quick.exercises:
            assert f"<td>{exercise.id}</td>" in report


@pytest.mark.slow
class TestResuming:
    def test_a_second_run_grades_nothing(
        self, graded: Path, quick: Course, synthetic: Path
    ) -> None:
        before = gradebook_rows(graded)
        done = batch(quick, synthetic / "submissions", "--out", graded)
        assert "0 to grade" in done.stderr
        assert gradebook_rows(graded) == before

    def test_an_edited_file_is_graded_again(
        self, tmp_path: Path, quick: Course, synthetic: Path
    ) -> None:
        submissions = tmp_path / "submissions"
        make_class(quick, tmp_path, 2, loops=0, seed=3)
        out = tmp_path / "out"
        batch(quick, submissions, "--out", out)
        before = len(gradebook_rows(out))
        target = next(submissions.glob("*/exercises/exercise1_derivatives.py"))
        target.write_text(
            (REPO / "solutions" / "exercise1_derivatives.py").read_text() + "\n# v2\n"
        )
        done = batch(quick, submissions, "--out", out)
        assert "1 to grade" in done.stderr
        assert len(gradebook_rows(out)) == before + 1
        student = target.parents[1].name
        row = next(row for row in read_grades(out / "grades.csv") if row["student"] == student)
        assert float(row["exercise1"]) == quick.exercise("exercise1").points

    @pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT], ids=["kill -9", "ctrl-c"])
    def test_stopped_midway_the_next_run_finishes(
        self, tmp_path: Path, quick: Course, synthetic: Path, stop: signal.Signals
    ) -> None:
        out = tmp_path / "out"
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "grader", "batch", str(synthetic / "submissions")),
                *("--out", str(out), "--course", str(quick.path), "--jobs", "2"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=stop == signal.SIGINT,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if graded_so_far(out) >= 40:
                break
            time.sleep(0.05)
        assert process.poll() is None, "the batch ended before it could be stopped"
        helpers = descendants(process.pid)  # grading processes, fork servers, workers
        assert helpers
        if stop == signal.SIGINT:
            os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C does: the whole process group
        else:
            process.kill()
        _, errors = process.communicate(timeout=60)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in helpers):
            time.sleep(0.1)
        assert not [pid for pid in helpers if Path(f"/proc/{pid}").exists()], "processes left"
        if stop == signal.SIGINT:
            assert process.returncode == 130
            assert "Run the same command again" in errors
        partial = len(gradebook_rows(out))
        assert 40 <= partial < STUDENTS * len(quick.exercises)
        done = batch(quick, synthetic / "submissions", "--out", out)
        assert f"{STUDENTS * len(quick.exercises) - partial} to grade" in done.stderr
        rows = gradebook_rows(out)
        pairs = [(student, exercise) for student, exercise, _, _ in rows]
        assert len(pairs) == len(set(pairs)) == STUDENTS * len(quick.exercises)
        assert_scores_as_expected(read_grades(out / "grades.csv"), expected_scores(synthetic))
        assert not [
            path
            for path in out.rglob(".*")
            if path.name != ".lock" and path.is_file() and ".work" not in path.parts
        ]


class TestBadInput:
    def test_missing_folder(self, tmp_path: Path, quick: Course) -> None:
        done = batch(quick, tmp_path / "nope", "--out", tmp_path / "out", check=False)
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1 and "not a folder" in done.stderr

    def test_no_jobs(self, tmp_path: Path, quick: Course, synthetic: Path) -> None:
        done = batch(
            quick, synthetic / "submissions", "--out", tmp_path, "--jobs", "0", check=False
        )
        assert done.returncode == 2 and "--jobs 0" in done.stderr

    def test_unknown_exercise(self, tmp_path: Path, quick: Course, synthetic: Path) -> None:
        done = batch(
            quick,
            synthetic / "submissions",
            "--out",
            tmp_path,
            "--exercise",
            "exercise33",
            check=False,
        )
        assert done.returncode == 2 and "did you mean" in done.stderr

    def test_bad_extensions_line(self, tmp_path: Path, quick: Course, synthetic: Path) -> None:
        extensions = tmp_path / "extensions.csv"
        extensions.write_text("student,exercise,days\nalice,exercise3,two\n")
        done = batch(
            quick,
            synthetic / "submissions",
            "--out",
            tmp_path / "out",
            "--extensions",
            extensions,
            check=False,
        )
        assert done.returncode == 2
        assert f"{extensions}:2:" in done.stderr and done.stderr.count("\n") == 1

    def test_roster_without_canvas_columns(
        self, tmp_path: Path, quick: Course, synthetic: Path
    ) -> None:
        roster = tmp_path / "roster.csv"
        roster.write_text("name,email\nAlice,a@x\n")
        done = batch(
            quick,
            synthetic / "submissions",
            "--out",
            tmp_path / "out",
            "--roster",
            roster,
            check=False,
        )
        assert done.returncode == 2 and "SIS Login ID" in done.stderr

    def test_two_runs_on_one_folder(self, tmp_path: Path, quick: Course, synthetic: Path) -> None:
        import fcntl

        out = tmp_path / "out"
        out.mkdir()
        with open(out / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            done = batch(quick, synthetic / "submissions", "--out", out, check=False)
        assert done.returncode == 2 and "another `grade batch`" in done.stderr


@pytest.mark.slow
def test_a_grading_process_that_dies_stops_only_its_grading(tmp_path: Path, course: Course) -> None:
    """A check that kills its own grading process (a broken course file, say) costs that one
    grading, tried twice: the batch goes on, names it, exits 1, and a later run tries it again."""
    import yaml

    checks = tmp_path / "exercise1_deadly.py"
    checks.write_text(
        "import os\n"
        "from grader.checks import check\n\n\n"
        "@check(points=10)\n"
        "def test_survives(student):\n"
        '    """Ends the grading process when the student defines victim()."""\n'
        "    try:\n"
        "        deadly = student.victim() == 1\n"
        "    except Exception:\n"
        "        deadly = False\n"
        "    if deadly:\n"
        "        os._exit(1)\n"
    )
    path = write_course(tmp_path, course)
    data = yaml.safe_load(path.read_text())
    data["exercises"] = [data["exercises"][0]]
    data["exercises"][0].update(checks=str(checks), hidden_checks=None)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    deadly = load_course(path)
    submissions = tmp_path / "submissions"
    for name in ("ann", "bob", "cy"):
        (submissions / name).mkdir(parents=True)
        extra = "\n\ndef victim():\n    return 1\n" if name == "bob" else ""
        (submissions / name / "exercise1_derivatives.py").write_text("x = 1\n" + extra)
    out = tmp_path / "out"
    done = batch(deadly, submissions, "--out", out, "--jobs", "2", check=False)
    assert done.returncode == 1
    assert "could not grade bob's exercise1: its grading process died" in done.stderr
    grades = {row["student"]: row["exercise1"] for row in read_grades(out / "grades.csv")}
    assert grades == {"ann": "10", "bob": "0", "cy": "10"}
    assert sorted(student for student, *_ in gradebook_rows(out)) == ["ann", "cy"]


@pytest.mark.slow
def test_a_grading_process_that_stops_answering_is_replaced(tmp_path: Path, course: Course) -> None:
    """A check that never ends (in the grader, where no worker limit applies) holds its grading
    process only until the exercise's wall limit plus a margin; then the process is killed and
    replaced, and the task is tried once more; the other tasks are graded meanwhile."""
    import yaml

    from grader.batch.pool import LocalPool, Task

    checks = tmp_path / "exercise1_stuck.py"
    checks.write_text(
        "import time\n"
        "from grader.checks import check\n\n\n"
        "@check(points=10)\n"
        "def test_survives(student):\n"
        '    """Never ends when the student defines victim()."""\n'
        "    try:\n"
        "        stuck = student.victim() == 1\n"
        "    except Exception:\n"
        "        stuck = False\n"
        "    while stuck:\n"
        "        time.sleep(1)\n"
    )
    path = write_course(tmp_path, course, wall_seconds=2)
    data = yaml.safe_load(path.read_text())
    data["exercises"] = [data["exercises"][0]]
    data["exercises"][0].update(checks=str(checks), hidden_checks=None)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    stuck_course = load_course(path)
    tasks = []
    for name in ("ann", "bob", "cy"):
        extra = "\n\ndef victim():\n    return 1\n" if name == "bob" else ""
        file = tmp_path / f"{name}.py"
        file.write_text("x = 1\n" + extra)
        tasks.append(Task(name, "exercise1", str(file), file.name))
    pool = LocalPool(stuck_course, jobs=2, margin=2)
    started = time.monotonic()
    try:
        outcomes = {outcome.task.student: outcome for outcome in pool.run(tasks)}
    finally:
        pool.close()
    assert outcomes["bob"].failure == "its grading process stopped answering"
    assert outcomes["ann"].report is not None and outcomes["ann"].report["score"] == 10
    assert outcomes["cy"].report is not None and outcomes["cy"].report["score"] == 10
    assert time.monotonic() - started < 60
