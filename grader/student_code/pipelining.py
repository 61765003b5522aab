"""Requests that do not wait: calls sent ahead of their answers, operations deferred into a frame.

A check that makes many independent calls (``student.f.later(x)`` for 200 points, grader.later)
sends them all, then reads the answers in order: about one wait instead of one each. Arithmetic
on objects kept in the worker (``a + b`` on two Values) is sent with no answer at all: the
operations wait here and go in one frame ahead of the next request, each result kept in the
worker under an id chosen here. grader.student_code.session decides when to send and read; this
module keeps the books: what is due, how many bytes are on the pipe, and the frame of operations.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from grader.framing import pack
from grader.protocol import Encoder
from grader.student_code.errors import StudentError
from grader.student_code.objects import Handle
from grader.wire import Operation, Operators

# Deferred operations written in one frame at most; a longer chain goes in several.
OPERATIONS_PER_FRAME = 1000


@dataclass
class PendingCall:
    """A call sent ahead: what the grader needs once it is answered.

    generation: the worker it went to; size: bytes of its request on the pipe.
    """

    label: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    generation: int
    size: int
    answered: bool = False
    value: Any = None
    error: StudentError | None = None


class PendingCalls:
    """The calls sent ahead and not answered yet, oldest first, and the bytes they took."""

    def __init__(self) -> None:
        self._calls: deque[PendingCall] = deque()
        self.bytes = 0

    def __bool__(self) -> bool:
        return bool(self._calls)

    def add(self, call: PendingCall) -> None:
        self._calls.append(call)
        self.bytes += call.size

    def take_oldest(self) -> PendingCall:
        call = self._calls.popleft()
        self.bytes -= call.size
        return call

    def fail_all(self, failure: Callable[[PendingCall], StudentError]) -> None:
        """Every call still due fails: its worker is gone."""
        while self._calls:
            call = self.take_oldest()
            call.error = failure(call)


class DeferredOperations:
    """Operations on kept objects not written yet, and how many have run unconfirmed.

    new_encoder: an encoder for operands that are neither handles nor numbers (the session's,
    which can send grader functions); handle_id: a handle's id in the running worker.
    """

    def __init__(
        self, new_encoder: Callable[[], Encoder], handle_id: Callable[[Handle], int]
    ) -> None:
        self._new_encoder = new_encoder
        self._handle_id = handle_id
        self._ids: Iterator[int] = itertools.count(-1, -1)  # results' ids: negative, never reused
        self._operations: list[Operation] = []
        self._encoder = new_encoder()
        # Operations sent since the last answered request: one of them may be why it failed.
        self.unconfirmed = 0

    @property
    def full(self) -> bool:
        """As many as one frame holds."""
        return len(self._operations) >= OPERATIONS_PER_FRAME

    def add(self, name: str, operands: tuple[Any, ...], label: str) -> int:
        """operator.<name>(*operands) to send; the id its result will be kept under."""
        result_id = next(self._ids)
        nodes = [self._node(operand) for operand in operands]
        self._operations.append(Operation(name, result_id, label, nodes))
        self.unconfirmed += 1
        return result_id

    def _node(self, operand: Any) -> Any:
        """Handles and numbers directly (a chain has thousands), the rest through the encoder."""
        kind = type(operand)
        if kind is Handle:
            return {"t": "handle", "id": self._handle_id(operand)}
        if (kind is float and math.isfinite(operand)) or kind is int:
            return operand
        return self._encoder.encode(operand)

    def take_frame(self, later: bool) -> bytes | None:
        """The frame of every operation not written yet (None if none), and a fresh start.

        later: the frame goes after calls sent ahead, so the worker runs it after those calls,
        not inside one of them that waits on a callback.
        """
        if not self._operations:
            return None
        frame = pack(Operators(operations=self._operations, later=later), self._encoder.blobs)
        self.drop()
        return frame

    def drop(self) -> None:
        """Forget the operations not written (their worker is gone)."""
        self._operations = []
        self._encoder = self._new_encoder()
