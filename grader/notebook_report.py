"""What ``check()`` returns in a notebook: the grading's results, shown as HTML in Jupyter and as
`grade`'s text report anywhere else.

A NotebookReport holds the ExerciseResults `grade --format json` printed (read back with
``exercise_result``), or the one line saying why nothing was graded, or, for an exercise whose
saved file differs from what the kernel ran, that line instead of its score.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from grader import safe_text
from grader.notebook_code import rule_told_once
from grader.results import CheckResult, CourseResult, ExerciseResult

STATUS_ORDER = {"error": 0, "failed": 1, "passed": 2}  # failures first, in the HTML report


def exercise_result(data: dict[str, Any]) -> ExerciseResult:
    """The ExerciseResult of one exercise object of the JSON report (grader.reports.json_report)."""
    return ExerciseResult(
        exercise=data["exercise"],
        title=data["title"],
        max_score=float(data["max_score"]),
        file=data["file"],
        checks=[
            CheckResult(
                id=test["id"],
                title=test["name"],
                score=float(test["score"]),
                max_score=float(test["max_score"]),
                status=test["status"],
                hidden=test["hidden"],
                message=test["message"],
                kind=test.get("kind", ""),
            )
            for test in data["tests"]
        ],
        problem=data.get("problem"),
        output=data.get("output", ""),
        notes=list(data.get("notes", [])),
        flags=list(data.get("flags", [])),
        sandbox=list(data.get("sandbox", [])),
        sandbox_off=list(data.get("sandbox_off", [])),
        hidden_points=float(data.get("hidden_points", 0)),
        environment=dict(data.get("environment", {})),
    )


class _Plain:
    """A stream as the text report sees a notebook's output: UTF-8, not a terminal."""

    encoding = "utf-8"

    def isatty(self) -> bool:
        return False


@dataclass
class NotebookReport:
    """The outcome of ``check(target)``.

    target: what was asked ("exercise3", "all", "submit"); results: each exercise graded;
    stale: exercise id -> the line saying its saved file differs from what the kernel ran
    (that exercise's score is withheld); problem: why nothing was graded; text: what
    `grade submit` printed.
    """

    target: str
    results: list[ExerciseResult] = field(default_factory=list)
    stale: dict[str, str] = field(default_factory=dict)
    problem: str | None = None
    text: str = ""

    @property
    def graded(self) -> list[ExerciseResult]:
        """The exercises whose score stands: graded, and saved as the kernel ran them."""
        return [result for result in self.results if result.exercise not in self.stale]

    @property
    def score(self) -> float | None:
        """The points scored, or None when nothing could be graded or a file was not saved."""
        if self.problem is not None or self.stale or not self.results:
            return None
        return sum(result.score for result in self.results)

    @property
    def max_score(self) -> float:
        return sum(result.max_score for result in self.results)

    @property
    def checks(self) -> list[CheckResult]:
        """Every check of the exercises whose score stands, in the course's order."""
        return [check for result in self.graded for check in result.checks]

    def __str__(self) -> str:
        from grader.reports import terminal

        lines = [f"not graded: {self.problem}"] if self.problem else []
        lines += [f"{exercise}: not graded: {line}" for exercise, line in self.stale.items()]
        if self.text:
            lines.append(safe_text.terminal(self.text))
        graded = self.graded
        if len(graded) == 1 and len(self.results) == 1:
            lines.append(terminal.render(graded[0], _Plain()))  # type: ignore[arg-type]
        elif graded:
            lines.append(terminal.render(CourseResult(graded), _Plain()))  # type: ignore[arg-type]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str | None:
        """The report as Jupyter shows it; None (the text instead) where jinja2 is missing."""
        try:
            template = _template()
        except ImportError:
            return None
        graded = self.graded
        exercises = [
            {
                "result": result,
                "notes": notes,
                "checks": sorted(result.checks, key=lambda check: STATUS_ORDER[check.status]),
                "passed": sum(check.status == "passed" for check in result.checks),
            }
            for result, notes in zip(
                graded, rule_told_once([result.notes for result in graded]), strict=True
            )
        ]
        return template.render(
            problem=self.problem,
            stale=self.stale,
            text=self.text,
            exercises=exercises,
            score=None if len(self.results) < 2 else self.score,
            max_score=self.max_score,
            number=_number,
        )


def _number(value: float) -> str:
    return f"{value:g}"


@functools.cache
def _template() -> Any:
    """The HTML template, autoescaped, each value shown as safe_text.terminal shows it."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("grader", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=lambda value: value if isinstance(value, bool | int | float) else _shown(value),
    )
    return environment.get_template("check_report.html.j2")


def _shown(value: object) -> object:
    import markupsafe

    if isinstance(value, markupsafe.Markup):
        return value
    return safe_text.terminal(str(value)) if isinstance(value, str) else value
