"""`grade export otter DEST`: the course for otter-grader, one otter assignment per exercise.

DEST/<exercise>/ is the instructor's: what `otter generate` and `otter run` need to grade.

- ``<the exercise's file>.ipynb``: the course's notebook;
- ``tests/<exercise>.py``: an exception-based otter test file (``OK_FORMAT = False``, ``name``,
  and one ``test_case`` per check with its points and ``hidden`` flag). Each test case runs that
  check of the course against the notebook's functions (grader.kernel_worker), so the checks,
  inputs and points are those of `grade`;
- ``course_support/``: what the test cases import: the grader package, and a course.yaml with
  this exercise's checks, hidden checks and solution. Passed to `otter generate` as a support
  file, it is copied beside each submission;
- ``requirements.txt``: the grader's dependencies, for otter's grading environment.

DEST/<exercise>/student/ is what students receive (grader.integrations.otter_student): the
notebook with otter's init cell and a ``grader.check`` cell, an otter test file of the public
checks only, and a ``course_support/`` without solution or hidden check, so that
``grader.check`` runs in the student's own Jupyter.

DEST/README.md says which part goes to students and how to build each autograder and grade with
it. otter-grader runs the test cases inside the student's kernel, after the student's code: none
of `grade`'s protection holds there (docs/otter.md). DEST/<exercise>/ outside student/ holds the
answer key. The test files and the README are filled in from templates/otter/.
"""

from __future__ import annotations

from pathlib import Path

from grader.course import Course, Exercise
from grader.integrations.otter_student import (
    OTTER,
    STUDENT,
    TESTS,
    public_course_yaml,
    public_shared_modules,
    student_notebook,
)
from grader.integrations.packaging import (
    chosen_exercises,
    course_yaml,
    dependencies,
    package_files,
    public_points,
    relative,
    write_folder,
)
from grader.integrations.templating import render
from grader.runner import load_checks

SUPPORT = "course_support"


def _in_docstring(text: str) -> str:
    """``text`` as it can stand inside a triple-quoted docstring: backslashes doubled, and
    triple double quotes made single ones."""
    return text.replace("\\", "\\\\").replace('"""', "'''")


def _identifier(check_id: str) -> str:
    """A Python name for a check's test case function."""
    name = "".join(char if char.isalnum() or char == "_" else "_" for char in check_id)
    return f"test_{name}"


def test_file(course: Course, exercise: Exercise, public_only: bool = False) -> str:
    """The otter test file of ``exercise``: one test case per check, in the course's order
    (only the public checks if ``public_only``: the students' test file)."""
    text = render(
        "otter/test_file.py.template",
        exercise_id=exercise.id,
        exercise_id_repr=repr(exercise.id),
        title=_in_docstring(exercise.title),
        which="public" if public_only else "public or hidden",
        missing=(
            f"keep {SUPPORT} beside the notebook"
            if public_only
            else f"pass {SUPPORT} to `otter generate`"
        ),
        support_repr=repr(SUPPORT),
    )
    for check in load_checks(course, exercise):
        if public_only and check.hidden:
            continue
        points = int(check.points) if float(check.points).is_integer() else check.points
        # Each test case after two blank lines, as PEP 8 separates functions.
        text += "\n\n" + render(
            "otter/test_case.py.template",
            name_repr=repr(check.id),
            points_repr=repr(points),
            hidden_repr=repr(check.hidden),
            function=_identifier(check.id),
            title_repr=repr(check.title),
        )
    return text


def _grader_package() -> dict[str, bytes]:
    """The grader package as the test cases import it, by its paths inside course_support/."""
    return {
        f"{SUPPORT}/{name}": content
        for name, content in package_files().items()
        if name.endswith(".py")  # the batch report's templates are not needed in a kernel
    }


def student_files(course: Course, exercise: Exercise) -> dict[str, bytes]:
    """The students' part of ``exercise``'s assignment (DEST/<exercise>/student/), by paths
    inside it: their notebook, the public checks' test file and what it imports, nothing
    secret."""
    files = _grader_package()
    for path in (exercise.checks, *public_shared_modules(exercise)):
        files[f"{SUPPORT}/{relative(course, path)}"] = path.read_bytes()
    files[f"{SUPPORT}/course.yaml"] = public_course_yaml(course, exercise).encode("utf-8")
    notebook = exercise.student_file.with_suffix(".ipynb")
    if notebook.is_file():
        hidden_points = exercise.points - public_points(course, exercise)
        files[notebook.name] = student_notebook(notebook.read_bytes(), exercise.id, hidden_points)
    tests = test_file(course, exercise, public_only=True)
    files[f"{TESTS}/{exercise.id}.py"] = tests.encode("utf-8")
    requirements = [OTTER, *dependencies()]
    files["requirements.txt"] = "".join(f"{item}\n" for item in requirements).encode("utf-8")
    return files


def exercise_files(course: Course, exercise: Exercise) -> dict[str, bytes]:
    """The files of one exercise's otter assignment, by their paths inside its folder: the
    instructor's, and the students' in student/."""
    files = _grader_package()
    for path in (exercise.checks, exercise.hidden_checks, exercise.solution_file):
        if path is not None:
            files[f"{SUPPORT}/{relative(course, path)}"] = path.read_bytes()
    for path in exercise.shared_check_modules:
        files[f"{SUPPORT}/{relative(course, path)}"] = path.read_bytes()
    files[f"{SUPPORT}/course.yaml"] = course_yaml(course, (exercise,)).encode("utf-8")
    notebook = exercise.student_file.with_suffix(".ipynb")
    if notebook.is_file():
        files[notebook.name] = notebook.read_bytes()
    files[f"{TESTS}/{exercise.id}.py"] = test_file(course, exercise).encode("utf-8")
    files["requirements.txt"] = "".join(f"{item}\n" for item in dependencies()).encode("utf-8")
    for name, content in student_files(course, exercise).items():
        files[f"{STUDENT}/{name}"] = content
    return files


def otter_files(course: Course, exercise_ids: list[str] | None) -> dict[str, bytes]:
    """Every file of the export, by its path inside DEST."""
    files = {"README.md": render("otter/README.md", title=course.title).encode("utf-8")}
    for exercise in chosen_exercises(course, exercise_ids):
        for name, content in exercise_files(course, exercise).items():
            files[f"{exercise.id}/{name}"] = content
    return dict(sorted(files.items()))


def write_otter_export(course: Course, dest: Path, exercise_ids: list[str] | None) -> int:
    """Write the export into ``dest`` (absent or empty); the number of files written."""
    return write_folder(lambda: otter_files(course, exercise_ids), dest)
