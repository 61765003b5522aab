"""Check files share modules beside them (checks/_words.py, loaded with grader.checks.shared):
graded as in the course, shipped wherever the checks go, and part of the checks' version."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.batch.command import checks_version
from grader.course import Course, load_course
from grader.course_modules import shared
from grader.errors import CourseError
from grader.integrations.gradescope import autograder_files
from grader.integrations.otter import otter_files
from grader.integrations.student_release import release_files
from tests.helpers import REPO, grade_text, message_of, solution_text

WORDS = "these words live in checks/_words.py"
SHARING_CHECK = '''

_words = shared(__file__, "_words")


@check(points=1)
def test_words_from_a_shared_module(student):
    """A check whose words come from a module the check files share."""
    raise AssertionError(_words.TEXT)
'''


@pytest.fixture
def sharing_course(tmp_path: Path) -> Course:
    """Exercise 3 alone, in a course of its own whose public checks also import checks/_words.py."""
    for folder, name in [
        ("exercises", "exercise3_chain_rule.py"),
        ("solutions", "exercise3_chain_rule.py"),
        ("checks", "exercise3_public.py"),
        ("checks", "exercise3_hidden.py"),
        ("checks", "_exercise3_mistakes.py"),
    ]:
        (tmp_path / folder).mkdir(exist_ok=True)
        shutil.copy(REPO / folder / name, tmp_path / folder / name)
    public = tmp_path / "checks" / "exercise3_public.py"
    public.write_text(public.read_text() + SHARING_CHECK)
    (tmp_path / "checks" / "_words.py").write_text(f"TEXT = {WORDS!r}\n")
    (tmp_path / "course.yaml").write_text(
        "title: Sharing\nseed: 1\nexercises:\n  - id: exercise3\n    title: The chain rule\n"
        "    student_file: exercises/exercise3_chain_rule.py\n"
        "    solution_file: solutions/exercise3_chain_rule.py\n"
        "    checks: checks/exercise3_public.py\n    hidden_checks: checks/exercise3_hidden.py\n"
        "    points: 11\n"
    )
    return load_course(tmp_path / "course.yaml")


def test_a_check_uses_the_words_of_a_shared_module(
    sharing_course: Course, course: Course, tmp_path: Path
) -> None:
    result = grade_text(sharing_course, "exercise3", solution_text(course, "exercise3"), tmp_path)
    assert message_of(result, "words_from_a_shared_module") == WORDS
    assert result.score == result.max_score - 1  # the rest of the checks as before


def test_a_shared_module_goes_wherever_the_checks_go(sharing_course: Course) -> None:
    exercise = sharing_course.exercise("exercise3")
    assert [path.name for path in exercise.shared_check_modules] == [
        "_exercise3_mistakes.py",
        "_words.py",
    ]
    assert "checks/_words.py" in release_files(sharing_course)
    assert "checks/_words.py" in autograder_files(sharing_course, (exercise,))
    assert "exercise3/course_support/checks/_words.py" in otter_files(sharing_course, None)


def test_editing_a_shared_module_regrades(sharing_course: Course) -> None:
    exercise = sharing_course.exercise("exercise3")
    before = checks_version(sharing_course, exercise)
    (exercise.checks.parent / "_words.py").write_text("TEXT = 'other words'\n")
    assert checks_version(sharing_course, exercise) != before


def test_a_shared_module_is_named_with_an_underscore_and_must_exist(tmp_path: Path) -> None:
    beside = str(tmp_path / "exercise1_public.py")
    with pytest.raises(CourseError, match="starts with _"):
        shared(beside, "words")
    with pytest.raises(CourseError, match="there is no"):
        shared(beside, "_absent")
