"""The answer key scores full marks, the untouched stubs score 0, and stubs match solutions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from grader.course import Course, load_course
from grader.runner import grade
from grader.stubs import GIVEN, stub_source
from tests.helpers import write_course

EXERCISES = [f"exercise{number}" for number in range(1, 12)]


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_solution_scores_full_marks(course: Course, exercise_id: str) -> None:
    exercise = course.exercise(exercise_id)
    assert exercise.solution_file is not None
    result = grade(course, exercise, exercise.solution_file)
    assert [check.message for check in result.checks if check.status != "passed"] == []
    assert result.score == result.max_score == exercise.points


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 7, 2**31 - 1, 2**63 - 1])
def test_solutions_pass_under_other_course_seeds(course: Course, tmp_path: Path, seed: int) -> None:
    """Random inputs never fail correct code: the checks hold for any seed, not just ours."""
    reseeded = load_course(write_course(tmp_path, course, seed=seed))
    for exercise in reseeded.exercises:
        assert exercise.solution_file is not None
        result = grade(reseeded, exercise, exercise.solution_file)
        assert [check.message for check in result.checks if check.status != "passed"] == []


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_untouched_stub_scores_zero_and_says_what_to_implement(
    course: Course, exercise_id: str
) -> None:
    exercise = course.exercise(exercise_id)
    result = grade(course, exercise, exercise.student_file)
    assert result.score == 0
    assert result.problem is None
    for check in result.checks:
        assert check.status == "error"
        assert "is not implemented yet" in check.message
        assert "Replace `raise NotImplementedError`" in check.message


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_stub_is_the_solution_without_its_bodies(course: Course, exercise_id: str) -> None:
    exercise = course.exercise(exercise_id)
    assert exercise.solution_file is not None
    expected = stub_source(exercise.solution_file.read_text(), exercise_id)
    assert exercise.student_file.read_text() == expected, (
        f"{exercise.student_file.name} is out of date: regenerate it with grader.stubs"
    )


def test_the_course_is_worth_one_hundred_points(course: Course) -> None:
    assert [exercise.id for exercise in course.exercises] == EXERCISES
    assert course.max_score == 100
    assert sum(course.exercise(item).points for item in EXERCISES[:3]) == 30


def _functions(path: Path) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(path.read_text())
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def _body_without_docstring(node: ast.FunctionDef) -> str:
    return ast.dump(ast.Module(body=node.body[1:], type_ignores=[]))


def test_given_helpers_are_the_earlier_solutions(course: Course) -> None:
    """A helper given in a later exercise is exactly the earlier exercise's answer."""
    solutions = {
        name: node
        for exercise in course.exercises
        if exercise.solution_file is not None
        for name, node in _functions(exercise.solution_file).items()
        if not (ast.get_docstring(node) or "").startswith(GIVEN)
    }
    given_count = 0
    for exercise in course.exercises:
        assert exercise.solution_file is not None
        for name, node in _functions(exercise.solution_file).items():
            if (ast.get_docstring(node) or "").startswith(GIVEN):
                given_count += 1
                assert name in solutions, f"{name} is given but no exercise asks for it"
                assert _body_without_docstring(node) == _body_without_docstring(solutions[name])
    assert given_count >= 10
