"""`grade release gradescope autograder.zip`: the autograder Gradescope builds and runs.

The zip holds, at its root, what Gradescope asks for and what they need:

- ``setup.sh``: run once, as root, when Gradescope builds the image. It makes a virtual
  environment at ``$ROOT/venv`` and installs the grader there from ``$ROOT/source``, then prints
  which protection layers are active (``grade doctor``) into the build log;
- ``run_autograder``: run for every submission. It grades ``$ROOT/submission`` (``.py`` files
  or notebooks, loose, in ``exercises/`` or in one folder) with the public and hidden checks,
  and writes ``$ROOT/results/results.json`` (grader.reports.gradescope);
- the grader package, a ``pyproject.toml`` that installs it, a ``course.yaml`` for the exercises
  chosen (default: all), and the files it names: checks, hidden checks and solutions.

``$ROOT`` is ``/autograder`` unless ``AUTOGRADER_ROOT`` says otherwise, so the same scripts run
against a folder laid out like Gradescope's (docs/gradescope.md). The zip is reproducible: the
same course gives the same bytes (entries sorted, timestamps fixed). The two scripts are
templates/gradescope/setup.sh and templates/gradescope/run_autograder, copied as they are.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from grader.course import Course, Exercise
from grader.errors import UsageError
from grader.files import write_atomically
from grader.integrations.packaging import (
    chosen_exercises,
    course_yaml,
    package_files,
    pyproject,
    relative,
)
from grader.integrations.templating import text

EXECUTABLES = frozenset({"setup.sh", "run_autograder"})
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say: the same bytes every time


def autograder_files(course: Course, exercises: tuple[Exercise, ...]) -> dict[str, bytes]:
    """Every file of the autograder zip, by its path inside the zip."""
    files = package_files()
    for exercise in exercises:
        for path in (exercise.checks, exercise.hidden_checks, exercise.solution_file):
            if path is not None:
                files[relative(course, path)] = path.read_bytes()
        for path in exercise.shared_check_modules:
            files[relative(course, path)] = path.read_bytes()
    files["course.yaml"] = course_yaml(course, exercises).encode("utf-8")
    files["pyproject.toml"] = pyproject("gradescope").encode("utf-8")
    files["setup.sh"] = text("gradescope/setup.sh").encode("utf-8")
    files["run_autograder"] = text("gradescope/run_autograder").encode("utf-8")
    return dict(sorted(files.items()))


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A zip of ``files`` with fixed timestamps; the two scripts executable."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = 0o755 if name in EXECUTABLES else 0o644
            info.external_attr = (0o100000 | mode) << 16  # a regular file with these bits
            archive.writestr(info, content)
    return buffer.getvalue()


def write_autograder_zip(course: Course, dest: Path, exercise_ids: list[str] | None) -> int:
    """Write the autograder zip to ``dest`` (replaced whole if it exists); its file count."""
    if dest.is_dir():
        raise UsageError(f"{dest} is a folder; give the path of the zip to write, e.g. {dest}.zip")
    if dest.suffix != ".zip":
        raise UsageError(f"{dest}: Gradescope takes a .zip file; name it e.g. autograder.zip")
    files = autograder_files(course, chosen_exercises(course, exercise_ids))
    try:
        write_atomically(dest, zip_bytes(files))
    except OSError as error:
        raise UsageError(
            f"{dest}: cannot be written ({error.strerror}); give a path in a folder you can write"
        ) from None
    return len(files)
