"""The JSON report: one object per exercise, as the command line promises.

Per exercise::

    {"exercise": str, "title": str, "score": number, "max_score": number, "file": str | null,
     "problem": str | null, "output": str, "notes": [str], "flags": [str],
     "sandbox": [names of the protection layers active for this grading, as `grade doctor` names
                 them; the layers a worker applies to itself as that worker reported them],
     "sandbox_off": [{"name": str, "why": why that layer was off here, and what follows}],
     "hidden_points": number (in a student release: the hidden checks' points, graded later),
     "environment": {"python": str, "numpy": str} (the versions it was graded with),
     "tests": [{"name": str, "id": str, "score": number, "max_score": number,
                "status": "passed" | "failed" | "error", "hidden": bool, "message": str,
                "kind": for an error, what kind (grader.results.ERROR_KINDS), else ""}]}

``grade all`` wraps them: {"score": number, "max_score": number, "exercises": [...]}.

The strings are the submission's as they are (a program reading the report gets what the code
printed); the printed text is made safe by grader.safe_text.json_text: the control characters
JSON leaves raw, and the ``#`` of a ``##[`` GitHub Actions would obey, are written as ``\\u``
escapes, which parse to the same strings.
"""

from __future__ import annotations

import json
from typing import Any

from grader import safe_text
from grader.results import CourseResult, ExerciseResult


def json_number(value: float) -> int | float:
    """A score as JSON shows it: a whole number without .0, else at most 6 decimals."""
    return int(value) if float(value).is_integer() else round(value, 6)


def exercise_object(result: ExerciseResult) -> dict[str, Any]:
    return {
        "exercise": result.exercise,
        "title": result.title,
        "score": json_number(result.score),
        "max_score": json_number(result.max_score),
        "file": result.file,
        "problem": result.problem,
        "output": result.output,
        "notes": result.notes,
        "flags": result.flags,
        "sandbox": result.sandbox,
        "sandbox_off": result.sandbox_off,
        "hidden_points": json_number(result.hidden_points),
        "environment": result.environment,
        "tests": [
            {
                "name": check.title,
                "id": check.id,
                "score": json_number(check.score),
                "max_score": json_number(check.max_score),
                "status": check.status,
                "hidden": check.hidden,
                "message": check.message,
                "kind": check.kind,
            }
            for check in result.checks
        ],
    }


def course_object(result: CourseResult) -> dict[str, Any]:
    return {
        "score": json_number(result.score),
        "max_score": json_number(result.max_score),
        "exercises": [exercise_object(item) for item in result.exercises],
    }


def render(result: ExerciseResult | CourseResult) -> str:
    data = course_object(result) if isinstance(result, CourseResult) else exercise_object(result)
    return safe_text.json_text(json.dumps(data, indent=2, ensure_ascii=False))
