"""A submission that crashes, hangs, exits or misbehaves is contained and reported; the checks it
does not affect still run and score."""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import pytest

from grader.course import Course, load_course
from grader.sandbox.pipes import describe_status
from grader.signatures import with_course_signature
from tests.helpers import (
    failed,
    grade_text,
    message_of,
    solution_text,
    with_function,
    write_course,
)

ALL_EXERCISE3 = {
    "chain_rule_on_lesson_example",
    "compose_two_functions",
    "compose_empty_list_is_identity",
    "cos_of_square_minus_one",
    "cos_of_square_minus_one_derivative",
    "compose_long_chain_matches_reference",
    "chain_rule_matches_reference",
    "lesson_derivative_at_edge_cases",
}
COMPOSE_CHECKS = {
    "compose_two_functions",
    "compose_empty_list_is_identity",
    "compose_long_chain_matches_reference",
}


def graded_with(course: Course, tmp_path: Path, prefix: str = "", compose: str | None = None):
    text = prefix + solution_text(course, "exercise3")
    if compose is not None:
        text = with_function(text, compose)
    return grade_text(course, "exercise3", text, tmp_path)


def assert_whole_file_failed(result, words: str) -> None:
    assert result.score == 0
    assert result.problem is not None and words in result.problem
    assert failed(result) == ALL_EXERCISE3
    assert all("could not be loaded" in check.message for check in result.checks)


def test_syntax_error_names_the_line(course: Course, tmp_path: Path) -> None:
    result = graded_with(course, tmp_path, "def broken(:\n    pass\n")
    assert_whole_file_failed(result, "SyntaxError")
    assert "line 1" in result.problem


def test_exception_at_import_is_reported(course: Course, tmp_path: Path) -> None:
    result = graded_with(course, tmp_path, "import numpy as np\nvalue = 1 / 0\n")
    assert_whole_file_failed(result, "ZeroDivisionError")
    assert "line 2" in result.problem and "value = 1 / 0" in result.problem


def test_infinite_loop_at_import_times_out(quick_course: Course, tmp_path: Path) -> None:
    started = time.monotonic()
    result = graded_with(
        quick_course, tmp_path, "import numpy as np\nn = 0\nwhile True:\n    n += 1\n"
    )
    assert time.monotonic() - started < 5
    assert_whole_file_failed(result, "no answer within 1 s while loading your file")
    # The worker's own clock stopped the loop where it ran: the message names that line.
    assert re.search(r"it was running line [34]: `(while True:|n \+= 1)`", result.problem)


UNSTOPPABLE = {
    "catches the clock's exception": (
        "while True:\n        try:\n            while True:\n                pass\n"
        "        except BaseException:\n            pass"
    ),
    "ignores SIGALRM": (
        "import signal\n    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        "    while True:\n        pass"
    ),
}


@pytest.mark.slow  # each waits out the grader's deadline, seconds after the worker's clock
@pytest.mark.parametrize("body", UNSTOPPABLE, ids=list(UNSTOPPABLE))
def test_a_loop_that_outlives_its_clock_is_stopped_all_the_same(
    quick_course: Course, tmp_path: Path, body: str
) -> None:
    started = time.monotonic()
    result = graded_with(
        quick_course, tmp_path, compose=f"def compose(pairs):\n    {UNSTOPPABLE[body]}\n"
    )
    assert time.monotonic() - started < 8 + 2
    message = message_of(result, "compose_two_functions")
    assert "no answer within 1 s while running compose" in message
    assert "it was running" not in message  # the grader stopped it: no line is known


def test_sys_exit_at_import(course: Course, tmp_path: Path) -> None:
    result = graded_with(course, tmp_path, "import sys\nsys.exit(0)\n")
    assert_whole_file_failed(result, "sys.exit(0)")


def test_os_exit_at_import(course: Course, tmp_path: Path) -> None:
    result = graded_with(course, tmp_path, "import os\nos._exit(0)\n")
    assert_whole_file_failed(result, "stopped the process")


