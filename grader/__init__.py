"""The autograder: grades the course's exercises with student code kept in a separate process.

In a notebook: ``from grader import check`` then ``check("exercise3")`` (grader.notebook_api).
Importing the package costs nothing more: the worker imports it too.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.notebook_report import NotebookReport

__version__ = "0.1.0"


def check(target: str = "all", *, course: str | os.PathLike[str] | None = None) -> NotebookReport:
    """Grade an exercise ("exercise3"), every exercise ("all"), or hand in ("submit"), as the
    `grade` command does; the report shows under the cell."""
    from grader import notebook_api

    return notebook_api.check(target, course=course)


def check_all(*, course: str | os.PathLike[str] | None = None) -> NotebookReport:
    """Grade every exercise: ``check("all")``."""
    return check("all", course=course)


def export(*, course: str | os.PathLike[str] | None = None) -> NotebookReport:
    """Write the file to hand in: ``check("submit")``, as `grade submit` does."""
    return check("submit", course=course)
