"""Fixtures: the repository's course, and a copy of it with short time limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.course import Course, load_course
from tests.helpers import REPO, write_course


@pytest.fixture(scope="session")
def course() -> Course:
    return load_course(REPO / "course.yaml")


@pytest.fixture
def quick_course(tmp_path: Path, course: Course) -> Course:
    """The course with short time limits, for submissions that hang."""
    return load_course(write_course(tmp_path, course, call_seconds=1, wall_seconds=8))
