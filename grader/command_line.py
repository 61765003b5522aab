"""The command line of `grade`: its parser tree, its help, and reading what was typed.

The commands are argparse subcommands: argparse is the standard library (no dependency), and
through the Parser subclass every mistake is already one line (a UsageError). An exercise id is
no command name (course.yaml may not use one, grader.course.COMMANDS): a first argument that is
not a command is an exercise id, or an option of one, and is read as the hidden command
``check`` (``grade exercise3`` is ``grade check exercise3``, ``route``). `grade --help` lists
the commands and the exercises of the course found from the current folder or --course.

A mistake gets one line with the likeliest meant name (grader.suggest): an exercise id
(``grade ex3``: did you mean exercise3?), a command (``grade bacth``), an option (``--fromat``)
or a choice (``--format jsno``). What each command does is grader.cli's.
"""

from __future__ import annotations

import argparse
import os
import re
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from grader import __version__, safe_text
from grader.course import COURSE_FILE, course_at
from grader.errors import UsageError
from grader.suggest import closest

if TYPE_CHECKING:
    pass

# The commands `grade --help` lists, each with its line there.
COMMANDS = {
    "all": "grade every exercise, and the total",
    "doctor": "which protection layers guard the grader from student code on this machine",
    "build": "write the student stubs and notebooks from the solutions",
    "release": "student DEST: the repository students receive; gradescope ZIP: the Gradescope "
    "autograder",
    "export": "otter DEST: the course for otter-grader",
    "batch": "grade a whole class: a gradebook, grades.csv, feedback per student, a class report",
    "submit": "write submission.zip, the file you hand in: each exercise's file you worked in",
}
CHECK = "check"  # the hidden command grading one exercise: `grade exercise3` is `grade check ...`
HELP, VERSION = ("-h", "--help"), "--version"
DESCRIPTION = (
    "Grade an exercise of the course: your code runs in a separate, limited process; the report "
    "says what passed, what failed and why."
)


class Parser(argparse.ArgumentParser):
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


def parser_tree(
    command: str | None = None, listed: str = ""
) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The command line's parser, and each command's by name. ``command``: the one being run
    (only `grade batch` has its arguments added, as they import the batch's modules);
    ``listed``: the exercises `grade --help` lists."""
    options = _grading_options()
    top = Parser(
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
        "notebook, an otter test file running the course's checks, and what they import, and "
        "in it a student/ folder to hand out (the public checks only). "
        "otter runs the checks inside the student's kernel, without this grader's protection.",
    )
    export.add_argument("kind", choices=("otter",), help="the format to export to")
    export.add_argument("dest", metavar="DEST", type=Path, help="a new or empty folder")
    _course_and_exercises(export, "export only this exercise")
    submit = add(
        "submit",
        prog="grade submit",
        description="Write the zip you hand in: for each exercise the file you worked in (the .py "
        "or the notebook, the one `grade` grades, unless course.yaml's hand_in says otherwise), "
        "at its path in the course. A missing file is refused; an unfinished exercise is handed "
        "in with a warning.",
    )
    submit.add_argument(
        "--output",
        metavar="PATH",
        type=Path,
        help="the zip to write (default: submission.zip in the course folder)",
    )
    _course_and_exercises(submit, "hand in only this exercise")
    if command == "batch":
        from grader.batch import command as batch

        arguments = batch.parser(Parser)
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


def exercises_listed(given: Path | None) -> str:
    """The course's exercises, ids and titles, as `grade --help` lists them; or how to point at a
    course when none is found."""
    try:
        course = course_at(given)
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


def given_course(argv: Sequence[str]) -> Path | None:
    """The --course PATH in ``argv``, if any (for `grade --help` to list its exercises)."""
    for index, argument in enumerate(argv):
        if argument == "--course" and index + 1 < len(argv):
            return Path(argv[index + 1])
        if argument.startswith("--course="):
            return Path(argument.removeprefix("--course="))
    return None


def route(argv: list[str]) -> list[str]:
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
        _refuse_near_command(argv[0], given_course(argv))
    return [CHECK, *argv]


def _refuse_near_command(word: str, given: Path | None) -> None:
    """UsageError if ``word`` is no exercise id of the course but close to a command name."""
    meant = closest(word, COMMANDS, cutoff=0.75)
    if meant is None:
        return
    try:
        if word in {exercise.id for exercise in course_at(given).exercises}:
            return
    except UsageError:
        pass
    raise UsageError(
        f"no command or exercise {word!r}; did you mean {meant}? (commands: "
        f"{', '.join(COMMANDS)}, or an exercise id: `grade --help` lists them)"
    )


def unrecognized(extras: Sequence[str], parser: argparse.ArgumentParser) -> str:
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
