"""What `grade` writes for CI: JUnit XML, GitHub annotations, step summary and Classroom result,
and the exit status --fail-under asks for."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml

from grader.cli import main
from grader.reports.github import escape_data, escape_property
from tests.helpers import REPO, solution_text, with_function

# exercise 3 with chain_rule wrong (off by 1 %, charged in each of its checks), and a line of
# output that tries to pass itself off as a workflow command
WRONG_CHAIN_RULE = """
def chain_rule(f_prime, g, g_prime, x):
    print("::error file=exercises/exercise3_chain_rule.py,line=1::forged by the student")
    return 1.01 * f_prime(g(x)) * g_prime(x)  # wrong by 1 %, a mistake no check names
"""


@pytest.fixture(autouse=True)
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def wrong_file(tmp_path: Path) -> Path:
    from grader.course import load_course

    course = load_course(REPO / "course.yaml")
    path = tmp_path / "exercise3_chain_rule.py"
    path.write_text(with_function(solution_text(course, "exercise3"), WRONG_CHAIN_RULE))
    return path


@pytest.fixture
def github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    files = {"summary": tmp_path / "summary.md", "output": tmp_path / "output.txt"}
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(files["summary"]))
    monkeypatch.setenv("GITHUB_OUTPUT", str(files["output"]))
    return files


def test_junit_has_a_testsuite_per_exercise_and_a_testcase_per_check(
    tmp_path: Path, wrong_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "reports" / "grades.xml"
    assert main(["exercise3", "--submission", str(wrong_file), "--junit", str(report)]) == 1
    suites = list(JUnitXml.fromfile(str(report)))
    assert [suite.name for suite in suites] == ["exercise3"]
    cases = list(suites[0])
    assert len(cases) == 8
    failed = {case.name: case.result for case in cases if case.result}
    assert len(failed) == 2  # the public and the hidden chain_rule checks
    for results in failed.values():
        assert isinstance(results[0], Failure | Error) and "chain_rule" in results[0].message
    properties = {prop.name: prop.value for prop in suites[0].properties()}
    assert (properties["score"], properties["max_score"]) == ("7", "10")


def test_fail_under_decides_the_exit_status(
    wrong_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    submission = ["exercise3", "--submission", str(wrong_file)]
    assert main([*submission, "--fail-under", "7"]) == 0  # 7 of 10
    assert main([*submission, "--fail-under", "7.5"]) == 1
    assert main([*submission, "--fail-under", "-1"]) == 2
    assert "--fail-under -1: give a score of 0 or more" in capsys.readouterr().err


def test_in_github_actions_a_partial_score_is_not_a_failed_build(
    wrong_file: Path, github: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["exercise3", "--submission", str(wrong_file)]) == 0
    assert main(["exercise3", "--submission", str(wrong_file), "--fail-under", "10"]) == 1


def test_annotations_point_at_the_failing_function_and_output_cannot_forge_one(
    wrong_file: Path, github: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    main(["exercise3", "--submission", str(wrong_file)])
    lines = capsys.readouterr().out.splitlines()
    opening = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
    token = lines[opening].removeprefix("::stop-commands::")
    closing = lines.index(f"::{token}::")
    fenced, after = lines[opening:closing], lines[closing + 1 :]
    assert any("forged by the student" in line for line in fenced)
    assert not any("forged" in line for line in lines[:opening] + after)
    assert len(token) >= 32 and token not in wrong_file.read_text()
    annotations = [line for line in after if line.startswith("::error ")]
    assert len(annotations) == 2
    line_of_chain_rule = 1 + wrong_file.read_text().splitlines().index(
        "def chain_rule(f_prime, g, g_prime, x):"
    )
    for annotation in annotations:
        assert f"line={line_of_chain_rule}," in annotation
        assert annotation.startswith(f"::error file={escape_property(str(wrong_file))},")


def test_step_summary_and_classroom_result(
    github: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    main(["all", "--submission", "solutions"])
    summary = github["summary"].read_text()
    assert "| exercise3: The chain rule | 10 / 10 | 8 of 8 |" in summary
    assert "**Total: 100 / 100**" in summary
    name, _, value = github["output"].read_text().strip().partition("=")
    result = json.loads(base64.b64decode(value))
    assert name == "result" and result["version"] == 1 and result["status"] == "pass"
    assert result["max_score"] == 100
    assert sum(test["score"] for test in result["tests"]) == 100
    assert all(test["status"] == "pass" for test in result["tests"])


def test_classroom_result_counts_what_failed(
    wrong_file: Path, github: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    main(["exercise3", "--submission", str(wrong_file)])
    result = json.loads(base64.b64decode(github["output"].read_text().strip().split("=", 1)[1]))
    assert result["status"] == "fail" and result["max_score"] == 10
    assert sum(test["score"] for test in result["tests"]) == 7
    assert sorted(test["status"] for test in result["tests"]).count("fail") == 2


def test_workflow_command_values_are_escaped() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a: b, c") == "a%3A b%2C c"


def test_an_unwritable_junit_path_is_one_line_and_exit_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    status = main(["exercise3", "--submission", "solutions", "--junit", str(blocker / "x.xml")])
    err = capsys.readouterr().err.strip()
    assert status == 2 and err.startswith(f"grade: --junit {blocker / 'x.xml'}: cannot be written")
    assert "\n" not in err
