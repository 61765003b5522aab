"""What the integrations share: the files of a course as another place receives them.

- the grader package's own files (``package_files``) and a ``pyproject.toml`` that installs them
  (``pyproject``), with the grader's dependencies (``dependencies``);
- a course file's path as a release names it (``relative``), the exercises chosen
  (``chosen_exercises``), and a course.yaml with the hidden checks and solutions, as the graders
  that run them read it (``course_yaml``);
- a folder written whole or not at all (``write_folder``).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import yaml

from grader.course import Course, Exercise
from grader.errors import UsageError
from grader.integrations.templating import render

PACKAGE = Path(__file__).resolve().parent.parent  # the grader package
PACKAGE_FILES = (".py", ".j2")  # the grader's code and the batch report's templates
TEMPLATES = PACKAGE / "integrations" / "templates"  # and every file the integrations fill in


def relative(course: Course, path: Path) -> str:
    """``path`` inside the course folder, as a release names it (POSIX, relative)."""
    try:
        return path.relative_to(course.root).as_posix()
    except ValueError:
        raise UsageError(
            f"{path} is outside the course folder {course.root}; a release takes only the "
            "course's own files"
        ) from None


def chosen_exercises(course: Course, ids: list[str] | None) -> tuple[Exercise, ...]:
    """The exercises named by ``ids`` in the course's order (all of them if none are named)."""
    if not ids:
        return course.exercises
    wanted = {course.exercise(exercise_id).id for exercise_id in ids}
    return tuple(exercise for exercise in course.exercises if exercise.id in wanted)


def _exercise_entry(course: Course, exercise: Exercise) -> dict[str, object]:
    entry: dict[str, object] = {
        "id": exercise.id,
        "title": exercise.title,
        "student_file": relative(course, exercise.student_file),
        "checks": relative(course, exercise.checks),
        "points": exercise.points,
    }
    if exercise.solution_file is not None:
        entry["solution_file"] = relative(course, exercise.solution_file)
    if exercise.hidden_checks is not None:
        entry["hidden_checks"] = relative(course, exercise.hidden_checks)
    entry["limits"] = dataclasses.asdict(exercise.limits)
    if exercise.due is not None:
        entry["due"] = exercise.due.isoformat()
    return entry


def public_points(course: Course, exercise: Exercise) -> float:
    """The points of ``exercise``'s public checks."""
    from grader.runner import load_checks  # only where a public copy of the course is written

    return sum(check.points for check in load_checks(course, exercise) if not check.hidden)


def public_entry(course: Course, exercise: Exercise) -> dict[str, object]:
    """``exercise``'s course.yaml entry as the students' copies have it: its public checks
    only, no solution; the hidden checks' points as ``hidden_points``."""
    public = public_points(course, exercise)
    entry: dict[str, object] = {
        "id": exercise.id,
        "title": exercise.title,
        "student_file": relative(course, exercise.student_file),
        "checks": relative(course, exercise.checks),
        "points": public,
    }
    if exercise.points - public > 0:
        entry["hidden_points"] = exercise.points - public
    entry["limits"] = dataclasses.asdict(exercise.limits)
    return entry


def course_yaml(course: Course, exercises: tuple[Exercise, ...]) -> str:
    """A course.yaml of ``exercises`` with their hidden checks and solutions: the course as a
    grader that runs every check reads it (Gradescope's autograder, otter-grader's support
    folder)."""
    document: dict[str, object] = {"title": course.title, "seed": course.seed}
    if course.late is not None:
        document["late"] = dataclasses.asdict(course.late)
    document["feedback"] = {
        "hidden": course.hidden_feedback,
        "gradescope_visibility": course.gradescope_visibility,
    }
    document["exercises"] = [_exercise_entry(course, exercise) for exercise in exercises]
    heading = "# The course as the Gradescope autograder grades it: public and hidden checks.\n"
    return heading + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def _distribution() -> metadata.Distribution:
    names = metadata.packages_distributions().get("grader", [])
    if not names:
        raise UsageError("the grader is not installed as a package; run `pip install -e .` first")
    return metadata.distribution(names[0])


def dependencies() -> list[str]:
    """The grader's own dependencies, as its installed metadata lists them (no extras)."""
    requirements = _distribution().requires or []
    return [requirement for requirement in requirements if "extra ==" not in requirement]


def pyproject(suffix: str) -> str:
    """A release's pyproject.toml: this grader's name (with ``suffix``), version and
    dependencies (from its installed metadata), without the tests and extras the course
    repository has."""
    distribution = _distribution()
    return render(
        "pyproject.toml.template",
        name=f"{distribution.metadata['Name']}-{suffix}",
        version=distribution.version,
        python=(distribution.metadata.get_all("Requires-Python") or [">=3.11"])[0],
        dependencies="".join(f'    "{requirement}",\n' for requirement in dependencies()),
    )


def _shipped(path: Path) -> bool:
    return path.suffix in PACKAGE_FILES or path.is_relative_to(TEMPLATES)


def package_files() -> dict[str, bytes]:
    """The grader package's code and templates, by their paths in a release (grader/...)."""
    return {
        f"grader/{path.relative_to(PACKAGE).as_posix()}": path.read_bytes()
        for path in sorted(PACKAGE.rglob("*"))
        if path.is_file() and _shipped(path) and "__pycache__" not in path.parts
    }


def write_folder(make_files: Callable[[], dict[str, bytes]], dest: Path) -> int:
    """Write the files ``make_files`` gives (path inside -> bytes) into ``dest``, absent or
    empty, whole or not at all: into a temporary folder beside it, then renamed. A ``dest`` in
    use is refused before anything is made. The number of files written."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"{dest} exists and is not an empty folder; give a new folder")
    files = make_files()
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    except OSError as error:
        raise UsageError(f"{dest}: cannot be written ({error.strerror})") from None
    try:
        for name, content in files.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        os.chmod(staging, 0o755)  # mkdtemp makes it private; a repository is not
        if dest.exists():
            dest.rmdir()
        os.rename(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return len(files)
