"""`grade release student DEST`: the repository students receive.

It holds the stubs (``.py`` and notebooks, each notebook ending with its check cell), the public
checks, the grader package, a course.yaml without anything secret, a pyproject.toml with a
``jupyter`` extra (``pip install -e ".[jupyter]"`` installs JupyterLab, as the course's own
pyproject.toml does), a README for students and a GitHub Actions workflow that grades every
push (docs/ci.md). No solution and no hidden check goes in: each exercise says instead how many
points its hidden checks are worth (``hidden_points``), and `grade` tells the student they are
graded after they hand in. The public checks run exactly as in the full course: same checks,
same seed, same limits.

The release is reproducible: the same course gives the same files, byte for byte (nothing in it
depends on the time, the machine or the order a folder lists its files in). It is written into a
temporary folder beside DEST and renamed into place, so DEST is whole or absent. The README and
the workflow are templates/student/README.md and templates/student/classroom.yml.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from grader.course import Course
from grader.integrations.packaging import (
    package_files,
    public_entry,
    public_points,
    pyproject,
    relative,
    write_folder,
)
from grader.integrations.templating import render, text


def _course_yaml(course: Course) -> str:
    exercises = []
    for exercise in course.exercises:
        entry = public_entry(course, exercise)
        if exercise.due is not None:
            entry["due"] = exercise.due.isoformat()
        exercises.append(entry)
    document: dict[str, object] = {"title": course.title, "seed": course.seed}
    if course.late is not None:
        document["late"] = dataclasses.asdict(course.late)
    if course.hand_in != "worked":  # what `grade submit` zips: the course's choice, not a secret
        document["hand_in"] = course.hand_in
    document["exercises"] = exercises
    heading = (
        "# The course as students receive it: the public checks only. The hidden checks'\n"
        "# points (hidden_points) are graded after you hand in.\n"
    )
    return heading + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def _readme(course: Course) -> str:
    rows = []
    for exercise in course.exercises:
        public = public_points(course, exercise)
        rows.append(
            f"| `{exercise.id}` | {exercise.title} | `{relative(course, exercise.student_file)}` "
            f"| {public:g} | {exercise.points - public:g} |\n"  # $rows starts a line
        )
    return render("student/README.md", title=course.title, rows="".join(rows))


def release_files(course: Course) -> dict[str, bytes]:
    """Every file of the student release, by its path inside the release."""
    files = package_files()
    for exercise in course.exercises:
        for path in (exercise.student_file, exercise.student_file.with_suffix(".ipynb")):
            if path.is_file():
                files[relative(course, path)] = path.read_bytes()
        files[relative(course, exercise.checks)] = exercise.checks.read_bytes()
        for path in exercise.shared_check_modules:  # what the public checks may import
            if path.parent == exercise.checks.parent:
                files[relative(course, path)] = path.read_bytes()
    files["course.yaml"] = _course_yaml(course).encode("utf-8")
    files["pyproject.toml"] = pyproject("student").encode("utf-8")
    files["README.md"] = _readme(course).encode("utf-8")
    files[".github/workflows/classroom.yml"] = text("student/classroom.yml").encode("utf-8")
    return dict(sorted(files.items()))


def write_student_release(course: Course, dest: Path) -> int:
    """Write the release into ``dest`` (absent or empty); the number of files written."""
    return write_folder(lambda: release_files(course), dest)
