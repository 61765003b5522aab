"""The command line: formats, exit statuses, where it looks for the course and the submission."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import nbformat
import pytest

from grader import command_line
from grader.cli import main
from grader.course import COMMANDS
from grader.results import ERROR_KINDS
from grader.runner import Grading
from tests.helpers import REPO, solution_text, with_function

TEST = {
    "type": "object",
    "required": ["name", "score", "max_score", "status", "hidden", "message", "kind"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "score": {"type": "number", "minimum": 0},
        "max_score": {"type": "number", "exclusiveMinimum": 0},
        "status": {"enum": ["passed", "failed", "error"]},
        "hidden": {"type": "boolean"},
        "message": {"type": "string"},
        "kind": {"enum": ["", *ERROR_KINDS]},
    },
}
EXERCISE = {
    "type": "object",
    "required": ["exercise", "score", "max_score", "tests"],
    "properties": {
        "exercise": {"type": "string"},
        "score": {"type": "number"},
        "max_score": {"type": "number"},
        "tests": {"type": "array", "minItems": 1, "items": TEST},
    },
}
COURSE = {
    "type": "object",
    "required": ["score", "max_score", "exercises"],
    "properties": {
        "score": {"type": "number"},
        "max_score": {"type": "number"},
        "exercises": {"type": "array", "items": EXERCISE},
    },
}


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture(autouse=True)
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def test_json_report_has_the_promised_shape(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["exercise3", "--submission", "solutions", "--format", "json"], capsys)
    report = json.loads(out)
    jsonschema.validate(report, EXERCISE)
    assert (status, err) == (0, "")
    assert report["exercise"] == "exercise3"
    assert report["score"] == report["max_score"] == 10
    assert sum(test["max_score"] for test in report["tests"]) == 10
    assert {test["hidden"] for test in report["tests"]} == {True, False}


def test_json_report_of_a_wrong_answer(
    course, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = with_function(
        solution_text(course, "exercise3"),
        """
def chain_rule(f_prime, g, g_prime, x):
    return f_prime(g(x))
