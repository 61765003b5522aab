"""The `grade` command.

    grade EXERCISE [--submission PATH] [--format terminal|json] [--course PATH]
    grade all      [--submission FOLDER] [--format terminal|json] [--course PATH]
    grade doctor   [--format terminal|json]     which protection layers are active here
    grade batch    SUBMISSIONS --out OUT [...]  grade a whole class (grader.batch.command)

Exit status: 0 full marks; 1 graded, not full marks; 2 could not grade (a usage, course or file
error), with one line on stderr saying what is wrong and how to fix it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from grader import __version__
from grader.course import COURSE_FILE, Course, Exercise, find_course, load_course
from grader.errors import SubmissionNotFound, UsageError
from grader.results import CourseResult, ExerciseResult
from grader.sandbox import discard_spare_workers, start_spare_worker
from grader.submission import Located, locate

if TYPE_CHECKING:
    from grader.runner import Grading

EXIT_FULL_MARKS, EXIT_NOT_FULL_MARKS, EXIT_CANNOT_GRADE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (raised as UsageError) instead of usage + message."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="grade",
        description="Grade an exercise of the course: your code runs in a separate, limited "
        "process; the report says what passed, what failed and why.",
        epilog="`grade doctor` lists the protection layers active on this machine. "
        "Exit status: 0 full marks, 1 not full marks, 2 could not grade.",
    )
    parser.add_argument(
        "target",
        metavar="EXERCISE",
        help="an exercise id from course.yaml (e.g. exercise3), or `all`",
    )
    parser.add_argument(
        "--submission",
        metavar="PATH",
        type=Path,
        help="the file to grade (.py or .ipynb), or a folder holding it; "
        "default: the exercise's file in this course",
    )
    parser.add_argument(
        "--format",
        choices=("terminal", "json"),
        default="terminal",
        help="terminal (default) or json: one JSON object on stdout",
    )
    parser.add_argument(
        "--course",
        metavar="PATH",
        type=Path,
        help=f"the course's {COURSE_FILE} or its folder; default: the nearest "
        f"{COURSE_FILE} in this folder or above",
    )
    parser.add_argument(
        "--run-all-cells",
        action="store_true",
        help="from a notebook, run every statement of its code cells (by default only imports, "
        "definitions and constant assignments: a training loop or a plot left in the notebook "
        "is not run)",
    )
    parser.add_argument("--version", action="version", version=f"grade {__version__}")
    return parser


def _course(given: Path | None) -> Course:
    if given is None:
        return load_course(find_course(Path.cwd()))
    return load_course(given / COURSE_FILE if given.is_dir() else given)


def _shown(path: Path) -> str:
    """``path`` relative to the current folder when it lies below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


def _grading(course: Course, exercise: Exercise, found: Located, run_all_cells: bool) -> Grading:
    from grader.runner import Grading

    notes = (found.note,) if found.note else ()
    return Grading(course, exercise, found.path, _shown(found.path), notes, run_all_cells)


def _grade(
    course: Course, target: str, submission: Path | None, run_all_cells: bool = False
) -> ExerciseResult | CourseResult:
    exercises = course.exercises if target == "all" else (course.exercise(target),)
    if target == "all" and submission is not None and not submission.is_dir():
        raise UsageError(
            f"{submission}: `grade all --submission` takes a folder holding the exercise files"
        )
    # Workers first: they start Python and numpy while this process imports the checks.
    for exercise in exercises:
        start_spare_worker(exercise.limits)
    try:
        from grader.runner import not_submitted

        if target != "all":
            found = locate(exercises[0], submission)
            return _grading(course, exercises[0], found, run_all_cells).run()
        gradings: list[Grading | ExerciseResult] = []
        try:
            for exercise in exercises:
                try:
                    found = locate(exercise, submission)
                except SubmissionNotFound as missing:
                    gradings.append(not_submitted(course, exercise, str(missing)))
                    continue
                gradings.append(_grading(course, exercise, found, run_all_cells))
            if all(isinstance(item, ExerciseResult) for item in gradings):
                raise UsageError(
                    f"no exercise files found in {submission or course.root}; "
                    "pass the folder holding them with --submission"
                )
            return CourseResult(
                [item if isinstance(item, ExerciseResult) else item.run() for item in gradings]
            )
        finally:
            for item in gradings:
                if not isinstance(item, ExerciseResult):
                    item.close()
    finally:
        discard_spare_workers()


def doctor(argv: Sequence[str]) -> int:
    """`grade doctor [--format json]`: which protection layers are active on this machine."""
    parser = _Parser(
        prog="grade doctor", description="Which layers protect the grader from student code here."
    )
    parser.add_argument("--format", choices=("terminal", "json"), default="terminal")
    args = parser.parse_args(list(argv))
    from grader.isolation import protection_layers

    layers = protection_layers()
    if args.format == "json":
        print(json.dumps([layer.__dict__ for layer in layers], indent=2))
        return EXIT_FULL_MARKS
    width = max(len(layer.name) for layer in layers)
    print("Protection layers for student code on this machine:")
    for layer in layers:
        mark = "✓" if layer.active else "✗"
        print(f"  {mark} {layer.name.ljust(width)}  {layer.detail}")
    return EXIT_FULL_MARKS


def run(argv: Sequence[str]) -> int:
    """Parse ``argv``, grade, print the report; the exit status."""
    if argv and argv[0] == "doctor":
        return doctor(argv[1:])
    if argv and argv[0] == "batch":
        from grader.batch import command

        return command.run(argv[1:], _Parser, _course)
    args = _parser().parse_args(list(argv))
    course = _course(args.course)
    result = _grade(course, args.target, args.submission, args.run_all_cells)
    if args.format == "json":
        from grader.reports import json_report

        print(json_report.render(result))
    else:
        from grader.reports import terminal

        print(terminal.render(result, sys.stdout))
    return EXIT_FULL_MARKS if result.full_marks else EXIT_NOT_FULL_MARKS


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except UsageError as error:
        print(f"grade: {error}", file=sys.stderr)
        return EXIT_CANNOT_GRADE
    except KeyboardInterrupt:
        print("grade: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`grade all | head`): not worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_NOT_FULL_MARKS


if __name__ == "__main__":
    sys.exit(main())
