"""The worker on its own, through a channel of frames in memory: no process, no pipes.

Each test feeds the worker the grader's messages (grader.wire) as frames and reads what it sends
back, decoded as the grader decodes a worker's messages: so every reply is also one the grader
accepts.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import deque
from typing import Any

import numpy as np
import pytest

from grader.formula import formula
from grader.framing import FROM_WORKER, TO_WORKER, Frame, pack, parse_body
from grader.protocol import Decoder, Encoder, refuse
from grader.wire import (
    Call,
    Callback,
    CallbackReturned,
    Evaluated,
    GetAttribute,
    Load,
    Loaded,
    Location,
    Message,
    Operation,
    Operators,
    Raised,
    Returned,
)
from grader.worker import Channel, Worker
from grader.worker_clock import OutOfTime, clock_held, time_limit


class _Drained(Exception):
    """The test has no more frames for the worker."""


class FakeChannel(Channel):
    """Frames in memory: ``incoming`` for the worker to read, ``sent`` what it wrote."""

    def __init__(self) -> None:
        self.incoming: deque[bytes] = deque()
        self.sent: list[Frame] = []

    def send(self, message: Message, blobs: list[bytes] | None = None) -> None:
        data = pack(message, blobs or [])
        self.sent.append(
            parse_body(data[8:], int.from_bytes(data[4:8], "big"), messages=FROM_WORKER)
        )

    def receive(self) -> Frame:
        if not self.incoming:
            raise _Drained()
        return _frame(self.incoming.popleft(), TO_WORKER)


def _frame(data: bytes, messages: Any) -> Frame:
    """The frame ``data`` holds, its head one of ``messages`` (as the reading end decodes)."""
    return parse_body(data[8:], int.from_bytes(data[4:8], "big"), messages=messages)


def _call(target: int | str, *args: Any, later: bool = False, **kwargs: Any) -> bytes:
    encoder = Encoder(_callback_node)
    message = Call(
        target=target,
        args=encoder.encode(list(args)),
        kwargs=encoder.encode(kwargs),
        later=later,
    )
    return pack(message, encoder.blobs)


def _callback_node(value: Any) -> dict[str, Any]:
    """A grader function crosses as a callback node, with its formula if it has one."""
    node: dict[str, Any] = {"t": "callback", "id": 7, "name": value.__name__}
    if getattr(value, "mirrors", None) is not None:
        node["formula"] = value.mirrors.expression
        node["constants"] = {"t": "dict", "v": []}
    return node


def _value(frame: Frame) -> Any:
    assert isinstance(frame.head, Returned), frame.head
    handles = refuse("handle")
    return Decoder(frame, lambda node: ("handle", node["id"]), handles).decode(frame.head.value)


def serve(source: str, *requests: bytes, call_seconds: float | None = None) -> list[Frame]:
    """Load ``source``, answer ``requests`` in order, and return every frame the worker sent."""
    channel = FakeChannel()
    channel.incoming.extend([pack(Load(source=source, filename="code.py")), *requests])
    worker = Worker(channel, call_seconds)
    with pytest.raises(_Drained):
        worker.serve()
    loaded, *rest = channel.sent
    assert isinstance(loaded.head, Loaded)
    return [loaded, *rest]


SOURCE = '''
import numpy as np

def double(x):
    return 2 * x

def scale_in_place(x):
    x *= 3
    return None

def broken(x):
    return x / undefined_name

def unfinished(x):
    """Return x squared."""
    raise NotImplementedError

def apply(f, x):
    return f(x)

class Box:
    def __init__(self, v):
        self.v = v
    def __add__(self, other):
        return Box(self.v + (other.v if isinstance(other, Box) else other))

def box(v):
    return Box(v)
'''


def test_a_call_returns_its_value_as_data() -> None:
    _, reply = serve(SOURCE, _call("double", np.array([1.0, 2.0])))
    assert np.array_equal(_value(reply), [2.0, 4.0])


def test_a_file_that_does_not_load_says_why_and_where() -> None:
    (loaded,) = serve("x = 1\ny = (\n")
    assert isinstance(loaded.head, Loaded) and not loaded.head.ok
    assert loaded.head.message.startswith("SyntaxError")
    assert loaded.head.where is not None and loaded.head.where.line == 2
    (loaded,) = serve("x = 1\ny = x / 0\n")
    assert isinstance(loaded.head, Loaded)
    assert loaded.head.message == "ZeroDivisionError: division by zero"
    assert loaded.head.where == Location(2, "y = x / 0")


def test_an_exception_is_sent_as_its_parts() -> None:
    _, reply = serve(SOURCE, _call("broken", 1.0))
    head = reply.head
    assert isinstance(head, Raised) and head.kind == "raised" and head.type == "NameError"
    assert head.where == Location(12, "return x / undefined_name")
    assert "undefined_name" in head.message


def test_an_unfinished_function_is_named_with_its_line_and_docstring() -> None:
    _, reply = serve(SOURCE, _call("unfinished", 1.0))
    head = reply.head
    assert isinstance(head, Raised) and head.kind == "unfinished"
    assert head.unfinished is not None
    assert (head.unfinished.function, head.unfinished.line) == ("unfinished", 16)
    assert head.unfinished.summary == "Return x squared."


def test_a_missing_function_or_wrong_signature_is_its_own_kind() -> None:
    _, missing, signature = serve(SOURCE, _call("dubble", 1.0), _call("double", 1.0, 2.0))
    assert isinstance(missing.head, Raised) and missing.head.kind == "missing"
    assert "did you rename it to double?" in missing.head.message
    assert isinstance(signature.head, Raised) and signature.head.kind == "signature"


def test_arrays_changed_in_place_are_reported_by_name() -> None:
    _, reply = serve(SOURCE, _call("scale_in_place", np.ones(3)))
    assert isinstance(reply.head, Returned)
    (change,) = reply.head.changed
    assert change.path == ["args", 0] and change.name == "x"


def test_a_callback_asks_the_grader_and_waits_for_its_answer() -> None:
    def f(x: float) -> float:
        return x + 1

    answer = pack(CallbackReturned(value=41.0))
    _, callback, reply = serve(SOURCE, _call("apply", f, 40.0), answer)
    assert isinstance(callback.head, Callback) and callback.head.id == 7
    assert _value(reply) == 41.0


def test_a_formula_is_evaluated_here_and_logged_before_the_reply() -> None:
    _, log, reply = serve(SOURCE, _call("apply", formula("2 * x", "f"), 3.0))
    assert isinstance(log.head, Evaluated)
    (entry,) = log.head.calls
    assert (entry.callback_id, entry.argument, entry.answer) == (7, 3.0, 6.0)
    assert _value(reply) == 6.0


def test_deferred_operations_keep_their_results_and_failures() -> None:
    """``a + 1`` runs with no reply; the result is kept under the grader's id, and a failure is
    answered, with the operation's label, by the next request that uses it."""
    _, made = serve(SOURCE, _call("box", 1.0))
    (_, handle) = _value(made)
    operations = Operators(
        operations=[
            Operation("add", -1, "the operator +", [{"t": "handle", "id": handle}, 2.0]),
            Operation("add", -2, "the operator +", [{"t": "handle", "id": handle}, "text"]),
        ]
    )
    frames = serve(
        SOURCE,
        _call("box", 1.0),
        pack(operations),
        pack(GetAttribute(target=-1, name="v")),
        pack(GetAttribute(target=-2, name="v")),
    )
    _, _, value, failure = frames
    assert _value(value) == 3.0
    assert isinstance(failure.head, Raised) and failure.head.label == "the operator +"
    assert failure.head.type == "TypeError"


