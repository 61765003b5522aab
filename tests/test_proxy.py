"""Calls into a worker: values, handles, callbacks, in-place changes reported but never applied."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from grader.check_outcome import CheckRecord, recording
from grader.checks import warn_if_inputs_changed
from grader.course import Course
from grader.student_code.errors import CallTimedOut, StudentError, StudentRaised
from grader.student_code.objects import StudentModule, changed_arguments
from tests.helpers import failed, grade_text, session_of, solution_text, with_function

CODE = """
import numpy as np

def scale_in_place(x, factor=2.0):
    x *= factor

def update(params, grads, rate):
    for key in params:
        params[key] -= rate * grads[key]

def make_counter(start):
    class Counter:
        def __init__(self):
            self.count = start
        def step(self):
            self.count += 1
            return self.count
    return Counter()

def apply(f, x):
    return f(x)

def identity(value):
    return value

def spin():
    while True:
        pass

class Number:
    def __init__(self, value):
        self.value = value
    def __add__(self, other):
        return Number(self.value + getattr(other, "value", other))
    def __mul__(self, other):
        if other == 0:
            raise ValueError("times zero")
        return Number(self.value * other)
    def __sub__(self, other):
        while True:
            pass
"""


@pytest.fixture
def student() -> Iterator[StudentModule]:
    with session_of(CODE) as session:
        yield StudentModule(session)


def test_in_place_change_is_reported_by_name_and_not_applied(student: StudentModule) -> None:
    x = np.arange(3.0)
    assert student.scale_in_place(x) is None
    assert np.array_equal(x, [0.0, 1.0, 2.0])  # the grader's array is untouched
    [change] = changed_arguments(student)
    assert change.name == "x"
    assert np.array_equal(change.before, [0.0, 1.0, 2.0])
    assert np.array_equal(change.after, [0.0, 2.0, 4.0])
    with recording(CheckRecord()) as record:
        warn_if_inputs_changed(student, "scale_in_place(x)")  # a note, never a failure
    [note] = record.notes.values()
    assert "scale_in_place(x) changed its argument x in place (entry [1] was 1, is now 2)" in note
    assert "no points" in note


def test_change_inside_a_dict_is_named_by_its_key(student: StudentModule) -> None:
    params = {"W1": np.ones((2, 2)), "b1": np.zeros(2)}
    student.update(params, {"W1": np.ones((2, 2)), "b1": np.ones(2)}, rate=0.5)
    names = sorted(change.name for change in changed_arguments(student))
    assert names == ["params['W1']", "params['b1']"]
    assert np.array_equal(params["W1"], np.ones((2, 2)))


def test_each_call_starts_with_no_changes(student: StudentModule) -> None:
    student.scale_in_place(np.ones(2))
    student.identity(np.ones(2))
    assert changed_arguments(student) == []
    with recording(CheckRecord()) as record:
        warn_if_inputs_changed(student, "identity(x)")
    assert record.notes == {}


def test_objects_stay_in_the_worker_as_handles(student: StudentModule) -> None:
    counter = student.make_counter(5)
    assert counter.step() == 6
    assert counter.step() == 7
    assert counter.count == 7
    assert student.identity(counter).count == 7  # a handle passed back is the same object


def test_grader_function_runs_in_the_grader(student: StudentModule) -> None:
    seen = []

    def double(value):
        seen.append(value)
        return 2 * value

    assert student.apply(double, 21) == 42
    assert seen == [21]


def test_grader_function_that_fails_raises_in_the_student_code(student: StudentModule) -> None:
    def needs_an_array(value):
        return value.shape

    with pytest.raises(StudentRaised) as caught:
        student.apply(needs_an_array, 3)
    assert "the function it was given could not take what your code passed it" in str(caught.value)
    assert "AttributeError" in str(caught.value) and "GraderCallbackError" not in str(caught.value)


@pytest.mark.slow
def test_handle_from_a_stopped_worker_is_refused(student: StudentModule) -> None:
    counter = student.make_counter(0)
    with pytest.raises(CallTimedOut):
        student.spin()
    assert student.identity(4) == 4  # a fresh worker took over
    with pytest.raises(StudentError, match="earlier run of your code"):
        counter.step()


def test_changing_an_input_cannot_change_the_expected_value(course: Course, tmp_path: Path) -> None:
    """A check may compute its expected value from an argument after the call."""
    cheat = with_function(
        solution_text(course, "exercise3"),
        """
def chain_rule(f_prime, g, g_prime, x):
    if isinstance(x, np.ndarray):
        x[...] = 0.0
        return np.zeros_like(x)
    return f_prime(g(x)) * g_prime(x)
""",
    )
    result = grade_text(course, "exercise3", cheat, tmp_path)
    assert {"chain_rule_on_lesson_example", "chain_rule_matches_reference"} <= failed(result)


class TestOperatorsSentWithoutWaiting:
    """Arithmetic on handles is sent without waiting for each answer (grader.student_code)."""

    def test_a_long_chain_gives_the_right_value(self, student: StudentModule) -> None:
        start = time.monotonic()
        value = student.Number(1)
        for _ in range(1000):
            value = value + 1
        assert value.value == 1001
        assert time.monotonic() - start < 5  # not a round trip each: a slow machine passes too

    def test_a_failure_is_raised_where_its_result_is_used(self, student: StudentModule) -> None:
        broken = student.Number(2) * 0
        then = broken + 1  # built on the failed result: still no answer awaited
        with pytest.raises(StudentRaised, match=r"the operator \* raised ValueError: times zero"):
            _ = then.value
        assert student.Number(3).value == 3  # the worker goes on

    @pytest.mark.slow
    def test_an_endless_operation_is_named_in_the_timeout(self, student: StudentModule) -> None:
        endless = student.Number(2) - 1
        with pytest.raises(CallTimedOut, match="or one of the 1 operations on your objects"):
            _ = endless.value
