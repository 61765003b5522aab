"""Calls sent ahead of their answers (grader.later): the same answers, in order, and failures
that stay with the call that failed."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from grader import finite_diff
from grader.later import Later, settle, then
from grader.student_code.errors import CallTimedOut, StudentRaised
from grader.student_code.objects import StudentModule
from tests.helpers import session_of

CODE = """
import numpy as np

kept = []

def square_sum(x):
    return float(np.sum(x ** 2))

def fails_on_negative(x):
    if x < 0:
        raise ValueError(f"negative: {x}")
    return 2 * x

def spins_on_negative(x):
    while x < 0:
        pass
    return x

def keep(f):
    kept.append(f)

def use_kept(x):
    return kept[0](x) + x

def apply(f, x):
    return f(x)

def double(x):
    return 2 * x
"""


@pytest.fixture
def student() -> Iterator[StudentModule]:
    with session_of(CODE) as session:
        yield StudentModule(session)


def test_answers_come_back_in_order_past_the_pipe_window(student: StudentModule) -> None:
    points = [np.full(200, float(i)) for i in range(300)]  # ~500 KB of requests: many windows
    laters = [student.square_sum.later(point) for point in points]
    assert all(isinstance(later, Later) for later in laters)
    assert [settle(later) for later in laters] == [200.0 * i * i for i in range(300)]


def test_a_call_that_raises_fails_alone(student: StudentModule) -> None:
    laters = [student.fails_on_negative.later(x) for x in (1, -1, 3)]
    assert settle(laters[0]) == 2
    with pytest.raises(StudentRaised, match="negative: -1"):
        settle(laters[1])
    assert settle(laters[2]) == 6
    assert student.double(4) == 8


@pytest.mark.slow
def test_a_call_that_never_ends_times_out_and_the_next_call_gets_a_fresh_worker(
    student: StudentModule,
) -> None:
    laters = [student.spins_on_negative.later(x) for x in (1, -1, 3)]
    assert settle(laters[0]) == 1
    with pytest.raises(CallTimedOut):
        settle(laters[1])
    with pytest.raises(CallTimedOut):  # it never ran: the worker that had it was stopped
        settle(laters[2])
    assert student.double(4) == 8


def test_an_ordinary_call_reads_the_answers_still_due_first(student: StudentModule) -> None:
    laters = [student.double.later(x) for x in range(5)]
    assert student.double(10) == 20
    assert [settle(later) for later in laters] == [0, 2, 4, 6, 8]


def test_calls_that_call_back_into_the_grader_keep_their_order(student: StudentModule) -> None:
    """Calls sent ahead arrive while the first waits on a grader function: they run after it,
    not inside it, so each answer still belongs to its own call."""
    student.keep(lambda value: value * 10)
    laters = [student.use_kept.later(x) for x in range(40)]
    assert [settle(later) for later in laters] == [11 * x for x in range(40)]


def test_a_call_sent_ahead_from_inside_a_grader_function_is_answered_at_once(
    student: StudentModule,
) -> None:
    def grader_function(value: int) -> int:
        return settle(student.double.later(value)) + 1

    assert student.apply(grader_function, 5) == 11


def test_then_applies_to_plain_values_and_laters_alike(student: StudentModule) -> None:
    assert then(3, lambda v: v + 1) == 4
    assert settle(then(student.double.later(3), lambda v: v + 1)) == 7


def test_finite_differences_read_laters_like_numbers(student: StudentModule) -> None:
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    sent = finite_diff.gradient(lambda point: student.square_sum.later(point), x)
    plain = finite_diff.gradient(lambda point: float(np.sum(point**2)), x)
    assert np.array_equal(sent[0], plain[0]) and np.array_equal(sent[1], plain[1])


def test_a_grader_function_may_call_the_student_while_calls_are_sent_ahead(
    student: StudentModule,
) -> None:
    """A call sent ahead waits on a grader function that itself calls the student's code: that
    nested call is answered at once, and the calls sent ahead after it still wait their turn."""

    def grader_function(value: int) -> int:
        return student.double(value) + 1  # a nested, ordinary call

    student.keep(grader_function)
    laters = [student.use_kept.later(x) for x in range(20)]
    assert [settle(later) for later in laters] == [3 * x + 1 for x in range(20)]
