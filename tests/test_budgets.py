"""The budgets on what a worker sends the grader (grader.framing.WireLimits): a worker past one is
stopped, its check errors with one line that says what happened and what to do, the next check
gets a fresh worker, and the grader's memory stays bounded; correct code never comes near one.

The attacks that would make the grader hold gigabytes run in a process of their own
(tests/budget_probe.py) under an address-space limit of 2 GiB, and the growth of its peak resident
memory is measured: without the budgets each grows past the limit (or dies of it).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from grader.checks import Recorder, formula
from grader.framing import DEFAULT_LIMITS, MB
from grader.student_code.errors import CallTimedOut, WorkerCrashed
from grader.student_code.objects import StudentModule
from grader.student_code.session import StudentSession
from tests.budget_probe import ATTACKS, PRELUDE
from tests.helpers import REPO, session_of

ADDRESS_SPACE_LIMIT = 2 << 30  # of the process that grades an attack: never more than this
MAX_GROWTH_MB = 300  # of its peak resident memory, where without the budgets it is gigabytes

SEND_LESS = "Return smaller results and do not write to the grader's pipes."
STOPPED = "; the grader stopped it. "

# For each attack: the check that must error, and the one line it must give.
EXPECTED = {
    "flood while the grader writes": (
        "large_argument",
        "your code's process sent more than 80 MB the grader had not asked for yet while "
        f"running shape{STOPPED}{SEND_LESS}",
    ),
    "one blob named 256 times in a log": (
        "numerical_gradient",
        "your code's process evaluated the grader's functions at arrays of more than 32 MB in "
        f"all (8 bytes a number) while running numerical_gradient{STOPPED}Pass them smaller "
        "arrays, or call them less often, and do not write to the grader's pipes.",
    ),
    "one blob named 100 times in a reply": (
        "many_references",
        "your code's process sent the grader arrays of more than 64 MB in all (8 bytes a "
        f"number) while running many_references{STOPPED}Return smaller arrays and do not write "
        "to the grader's pipes.",
    ),
    "large arguments to a Recorder": (
        "callbacks",
        "your code's process sent the grader arrays of more than 64 MB in all (8 bytes a "
        f"number) while running call_back{STOPPED}Return smaller arrays and do not write to "
        "the grader's pipes.",
    ),
}


def _limit_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))


def graded_in_a_process(name: str, folder: Path) -> dict:
    """Grade attack ``name`` in a process of its own, under the address-space limit."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.budget_probe", name, str(folder)],
        cwd=REPO,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
        preexec_fn=_limit_address_space,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and done.stdout, f"the grading died: {done.stderr[-2000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED, ids=list(EXPECTED))
def test_attack_is_stopped_with_one_line_and_bounded_memory(name: str, tmp_path: Path) -> None:
    graded = graded_in_a_process(name, tmp_path)
    check_id, line = EXPECTED[name]
    statuses = {check["id"]: check["status"] for check in graded["checks"]}
    messages = {check["id"]: check["message"] for check in graded["checks"]}
    assert statuses[check_id] == "error"
    assert messages[check_id] == line
    # Every other check passes: the checks after it ran in a fresh worker.
    assert {key for key, status in statuses.items() if status != "passed"} == {check_id}
    assert graded["growth_mb"] < MAX_GROWTH_MB, graded


def test_every_attack_is_tested() -> None:
    assert set(EXPECTED) == set(ATTACKS)


# ---------------------------------------------------------------- smaller attacks, in this process

FLOODS = (
    PRELUDE
    + '''

def many_messages(f, x):
    """Logs one honest evaluation a message, each with 16 MB of bytes that nothing names."""
    message = pack(
        {"op": "evaluated", "calls": [[_callback_id(f), x, f(x)]]}, [bytes(16 << 20)]
    )
    while True:
        _write(message)


def endless_log(f, x):
    """Logs 256 honest evaluations a message, without end."""
    message = pack({"op": "evaluated", "calls": [[_callback_id(f), x, f(x)]] * 256})
    while True:
        _write(message)


def declared_huge():
    _write(struct.pack("!II", 1 << 31, 16))
    time.sleep(60)


def trickle():
    """Declares a message of 60 MB, then sends a byte every 10 ms."""
    _write(struct.pack("!II", 60 << 20, 16))
    while True:
        _write(b" ")
        time.sleep(0.01)


def long_list():
    return [0.12345678901234] * 90_000


def deep_head():
    depth = 200_000
    head = b'{"op":"return","blobs":[],"value":' + b"[" * depth + b"]" * depth + b"}"
    _write(struct.pack("!II", len(head), len(head)) + head)
    time.sleep(60)


def add_one(x):
    return x + 1


def descend(f, x, steps):
    for _ in range(steps):
        x = x - 0.1 * f(x)
    return x
'''
)


