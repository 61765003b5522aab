"""The `grade` command.

    grade EXERCISE [--submission PATH] [--format terminal|json] [--course PATH] [--run-all-cells]
                   [--junit PATH] [--fail-under SCORE] [--github]
    grade all      [--submission FOLDER] [same options]
    grade doctor   [--format terminal|json]        which protection layers are active here
    grade build    [COURSE]                        the student stubs and notebooks (grader.build)
    grade release  student DEST [--course PATH]    the repository students receive
    grade release  gradescope ZIP [--exercise ID]  the Gradescope autograder
    grade export   otter DEST [--exercise ID]      the course for otter-grader
                   (the last three: grader.integrations)
    grade batch    SUBMISSIONS --out OUT [...]     grade a whole class (grader.batch.command)
    grade submit   [--output ZIP] [--exercise ID]  the zip a student hands in (grader.hand_in)

How the command line is read (argparse subcommands, the hidden ``check`` command an exercise id
is graded by, `grade --help` with the course's exercises, a did-you-mean for every typo) is
grader.command_line's; this module runs the commands.

Which file is graded from a folder given with --submission is grader.folder_policy's rule, as for
the Gradescope autograder and `grade batch`. `grade all` builds every grading first (building
one starts nothing, grader.runner.Grading), starts them all, so each worker imports numpy while
the grader imports the checks, then runs them one by one.

Exit status: 0 full marks; 1 graded, not full marks; 2 could not grade (a usage, course or file
error), with one line on stderr saying what is wrong and how to fix it. With --fail-under SCORE,
1 below SCORE and 0 from it; in GitHub Actions without it, 0 for any grading that ran.

What the submission controls is printed as grader.safe_text makes it safe: the reports do it for
what they show, file names are shown by safe_text.filename, and the one error line on stderr is
kept to one line with nothing a terminal or GitHub Actions would obey.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from grader import command_line, safe_text
from grader.course import Course, Exercise, course_at
from grader.errors import SubmissionLinksOut, SubmissionNotFound, UsageError
from grader.folder_policy import NotSubmitted, pick
from grader.results import CourseResult, ExerciseResult
from grader.sandbox.launcher import default_launcher
from grader.submission import Located, locate

if TYPE_CHECKING:
    from grader.runner import Grading

EXIT_FULL_MARKS, EXIT_NOT_FULL_MARKS, EXIT_CANNOT_GRADE = 0, 1, 2

# ---------------------------------------------------------------- grading


def _shown(path: Path) -> str:
    """``path`` as reports name it: relative to the current folder when it lies below it, on one
    line, a name that is not UTF-8 with its bytes escaped (safe_text.filename)."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        relative = ".."
    return safe_text.filename(path if relative.startswith("..") else relative)


def _grading(course: Course, exercise: Exercise, found: Located, run_all_cells: bool) -> Grading:
    """The grading of ``found`` (not started: grader.runner.Grading.start)."""
    from grader.runner import Grading

    notes = (found.note,) if found.note else ()
    return Grading(course, exercise, found.path, _shown(found.path), notes, run_all_cells)


def _located(exercise: Exercise, submission: Path | None) -> Located | NotSubmitted:
    """The file to grade: from a folder given with --submission, as the folder policy picks it
    (grader.folder_policy: not one that links out of the folder, a student's clone linking to
    the answer key); else the file given, or the exercise's own file in the course."""
    if submission is not None and submission.is_dir():
        found = pick(exercise, submission)
        if isinstance(found, NotSubmitted) and found.refused is not None:
            return NotSubmitted(f"{submission}: {found.reason}", found.refused)
        return found
    try:
        return locate(exercise, submission)
    except SubmissionNotFound as missing:
        return NotSubmitted(str(missing))


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
        found = [_located(exercise, submission) for exercise in exercises]
        if target != "all":
            if isinstance(found[0], NotSubmitted):
                refused = found[0].refused is not None
                raise (SubmissionLinksOut if refused else SubmissionNotFound)(found[0].reason)
            return _grading(course, exercises[0], found[0], run_all_cells).run()
        return _grade_all(
            course, list(zip(exercises, found, strict=True)), submission, run_all_cells
        )
    finally:
        default_launcher().discard_spares()


