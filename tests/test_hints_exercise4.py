"""Exercise 4's hints: a path that holds one array changed in place is named as such, a path
whose rows grad_f was never evaluated at says whether grad_f was called at all, and a path worked
out without grad_f is charged whatever mistake its numbers look like."""

from __future__ import annotations

from pathlib import Path

from grader.course import Course
from tests.helpers import grade_text, message_of, solution_text, with_function

ALIASED = """
def gradient_descent(grad_f, x0, rate, steps):
    x = np.array(x0, dtype=float)
    path = [x]
    for _ in range(steps):
        x -= rate * grad_f(x)
        path.append(x)
    return np.array(path)
"""

HARD_CODED = """
def gradient_descent(grad_f, x0, rate, steps):
    x0 = np.asarray(x0, dtype=float)
    return x0 * (1 - 2 * rate) ** np.arange(steps + 1)[:, None]
"""


def graded(course: Course, tmp_path: Path, code: str):  # type: ignore[no-untyped-def]
    text = with_function(solution_text(course, "exercise4"), code)
    return grade_text(course, "exercise4", text, tmp_path)


def test_a_path_of_one_array_changed_in_place_is_named(course: Course, tmp_path: Path) -> None:
    result = graded(course, tmp_path, ALIASED)
    message = message_of(result, "gradient_descent_path")
    assert "Hint: every row is the last point, x0's row too" in message
    # The student did call grad_f: nothing says it used a gradient of its own.
    rate = message_of(result, "learning_rate_decides_the_outcome")
    assert "not one of your own" not in rate


def test_a_path_computed_without_grad_f_says_it_never_called_it(
    course: Course, tmp_path: Path
) -> None:
    result = graded(course, tmp_path, HARD_CODED)
    messages = " ".join(check.message for check in result.checks)
    assert "never evaluated grad_f;" in messages
    assert result.score < result.max_score


def test_a_flat_search_that_returns_nothing_is_told_so(course: Course, tmp_path: Path) -> None:
    code = "def descend_until_flat(grad_f, x0, rate, tolerance, max_steps):\n    return None\n"
    result = graded(course, tmp_path, code)
    message = message_of(result, "descend_until_flat_edge_cases")
    assert "expected the pair (x, steps)" in message
