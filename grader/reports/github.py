"""What `grade` tells GitHub Actions (and GitHub Classroom) when it runs in a workflow.

- **Annotations**: an ``::error`` workflow command per failing check, on the line of the student's
  function the check's message names (else line 1 of the file), so the failure shows on the
  student's code in the pull request and the run's summary. Values are made terminal-safe
  (grader.safe_text.terminal), then escaped as GitHub requires, so a message is one line.
- **Fencing**: everything else `grade` prints (the report, with whatever the student's code
  printed) goes between ``::stop-commands::TOKEN`` and ``::TOKEN::``, with a token nobody can
  guess, so that printed output cannot forge an annotation, mask a value or set a variable.
- **Step summary**: a Markdown table of the scores, appended to the file ``$GITHUB_STEP_SUMMARY``
  names.
- **Classroom result**: the ``result`` step output that GitHub Classroom's
  autograding-grading-reporter reads: base64 of ``{"version": 1, "status", "max_score",
  "tests": [{"name", "status", "score", "message", ...}]}``, appended to ``$GITHUB_OUTPUT``.
  The reporter prints each message into the log unfenced, so messages pass
  grader.safe_text.github_log: no line of them can be read as a workflow command.
"""

from __future__ import annotations

import ast
import base64
import json
import re
import secrets
from pathlib import Path

from grader import safe_text
from grader.results import CheckResult, CourseResult, ExerciseResult


def in_github_actions(environment: dict[str, str]) -> bool:
    """Whether this runs as a GitHub Actions step (GitHub sets GITHUB_ACTIONS=true)."""
    return environment.get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
    """A workflow command's message: %, CR and LF encoded, as GitHub's toolkit does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (file=, title=): also : and , encoded."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _exercises(result: ExerciseResult | CourseResult) -> list[ExerciseResult]:
    return result.exercises if isinstance(result, CourseResult) else [result]


def _function_lines(path: Path) -> dict[str, int]:
    """Each function's (and method's) first line in the student's file; {} if unreadable or a
    notebook (whose lines a message cites by cell, and an annotation cannot point at)."""
    if path.suffix != ".py":
        return {}
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, SyntaxError, RecursionError):
        return {}
    return {
        node.name: node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def _line_of(check: CheckResult, lines: dict[str, int]) -> int:
    """The line the error happened at, or else the first line of the first of the student's
    functions the message names as a call, or 1."""
    if check.line is not None:
        return check.line
    for name in re.findall(r"\b([A-Za-z_]\w*)\(", check.message):
        if name in lines:
            return lines[name]
    return 1


def error_commands(result: ExerciseResult | CourseResult) -> list[str]:
    """One ``::error`` command per check that did not pass, on the student's file."""
    commands = []
    for exercise in _exercises(safe_text.each_text(result, safe_text.terminal)):
        if exercise.file is None:
            continue
        lines = _function_lines(Path(exercise.file))
        for check in exercise.checks:
            if check.status == "passed":
                continue
            title = f"{exercise.exercise}: {check.title} (0/{check.max_score:g})"
            commands.append(
                f"::error file={escape_property(exercise.file)},"
                f"line={_line_of(check, lines) if lines else 1},title={escape_property(title)}::"
                f"{escape_data(check.message or exercise.problem or check.status)}"
            )
    return commands


def fenced(text: str) -> str:
    """``text`` between stop-commands markers with a fresh random token: no line of it is read
    as a workflow command (``::error::``, ``::add-mask::``, ``##[set-output]``, even a
    ``::stop-commands::`` of its own: only the token resumes them)."""
    token = secrets.token_hex(16)
    return f"::stop-commands::{token}\n{text}\n::{token}::"


def summary(result: ExerciseResult | CourseResult) -> str:
    """The Markdown appended to the step summary: a line per exercise and the total."""
    rows = ["| exercise | score | checks passed |", "| --- | --- | --- |"]
    for exercise in _exercises(result):
        passed = sum(check.status == "passed" for check in exercise.checks)
        title = exercise.title.replace("|", "\\|")
        rows.append(
            f"| {exercise.exercise}: {title} | {exercise.score:g} / {exercise.max_score:g} | "
            f"{passed} of {len(exercise.checks)} |"
        )
    total = f"**Total: {result.score:g} / {result.max_score:g}**"
    return "\n".join(["### Grades", "", *rows, "", total, ""])


def classroom_result(result: ExerciseResult | CourseResult) -> str:
    """The base64 JSON that GitHub Classroom's grading reporter reads from a step's ``result``."""
    tests = []
    for exercise in _exercises(safe_text.each_text(result, safe_text.github_log)):
        for check in exercise.checks:
            tests.append(
                {
                    "name": f"{exercise.exercise}: {check.title}",
                    "status": {"passed": "pass", "failed": "fail"}.get(check.status, "error"),
                    "score": check.score,
                    "max_score": check.max_score,
                    "message": check.message,
                    "test_code": f"grade {exercise.exercise}",
                    "filename": exercise.file or "",
                    "line_no": 0,
                    "duration": round(check.seconds * 1000),
                }
            )
    statuses = {test["status"] for test in tests}
    status = "error" if "error" in statuses else "fail" if "fail" in statuses else "pass"
    document = {"version": 1, "status": status, "max_score": result.max_score, "tests": tests}
    return base64.b64encode(json.dumps(document).encode("utf-8")).decode("ascii")


def append(path: str | None, text: str) -> None:
    """Append ``text`` to the file a GitHub variable names (GITHUB_STEP_SUMMARY, GITHUB_OUTPUT);
    nothing if it names none."""
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