def _grade_all(
    course: Course,
    found: list[tuple[Exercise, Located | NotSubmitted]],
    submission: Path | None,
    run_all_cells: bool,
) -> CourseResult:
    """Every exercise: the gradings all started first, then run one by one; an exercise with no
    file graded 0 with why. UsageError if no exercise has a file."""
    from grader.runner import not_submitted

    gradings = {
        exercise.id: _grading(course, exercise, item, run_all_cells)
        for exercise, item in found
        if isinstance(item, Located)
    }
    if not gradings:
        refused = [
            item.reason for _, item in found if isinstance(item, NotSubmitted) and item.refused
        ]
        raise UsageError(
            refused[0]
            if refused
            else f"no exercise files found in {submission or course.root}; "
            "pass the folder holding them with --submission"
        )
    with contextlib.ExitStack() as started:
        for grading in gradings.values():
            started.callback(grading.close)
            grading.start()
        return CourseResult(
            [
                gradings[exercise.id].run()
                if isinstance(item, Located)
                else not_submitted(course, exercise, item.reason)
                for exercise, item in found
            ]
        )


# ---------------------------------------------------------------- the commands


def grade(args: argparse.Namespace) -> int:
    """`grade EXERCISE` and `grade all`: grade, print the report; the exit status."""
    if args.fail_under is not None and not args.fail_under >= 0:
        raise UsageError(f"--fail-under {args.fail_under:g}: give a score of 0 or more")
    course = course_at(args.course)
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
        for error_command in github.error_commands(result) if in_github else ():
            print(error_command)
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


def doctor(args: argparse.Namespace) -> int:
    """`grade doctor [--format json]`: which protection layers are active on this machine."""
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


def build(args: argparse.Namespace) -> int:
    """`grade build [COURSE]`: the student files made from the solutions (grader.build)."""
    from grader.build import write_student_files

    write_student_files(course_at(args.course))
    return EXIT_FULL_MARKS


def release(args: argparse.Namespace) -> int:
    """`grade release student DEST` or `grade release gradescope ZIP`: what the course hands out."""
    course = course_at(args.course)
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


def export(args: argparse.Namespace) -> int:
    """`grade export otter DEST`: the course in another grader's format."""
    from grader.integrations.otter import write_otter_export

    count = write_otter_export(course_at(args.course), args.dest, args.exercise)
    print(
        f"wrote the course for otter-grader, {count} files, to {args.dest}; hand out each "
        f"exercise's student/ folder, and build its autograder in the exercise's folder with "
        f"`otter generate course_support` ({args.dest / 'README.md'})"
    )
    return EXIT_FULL_MARKS


def submit(args: argparse.Namespace) -> int:
    """`grade submit`: write the zip a student hands in (grader.hand_in), say what is in it."""
    from grader.hand_in import write_hand_in

    written = write_hand_in(course_at(args.course), args.output, args.exercise)
    count = len(written.files)
    print(f"wrote {_shown(written.path)}, {count} file{'s' if count != 1 else ''}:")
    for name in written.files:
        print(f"  {safe_text.filename(name)}")
    for note in written.notes:
        print(f"note: {_error_line(note)}")
    for warning in written.warnings:
        print(f"warning: {_error_line(warning)}", file=sys.stderr)
    print(written.where)
    return EXIT_FULL_MARKS


RUN: dict[str, Callable[[argparse.Namespace], int]] = {
    command_line.CHECK: grade,
    "all": grade,
    "doctor": doctor,
    "build": build,
    "release": release,
    "export": export,
    "submit": submit,
}


def run(argv: Sequence[str]) -> int:
    """Parse ``argv``, run its command; the exit status."""
    routed = command_line.route(list(argv))
    command = routed[0] if routed and routed[0] in (*RUN, "batch") else None
    given = command_line.given_course(routed)
    listed = command_line.exercises_listed(given) if command is None else ""
    top, parsers = command_line.parser_tree(command, listed)
    try:
        if command is None:  # the top level's --help or --version, whatever else was given
            help_asked = any(item in command_line.HELP for item in routed)
            top.parse_args([command_line.HELP[1] if help_asked else command_line.VERSION])
        args, extras = top.parse_known_args(routed)
    except SystemExit as done:  # a --help or --version answered
        return int(done.code or 0)
    if extras:
        raise UsageError(command_line.unrecognized(extras, parsers[args.command]))
    if args.command == "batch":
        from grader.batch import command as batch

        return batch.run(routed[1:], command_line.Parser, course_at)
    return RUN[args.command](args)


def _exit_status(
    result: ExerciseResult | CourseResult, fail_under: float | None, in_github: bool
) -> int:
    """0 or 1 for a grading that ran (could-not-grade is 2, raised as UsageError)."""
    if fail_under is not None:
        return EXIT_NOT_FULL_MARKS if result.score < fail_under else EXIT_FULL_MARKS
    if in_github:  # a push with work still to do is not a broken build
        return EXIT_FULL_MARKS
    return EXIT_FULL_MARKS if result.full_marks else EXIT_NOT_FULL_MARKS


def _error_line(error: Exception | str) -> str:
    """The error's message (or a warning) on one line, as a terminal or a CI log shows it
    without obeying it: it may quote a file name or folder the student chose."""
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
