"""The version of a grading: a hash of everything besides the submission that decides its score.

Two gradings of one file with one version give the same score, so the gradebook keeps a grading
by (student, exercise, file hash, version) and a later run grades again exactly what a change
could have changed: the course settings, the checks and the ``checks/_*.py`` modules they share,
the solution, the limits, and the grader's own code.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import replace
from pathlib import Path

from grader import __version__
from grader.course import Course, Exercise

GRADER = Path(__file__).resolve().parent.parent  # the grader package's folder

# Left out of the grader's hash: what only plans a batch, sends its gradings out and writes its
# outputs from the gradebook (grader/batch; late penalties are worked out again on every run),
# the reports made from a finished result for a terminal, CI or Gradescope (grader/reports, all
# but json_report.py, whose report is what the gradebook keeps), and the integrations, which
# package and publish a course but grade nothing. Editing those changes no score, and must not
# regrade a class; every other module of the package runs in a grading, so it counts.
NOT_GRADING = ("batch/", "integrations/", "reports/")
GRADING_REPORTS = ("reports/json_report.py",)


def grading_sources() -> list[Path]:
    """The grader's own modules that a grading runs, in a fixed order."""
    found = []
    for path in sorted(GRADER.rglob("*.py")):
        relative = path.relative_to(GRADER).as_posix()
        if relative.startswith(NOT_GRADING) and relative not in GRADING_REPORTS:
            continue
        found.append(path)
    return found


@functools.cache
def grader_code_hash() -> str:
    """A hash of the grader's version and the source of its grading modules, read once per process.

    Once: a process grades with the code it imported when it started, so the hash it reports
    must be of that code, not of what is on disk later (a long-lived Dask worker whose grader was
    edited under it then reports another hash than the client's, and its grading is refused).
    """
    digest = hashlib.sha256(__version__.encode())
    for path in grading_sources():
        digest.update(b"\0" + path.relative_to(GRADER).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def course_file_hash(course_path: Path) -> str:
    """A hash of course.yaml's bytes: what a process's cached course is keyed by."""
    return hashlib.sha256(Path(course_path).read_bytes()).hexdigest()


def checks_version(course: Course, exercise: Exercise) -> str:
    """The version of ``exercise``'s gradings: a hash of the grader's code (grader_code_hash),
    the course's seed and the exercise's settings (its files, points, limits and hidden points),
    the checks and the modules they share, and the solution.

    The due date and the course's late policy and feedback settings are left out: late penalties
    are worked out again from the gradebook on every run, and feedback is written from it."""
    digest = hashlib.sha256(grader_code_hash().encode())
    settings = f"|{course.seed}|{replace(exercise, due=None)!r}|"
    digest.update(settings.encode())
    for path in (exercise.checks, exercise.hidden_checks, exercise.solution_file):
        digest.update(b"\0" + (path.read_bytes() if path is not None else b"-"))
    for path in exercise.shared_check_modules:
        digest.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]
