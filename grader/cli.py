"""The `grade` command.

    grade EXERCISE [--submission PATH] [--format terminal|json] [--course PATH]
                   [--junit PATH] [--fail-under SCORE] [--github]
    grade all      [--submission FOLDER] [same options]
    grade doctor   [--format terminal|json]     which protection layers are active here
    grade release  student DEST [--course PATH] the repository students receive (grader.release)
    grade release  gradescope ZIP [--exercise ID] the Gradescope autograder (grader.gradescope)
    grade export   otter DEST [--exercise ID]     the course for otter-grader (grader.otter_export)
    grade batch    SUBMISSIONS --out OUT [...]  grade a whole class (grader.batch.command)

Exit status: 0 full marks; 1 graded, not full marks; 2 could not grade (a usage, course or file
error), with one line on stderr saying what is wrong and how to fix it. With --fail-under SCORE,
1 below SCORE and 0 from it; in GitHub Actions without it, 0 for any grading that ran.

What the submission controls is printed as grader.safe_text makes it safe: the reports do it for
what they show, file names are shown by safe_text.filename, and the one error line on stderr is
kept to one line with nothing a terminal or GitHub Actions would obey.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from grader import __version__, safe_text
from grader.course import COURSE_FILE, Course, Exercise, find_course, load_course
from grader.errors import SubmissionLinksOut, SubmissionNotFound, UsageError
from grader.results import CourseResult, ExerciseResult
from grader.sandbox.launcher import default_launcher
from grader.submission import Located, leads_out, locate

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
        epilog="`grade doctor` lists the protection layers active on this machine. For "
        "instructors: `grade batch` grades a class, `grade release student|gradescope` writes "
        "what students receive or the Gradescope autograder, `grade export otter` the course "
        "for otter-grader (each with --help). "
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
    parser.add_argument(
        "--junit",
        metavar="PATH",
        type=Path,
        help="also write a JUnit XML report to PATH (one testsuite per exercise, one testcase "
        "per check), as GitLab and GitHub test-report actions read it",
    )
    parser.add_argument(
        "--fail-under",
        metavar="SCORE",
        type=float,
        help="exit 1 if the score is below SCORE, else 0 (default: 1 unless full marks; in "
        "GitHub Actions 0 unless grading failed)",
    )
    parser.add_argument(
        "--github",
        action="store_true",
        help="write GitHub Actions' annotations, step summary and Classroom result even when not "
        "detected (GITHUB_ACTIONS=true)",
    )
    parser.add_argument("--version", action="version", version=f"grade {__version__}")
    return parser


def _course(given: Path | None) -> Course:
    if given is None:
        return load_course(find_course(Path.cwd()))
    return load_course(given / COURSE_FILE if given.is_dir() else given)


def _shown(path: Path) -> str:
    """``path`` as reports name it: relative to the current folder when it lies below it, on one
    line, a name that is not UTF-8 with its bytes escaped (safe_text.filename)."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        relative = ".."
    return safe_text.filename(path if relative.startswith("..") else relative)


def _grading(course: Course, exercise: Exercise, found: Located, run_all_cells: bool) -> Grading:
    from grader.runner import Grading

    notes = (found.note,) if found.note else ()
    return Grading(course, exercise, found.path, _shown(found.path), notes, run_all_cells)


