"""Each student's feedback: feedback/<student>.md and .html, what that student may see.

What a student sees of the hidden checks follows course.yaml's ``feedback: {hidden: ...}``:

- ``full``: every hidden check with its message, like a public one;
- ``status`` (the default): each hidden check's name and whether it passed, no message;
- ``total``: only the points the hidden checks gave together;
- ``none``: nothing; the scores shown are the public checks' alone.

An instructor's adjustment of an exercise (grader.batch.adjustments) is shown under its heading:
the points it adds or takes and its comment; the exercise's score is the adjusted one, clamped to
[0, its points].

The instructor-only parts of a grading (suspicious-code flags, the sandbox layers) are left out.

Every value a template writes passes one function of grader.safe_text first, as the template
environment's ``finalize`` (template_environment): in HTML, terminal() and then jinja2's
autoescape; in Markdown, markdown_inline(), or, where the template asks for it, a code span
(``md_code``) or a fenced block whose fence is longer than any backtick run in the text
(``md_block``: what the code printed, each message). A student's name, file, message or output
cannot add markup, a link, a script or a heading, nor close the block it is shown in.
"""

from __future__ import annotations

import functools
from typing import Any

import jinja2
import markupsafe

from grader import safe_text
from grader.batch.exports import StudentGrades, number
from grader.course import Course, Exercise

MAX_OUTPUT_CHARS = 4_000  # of what the student's code printed, per exercise


def _in_html(value: object) -> str:
    """A value an HTML template writes, shown as safe_text.terminal shows it; autoescape then
    escapes it. Markup the template made (``|safe``, ``join``) keeps its tags."""
    if isinstance(value, markupsafe.Markup):
        return markupsafe.Markup(safe_text.terminal(str(value)))
    return safe_text.terminal(str(value))


def _in_markdown(value: object) -> str:
    """A value a Markdown template writes: inline text, unless a filter made it a span or block."""
    return safe_text.markdown_inline(value if isinstance(value, str) else str(value))


@functools.cache
def template_environment(kind: str) -> jinja2.Environment:
    """The templates for ``kind`` "html" (autoescaped) or "md", each value made safe for it."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("grader.batch", "templates"),
        autoescape=kind == "html",
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        finalize=_in_html if kind == "html" else _in_markdown,
    )
    if kind == "md":
        environment.filters["md_code"] = safe_text.markdown_code
        environment.filters["md_block"] = safe_text.markdown_block
    return environment


def _exercise_view(exercise: Exercise, student: StudentGrades, hidden: str) -> dict[str, Any]:
    grading = student.gradings.get(exercise.id)
    report = grading.report if grading is not None else {"tests": []}
    tests = report["tests"]
    public = [test for test in tests if not test["hidden"]]
    secret = [test for test in tests if test["hidden"]]
    shown = public if hidden in ("total", "none") else tests
    checks = [
        {
            "title": test["name"],
            "status": test["status"],
            "hidden": test["hidden"],
            "score": number(test["score"]),
            "max_score": number(test["max_score"]),
            "message": "" if test["hidden"] and hidden == "status" else test["message"],
        }
        for test in shown
    ]
    adjustment = student.adjustments.get(exercise.id) if grading is not None else None
    if hidden == "none":
        max_score = sum(test["max_score"] for test in public)
        score = sum(test["score"] for test in public)
        if adjustment is not None:
            score = adjustment.apply(score, max_score)
    else:
        score = student.score(exercise.id)
        max_score = exercise.points
    output = report.get("output") or ""
    if len(output) > MAX_OUTPUT_CHARS:
        output = output[:MAX_OUTPUT_CHARS] + "\n… (cut)"
    return {
        "id": exercise.id,
        "title": exercise.title,
        "score": number(score),
        "max_score": number(max_score),
        "raw_score": number(grading.raw_score if grading is not None else 0.0),
        "late_days": grading.late_days if grading is not None and hidden != "none" else 0,
        "penalty": number(grading.penalty if grading is not None else 0.0),
        "file": report.get("file"),
        "problem": report.get("problem") or student.entry.problem,
        "notes": report.get("notes") or [],
        "checks": checks,
        "hidden_total": number(sum(test["score"] for test in secret))
        if hidden == "total" and secret
        else None,
        "hidden_max": number(sum(test["max_score"] for test in secret)),
        "output": output,
        "adjustment": None
        if adjustment is None
        else {"points": _signed(adjustment.points), "comment": adjustment.comment},
        "_score": score,
        "_max": max_score,
    }


def _signed(points: float) -> str:
    """Points as the feedback shows an adjustment: ``+2``, ``-1.5``, ``0``."""
    return f"+{number(points)}" if points > 0 else number(points)


def student_view(course: Course, exercises: list[Exercise], student: StudentGrades) -> dict:
    """What the templates show for ``student`` (see the module's docstring)."""
    hidden = course.hidden_feedback
    views = [_exercise_view(exercise, student, hidden) for exercise in exercises]
    return {
        "course_title": course.title,
        "name": student.entry.name,
        "show_total": hidden != "none",
        "total": number(sum(view["_score"] for view in views)),
        "max_total": number(sum(view["_max"] for view in views)),
        "exercises": views,
    }


def render(view: dict[str, Any], kind: str) -> str:
    """The feedback as ``kind`` "md" or "html"."""
    template = template_environment(kind).get_template(f"feedback.{kind}.j2")
    return template.render(**view)
