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

The commands are argparse subcommands: argparse is the standard library (no dependency), and
through the _Parser subclass every mistake is already one line (a UsageError). An exercise id is
no command name (course.yaml may not use one, grader.course.COMMANDS): a first argument that is
not a command is an exercise id, or an option of one, and is parsed as the hidden command
``check`` (``grade exercise3`` is ``grade check exercise3``). `grade --help` lists the commands
and the exercises of the course found from the current folder or --course.

A mistake gets one line with the likeliest meant name (grader.suggest): an exercise id
(``grade ex3``: did you mean exercise3?), a command (``grade bacth``), an option (``--fromat``)
or a choice (``--format jsno``).

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
import re
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from grader import __version__, safe_text
from grader.course import COURSE_FILE, Course, Exercise, find_course, load_course
from grader.errors import SubmissionLinksOut, SubmissionNotFound, UsageError
from grader.folder_policy import NotSubmitted, pick
from grader.results import CourseResult, ExerciseResult
from grader.sandbox.launcher import default_launcher
from grader.submission import Located, locate
from grader.suggest import closest

if TYPE_CHECKING:
    from grader.runner import Grading

EXIT_FULL_MARKS, EXIT_NOT_FULL_MARKS, EXIT_CANNOT_GRADE = 0, 1, 2