def _located(exercise: Exercise, submission: Path | None) -> Located:
    """The file to grade (grader.submission.locate); from a folder given with --submission, not
    one that links out of it (a student's clone linking to the answer key)."""
    found = locate(exercise, submission)
    if submission is not None and submission.is_dir():
        link = leads_out(found.path, submission)
        if link is not None:
            raise SubmissionLinksOut(f"{submission}: {link}")
    return found


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
        default_launcher().start_spare(exercise.limits)
    try:
        from grader.runner import not_submitted

        if target != "all":
            found = _located(exercises[0], submission)
            return _grading(course, exercises[0], found, run_all_cells).run()
        gradings: list[Grading | ExerciseResult] = []
        links_out: list[str] = []  # why files that were there are not graded
        try:
            for exercise in exercises:
                try:
                    found = _located(exercise, submission)
                except SubmissionNotFound as missing:
                    if isinstance(missing, SubmissionLinksOut):
                        links_out.append(str(missing))
                    gradings.append(not_submitted(course, exercise, str(missing)))
                    continue
                gradings.append(_grading(course, exercise, found, run_all_cells))
            if all(isinstance(item, ExerciseResult) for item in gradings):
                raise UsageError(
                    links_out[0]
                    if links_out
                    else f"no exercise files found in {submission or course.root}; "
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
        default_launcher().discard_spares()


def doctor(argv: Sequence[str]) -> int:
    """`grade doctor [--format json]`: which protection layers are active on this machine."""
    parser = _Parser(
        prog="grade doctor", description="Which layers protect the grader from student code here."
    )
    parser.add_argument("--format", choices=("terminal", "json"), default="terminal")
    args = parser.parse_args(list(argv))
    from grader.sandbox.layers import layer_reports

    layers = layer_reports()
    if args.format == "json":
        print(json.dumps([layer.__dict__ for layer in layers], indent=2))
        return EXIT_FULL_MARKS
    width = max(len(layer.name) for layer in layers)
    print("Protection layers for student code on this machine:")
    for layer in layers:
        mark = "✓" if layer.active else "✗"
        print(f"  {mark} {layer.name.ljust(width)}  {layer.detail}")
    return EXIT_FULL_MARKS


def _course_and_exercises(parser: argparse.ArgumentParser, what_exercise_does: str) -> None:
    """--course PATH, and --exercise ID given any number of times (``args.exercise``)."""
    parser.add_argument("--course", metavar="PATH", type=Path, help="the course (as for grade)")
    parser.add_argument(
        "--exercise",
        metavar="ID",
        action="append",
        help=f"{what_exercise_does} (repeat for more; default: all)",
    )


def release(argv: Sequence[str]) -> int:
    """`grade release student DEST` or `grade release gradescope ZIP`: what the course hands out."""
    parser = _Parser(
        prog="grade release",
        description="student DEST: the repository students receive (stubs, public checks, the "
        "grader, a course.yaml without secrets, a README and a CI workflow; no solution, no "
        "hidden check). gradescope ZIP: the autograder zip to upload to Gradescope (setup.sh, "
        "run_autograder, the grader, public and hidden checks, solutions).",
    )
    parser.add_argument("kind", choices=("student", "gradescope"), help="what to release")
    parser.add_argument(
        "dest",
        metavar="DEST",
        type=Path,
        help="student: a new or empty folder; gradescope: the .zip file to write",
    )
    _course_and_exercises(parser, "gradescope: grade only this exercise")
    args = parser.parse_args(list(argv))
    course = _course(args.course)
    if args.kind == "gradescope":
        from grader.integrations.gradescope import write_autograder_zip

        count = write_autograder_zip(course, args.dest, args.exercise)
        print(
            f"wrote the Gradescope autograder, {count} files, to {args.dest}: upload it under "
            "the assignment's Configure Autograder, with Ubuntu 22.04 or newer as the base image"
        )
        return EXIT_FULL_MARKS
    if args.exercise:
        raise UsageError("--exercise is for `grade release gradescope`; a student release has all")
    from grader.integrations.student_release import write_student_release

    count = write_student_release(course, args.dest)
    print(f"wrote the student release, {count} files, to {args.dest}")
    return EXIT_FULL_MARKS


def export(argv: Sequence[str]) -> int:
    """`grade export otter DEST`: the course in another grader's format."""
    parser = _Parser(
        prog="grade export",
        description="otter DEST: the course for otter-grader, a folder per exercise with its "
        "notebook, an otter test file running the course's checks, and what they import. "
        "otter runs the checks inside the student's kernel, without this grader's protection.",
    )
    parser.add_argument("kind", choices=("otter",), help="the format to export to")
    parser.add_argument("dest", metavar="DEST", type=Path, help="a new or empty folder")
    _course_and_exercises(parser, "export only this exercise")
    args = parser.parse_args(list(argv))
    from grader.integrations.otter import write_otter_export

    count = write_otter_export(_course(args.course), args.dest, args.exercise)
    print(
        f"wrote the course for otter-grader, {count} files, to {args.dest}; build each "
        f"exercise's autograder in its folder with `otter generate course_support` "
        f"({args.dest / 'README.md'})"
    )
    return EXIT_FULL_MARKS


def run(argv: Sequence[str]) -> int:
    """Parse ``argv``, grade, print the report; the exit status."""
    if argv and argv[0] == "doctor":
        return doctor(argv[1:])
    if argv and argv[0] == "batch":
        from grader.batch import command

        return command.run(argv[1:], _Parser, _course)
    if argv and argv[0] == "release":
        return release(argv[1:])
    if argv and argv[0] == "export":
        return export(argv[1:])
    args = _parser().parse_args(list(argv))
    if args.fail_under is not None and not args.fail_under >= 0:
        raise UsageError(f"--fail-under {args.fail_under:g}: give a score of 0 or more")
    course = _course(args.course)
    result = _grade(course, args.target, args.submission, args.run_all_cells)
    from grader.reports import github

    in_github = args.github or github.in_github_actions(dict(os.environ))
    if args.format == "json":
        from grader.reports import json_report

        print(json_report.render(result))  # kept whole: annotations would break the JSON
    else:
        from grader.reports import terminal

        report = terminal.render(result, sys.stdout)
        # In a workflow, what the student's code printed must not be read as a command.
        print(github.fenced(report) if in_github else report)
        for command in github.error_commands(result) if in_github else ():
            print(command)
    if args.junit is not None:
        from grader.reports import junit

        try:
            junit.write(result, args.junit)
        except OSError as error:
            raise UsageError(
                f"--junit {args.junit}: cannot be written ({error.strerror}); "
                "give a file in a folder you can write"
            ) from None
    if in_github:
        github.append(os.environ.get("GITHUB_STEP_SUMMARY"), github.summary(result))
        github.append(os.environ.get("GITHUB_OUTPUT"), f"result={github.classroom_result(result)}")
    return _exit_status(result, args.fail_under, in_github)


def _exit_status(
    result: ExerciseResult | CourseResult, fail_under: float | None, in_github: bool
) -> int:
    """0 or 1 for a grading that ran (could-not-grade is 2, raised as UsageError)."""
    if fail_under is not None:
        return EXIT_NOT_FULL_MARKS if result.score < fail_under else EXIT_FULL_MARKS
    if in_github:  # a push with work still to do is not a broken build
        return EXIT_FULL_MARKS
    return EXIT_FULL_MARKS if result.full_marks else EXIT_NOT_FULL_MARKS


def _error_line(error: Exception) -> str:
    """The error's message on one line, as a terminal or a CI log shows it without obeying it:
    it may quote a file name or folder the student chose."""
    return safe_text.github_log(safe_text.terminal(str(error), one_line=True))


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except UsageError as error:
        print(f"grade: {_error_line(error)}", file=sys.stderr)
        return EXIT_CANNOT_GRADE
    except KeyboardInterrupt:
        print("grade: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`grade all | head`): not worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_NOT_FULL_MARKS


if __name__ == "__main__":
    sys.exit(main())