@pytest.fixture
def student() -> Iterator[StudentSession]:
    with session_of("import struct\n" + FLOODS, call_seconds=5) as session:
        yield session


def assert_a_fresh_worker_answers(session: StudentSession) -> None:
    assert StudentModule(session).add_one(41) == 42
    assert session.restarts == 1


@pytest.mark.slow
def test_many_messages_in_one_call_are_stopped(student: StudentSession) -> None:
    """Each message under the limit for one, a formula evaluated honestly in each: together past
    the call's budget."""
    with pytest.raises(WorkerCrashed) as caught:
        StudentModule(student).many_messages(formula("2 * x", "f"), 1.0)
    assert str(caught.value) == (
        f"your code's process sent more than 256 MB to the grader while running many_messages"
        f"{STOPPED}{SEND_LESS}"
    )
    assert_a_fresh_worker_answers(student)


def test_a_log_without_end_is_stopped(student: StudentSession) -> None:
    with pytest.raises(WorkerCrashed) as caught:
        StudentModule(student).endless_log(Recorder(formula("2 * x", "f"), "f"), 1.0)
    assert str(caught.value) == (
        "your code's process evaluated the grader's functions more than 100,000 times while "
        f"running endless_log{STOPPED}Look for a loop that runs far more often than it should, "
        "and do not write to the grader's pipes."
    )
    assert_a_fresh_worker_answers(student)


def test_a_message_declared_too_large_is_refused_from_its_header(student: StudentSession) -> None:
    with pytest.raises(WorkerCrashed) as caught:
        StudentModule(student).declared_huge()
    assert str(caught.value) == (
        "your code's process sent a message of 2048 MB (over the limit of 64 MB for one) while "
        f"running declared_huge{STOPPED}{SEND_LESS}"
    )
    assert_a_fresh_worker_answers(student)


@pytest.mark.slow
def test_a_message_that_trickles_times_out() -> None:
    """Bytes trickle in as slowly as the worker likes, and no more than it sent are kept."""
    with session_of("import struct\n" + FLOODS, call_seconds=1) as session:
        with pytest.raises(CallTimedOut, match="no answer within 1 s while running trickle"):
            StudentModule(session).trickle()
        assert_a_fresh_worker_answers(session)


def test_a_long_list_is_refused_from_its_header(student: StudentSession) -> None:
    """90,000 floats in a list, under the limit of values in one message: their JSON is past
    the head's budget, which keeps what Python makes of it small."""
    with pytest.raises(WorkerCrashed) as caught:
        StudentModule(student).long_list()
    message = str(caught.value)
    assert message.startswith("your code's process sent a message with 1.4")
    assert message.endswith(
        "MB of values outside arrays (over the limit of 1 MB for one) while running long_list"
        f"{STOPPED}Return numbers in arrays rather than in long lists, and do not write to the "
        "grader's pipes."
    )
    assert_a_fresh_worker_answers(student)


def test_a_head_nested_too_deep_is_refused(student: StudentSession) -> None:
    with pytest.raises(WorkerCrashed, match="a message head is not valid JSON"):
        StudentModule(student).deep_head()
    assert_a_fresh_worker_answers(student)


# ---------------------------------------------------------------- correct code


@pytest.mark.slow
def test_the_largest_array_a_message_holds_goes_both_ways(student: StudentSession) -> None:
    """max_array_elements float64 numbers (32 MB) as an argument and as a result: under every
    budget, as the course's arrays (24 KB at most) are by far."""
    x = np.arange(float(DEFAULT_LIMITS.max_array_elements))
    got = StudentModule(student).add_one(x)
    assert got.shape == x.shape and got[-1] == x[-1] + 1
    assert student.restarts == 0


def test_thousands_of_evaluations_on_arrays_pass(student: StudentSession) -> None:
    """Gradient descent for 5,000 steps on a vector of 100, every step replayed and recorded."""
    gradient = Recorder(formula("2 * x", "∇"), "∇")
    got = StudentModule(student).descend(gradient, np.ones(100), 5000)
    assert np.allclose(got, 0.8**5000) and len(gradient.inputs) == 5000
    assert student.restarts == 0


def test_default_budgets_leave_room_for_one_largest_message() -> None:
    limits = DEFAULT_LIMITS
    largest_array = limits.max_array_elements * 8
    assert limits.max_message_bytes >= 2 * largest_array
    assert limits.buffered_bytes >= limits.buffer_floor
    assert limits.max_call_bytes >= 4 * limits.max_message_bytes
    assert limits.max_call_array_bytes >= 2 * largest_array
    assert limits.max_call_evaluation_bytes >= largest_array
    assert limits.buffered_bytes == 80 * MB