def test_a_stale_handle_is_refused_without_running_student_code() -> None:
    _, reply = serve(SOURCE, pack(GetAttribute(target=99, name="v")))
    assert isinstance(reply.head, Raised) and reply.head.kind == "crash"
    assert reply.head.message == "cannot run: that object no longer exists in this worker"


LOOPS = """
def spin(x):
    while True:
        x = x + 1
"""


def test_a_call_whose_time_is_up_is_stopped_where_it_runs() -> None:
    """The worker's own clock ends the call and says which line was running; each call has a
    clock of its own, and none runs on after it."""
    started = time.monotonic()
    _, reply, after = serve(
        LOOPS,
        _call("spin", 1),
        _call("spin", 1.5),
        call_seconds=0.2,
    )
    assert time.monotonic() - started < 3
    assert isinstance(reply.head, Raised) and reply.head.kind == "timeout"
    assert reply.head.where is not None and reply.head.where.line in (3, 4)
    assert isinstance(after.head, Raised) and after.head.kind == "timeout"  # a clock of its own
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # the clock was stopped


def test_a_frame_being_written_is_finished_before_the_clock_stops_anything() -> None:
    written = []
    with pytest.raises(OutOfTime), time_limit(0.05):
        with clock_held():
            time.sleep(0.2)  # the alarm is due here, held off
            written.append("the whole frame")
        written.append("never: the alarm fires on the way out")
    assert written == ["the whole frame"]


def test_a_load_whose_time_is_up_says_which_line_ran() -> None:
    channel = FakeChannel()
    channel.incoming.append(
        pack(Load(source="n = 0\nwhile True:\n    n += 1\n", filename="code.py"))
    )
    with pytest.raises(_Drained):
        Worker(channel, 0.2).serve()
    (loaded,) = channel.sent
    assert isinstance(loaded.head, Loaded) and loaded.head.timed_out and not loaded.head.ok
    assert loaded.head.where is not None and loaded.head.where.line in (2, 3)


def test_the_worker_imports_nothing_of_the_grader_it_does_not_need() -> None:
    """The worker starts in every grading: it loads the wire, frames and values, not the rest
    of the grader (the course, the checks, the reports, yaml)."""
    code = (
        "import sys; import grader.worker; "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(('grader', 'yaml')))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert loaded == [
        "grader",
        "grader.framing",
        "grader.protocol",
        "grader.shape_clues",
        "grader.wire",
        "grader.worker",
        "grader.worker_calls",
        "grader.worker_channel",
        "grader.worker_clock",
    ]


def test_each_failure_a_worker_names_is_one_error_class_of_the_same_kind() -> None:
    """The kinds are written once: the worker's names are the error classes' own."""
    from typing import get_args

    from grader.results import ERROR_KINDS
    from grader.student_code.errors import FROM_FAILURE, STUDENT_ERRORS
    from grader.wire import FailureKind

    assert set(get_args(FailureKind)) == set(FROM_FAILURE)
    assert all(error.kind == kind for kind, error in FROM_FAILURE.items())
    assert ERROR_KINDS[: len(STUDENT_ERRORS)] == tuple(error.kind for error in STUDENT_ERRORS)
