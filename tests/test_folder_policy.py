"""One folder policy (grader.folder_policy): `grade --submission FOLDER`, the Gradescope autograder
and `grade batch` pick the same file in the same folder, and refuse the same one."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import cli
from grader.batch import command
from grader.batch.discover import StudentEntry
from grader.course import Course
from grader.folder_policy import NotSubmitted, pick
from grader.integrations import gradescope_run
from grader.submission import Located
from tests.helpers import REPO, solution_text

Verdict = tuple[str, str | None]  # graded / refused / not submitted, and the file's name


def verdict(found: Located | NotSubmitted) -> Verdict:
    if isinstance(found, Located):
        return "graded", found.path.name
    return ("refused", found.refused.name) if found.refused else ("not submitted", None)


def by_grade(course: Course, folder: Path) -> dict[str, Verdict]:
    return {item.id: verdict(cli._located(item, folder)) for item in course.exercises}


def by_gradescope(course: Course, folder: Path) -> dict[str, Verdict]:
    return {
        item.id: verdict(gradescope_run._located(course, item, folder)) for item in course.exercises
    }


def by_batch(course: Course, folder: Path) -> dict[str, Verdict]:
    entry = StudentEntry("ann", "ann", folder, None, root=folder)
    verdicts: dict[str, Verdict] = {}
    for item in course.exercises:
        planned = command._plan_one(entry, item, "version")
        if planned.task is not None:
            verdicts[item.id] = ("graded", Path(planned.task.path).name)
        elif planned.refused:
            verdicts[item.id] = ("refused", Path(planned.shown or "").name)
        else:
            verdicts[item.id] = ("not submitted", None)
    return verdicts


@pytest.fixture
def handed_in(tmp_path: Path, course: Course) -> Path:
    """A good exercise 1, an exercise 3 that links to the answer key, no exercise 2."""
    folder = tmp_path / "ann"
    folder.mkdir()
    (folder / "exercise1_derivatives.py").write_text(solution_text(course, "exercise1"))
    (folder / "exercise3_chain_rule.py").symlink_to(REPO / "solutions/exercise3_chain_rule.py")
    return folder


def test_the_three_callers_agree(course: Course, handed_in: Path) -> None:
    verdicts = by_grade(course, handed_in)
    assert verdicts["exercise1"] == ("graded", "exercise1_derivatives.py")
    assert verdicts["exercise2"] == ("not submitted", None)
    assert verdicts["exercise3"] == ("refused", "exercise3_chain_rule.py")
    assert by_gradescope(course, handed_in) == verdicts
    assert by_batch(course, handed_in) == verdicts


def test_a_link_inside_the_folder_is_graded(course: Course, handed_in: Path) -> None:
    (handed_in / "exercise3_chain_rule.py").unlink()
    (handed_in / "mine.py").write_text(solution_text(course, "exercise3"))
    (handed_in / "exercise3_chain_rule.py").symlink_to("mine.py")
    found = pick(course.exercise("exercise3"), handed_in)
    assert isinstance(found, Located) and found.path.name == "exercise3_chain_rule.py"


def test_the_root_is_what_a_link_must_stay_in(course: Course, handed_in: Path) -> None:
    """A link from the exercises folder to elsewhere in what was handed in is no link out."""
    inner = handed_in / "exercises"
    inner.mkdir()
    (inner / "exercise1_derivatives.py").symlink_to(handed_in / "exercise1_derivatives.py")
    exercise = course.exercise("exercise1")
    assert isinstance(pick(exercise, inner, handed_in), Located)
    refused = pick(exercise, inner)
    assert isinstance(refused, NotSubmitted) and "symbolic link" in refused.reason