# The commands `grade --help` lists, each with its line there.
COMMANDS = {
    "all": "grade every exercise, and the total",
    "doctor": "which protection layers guard the grader from student code on this machine",
    "build": "write the student stubs and notebooks from the solutions",
    "release": "student DEST: the repository students receive; gradescope ZIP: the Gradescope "
    "autograder",
    "export": "otter DEST: the course for otter-grader",
    "batch": "grade a whole class: a gradebook, grades.csv, feedback per student, a class report",
}
CHECK = "check"  # the hidden command grading one exercise: `grade exercise3` is `grade check ...`
HELP, VERSION = ("-h", "--help"), "--version"
DESCRIPTION = (
    "Grade an exercise of the course: your code runs in a separate, limited process; the report "
    "says what passed, what failed and why."
)


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (raised as UsageError) instead of usage + message;
    a choice that is none of them gets the closest one."""

    def error(self, message: str) -> NoReturn:
        choice = re.search(r"invalid choice: '(.*?)' \(choose from (.*)\)", message)
        named = [item.strip(" '") for item in choice[2].split(",")] if choice else []
        close = closest(choice[1], named) if choice else None
        suggestion = f"; did you mean {close}?" if close else ""
        raise UsageError(f"{message}{suggestion} (see `{self.prog} --help`)")


def _grading_options() -> argparse.ArgumentParser:
    """The options of `grade EXERCISE` and `grade all` (``parents`` of their parsers)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument(
        "--submission",
        metavar="PATH",
        type=Path,
        help="the file to grade (.py or .ipynb), or a folder holding it (for all: the folder "
        "holding the exercise files); default: the exercise's file in this course",
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


def _course_and_exercises(parser: argparse.ArgumentParser, what_exercise_does: str) -> None:
    """--course PATH, and --exercise ID given any number of times (``args.exercise``)."""
    parser.add_argument("--course", metavar="PATH", type=Path, help="the course (as for grade)")
    parser.add_argument(
        "--exercise",
        metavar="ID",
        action="append",
        help=f"{what_exercise_does} (repeat for more; default: all)",
    )


def _parser(
    command: str | None = None, listed: str = ""
) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The command line's parser, and each command's by name. ``command``: the one being run
    (only `grade batch` has its arguments added, as they import the batch's modules);
    ``listed``: the exercises `grade --help` lists."""
    options = _grading_options()
    top = _Parser(
        prog="grade",
        usage="grade EXERCISE [options]\n       grade all [options]\n       grade COMMAND ...",
        description=_help_text(listed),
        epilog="Each command has its own --help. Exit status: 0 full marks, 1 not full marks, "
        "2 could not grade.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[options],
    )
    commands = top.add_subparsers(dest="command", help=argparse.SUPPRESS)
    parsers: dict[str, argparse.ArgumentParser] = {}

    def add(name: str, **how: object) -> argparse.ArgumentParser:
        parsers[name] = commands.add_parser(name, **how)  # type: ignore[arg-type]
        return parsers[name]

    check = add(CHECK, prog="grade", description=DESCRIPTION, parents=[options])
    check.add_argument(
        "target",
        metavar="EXERCISE",
        help="an exercise id from course.yaml (e.g. exercise3; `grade --help` lists them), "
        "or `all`",
    )
    add(
        "all",
        prog="grade all",
        description="Grade every exercise of the course.",
        parents=[options],
    ).set_defaults(target="all")
    doctor = add(
        "doctor",
        prog="grade doctor",
        description="Which layers protect the grader from student code here.",
    )
    doctor.add_argument("--format", choices=("terminal", "json"), default="terminal")
    build = add(
        "build",
        prog="grade build",
        description="Write each exercise's student file and notebook from its solution "
        "(grader.build), where they are missing or out of date.",
    )
    build.add_argument(
        "course",
        metavar="COURSE",
        nargs="?",
        type=Path,
        help=f"the course's {COURSE_FILE} or its folder (default: the nearest one)",
    )
    release = add(
        "release",
        prog="grade release",
        description="student DEST: the repository students receive (stubs, public checks, the "
        "grader, a course.yaml without secrets, a README and a CI workflow; no solution, no "
        "hidden check). gradescope ZIP: the autograder zip to upload to Gradescope (setup.sh, "
        "run_autograder, the grader, public and hidden checks, solutions).",
    )
    release.add_argument("kind", choices=("student", "gradescope"), help="what to release")
    release.add_argument(
        "dest",
        metavar="DEST",
        type=Path,
        help="student: a new or empty folder; gradescope: the .zip file to write",
    )
    _course_and_exercises(release, "gradescope: grade only this exercise")
    export = add(
        "export",
        prog="grade export",
        description="otter DEST: the course for otter-grader, a folder per exercise with its "
        "notebook, an otter test file running the course's checks, and what they import. "
        "otter runs the checks inside the student's kernel, without this grader's protection.",
    )
    export.add_argument("kind", choices=("otter",), help="the format to export to")
    export.add_argument("dest", metavar="DEST", type=Path, help="a new or empty folder")
    _course_and_exercises(export, "export only this exercise")
    if command == "batch":
        from grader.batch import command as batch

        arguments = batch.parser(_Parser)
        add(
            "batch",
            prog="grade batch",
            description=arguments.description,
            parents=[arguments],
            add_help=False,  # its own -h comes with its arguments
        )
    else:
        add("batch", prog="grade batch")
    return top, parsers


def _help_text(listed: str) -> str:
    """What `grade --help` says between the usage and the options: the commands and ``listed``."""
    width = max(len(name) for name in ("EXERCISE", *COMMANDS)) + 3
    lines = [*textwrap.wrap(DESCRIPTION, 78), "", "commands:"]
    rows = [("EXERCISE", "grade one exercise, e.g. `grade exercise3` (its options are below)")]
    for name, line in [*rows, *COMMANDS.items()]:
        lines += textwrap.wrap(
            line, 78, initial_indent=f"  {name.ljust(width)}", subsequent_indent=" " * (width + 2)
        )
    return "\n".join([*lines, "", listed]).rstrip()


def _exercises_listed(given: Path | None) -> str:
    """The course's exercises, ids and titles, as `grade --help` lists them; or how to point at a
    course when none is found."""
    try:
        course = _course(given)
    except UsageError as error:
        why = (
            f"no {COURSE_FILE} in this folder or above: run grade inside the course folder, or "
            "pass --course PATH (`grade --course PATH --help` lists its exercises)"
            if given is None
            else str(error)
        )
        return "exercises:\n" + textwrap.indent(textwrap.fill(why, 76), "  ")
    width = max(len(exercise.id) for exercise in course.exercises) + 3
    lines = [f"exercises ({_shown(course.path)}):"]
    lines += [f"  {exercise.id.ljust(width)}{exercise.title}" for exercise in course.exercises]
    return "\n".join(lines)


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


# ---------------------------------------------------------------- reading the command line


def _value_options() -> frozenset[str]:
    """The options of `grade EXERCISE` followed by a value (--submission PATH, --format ...)."""
    return frozenset(
        name
        for action in _grading_options()._actions
        if action.nargs != 0
        for name in action.option_strings
    )


def _words(argv: Sequence[str]) -> list[str]:
    """The arguments that are neither options nor the values of `grade EXERCISE`'s options."""
    words, takes_value = [], _value_options()
    arguments = iter(argv)
    for argument in arguments:
        if argument in takes_value:
            next(arguments, None)
        elif not argument.startswith("-"):
            words.append(argument)
    return words


def _given_course(argv: Sequence[str]) -> Path | None:
    """The --course PATH in ``argv``, if any (for `grade --help` to list its exercises)."""
    for index, argument in enumerate(argv):
        if argument == "--course" and index + 1 < len(argv):
            return Path(argv[index + 1])
        if argument.startswith("--course="):
            return Path(argument.removeprefix("--course="))
    return None


def _routed(argv: list[str]) -> list[str]:
    """``argv`` starting with the command to run: as it is for a command or for the top level's
    own --help and --version, else with `check` put first (it is an exercise id or an option of
    one). A first word that is no command but close to one is refused with the command meant."""
    if argv and argv[0] in (*COMMANDS, CHECK):
        return argv
    if argv[:1] == ["help"]:
        return [HELP[1]]
    if not _words(argv) and any(argument in (*HELP, VERSION) for argument in argv):
        return argv
    if argv and not argv[0].startswith("-"):
        _refuse_near_command(argv[0], _given_course(argv))
    return [CHECK, *argv]


def _refuse_near_command(word: str, given: Path | None) -> None:
    """UsageError if ``word`` is no exercise id of the course but close to a command name."""
    meant = closest(word, COMMANDS, cutoff=0.75)
    if meant is None:
        return
    try:
        if word in {exercise.id for exercise in _course(given).exercises}:
            return
    except UsageError:
        pass
    raise UsageError(
        f"no command or exercise {word!r}; did you mean {meant}? (commands: "
        f"{', '.join(COMMANDS)}, or an exercise id: `grade --help` lists them)"
    )


def _unrecognized(extras: Sequence[str], parser: argparse.ArgumentParser) -> str:
    """The one line for arguments ``parser`` does not take, with the option meant if one is
    close to a given one (``--fromat``: did you mean --format?)."""
    names = [name for action in parser._actions for name in action.option_strings]
    for extra in extras:
        if extra.startswith("-"):
            given = extra.split("=", 1)[0]
            meant = closest(given, [name for name in names if name.startswith("--")])
            if meant is not None:
                return (
                    f"unrecognized option {given}; did you mean {meant}? "
                    f"(see `{parser.prog} --help`)"
                )
    return f"unrecognized arguments: {' '.join(extras)} (see `{parser.prog} --help`)"


# ---------------------------------------------------------------- grading


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

    write_student_files(_course(args.course))
    return EXIT_FULL_MARKS


def release(args: argparse.Namespace) -> int:
    """`grade release student DEST` or `grade release gradescope ZIP`: what the course hands out."""
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


def export(args: argparse.Namespace) -> int:
    """`grade export otter DEST`: the course in another grader's format."""
    from grader.integrations.otter import write_otter_export

    count = write_otter_export(_course(args.course), args.dest, args.exercise)
    print(
        f"wrote the course for otter-grader, {count} files, to {args.dest}; build each "
        f"exercise's autograder in its folder with `otter generate course_support` "
        f"({args.dest / 'README.md'})"
    )
    return EXIT_FULL_MARKS


RUN: dict[str, Callable[[argparse.Namespace], int]] = {
    CHECK: grade,
    "all": grade,
    "doctor": doctor,
    "build": build,
    "release": release,
    "export": export,
}


def run(argv: Sequence[str]) -> int:
    """Parse ``argv``, run its command; the exit status."""
    routed = _routed(list(argv))
    command = routed[0] if routed and routed[0] in (*RUN, "batch") else None
    listed = _exercises_listed(_given_course(routed)) if command is None else ""
    top, parsers = _parser(command, listed)
    try:
        if command is None:  # the top level's --help or --version, whatever else was given
            top.parse_args([HELP[1] if any(item in HELP for item in routed) else VERSION])
        args, extras = top.parse_known_args(routed)
    except SystemExit as done:  # a --help or --version answered
        return int(done.code or 0)
    if extras:
        raise UsageError(_unrecognized(extras, parsers[args.command]))
    if args.command == "batch":
        from grader.batch import command as batch

        return batch.run(routed[1:], _Parser, _course)
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
