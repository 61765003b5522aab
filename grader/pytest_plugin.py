"""pytest runs a course's check files as ordinary tests: how instructors write and test checks.

Installed with the package (entry point ``pytest11``), it gives check functions their fixtures:

- ``student``: the reference solution (or the file given with ``--course-submission``), loaded in a
  worker process exactly as the grader does it;
- ``solution``: the reference module, imported normally;
- ``rng``: the same seeded Generator the grader gives that check, so inputs are identical.

So ``pytest checks/`` verifies the answer key, and
``pytest checks/exercise1_public.py --course-submission exercises`` shows what a student would see.
Files that are not a course's check files are left alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from grader.course import COURSE_FILE, Course, Exercise, load_course
from grader.runner import check_rng, load_solution
from grader.student_code.objects import StudentModule
from grader.student_code.session import StudentSession
from grader.submission import SubmissionProblem, locate, read_source


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--course-submission",
        metavar="PATH",
        default=None,
        help="grade this file or folder in course check files, instead of the reference solutions",
    )


def _exercise_of(path: Path) -> tuple[Course, Exercise] | None:
    """The course and exercise whose public or hidden checks live in ``path``, if any."""
    for folder in path.resolve().parents:
        if (folder / COURSE_FILE).is_file():
            course = load_course(folder / COURSE_FILE)
            for exercise in course.exercises:
                if path.resolve() in (exercise.checks, exercise.hidden_checks):
                    return course, exercise
            return None
    return None


@pytest.fixture(scope="module")
def _course_exercise(request: pytest.FixtureRequest) -> tuple[Course, Exercise]:
    found = _exercise_of(Path(str(request.module.__file__)))
    if found is None:
        pytest.skip("not a check file named in a course.yaml")
    return found


@pytest.fixture(scope="module")
def student(
    request: pytest.FixtureRequest, _course_exercise: tuple[Course, Exercise]
) -> Iterator[StudentModule]:
    """The submission under test (default: the reference solution), run in a worker."""
    _, exercise = _course_exercise
    given = request.config.getoption("--course-submission")
    if given is not None:
        path = locate(exercise, Path(given)).path
    elif exercise.solution_file is not None:
        path = exercise.solution_file
    else:
        pytest.skip(f"{exercise.id} has no solution_file; pass --course-submission")
    source = read_source(path)
    if isinstance(source, SubmissionProblem):
        pytest.fail(source.message)
    session = StudentSession(source, exercise.limits, time.monotonic() + 3600)
    session.start()
    yield StudentModule(session)
    session.close()


@pytest.fixture
def solution(_course_exercise: tuple[Course, Exercise]) -> ModuleType:
    """The reference solution module (hidden checks only)."""
    return load_solution(_course_exercise[1])


@pytest.fixture
def rng(
    request: pytest.FixtureRequest, _course_exercise: tuple[Course, Exercise]
) -> np.random.Generator:
    """The seeded Generator the grader gives this check."""
    course, exercise = _course_exercise
    return check_rng(course.seed, exercise.id, request.function.__name__.removeprefix("test_"))