""",
    )
    (tmp_path / "exercise3_chain_rule.py").write_text(wrong)
    status, out, _ = run(["exercise3", "--submission", str(tmp_path), "--format", "json"], capsys)
    report = json.loads(out)
    jsonschema.validate(report, EXERCISE)
    assert status == 1
    assert report["score"] == 8  # the mistake costs its own check; the hidden one notes it
    failing = [test for test in report["tests"] if test["status"] == "failed"]
    assert [test["max_score"] for test in failing] == [2]
    assert all(test["score"] == 0 and test["message"] for test in failing)


def test_grade_all_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["all", "--submission", "solutions", "--format", "json"], capsys)
    report = json.loads(out)
    jsonschema.validate(report, COURSE)
    assert status == 0
    assert [item["exercise"] for item in report["exercises"]] == [
        f"exercise{n}" for n in range(1, 12)
    ]
    assert report["score"] == report["max_score"] == 100


def test_stubs_exit_one_and_report_each_function(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["exercise3"], capsys)
    assert status == 1
    assert "Score 0/10" in out
    for name in ("chain_rule", "compose", "cos_of_square_minus_one"):
        assert f"{name} is not implemented yet" in out


def test_course_found_from_a_subfolder(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO / "exercises")
    status, out, _ = run(["exercise1", "--submission", "../solutions"], capsys)
    assert status == 0 and "Score 10/10" in out


def test_submission_as_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, _ = run(["exercise2", "--submission", "solutions/exercise2_gradients.py"], capsys)
    assert status == 0


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["exercise12"], "no exercise 'exercise12'"),
        (["exercise3", "--submission", "nowhere/"], "nowhere: no such file or folder"),
        (["exercise3", "--submission", "pyproject.toml"], "cannot grade a .toml file"),
        (["exercise3", "--submission", "tests"], "exercise3_chain_rule.py not found"),
        (["exercise3", "--format", "xml"], "invalid choice: 'xml'"),
        (["all", "--submission", "solutions/exercise1_derivatives.py"], "takes a folder"),
        ([], "the following arguments are required: EXERCISE"),
    ],
)
def test_usage_errors_exit_two_with_one_line(
    args: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(args, capsys)
    assert status == 2 and out == ""
    assert err.startswith("grade: ") and words in err
    assert len(err.strip().splitlines()) == 1


def test_no_course_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    status, _, err = run(["exercise1"], capsys)
    assert status == 2 and "no course.yaml in" in err and "--course" in err


@pytest.mark.slow
def test_grade_all_with_one_exercise_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("exercise1_derivatives.py", "exercise3_chain_rule.py"):
        (tmp_path / name).write_text((REPO / "solutions" / name).read_text())
    status, out, _ = run(["all", "--submission", str(tmp_path), "--format", "json"], capsys)
    report = json.loads(out)
    assert status == 1
    assert [item["score"] for item in report["exercises"]] == [10, 0, 10] + [0] * 8
    assert "exercise2_gradients.py not found" in report["exercises"][1]["problem"]


@pytest.mark.slow
def test_a_link_out_of_the_submission_folder_is_not_graded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "exercise1_derivatives.py").write_text(
        (REPO / "solutions" / "exercise1_derivatives.py").read_text()
    )
    (tmp_path / "exercise3_chain_rule.py").symlink_to(REPO / "solutions/exercise3_chain_rule.py")
    status, _, err = run(["exercise3", "--submission", str(tmp_path)], capsys)
    assert status == 2 and "is a symbolic link to a file outside" in err
    assert err.count("\n") == 1
    status, out, _ = run(["all", "--submission", str(tmp_path), "--format", "json"], capsys)
    report = json.loads(out)
    assert [item["score"] for item in report["exercises"]][:3] == [10, 0, 0]
    assert "symbolic link" in report["exercises"][2]["problem"]


def notebook_of(code_cells: list[str]) -> str:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Exercise 3")]
    notebook.cells += [nbformat.v4.new_code_cell(code) for code in code_cells]
    return nbformat.writes(notebook)


def test_notebook_submission_is_graded(
    course, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = solution_text(course, "exercise3")
    (tmp_path / "exercise3_chain_rule.ipynb").write_text(
        notebook_of(["%matplotlib inline", code, "!pip list"])
    )
    status, out, _ = run(["exercise3", "--submission", str(tmp_path)], capsys)
    assert status == 0, out


def test_notebook_error_names_the_cell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "exercise3_chain_rule.ipynb").write_text(
        notebook_of(["import numpy as np", "x = 1\ny = x / 0"])
    )
    args = ["exercise3", "--submission", str(tmp_path), "--format", "json", "--run-all-cells"]
    status, out, _ = run(args, capsys)
    report = json.loads(out)
    assert status == 1
    assert (
        "ZeroDivisionError" in report["problem"]
        and "(cell 3 (`x = 1`), line 2" in report["problem"]
    )


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "no function named"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "is a binary file"),
        (b"x = '\xff\xfe'\n", "is not UTF-8 text"),
    ],
)
def test_unusable_file_scores_zero_with_a_reason(
    tmp_path: Path, content: bytes, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "exercise1_derivatives.py"
    path.write_bytes(content)
    status, out, _ = run(["exercise1", "--submission", str(path), "--format", "json"], capsys)
    report = json.loads(out)
    assert status == 1 and report["score"] == 0
    messages = [report["problem"] or "", *(test["message"] for test in report["tests"])]
    assert any(words in message for message in messages)


def test_installed_command_end_to_end(tmp_path: Path) -> None:
    """The console script, as a user runs it: a fresh process, from the course folder."""
    command = [
        sys.executable,
        "-m",
        "grader",
        "exercise3",
        "--submission",
        "solutions",
        "--format",
        "json",
    ]
    done = subprocess.run(
        command,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["score"] == 10


def test_terminal_report_has_no_colour_when_piped() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "grader", "exercise1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "\033[" not in done.stdout
    assert "Score 0/10" in done.stdout and "4 of them hidden, worth 3 points" in done.stdout


# ---------------------------------------------------------------- commands, help, typos


def test_help_lists_every_command_and_the_course_s_exercises(
    course, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(["--help"], capsys)
    assert (status, err) == (0, "")
    for command in command_line.COMMANDS:
        assert f"\n  {command} " in out, command
    for exercise in course.exercises:
        assert re.search(rf"\n  {exercise.id} +{re.escape(exercise.title)}\n", out), exercise.id
    assert "--submission PATH" in out  # and the options of grading one exercise


def test_help_lists_the_exercises_of_the_course_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(["--help"], capsys)
    assert status == 0 and "exercise3 " not in out
    assert "no course.yaml in this folder or above" in out and "--course PATH" in out
    status, out, _ = run(["--course", str(REPO), "--help"], capsys)
    assert status == 0 and "  exercise3    The chain rule\n" in out


def test_every_command_is_a_name_no_exercise_may_take() -> None:
    assert {*command_line.COMMANDS, command_line.CHECK} <= COMMANDS


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["exercise33"], "no exercise 'exercise33' in course.yaml; did you mean exercise3?"),
        (["ex3"], "no exercise 'ex3' in course.yaml; did you mean exercise3?"),
        (["3"], "did you mean exercise3?"),
        (["Exercise3", "--submission", "solutions"], "did you mean exercise3?"),
        (["exercise3", "--fromat", "json"], "unrecognized option --fromat; did you mean --format?"),
        (["--fromat", "json", "exercise3"], "did you mean --format?"),
        (["exercise3", "--submision", "solutions"], "did you mean --submission?"),
        (["all", "--submision=solutions"], "did you mean --submission?"),
        (["exercise3", "--format", "jsno"], "did you mean json?"),
        (["bacth"], "no command or exercise 'bacth'; did you mean batch?"),
        (["doctr"], "did you mean doctor?"),
        (["release", "studnt", "x"], "did you mean student?"),
        (["doctor", "--fromat", "json"], "did you mean --format?"),
    ],
)
def test_a_typo_gets_one_line_with_what_was_meant(
    args: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(args, capsys)
    assert (status, out) == (2, "")
    assert err.startswith("grade: ") and words in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_a_typo_from_the_installed_command_is_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "grader", "ex3"], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "did you mean exercise3?" in done.stderr


def test_batch_help_is_that_of_grade_batch(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["batch", "--help"], capsys)
    assert status == 0 and out.startswith("usage: grade batch")
    for option in ("--out", "--exercise", "--jobs", "--dask", "--roster", "--extensions"):
        assert option in out


def course_copy(folder: Path) -> Path:
    for part in ("exercises", "solutions", "checks"):
        shutil.copytree(REPO / part, folder / part)
    shutil.copy(REPO / "course.yaml", folder / "course.yaml")
    return folder


def test_grade_build_writes_the_student_files_that_are_out_of_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = course_copy(tmp_path / "course")
    stale = folder / "exercises" / "exercise3_chain_rule.py"
    stale.write_text("# out of date\n")
    (folder / "exercises" / "exercise1_derivatives.ipynb").unlink()
    status, out, _ = run(["build", str(folder)], capsys)
    assert status == 0
    assert out.splitlines() == [
        "wrote exercises/exercise1_derivatives.ipynb",
        "wrote exercises/exercise3_chain_rule.py",
    ]
    assert stale.read_text() == (REPO / "exercises" / "exercise3_chain_rule.py").read_text()
    assert run(["build", str(folder)], capsys)[:2] == (0, "")  # nothing left to write


def test_python_m_grader_build_is_grade_build(tmp_path: Path) -> None:
    folder = course_copy(tmp_path / "course")
    (folder / "exercises" / "exercise2_gradients.py").write_text("")
    done = subprocess.run(
        [sys.executable, "-m", "grader.build"], cwd=folder, capture_output=True, text=True
    )
    assert (done.returncode, done.stdout) == (0, "wrote exercises/exercise2_gradients.py\n")
    done = subprocess.run(
        [sys.executable, "-m", "grader.build", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and done.stderr.startswith("grade: ")
    assert done.stderr.count("\n") == 1


# ---------------------------------------------------------------- a grading, built then started


def test_a_grading_is_built_without_reading_or_starting_anything(course, tmp_path: Path) -> None:
    exercise = course.exercise("exercise3")
    absent = Grading(course, exercise, tmp_path / "absent.py", "absent.py")
    assert (absent.started, absent.session, absent.problem) == (None, None, None)
    assert "cannot be read" in (absent.run().problem or "")
    grading = Grading(course, exercise, REPO / "solutions" / "exercise3_chain_rule.py", "e3.py")
    assert grading.session is None
    grading.start()
    try:
        assert grading.session is not None and grading.started is not None
    finally:
        grading.close()