BROKEN_COMPOSE = {
    "endless loop": (
        "while True:\n        pass",
        "no answer within 1 s while running compose; it was running line 3",
    ),
    "os._exit": ("import os\n    os._exit(0)", "stopped the process while running compose"),
    "sys.exit": ("import sys\n    sys.exit(3)", "compose raised SystemExit: 3"),
    "exception": (
        "share = 1 / (len(pairs) - len(pairs))",
        "compose raised ZeroDivisionError: division by zero (line 34: "
        "`share = 1 / (len(pairs) - len(pairs))`)",
    ),
    "memory bomb": (
        "hoard = [0.0] * 10**10",
        "compose raised MemoryError (line 34: `hoard = [0.0] * 10**10`); "
        "your code may use at most 1024 MB",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("body", BROKEN_COMPOSE, ids=list(BROKEN_COMPOSE))
def test_broken_function_costs_only_its_checks(
    quick_course: Course, tmp_path: Path, body: str
) -> None:
    code, words = BROKEN_COMPOSE[body]
    started = time.monotonic()
    result = graded_with(quick_course, tmp_path, compose=f"def compose(pairs):\n    {code}\n")
    # Within the grading's wall time (8 s) plus a margin: three compose checks cost 1 s each.
    assert time.monotonic() - started < 8 + 2
    assert failed(result) == COMPOSE_CHECKS
    assert words in message_of(result, "compose_two_functions")
    assert result.score == result.max_score - 5


def test_missing_function_is_named(course: Course, tmp_path: Path) -> None:
    text = solution_text(course, "exercise3").replace("def compose(", "def compose_chain(")
    result = grade_text(course, "exercise3", text, tmp_path)
    assert failed(result) == COMPOSE_CHECKS
    assert message_of(result, "compose_two_functions") == (
        "your file has no function named compose; did you rename it to compose_chain?"
    )


def test_wrong_signature_is_explained(course: Course, tmp_path: Path) -> None:
    text = solution_text(course, "exercise3").replace(
        "def chain_rule(f_prime, g, g_prime, x):", "def chain_rule(f_prime, g, x):"
    )
    result = grade_text(course, "exercise3", text, tmp_path)
    assert {"chain_rule_on_lesson_example", "chain_rule_matches_reference"} <= failed(result)
    assert message_of(result, "chain_rule_on_lesson_example") == (
        "chain_rule(f_prime, g, x) cannot be called this way: too many positional arguments "
        "(the check passes 4 arguments).\n"
        "Hint: the course's is chain_rule(f_prime, g, g_prime, x): keep its parameters, in that "
        "order."
    )


def test_the_course_signature_is_shown_only_where_the_course_has_a_solution(
    tmp_path: Path,
) -> None:
    solution = tmp_path / "solution.py"
    solution.write_text(
        "class Value:\n    def __add__(self, other):\n        pass\n"
        "class Other:\n    def __add__(self, other, more):\n        pass\n"
        "def step(x, rate=0.1, *, clip=None):\n    pass\n"
    )
    wrong = "step(x) cannot be called this way: too many positional arguments"
    assert with_course_signature(wrong, solution).endswith(
        "Hint: the course's is step(x, rate=0.1, *, clip=None): keep its parameters, in that order."
    )
    assert with_course_signature(wrong, None) == wrong  # a student release: no solution
    same = "step(x, rate=0.1, *, clip=None) cannot be called this way: missing x"
    assert with_course_signature(same, solution) == same  # nothing the message does not say
    shared = "__add__(self) cannot be called this way: too many positional arguments"
    assert with_course_signature(shared, solution) == shared  # two classes' __add__: unknown


def test_printed_output_is_kept_and_capped(course: Course, tmp_path: Path) -> None:
    result = graded_with(
        course, tmp_path, "print('hello from the student')\nprint('x' * 10_000_000)\n"
    )
    assert result.score == result.max_score
    assert result.output.startswith("hello from the student")
    assert len(result.output) < 70_000 and "more bytes of output not kept" in result.output


@pytest.mark.slow
def test_the_whole_grading_stops_at_its_wall_deadline(course: Course, tmp_path: Path) -> None:
    """Endless calls use up the grading's wall time: it ends on time, and says so.

    Which check meets the deadline depends on the machine's speed (a restarted worker takes
    longer under load), so only what holds at any speed is asserted.
    """
    short = load_course(write_course(tmp_path, course, call_seconds=1, wall_seconds=2.5))
    started = time.monotonic()
    result = graded_with(
        short, tmp_path, compose="def compose(pairs):\n    while True:\n        pass\n"
    )
    assert time.monotonic() - started < 2.5 + 1.5
    statuses = {check.id: (check.status, check.message) for check in result.checks}
    assert statuses["chain_rule_on_lesson_example"][0] == "passed"  # before any timeout
    assert all(statuses[check][0] == "error" for check in COMPOSE_CHECKS)
    for late in ("chain_rule_matches_reference", "lesson_derivative_at_edge_cases"):
        assert statuses[late][0] == "error"  # the wall time was gone before them
    assert any("2.5 s" in message for _, message in statuses.values())


def test_exit_statuses_are_described() -> None:
    """How a worker ended, in words: the CPU limit, a kill, an exit."""
    assert describe_status(-signal.SIGXCPU) == "the process used up its CPU time"
    assert "killed by SIGKILL (often: out of memory)" in describe_status(-signal.SIGKILL)
    assert describe_status(3) == "the process exited with status 3"


def test_text_that_is_not_valid_unicode_is_shown_not_fatal() -> None:
    """A lone surrogate in an exception's message or a returned string is shown escaped; the
    worker does not crash on it."""
    from grader.student_code.errors import StudentRaised
    from grader.student_code.objects import StudentModule
    from tests.helpers import session_of

    code = (
        'def raises():\n    raise ValueError("bad \\ud800")\n\n\n'
        'def returns():\n    return "\\udfff"\n'
    )
    with session_of(code) as session:
        student = StudentModule(session)
        with pytest.raises(StudentRaised) as raised:
            student.raises()
        assert "ValueError: bad \\ud800" in str(raised.value)
        assert student.returns() == "\\udfff"
