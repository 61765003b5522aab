"""What run_autograder runs (grader.integrations.gradescope_run), called in this process on a
ROOT laid out as Gradescope lays out /autograder, the course as source/. test_gradescope.py runs
the built zip itself, set up by its setup.sh, in the slow tier."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from grader.course import Course
from grader.integrations.gradescope_run import main
from tests.helpers import REPO


def autograder_root(tmp_path: Path) -> Path:
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "source").symlink_to(REPO)
    return root


def test_the_submission_is_graded_into_results_json(
    tmp_path: Path, course: Course, capsys: pytest.CaptureFixture[str]
) -> None:
    """One exercise solved, the others not handed in: full marks for it, 0 and the file wanted
    for each of the others, and the whole report on stdout for the instructor."""
    root = autograder_root(tmp_path)
    solved = course.exercises[0]
    assert solved.solution_file is not None
    shutil.copy(solved.solution_file, root / "submission" / solved.file_name)
    assert main([str(root)]) == 0
    document = json.loads((root / "results" / "results.json").read_text())
    assert document["output"].startswith(f"You handed in {solved.file_name}.")
    assert document["score"] == pytest.approx(solved.points)
    other = course.exercises[1]
    assert f"{other.file_name} (or {Path(other.file_name).stem}.ipynb)" in json.dumps(document)
    assert "protection layers active:" in capsys.readouterr().out


def test_a_missing_submission_folder_or_arguments_exit_two_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([]) == 2
    assert capsys.readouterr().err.startswith("usage: python -m grader.integrations.gradescope_run")
    root = autograder_root(tmp_path)
    root.joinpath("submission").rmdir()
    assert main([str(root)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "does not exist" in error
    assert not (root / "results" / "results.json").exists()
