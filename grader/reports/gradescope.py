"""Gradescope's results.json: what the autograder zip's run_autograder writes for each submission.

Top level: ``score`` (the points of every check), ``execution_time`` (whole seconds), ``output``
(for the student: which file was graded for each exercise, notes, load problems, what their code
printed), ``stdout_visibility`` ``hidden`` (stdout is the instructor's log), ``extra_data`` (for
the instructor: grader version, protection layers, suspicious-code flags) and ``tests``.

One test per check: ``name`` (exercise id, check title), ``number`` (exercise.check, so Gradescope
keeps the course's order), ``score``, ``max_score``, ``status`` (``passed``, or ``failed`` for a
wrong answer and for code that raised, timed out or could not be loaded), ``output`` (the check's
message), ``tags`` (the exercise id, and the kind of error) and ``visibility``. Public checks are
``visible``. Hidden checks follow course.yaml's ``feedback:``, as batch feedback does:

- ``hidden: full``: each hidden check with its message;
- ``hidden: status`` (the default): each hidden check's name and whether it passed, no message;
- ``hidden: total``: one test per exercise holding the hidden checks' points together;
- ``hidden: none``: that one test, with visibility ``hidden`` (never shown to students);

each shown from ``feedback: {gradescope_visibility: ...}`` on: ``after_due_date`` (the default),
``after_published`` or ``visible``. Gradescope hides a student's total while any test is not yet
visible to them.

Every text from the submission (its output, messages, file names) is shown as
grader.safe_text.terminal shows it: control characters as escapes, and names that are not UTF-8
with their bytes escaped, so results.json can always be written.
"""

from __future__ import annotations

import math
from typing import Any

from grader import __version__, safe_text
from grader.course import Course
from grader.reports.json_report import json_number
from grader.results import CheckResult, CourseResult, ExerciseResult

MAX_PRINTED_LINES = 40  # of what a student's code printed, per exercise, in the output


def _status(passed: bool) -> str:
    return "passed" if passed else "failed"


def _check_test(
    exercise: ExerciseResult, check: CheckResult, number: str, visibility: str, message: bool
) -> dict[str, Any]:
    """One check as a Gradescope test; ``message``: whether its output may say why."""
    title = f"{exercise.exercise} · " + ("(hidden) " if check.hidden else "") + check.title
    if check.status == "passed":
        output = ""
    elif message:
        output = check.message
    else:
        output = "did not pass (hidden check: its message is not shown)"
    return {
        "name": title,
        "number": number,
        "score": json_number(check.score),
        "max_score": json_number(check.max_score),
        "status": _status(check.status == "passed"),
        "output": output,
        "output_format": "text",
        "tags": [exercise.exercise, *([check.kind] if check.kind else [])],
        "visibility": visibility,
    }


def _hidden_total(
    exercise: ExerciseResult, hidden: list[CheckResult], number: str, visibility: str
) -> dict[str, Any]:
    """The hidden checks of ``exercise`` as one test: their points together, nothing else."""
    passed = sum(check.status == "passed" for check in hidden)
    return {
        "name": f"{exercise.exercise} · hidden checks",
        "number": number,
        "score": json_number(sum(check.score for check in hidden)),
        "max_score": json_number(sum(check.max_score for check in hidden)),
        "status": _status(passed == len(hidden)),
        "output": f"{passed} of {len(hidden)} hidden checks passed",
        "output_format": "text",
        "tags": [exercise.exercise, "hidden"],
        "visibility": visibility,
    }


def exercise_tests(exercise: ExerciseResult, index: int, course: Course) -> list[dict[str, Any]]:
    """The tests of one exercise, the ``index``-th of the course (from 1)."""
    shown_when = course.gradescope_visibility
    tests = []
    public = [check for check in exercise.checks if not check.hidden]
    hidden = [check for check in exercise.checks if check.hidden]
    for position, check in enumerate(public, start=1):
        tests.append(_check_test(exercise, check, f"{index}.{position}", "visible", True))
    if not hidden:
        return tests
    if course.hidden_feedback in ("full", "status"):
        for position, check in enumerate(hidden, start=len(public) + 1):
            tests.append(
                _check_test(
                    exercise,
                    check,
                    f"{index}.{position}",
                    shown_when,
                    course.hidden_feedback == "full",
                )
            )
    else:
        visibility = "hidden" if course.hidden_feedback == "none" else shown_when
        tests.append(_hidden_total(exercise, hidden, f"{index}.{len(public) + 1}", visibility))
    return tests


def _exercise_output(exercise: ExerciseResult) -> list[str]:
    """What the student reads at the top about one exercise: the file, notes, problems, prints."""
    graded = f"graded {exercise.file}" if exercise.file else "nothing graded"
    lines = [f"{exercise.exercise} · {exercise.title}: {graded}"]
    lines += [f"  note: {note}" for note in exercise.notes]
    if exercise.problem:
        lines.append(f"  {exercise.problem}")
    printed = exercise.output.strip().splitlines()
    if printed:
        lines.append("  your code printed:")
        lines += [f"    | {line}" for line in printed[:MAX_PRINTED_LINES]]
        if len(printed) > MAX_PRINTED_LINES:
            lines.append(f"    | … {len(printed) - MAX_PRINTED_LINES} more lines")
    return lines


def results_json(
    result: CourseResult, course: Course, seconds: float, notes: list[str] | None = None
) -> dict[str, Any]:
    """The results.json object for one submission graded in ``seconds``; ``notes`` open the
    output (say, which uploaded file was taken for which exercise)."""
    result = safe_text.each_text(result, safe_text.terminal)  # what the submission controls
    tests = []
    output = [safe_text.terminal(note) for note in notes or []]
    for index, exercise in enumerate(result.exercises, start=1):
        tests += exercise_tests(exercise, index, course)
        output += _exercise_output(exercise)
    return {
        "score": json_number(result.score),
        "execution_time": max(math.ceil(seconds), 0),
        "output": "\n".join(output),
        "output_format": "text",
        "stdout_visibility": "hidden",
        "extra_data": {
            "grader_version": __version__,
            "environment": result.exercises[0].environment if result.exercises else {},
            "sandbox": {
                exercise.exercise: exercise.sandbox
                for exercise in result.exercises
                if exercise.sandbox
            },
            "sandbox_off": {
                exercise.exercise: exercise.sandbox_off
                for exercise in result.exercises
                if exercise.sandbox_off
            },
            "flags": {
                exercise.exercise: exercise.flags for exercise in result.exercises if exercise.flags
            },
        },
        "tests": tests,
    }
