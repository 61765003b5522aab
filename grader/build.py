"""Build the student files from the reference solutions: ``grade build [COURSE]`` (or
``python -m grader.build [COURSE]``, the same command).

For every exercise in course.yaml that has a solution_file, writes the stub (grader.stubs) to its
student_file and the notebook (grader.notebooks) next to it with the .ipynb suffix. Run it after
changing a solution; tests fail while the files are out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from grader.course import Course, course_at
from grader.errors import UsageError
from grader.notebooks import notebook_text
from grader.stubs import stub_source


def student_files(course: Course) -> dict[Path, str]:
    """Every file the build writes, and its text."""
    files: dict[Path, str] = {}
    for exercise in course.exercises:
        if exercise.solution_file is None:
            continue
        stub = stub_source(exercise.solution_file.read_text(encoding="utf-8"), exercise.id)
        files[exercise.student_file.with_suffix(".py")] = stub
        files[exercise.student_file.with_suffix(".ipynb")] = notebook_text(stub, exercise.id)
    return files


def write_student_files(course: Course) -> int:
    """Write every student file that is missing or out of date, saying so for each; the count."""
    written = 0
    for path, text in student_files(course).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            temporary = path.with_name(path.name + ".tmp")
            temporary.write_text(text, encoding="utf-8")
            temporary.replace(path)  # no half-written file if interrupted
            print(f"wrote {path.relative_to(course.root)}")
            written += 1
    return written


def main(argv: list[str]) -> int:
    """``python -m grader.build [COURSE]``: `grade build`, under its older name."""
    if argv[:1] in (["-h"], ["--help"]):
        print("usage: python -m grader.build [COURSE]  (the same as `grade build [COURSE]`)")
        return 0
    try:
        course = course_at(Path(argv[0]) if argv else None)
    except UsageError as error:
        print(f"grade: {error}", file=sys.stderr)
        return 2
    write_student_files(course)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
