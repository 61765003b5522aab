"""The command line: formats, exit statuses, where it looks for the course and the submission."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import nbformat
import pytest

from grader.cli import main
from grader.results import ERROR_KINDS
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
    assert report["score"] == 7
    failing = [test for test in report["tests"] if test["status"] == "failed"]
    assert [test["max_score"] for test in failing] == [2, 1]
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
    assert "ZeroDivisionError" in report["problem"] and "(cell 2, line 2" in report["problem"]


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
