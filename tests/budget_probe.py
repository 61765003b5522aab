"""Hostile submissions against the grader's budgets (grader.framing.WireLimits), each graded in a
process of its own so that its memory can be measured: ``python -m tests.budget_probe NAME
FOLDER`` grades attack NAME in FOLDER and prints one line of JSON: each check's id, status and
message, and how far the process's peak resident memory grew while it graded (tests/test_budgets.py
runs it under an address-space limit, so an attack that gets past a budget cannot take the
machine down).

Each attack writes to the worker's pipe to the grader itself, found as any code in the worker can
find it: the one pipe it writes that is not its output.
"""

from __future__ import annotations

import json
import resource
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from grader.course import Course, load_course
from grader.runner import grade
from tests.helpers import REPO

# Helpers of every hostile submission.
PRELUDE = '''
import fcntl
import gc
import os
import stat
import time

import numpy as np

import struct

import msgspec

from grader.protocol import array_to_npy


def pack(head, blobs=()):
    """A frame of the grader's format, written by hand: a hostile worker owes it nothing."""
    data = msgspec.json.encode({**head, "blobs": [len(blob) for blob in blobs]})
    body = data + b"".join(blobs)
    return struct.pack("!II", len(body), len(data)) + body


def _pipe_to_grader():
    """The worker's pipe to the grader: a pipe this process writes that is not its output."""
    output = os.fstat(1).st_ino
    for fd in range(3, 256):
        try:
            info = os.fstat(fd)
            mode = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
        except OSError:
            continue
        if stat.S_ISFIFO(info.st_mode) and info.st_ino != output and mode == os.O_WRONLY:
            return fd
    raise RuntimeError("no pipe to the grader")


def _write(data):
    fd = _pipe_to_grader()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _callback_id(function):
    """The id the grader gave a function it passed in, from the worker's own table."""
    worker = next(item for item in gc.get_objects() if type(item).__name__ == "Worker")
    return worker._callback_ids[id(function)]


ARRAY = {"t": "array", "i": 0}
'''

# Honest functions the later checks call: they run in a fresh worker.
HONEST = """

def shape(x):
    return list(x.shape)
"""

# A course of one exercise whose checks are ``checks``: the attack, then an honest call.
COURSE = """\
title: Budgets
seed: 1
limits:
  wall_seconds: 60
  call_seconds: {call_seconds}
  memory_mb: 1024
  output_kb: 64
exercises:
  - id: budgets
    title: Budgets
    student_file: submission.py
    checks: checks_budgets.py
    points: {points}
"""

IMPORTS = """\
import numpy as np

from grader.checks import Recorder, check, formula
"""

AFTERWARDS = '''

@check(points=1)
def test_afterwards(student):
    """A fresh worker answers the next check."""
    assert student.shape(np.zeros(3)) == [3]
'''


def mini_course(folder: Path, checks: str, code: str, call_seconds: float = 3) -> Course:
    """A course whose one exercise has ``checks`` (each worth 1 point) and then test_afterwards,
    with ``code`` as the submission in ``folder``."""
    checks = textwrap.dedent(checks)
    (folder / "checks_budgets.py").write_text(IMPORTS + checks + AFTERWARDS)
    (folder / "submission.py").write_text(PRELUDE + textwrap.dedent(code) + HONEST)
    course_file = folder / "course.yaml"
    points = checks.count("@check(") + 1
    course_file.write_text(COURSE.format(call_seconds=call_seconds, points=points))
    return load_course(course_file)


def flood_while_the_grader_writes(folder: Path) -> tuple[Course, str, Path]:
    """Attack 1: a call answered by hand, then 1 MB messages without end while the grader writes
    the next request (a 16 MB argument) that the worker never reads."""
    course = mini_course(
        folder,
        '''
        @check(points=1)
        def test_answered_by_hand(student):
            """The call is answered by the student's code itself, which then floods."""
            student.answer_then_flood()


        @check(points=1)
        def test_large_argument(student):
            """A 16 MB argument."""
            assert student.shape(np.zeros(2_000_000)) == [2_000_000]
        ''',
        """
        def answer_then_flood():
            _write(pack({"op": "return", "value": None}))
            junk = pack({"op": "return", "value": None}, [bytes(1 << 20)])
            while True:
                _write(junk)
        """,
    )
    return course, "budgets", folder / "submission.py"


def one_blob_named_256_times(folder: Path) -> tuple[Course, str, Path]:
    """Attack 2: exercise 2's numerical_gradient logs 256 evaluations of the grader's function,
    each at the same 8 MB blob, for the grader to replay through its Recorder."""
    course = load_course(REPO / "course.yaml")
    solution = (REPO / "solutions" / "exercise2_gradients.py").read_text()
    attack = """

_honest_numerical_gradient = numerical_gradient


def numerical_gradient(f, x, h=1e-5):
    if h != 1e-4:  # the public check's calls only
        return _honest_numerical_gradient(f, x, h)
    log = [[_callback_id(f), ARRAY, 0.0]] * 256
    _write(pack({"op": "evaluated", "calls": log}, [array_to_npy(np.zeros(1_000_000))]))
    time.sleep(60)
"""
    path = folder / "exercise2_gradients.py"
    path.write_text(PRELUDE + solution + attack)
    return course, "exercise2", path


def one_blob_named_100_times_in_a_reply(folder: Path) -> tuple[Course, str, Path]:
    """A reply whose value names the same 8 MB blob 100 times: 100 arrays to build."""
    course = mini_course(
        folder,
        '''
        @check(points=1)
        def test_many_references(student):
            """A list of arrays."""
            student.many_references()
        ''',
        """
        def many_references():
            value = {"t": "list", "v": [ARRAY] * 100}
            _write(pack({"op": "return", "value": value}, [array_to_npy(np.zeros(1_000_000))]))
            time.sleep(60)
        """,
    )
    return course, "budgets", folder / "submission.py"


def large_arguments_to_a_recorder(folder: Path) -> tuple[Course, str, Path]:
    """No writing to the pipe at all: a loop that calls the grader's Recorder, which keeps a copy
    of every argument, with an 8 MB array until it is stopped."""
    course = mini_course(
        folder,
        '''
        @check(points=1)
        def test_callbacks(student):
            """The student's code calls a grader function."""
            student.call_back(Recorder(np.tanh, "tanh"))
        ''',
        """
        def call_back(f):
            while True:
                f(np.zeros(1_000_000))
        """,
    )
    return course, "budgets", folder / "submission.py"


ATTACKS: dict[str, Callable[[Path], tuple[Course, str, Path]]] = {
    "flood while the grader writes": flood_while_the_grader_writes,
    "one blob named 256 times in a log": one_blob_named_256_times,
    "one blob named 100 times in a reply": one_blob_named_100_times_in_a_reply,
    "large arguments to a Recorder": large_arguments_to_a_recorder,
}


def peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    name, folder = sys.argv[1], Path(sys.argv[2])
    course, exercise_id, path = ATTACKS[name](folder)
    exercise = course.exercise(exercise_id)
    before = peak_kb()
    result = grade(course, exercise, path)
    growth = peak_kb() - before
    checks = [
        {"id": item.id, "status": item.status, "message": item.message} for item in result.checks
    ]
    print(json.dumps({"growth_mb": growth / 1024, "before_mb": before / 1024, "checks": checks}))


if __name__ == "__main__":
    main()
