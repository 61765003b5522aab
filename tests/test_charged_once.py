"""What only the worker reports costs no points, and each named mistake is charged once.

An argument changed in place is reported by the worker, where the student's code runs: it becomes
a note for the student, never a lost point, whether the docstring allows the change (ReLU's
backward zeroing ``dout``) or asks for the input to be left alone (``sgd_update``). A check that
meets a named mistake an earlier check already charged goes on past it and keeps its points if
nothing else in it fails; an answer it never checked is not excused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.checks import expect_close
from grader.course import Course
from grader.runner import Check, run_check
from tests.helpers import grade_text, solution_text, with_function

IN_PLACE_BUT_RIGHT = [
    (
        "exercise6",
        """
def relu_backward(dout, cache):
    dx = dout
    dx[cache <= 0] = 0
    return dx
""",
        "relu_backward(dout of shape (3, 4), cache) changed its argument dout in place",
        "a caller using dout afterwards sees the change",
    ),
    (
        "exercise8",
        """
def softmax_cross_entropy(scores, labels):
    count = scores.shape[0]
    scores -= scores.max(axis=1, keepdims=True)
    log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    loss = -float(np.mean(log_probs[np.arange(count), labels]))
    dscores = np.exp(log_probs)
    dscores[np.arange(count), labels] -= 1
    return loss, dscores / count
""",
        "changed its argument scores in place",
        "a caller using scores afterwards sees the change",
    ),
    (
        "exercise1",
        """
def numerical_derivative(f, x, h=1e-5):
    x += h
    above = f(x)
    x -= 2 * h
    below = f(x)
    x += h
    return (above - below) / (2 * h)
""",
        "changed its argument x in place",
        "no points lost",
    ),
    (
        "exercise10",
        """
def sgd_update(params, grads, rate):
    for key in params:
        params[key] -= rate * grads[key]
    return params
""",
        "sgd_update(params, grads, rate=0.3) changed its argument params[",
        "leave it as the docstring asks: work on a copy",
    ),
]


@pytest.mark.parametrize(
    ("exercise_id", "code", "said", "advice"),
    IN_PLACE_BUT_RIGHT,
    ids=[f"{case[0]}: {case[1].split('(')[0].split()[-1]}" for case in IN_PLACE_BUT_RIGHT],
)
def test_an_argument_changed_in_place_is_a_note_not_a_lost_point(
    course: Course, tmp_path: Path, exercise_id: str, code: str, said: str, advice: str
) -> None:
    source = with_function(solution_text(course, exercise_id), code)
    result = grade_text(course, exercise_id, source, tmp_path)
    assert result.score == result.max_score, [c.message for c in result.checks if c.message]
    [note] = [text for text in result.notes if "in place" in text]  # one per function, argument
    assert said in note and advice in note
    assert "entry [" in note


def test_the_right_answer_changes_nothing_and_says_nothing(course: Course, tmp_path: Path) -> None:
    result = grade_text(course, "exercise6", solution_text(course, "exercise6"), tmp_path)
    assert result.score == result.max_score
    assert not [text for text in result.notes if "in place" in text]


# ---------------------------------------------------------------- charged once

SLIP = "the slip"


def checking(values: dict[str, float], also: float = 1.0):  # type: ignore[no-untyped-def]
    """A check function: ``values`` are the student's answers to f (right: 1) and g (right: 2)
    with the named mistake SLIP (either gives 3); ``also``, checked last, answers h (right: 1)."""

    def function(student: object, rng: object) -> None:
        for name, right in (("f", 1.0), ("g", 2.0)):
            if name in values:
                expect_close(values[name], right, f"{name}(x)", mistakes={SLIP: 3.0})
        expect_close(also, 1.0, "h(x)")

    return function


def run(function, charged: dict, notes: dict):  # type: ignore[no-untyped-def]
    item = Check("c", "a check", 2.0, False, function, ("student", "rng"))
    return run_check(item, None, np.random.default_rng(0), None, charged, notes)  # type: ignore[arg-type]


def test_a_named_mistake_met_again_keeps_the_later_checks_points() -> None:
    charged: dict = {}
    notes: dict = {}
    first = run(checking({"f": 3.0}), charged, notes)
    assert first.status == "failed" and first.score == 0 and "the slip" in first.message
    later = run(checking({"f": 3.0}), charged, notes)
    assert later.status == "passed" and later.score == 2.0
    [said] = notes.values()
    assert "the mistake charged in “a check”: not again here" in said


def test_a_repeat_does_not_excuse_what_the_check_checks_after_it() -> None:
    charged: dict = {}
    run(checking({"f": 3.0}), charged, {})
    later = run(checking({"f": 3.0}, also=5.0), charged, {})  # f's slip again, and h wrong
    assert later.status == "failed" and later.score == 0 and "h(x)" in later.message


def test_the_same_hint_in_another_function_is_another_mistake() -> None:
    charged: dict = {}
    run(checking({"f": 3.0}), charged, {})
    other = run(checking({"g": 3.0}), charged, {})
    assert other.status == "failed" and other.score == 0


def test_an_unnamed_wrong_answer_is_charged_every_time() -> None:
    charged: dict = {}
    assert run(checking({"f": 7.0}), charged, {}).score == 0
    assert run(checking({"f": 7.0}), charged, {}).score == 0
    assert charged == {}
