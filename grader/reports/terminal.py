"""The terminal report: what a student reads after `grade exercise3`.

Per check a mark, its title and points, and for anything not passed the message, wrapped under it;
then the total and how much of it came from hidden checks. Colour only on a terminal that wants it
(not with NO_COLOR set); plain words instead of marks where the output cannot encode them.

Everything a submission controls (what it printed, its exceptions' messages, file names) is shown
as grader.safe_text.terminal shows it: escape sequences and control characters are printed as
``\\x1b[2J``, never obeyed, so a submission cannot redraw the report.
"""

from __future__ import annotations

import dataclasses
import os
import re
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


NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def failure_key(message: str) -> str | None:
    """What makes two failing checks' messages the same failure: the message with its numbers
    left out (the same error at other sizes, the same named mistake at other inputs). None for a
    message that names no error or mistake (two bare mismatches may have different causes)."""
    if " raised " not in message and "\n" not in message:
        return None
    return NUMBER.sub("#", message)


def _check_lines(
    check: CheckResult, style: Style, with_message: bool = True, message: str | None = None
) -> list[str]:
    """The check's mark, points and title, then (unless it passed) its message (``message`` in
    its place if given), all wrapped."""
    mark = style.paint(style.marks[check.status].ljust(2), check.status)
    points = f"{_points(check.score)}/{_points(check.max_score)}".rjust(5)
    title = ("(hidden) " if check.hidden else "") + check.title
    indent = " " * 12
    wrapped = textwrap.wrap(title, style.width - len(indent)) or [""]
    lines = [f"  {mark} {points}  {wrapped[0]}", *(indent + line for line in wrapped[1:])]
    text = check.message if message is None else message
    if with_message and check.status != "passed" and text:
        for number, paragraph in enumerate(text.splitlines()):
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
    # The same failure in several checks is told once, in the first: the others say so.
    keys = [
        failure_key(check.message) if check.status != "passed" else None for check in result.checks
    ]
    for index, check in enumerate(result.checks):
        key = keys[index]
        later = sum(1 for other in keys[index + 1 :] if key is not None and other == key)
        if key is not None and key in keys[:index]:
            message = "the same as above"
        elif later:
            message = f"{check.message}\n(the same in {later} more check{'s' if later > 1 else ''})"
        else:
            message = None
        # When the file could not run, the problem above is every check's reason: say it once.
        lines += _check_lines(check, style, with_message=result.problem is None, message=message)
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


def fix_first_lines(result: CourseResult, style: Style, most: int = 3) -> list[str]:
    """What to fix first after `grade all`: the exercises that lost the most points, each with
    its first failing check's first line, so the way on is in the last lines the student reads."""
    losing = sorted(
        (item for item in result.exercises if not item.full_marks),
        key=lambda item: item.score - item.max_score,
    )
    if not losing:
        return []
    lines = [style.paint("Fix first:", "bold")]
    for item in losing[:most]:
        failing = next((check for check in item.checks if check.status != "passed"), None)
        reason = item.problem or (failing.message.splitlines()[0] if failing else "")
        lost = _points(item.max_score - item.score)
        lines += textwrap.wrap(
            f"{item.exercise} (-{lost}): {reason}",
            style.width - 2,
            initial_indent="  ",
            subsequent_indent="      ",
            max_lines=2,
            placeholder=" …",
        )
    if len(losing) > most:
        lines.append(f"  and {len(losing) - most} more exercises below full marks")
    return [*lines, ""]


def render(result: ExerciseResult | CourseResult, stream: TextIO = sys.stdout) -> str:
    style = Style(stream)
    result = safe_text.each_text(result, safe_text.terminal)  # what the submission controls
    if isinstance(result, ExerciseResult):
        return "\n".join(exercise_lines(result, style))
    lines: list[str] = []
    from grader.notebook_code import rule_told_once  # only for several exercises

    notes = rule_told_once([item.notes for item in result.exercises])
    for item, told in zip(result.exercises, notes, strict=True):
        lines += [*exercise_lines(dataclasses.replace(item, notes=told), style), ""]
    lines += fix_first_lines(result, style)
    total = f"Total {_points(result.score)}/{_points(result.max_score)}"
    lines.append(style.paint(total, "passed" if result.full_marks else "failed"))
    return "\n".join(lines)
