"""`grade export otter DEST`: the course for otter-grader, one otter assignment per exercise.

DEST/<exercise>/ holds what `otter generate` and `otter run` need:

- ``<the exercise's file>.ipynb``: the notebook students fill in, as in the course;
- ``tests/<exercise>.py``: an exception-based otter test file (``OK_FORMAT = False``, ``name``,
  and one ``test_case`` per check with its points and ``hidden`` flag). Each test case runs that
  check of the course against the notebook's functions (grader.kernel_worker), so the checks,
  inputs and points are those of `grade`;
- ``course_support/``: what the test cases import: the grader package, and a course.yaml with
  this exercise's checks, hidden checks and solution. Passed to `otter generate` as a support
  file, it is copied beside each submission;
- ``requirements.txt``: the grader's dependencies, for otter's grading environment.

DEST/README.md says how to build each autograder and grade with it. otter-grader runs the test
cases inside the student's kernel, after the student's code: none of `grade`'s protection holds
there (docs/otter.md). DEST holds the answer key: it is for instructors, not students.
"""

from __future__ import annotations

from pathlib import Path

from grader.course import Course, Exercise
from grader.integrations.packaging import (
    chosen_exercises,
    course_yaml,
    dependencies,
    package_files,
    relative,
    write_folder,
)
from grader.runner import load_checks

SUPPORT = "course_support"

TEST_FILE_HEAD = '''\
"""{exercise_id} · {title}: the course's checks, for otter-grader.

Written by `grade export otter`. Each test case runs one check of the course (public or hidden)
against the notebook's functions, in the student's kernel, as otter-grader runs every test.
"""

OK_FORMAT = False

from otter.test_files import test_case

name = {exercise_id!r}
points = None  # each test case carries its own


def _run(env, check_id):
    """Run the course's check ``check_id`` against ``env``, the notebook's globals."""
    import sys
    from pathlib import Path

    support = Path({support!r}).resolve()
    if not (support / "course.yaml").is_file():
        raise RuntimeError(f"{{support}} is missing: pass {support} to `otter generate`")
    if str(support) not in sys.path:
        sys.path.insert(0, str(support))
    from grader.kernel_worker import run_check

    run_check(env, support / "course.yaml", {exercise_id!r}, check_id)
'''

TEST_CASE = """

@test_case(name={name!r}, points={points!r}, hidden={hidden!r})
def {function}(env):
    {title!r}
    _run(env, {name!r})
"""

README = """\
# {title}: the course for otter-grader

One folder per exercise, each an otter-grader assignment. In each (say `exercise3/`):

| file | what it is |
|---|---|
| the notebook (`*.ipynb`) | what students fill in: hand this out, nothing else |
| `tests/<exercise>.py` | otter's test file: a test case per check (public or hidden), its points |
| `course_support/` | what the test cases import: the grader, the checks, the reference solution |
| `requirements.txt` | the grader's dependencies, for otter's grading environment |

This folder holds the answer key (hidden checks, solutions): keep it from students.

Build an exercise's autograder and grade a notebook with it:

```sh
cd exercise3
otter generate course_support          # writes autograder.zip (upload it to Gradescope, or:)
otter run -a autograder.zip path/to/submission.ipynb   # writes results.json here
```

The scores are those `grade` gives. But otter runs every test case inside the student's kernel,
after the student's code: none of `grade`'s protection holds there. A notebook that patches numpy
or the grader can pass checks it should fail, and a function that never returns keeps a thread
of the kernel busy. `grade` and `grade batch` run the same checks with the student's code kept in
a separate, limited process.
"""


def _in_docstring(text: str) -> str:
    """``text`` as it can stand inside a triple-quoted docstring: backslashes doubled, and
    triple double quotes made single ones."""
    return text.replace("\\", "\\\\").replace('"""', "'''")


def _identifier(check_id: str) -> str:
    """A Python name for a check's test case function."""
    name = "".join(char if char.isalnum() or char == "_" else "_" for char in check_id)
    return f"test_{name}"


def test_file(course: Course, exercise: Exercise) -> str:
    """The otter test file of ``exercise``: one test case per check, in the course's order."""
    text = TEST_FILE_HEAD.format(
        exercise_id=exercise.id, title=_in_docstring(exercise.title), support=SUPPORT
    )
    for check in load_checks(course, exercise):
        text += TEST_CASE.format(
            name=check.id,
            points=int(check.points) if float(check.points).is_integer() else check.points,
            hidden=check.hidden,
            function=_identifier(check.id),
            title=check.title,
        )
    return text


def exercise_files(course: Course, exercise: Exercise) -> dict[str, bytes]:
    """The files of one exercise's otter assignment, by their paths inside its folder."""
    files = {
        f"{SUPPORT}/{name}": content
        for name, content in package_files().items()
        if name.endswith(".py")  # the batch report's templates are not needed in a kernel
    }
    for path in (exercise.checks, exercise.hidden_checks, exercise.solution_file):
        if path is not None:
            files[f"{SUPPORT}/{relative(course, path)}"] = path.read_bytes()
    files[f"{SUPPORT}/course.yaml"] = course_yaml(course, (exercise,)).encode("utf-8")
    notebook = exercise.student_file.with_suffix(".ipynb")
    if notebook.is_file():
        files[notebook.name] = notebook.read_bytes()
    files[f"tests/{exercise.id}.py"] = test_file(course, exercise).encode("utf-8")
    files["requirements.txt"] = "".join(f"{item}\n" for item in dependencies()).encode("utf-8")
    return files


def otter_files(course: Course, exercise_ids: list[str] | None) -> dict[str, bytes]:
    """Every file of the export, by its path inside DEST."""
    files = {"README.md": README.format(title=course.title).encode("utf-8")}
    for exercise in chosen_exercises(course, exercise_ids):
        for name, content in exercise_files(course, exercise).items():
            files[f"{exercise.id}/{name}"] = content
    return dict(sorted(files.items()))


def write_otter_export(course: Course, dest: Path, exercise_ids: list[str] | None) -> int:
    """Write the export into ``dest`` (absent or empty); the number of files written."""
    return write_folder(lambda: otter_files(course, exercise_ids), dest)
