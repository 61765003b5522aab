"""Helpers for the tests: variants of the solutions, grading them, copies of course.yaml."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

from grader.course import Course
from grader.results import ExerciseResult
from grader.runner import grade

REPO = Path(__file__).resolve().parents[1]


def solution_text(course: Course, exercise_id: str) -> str:
    exercise = course.exercise(exercise_id)
    assert exercise.solution_file is not None
    return exercise.solution_file.read_text()


def with_function(source: str, replacement: str) -> str:
    """``source`` with each top-level function that ``replacement`` defines swapped for it."""
    pieces = replacement.strip("\n").splitlines()
    for new in ast.parse(replacement.strip("\n")).body:
        assert isinstance(new, ast.FunctionDef) and new.end_lineno is not None
        code = pieces[new.lineno - 1 : new.end_lineno]
        lines = source.splitlines()
        nodes = [
            node
            for node in ast.parse(source).body
            if isinstance(node, ast.FunctionDef) and node.name == new.name
        ]
        assert nodes, f"no function {new.name} to replace"
        old = nodes[0]
        assert old.end_lineno is not None
        lines[old.lineno - 1 : old.end_lineno] = code
        source = "\n".join(lines) + "\n"
    return source


def grade_text(
    course: Course, exercise_id: str, text: str, folder: Path, file_name: str | None = None
) -> ExerciseResult:
    """Grade ``text`` as the submission for ``exercise_id``, written into ``folder``."""
    exercise = course.exercise(exercise_id)
    path = folder / (file_name or exercise.file_name)
    path.write_text(text)
    return grade(course, exercise, path)


def failed(result: ExerciseResult) -> set[str]:
    """Ids of the checks that did not pass."""
    return {check.id for check in result.checks if check.status != "passed"}


def message_of(result: ExerciseResult, check_id: str) -> str:
    return next(check.message for check in result.checks if check.id == check_id)


def write_course(folder: Path, course: Course, seed: int | None = None, **limits: float) -> Path:
    """A copy of the course's course.yaml in ``folder``, pointing at the repository's files by
    absolute path, with another ``seed`` or ``limits`` (e.g. call_seconds=1) if given."""
    data = yaml.safe_load(course.path.read_text())
    if seed is not None:
        data["seed"] = seed
    data["limits"] = {**data.get("limits", {}), **limits}
    for item in data["exercises"]:
        for key in ("student_file", "solution_file", "checks", "hidden_checks"):
            item[key] = str(REPO / item[key])
    path = folder / "course.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path
