"""The terminal report: what a student reads after `grade exercise3`.

Per check a mark, its title and points, and for anything not passed the message, wrapped under it;
then the total and how much of it came from hidden checks. Colour only on a terminal that wants it
(not with NO_COLOR set); plain words instead of marks where the output cannot encode them.

Everything a submission controls (what it printed, its exceptions' messages, file names) is shown
as grader.safe_text.terminal shows it: escape sequences and control characters are printed as
``\\x1b[2J``, never obeyed, so a submission cannot redraw the report.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from typing import TextIO

from grader import safe_text
from grader.results import CheckResult, CourseResult, ExerciseResult

COLOURS = {"passed": "32", "failed": "31", "error": "33", "dim": "2", "bold": "1"}


class Style:
    """Marks and colours suited to one output stream."""

    def __init__(self, stream: TextIO) -> None:
        self.colour = stream.isatty() and "NO_COLOR" not in os.environ
        encoding = getattr(stream, "encoding", None) or "ascii"
        try:
            "✓✗!·─".encode(encoding)
            self.marks = {"passed": "✓", "failed": "✗", "error": "!"}
            self.dot, self.rule = "·", "─"
        except UnicodeEncodeError:
            self.marks = {"passed": "ok", "failed": "FAIL", "error": "ERR"}
            self.dot, self.rule = "-", "-"
        self.width = min(shutil.get_terminal_size((100, 24)).columns, 100)

    def paint(self, text: str, what: str) -> str:
        return f"\033[{COLOURS[what]}m{text}\033[0m" if self.colour else text


SHOWN_NAMES = {"python": "Python"}  # grading_environment's keys as people write them


def _points(value: float) -> str:
    return f"{value:g}"


def _check_lines(check: CheckResult, style: Style, with_message: bool = True) -> list[str]:
    """The check's mark, points and title, then (unless it passed) its message, all wrapped."""
    mark = style.paint(style.marks[check.status].ljust(2), check.status)
    points = f"{_points(check.score)}/{_points(check.max_score)}".rjust(5)
    title = ("(hidden) " if check.hidden else "") + check.title
    indent = " " * 12
    wrapped = textwrap.wrap(title, style.width - len(indent)) or [""]
    lines = [f"  {mark} {points}  {wrapped[0]}", *(indent + line for line in wrapped[1:])]
    if with_message and check.status != "passed" and check.message:
        for number, paragraph in enumerate(check.message.splitlines()):
            lines += textwrap.wrap(
                paragraph,
                style.width - len(indent) - 2,
                initial_indent=indent + ("→ " if number == 0 else "  "),
                subsequent_indent=indent + "  ",
                break_on_hyphens=False,
            ) or [""]
    return lines


def exercise_lines(result: ExerciseResult, style: Style) -> list[str]:
    header = f"{result.exercise} {style.dot} {result.title}"
    lines = [style.paint(header, "bold") + (f"  ({result.file})" if result.file else "")]
    for note in result.notes:
        lines += textwrap.wrap(
            note,
            style.width - 2,
            initial_indent=style.paint("  note: ", "dim"),
            subsequent_indent="    ",
        )
    if result.problem:
        lines += textwrap.wrap(
            result.problem, style.width - 2, initial_indent="  ", subsequent_indent="    "
        )
    for check in result.checks:
        # When the file could not run, the problem above is every check's reason: say it once.
        lines += _check_lines(check, style, with_message=result.problem is None)
    if result.output.strip():
        shown = result.output.strip().splitlines()
        lines.append(style.paint("  your code printed:", "dim"))
        lines += [f"    | {line}" for line in shown[:20]]
        if len(shown) > 20:
            lines.append(f"    | … {len(shown) - 20} more lines")
    hidden = [check for check in result.checks if check.hidden]
    passed = sum(check.status == "passed" for check in result.checks)
    summary = (
        f"  Score {_points(result.score)}/{_points(result.max_score)} "
        f"{style.dot} {passed} of {len(result.checks)} checks passed"
    )
    if hidden:
        summary += (
            f" {style.dot} {len(hidden)} of them hidden, worth "
            f"{_points(sum(check.max_score for check in hidden))} points"
        )
    colour = "passed" if result.full_marks else "failed"
    lines.append(style.paint(summary, colour))
    if result.environment:
        versions = ", ".join(
            f"{SHOWN_NAMES.get(name, name)} {version}"
            for name, version in result.environment.items()
        )
        lines.append(style.paint(f"  graded with {versions}", "dim"))
    if result.hidden_points:
        lines.append(
            f"  + {_points(result.hidden_points)} more points from hidden checks, "
            "graded after you hand in"
        )
    return lines


def render(result: ExerciseResult | CourseResult, stream: TextIO = sys.stdout) -> str:
    style = Style(stream)
    result = safe_text.each_text(result, safe_text.terminal)  # what the submission controls
    if isinstance(result, ExerciseResult):
        return "\n".join(exercise_lines(result, style))
    lines: list[str] = []
    for item in result.exercises:
        lines += [*exercise_lines(item, style), ""]
    total = f"Total {_points(result.score)}/{_points(result.max_score)}"
    lines.append(style.paint(total, "passed" if result.full_marks else "failed"))
    return "\n".join(lines)
