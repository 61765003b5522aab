"""`grade export otter DEST`: the course for otter-grader. Its test files are read by otter's own
parser, and real otter-grader (`otter generate`, `otter run`) grades solved and wrong notebooks
with the scores `grade` gives them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import otter.test_files as otter_test_files
import pytest

from grader.cli import main
from grader.course import Course
from grader.kernel_worker import run_check
from grader.runner import load_checks
from tests.helpers import REPO, Mistake, solution_text, with_function, with_method
from tests.test_gradescope import WRONG_CHAIN_RULE
from tests.test_wrong_implementations import EXERCISE1
from tests.test_wrong_implementations_course import EXERCISE4, EXERCISE9, EXERCISE11

# One realistic mistake per exercise graded by real otter: callbacks (3), formulas (4), calls
# sent ahead (9), objects kept in the worker and their arithmetic (11).
WRONG = {
    "exercise3": Mistake("chain rule without g'", WRONG_CHAIN_RULE, frozenset()),
    "exercise4": EXERCISE4[0],
    "exercise9": EXERCISE9[1],
    "exercise11": EXERCISE11[0],
}
FAILED_CASE = re.compile(r"^\s*(\w+) result:\n\s*❌", re.MULTILINE)


def export(dest: Path, *exercises: str) -> Path:
    argv = ["export", "otter", str(dest), "--course", str(REPO)]
    for exercise in exercises:
        argv += ["--exercise", exercise]
    assert main(argv) == 0
    return dest


def wrong_code(course: Course, exercise_id: str) -> str:
    case = WRONG[exercise_id]
    swap = with_method if case.code.startswith("\n    def ") else with_function
    return swap(solution_text(course, exercise_id), case.code)


def notebook(path: Path, code: str) -> Path:
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(book, path)
    return path


def otter(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(
        [sys.executable, "-m", "otter", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return run


def grade_json(course: Course, exercise_id: str, path: Path) -> dict:
    run = subprocess.run(
        [
            sys.executable,  # the grader of the interpreter running the tests, not PATH's
            "-m",
            "grader",
            exercise_id,
            "--format",
            "json",
            "--submission",
            str(path),
            "--course",
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stdout)


class TestTheExport:
    @pytest.mark.slow
    def test_otter_reads_each_test_file_with_the_course_checks_and_points(
        self, tmp_path: Path, course: Course
    ) -> None:
        dest = export(tmp_path / "otter")
        for exercise in course.exercises:
            folder = dest / exercise.id
            parsed = otter_test_files.ExceptionTestFile.from_file(
                str(folder / "tests" / f"{exercise.id}.py")
            )
            checks = load_checks(course, exercise)
            assert parsed.name == exercise.id
            assert [(case.name, case.points, case.hidden) for case in parsed.test_cases] == [
                (check.id, check.points, check.hidden) for check in checks
            ]
            assert sum(case.points for case in parsed.test_cases) == exercise.points
            assert (folder / exercise.student_file.with_suffix(".ipynb").name).is_file()
            assert (folder / "course_support" / "course.yaml").is_file()
            assert (folder / "course_support" / "grader" / "kernel_worker.py").is_file()
            assert "numpy" in (folder / "requirements.txt").read_text()
        readme = (dest / "README.md").read_text()
        assert (
            "otter generate course_support" in readme and "none of `grade`'s protection" in readme
        )

    def test_it_is_the_same_every_time(self, tmp_path: Path) -> None:
        first, second = export(tmp_path / "a", "exercise3"), export(tmp_path / "b", "exercise3")
        files = sorted(path.relative_to(first) for path in first.rglob("*") if path.is_file())
        assert files == sorted(
            path.relative_to(second) for path in second.rglob("*") if path.is_file()
        )
        assert all((first / name).read_bytes() == (second / name).read_bytes() for name in files)

    def test_a_non_empty_destination_is_refused(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        (tmp_path / "mine.txt").write_text("mine")
        assert main(["export", "otter", str(tmp_path), "--course", str(REPO)]) == 2
        err = capsys.readouterr().err.strip()
        assert "exists and is not an empty folder" in err and "\n" not in err
        assert [path.name for path in tmp_path.iterdir()] == ["mine.txt"]


class TestChecksInTheKernel:
    """run_check, as the exported test cases call it, on a namespace like a kernel's globals."""

    @staticmethod
    def namespace(code: str) -> dict:
        globals_: dict = {"__name__": "__main__"}
        exec(compile(code, "<cell>", "exec"), globals_)
        return globals_

    def test_the_solution_passes_every_check(self, course: Course) -> None:
        env = self.namespace(solution_text(course, "exercise1"))
        for check in load_checks(course, course.exercise("exercise1")):
            run_check(env, REPO / "course.yaml", "exercise1", check.id)

    def test_a_wrong_function_fails_with_the_message_grade_gives(self, course: Course) -> None:
        case = EXERCISE1[0]  # a one-sided difference
        env = self.namespace(with_function(solution_text(course, "exercise1"), case.code))
        check_id, hint = case.hint or ("", "")
        with pytest.raises(AssertionError, match=hint):
            run_check(env, REPO / "course.yaml", "exercise1", check_id)

    def test_a_mistake_is_charged_once_in_a_pass_as_grade_charges_it(self, course: Course) -> None:
        """An uphill gradient_step fails its own case; the paths that follow it pass, with
        their note, as in `grade`; a new pass from the first case charges it afresh."""
        env = self.namespace(with_function(solution_text(course, "exercise4"), EXERCISE4[0].code))
        checks = load_checks(course, course.exercise("exercise4"))
        failed = []
        for _ in range(2):
            for check in checks:
                try:
                    run_check(env, REPO / "course.yaml", "exercise4", check.id)
                except AssertionError:
                    failed.append(check.id)
        assert failed == ["gradient_step", "gradient_step"]
        # run alone, a path meets the mistake first and is charged for it
        with pytest.raises(AssertionError, match="stepped uphill"):
            run_check(env, REPO / "course.yaml", "exercise4", "gradient_descent_path")

    @pytest.mark.slow
    def test_a_function_that_never_returns_fails_after_the_call_limit(
        self, tmp_path: Path, course: Course
    ) -> None:
        from tests.helpers import write_course

        quick = write_course(tmp_path, course, call_seconds=1)
        env = self.namespace(
            with_function(
                solution_text(course, "exercise1"),
                "def numerical_derivative(f, x, h=1e-5):\n    while True:\n        pass\n",
            )
        )
        started = time.monotonic()
        with pytest.raises(AssertionError, match="no answer within 1 s"):
            run_check(env, quick, "exercise1", "numerical_derivative_is_central")
        assert time.monotonic() - started < 10
        # and the loop is stopped, not left spinning in the kernel
        deadline = time.monotonic() + 5
        while any(thread.name == "course-check-worker" for thread in threading.enumerate()):
            assert time.monotonic() < deadline, "the student's loop still runs"
            time.sleep(0.01)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The export of the exercises graded below, each with its autograder.zip from otter."""
    dest = export(tmp_path_factory.mktemp("otter") / "otter", *WRONG)
    for exercise_id in WRONG:
        otter("generate", "course_support", cwd=dest / exercise_id)
        assert (dest / exercise_id / "autograder.zip").is_file()
    return dest


# Each run starts a kernel (about 5 s): exercise 4 is graded wrong only.
RUNS = [(exercise, variant) for exercise in WRONG for variant in ("solved", "wrong")]
RUNS.remove(("exercise4", "solved"))


@pytest.mark.slow
@pytest.mark.parametrize(("exercise_id", "variant"), RUNS)
def test_otter_run_scores_as_grade_does(
    generated: Path, tmp_path: Path, course: Course, exercise_id: str, variant: str
) -> None:
    exercise = course.exercise(exercise_id)
    code = (
        solution_text(course, exercise_id)
        if variant == "solved"
        else wrong_code(course, exercise_id)
    )
    submission = notebook(tmp_path / exercise.student_file.with_suffix(".ipynb").name, code)
    run = otter(
        "run",
        "-a",
        "autograder.zip",
        str(submission),
        "-o",
        str(tmp_path),
        cwd=generated / exercise_id,
    )
    results = json.loads((tmp_path / "results.json").read_text())
    graded = grade_json(course, exercise_id, submission)
    otter_score = sum(test.get("score", 0) for test in results["tests"])
    assert otter_score == graded["score"]
    failed_in_otter = set(FAILED_CASE.findall(results["tests"][-1]["output"]))
    failed_in_grade = {test["id"] for test in graded["tests"] if test["status"] != "passed"}
    assert failed_in_otter == failed_in_grade
    if variant == "solved":
        assert graded["score"] == exercise.points
    else:
        assert failed_in_grade and graded["score"] < exercise.points
    assert f"Total Score: {otter_score:.3f} / {exercise.points:.3f}" in run.stdout
