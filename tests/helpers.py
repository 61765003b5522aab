"""Helpers for the tests: variants of the solutions, grading them, copies of course.yaml."""

from __future__ import annotations

import ast
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from grader.course import Course
from grader.limits import Limits
from grader.results import ExerciseResult
from grader.runner import grade
from grader.student_code.session import StudentSession
from grader.submission import Source

REPO = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def session_of(code: str, call_seconds: float = 1.0) -> Iterator[StudentSession]:
    """A worker with ``code`` loaded as the submission code.py, closed afterwards."""
    session = StudentSession(
        Source("code.py", "code.py", code), Limits(call_seconds=call_seconds), time.monotonic() + 60
    )
    session.start()
    try:
        yield session
    finally:
        session.close()


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


@dataclass(frozen=True)
class Mistake:
    name: str
    code: str
    fails: frozenset[str]
    hint: tuple[str, str] | None = None  # (check id, text its message must contain)


def mistake(name: str, code: str, fails: set[str], hint: tuple[str, str] | None = None) -> Mistake:
    return Mistake(name, code, frozenset(fails), hint)


def with_method(source: str, replacement: str) -> str:
    """``source`` with the method of its class that ``replacement`` defines swapped for it."""
    name = replacement.strip().split("(")[0].removeprefix("def ").strip()
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"    def {name}("))
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].startswith("    def ")), len(lines)
    )
    lines[start:end] = [*replacement.strip("\n").splitlines(), ""]
    return "\n".join(lines) + "\n"


def assert_loses_exactly_its_checks(
    course: Course, exercise_id: str, case: Mistake, folder: Path
) -> None:
    """Grade the solution with ``case``'s code swapped in: exactly its checks fail, the score
    drops by exactly their points, and the hint (if any) is in the message."""
    source = solution_text(course, exercise_id)
    swap = with_method if case.code.startswith("\n    def ") else with_function
    result = grade_text(course, exercise_id, swap(source, case.code), folder)
    assert failed(result) == case.fails
    lost = sum(check.max_score for check in result.checks if check.id in case.fails)
    assert abs(result.score - (result.max_score - lost)) < 1e-9
    if case.hint is not None:
        check_id, text_in_message = case.hint
        assert text_in_message in message_of(result, check_id)


def assert_both_check_files_share(exercise_id: str, names: set[str]) -> None:
    """Exercise ``exercise_id``'s public and hidden checks name their mistakes from one module,
    checks/_<exercise_id>_mistakes.py, loaded as ``common``: each file loads it, uses every one
    of ``names`` from it, and defines none of its names again (a copy that could drift from it)."""
    module = REPO / "checks" / f"_{exercise_id}_mistakes.py"
    defined = _top_level_names(ast.parse(module.read_text()))
    assert names <= defined, sorted(names - defined)
    for kind in ("public", "hidden"):
        tree = ast.parse((REPO / "checks" / f"{exercise_id}_{kind}.py").read_text())
        loads = [
            node
            for node in tree.body
            if isinstance(node, ast.Assign)
            and ast.unparse(node.value) == f"shared(__file__, '_{exercise_id}_mistakes')"
        ]
        assert [ast.unparse(node.targets[0]) for node in loads] == ["common"], kind
        assert not _top_level_names(tree) & (defined - {"common"}), kind
        used = {
            node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "common"
        }
        assert names <= used, (kind, sorted(names - used))


def _top_level_names(tree: ast.Module) -> set[str]:
    """The names a module defines at its top level (functions, classes, assignments)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names
