"""The JUnit XML report (``grade ... --junit PATH``), as CI systems read it.

One ``testsuite`` per exercise, one ``testcase`` per check (its name the check's title, its
classname the exercise), a ``failure`` for a wrong answer and an ``error`` for code that raised,
timed out, crashed or could not be loaded, each with the check's message. Points travel as
properties: ``score`` and ``max_score`` on each testsuite and testcase, and ``hidden`` on each
testcase. GitLab's test reports and the common GitHub test-report actions read this format.
Written with junitparser; every text in it passes grader.safe_text.xml first, so a control
character in a student's message (``raise ValueError("\\x1b\\x00")``) is shown as an escape
instead of making the file invalid XML.
"""

from __future__ import annotations

from pathlib import Path

from junitparser import Error, Failure, JUnitXml, Properties, Property, TestCase, TestSuite

from grader import safe_text
from grader.results import CheckResult, CourseResult, ExerciseResult


def _points(value: float) -> str:
    return f"{value:g}"


def _case(exercise: ExerciseResult, check: CheckResult) -> TestCase:
    case = TestCase(check.title, classname=exercise.exercise, time=round(check.seconds, 3))
    properties = Properties()
    for name, value in (
        ("id", check.id),
        ("score", _points(check.score)),
        ("max_score", _points(check.max_score)),
        ("hidden", "true" if check.hidden else "false"),
    ):
        properties.add_property(Property(name, value))
    case.append(properties)
    if check.status != "passed":
        outcome = (
            Failure(check.message, "wrong answer")
            if check.status == "failed"
            else Error(check.message, check.kind or "error")
        )
        outcome.text = check.message  # shown in full by tools that cut the attribute short
        case.result = [outcome]
    return case


def _suite(exercise: ExerciseResult) -> TestSuite:
    suite = TestSuite(exercise.exercise)
    suite.add_property("title", exercise.title)
    suite.add_property("file", exercise.file or "")
    suite.add_property("score", _points(exercise.score))
    suite.add_property("max_score", _points(exercise.max_score))
    for check in exercise.checks:
        suite.add_testcase(_case(exercise, check))
    suite.time = round(exercise.seconds, 3)
    return suite


def render(result: ExerciseResult | CourseResult) -> str:
    """The report as XML text."""
    result = safe_text.each_text(result, safe_text.xml)  # what the submission controls
    exercises = result.exercises if isinstance(result, CourseResult) else [result]
    document = JUnitXml("grade")
    for exercise in exercises:
        document.add_testsuite(_suite(exercise))
    return document.tostring().decode("utf-8")


def write(result: ExerciseResult | CourseResult, path: Path) -> None:
    """Write the report to ``path`` whole or not at all (a temporary file, then renamed)."""
    from grader.files import write_atomically

    write_atomically(path, render(result))
