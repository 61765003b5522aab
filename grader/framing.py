"""Frames on a pipe between the grader and a worker; no numpy, so it loads in a few milliseconds.

A message is one frame::

    u32 body_length | u32 head_length | head: JSON, UTF-8 | blobs: bytes, back to back

The head is a JSON object, one of the messages of grader.wire: an ``op`` naming it, and a
``blobs`` list giving each blob's length in bytes. Each end decodes only the messages it may
receive, every field checked for its type; values inside are decoded by grader.protocol. Every
length is checked against WireLimits before the bytes are kept, and the JSON parser (msgspec's)
refuses NaN constants and overflowing numbers.
WireLimits also holds the grader's budgets on what a worker sends, per message, per worker and per
call; past one, an OverBudget says what the worker did, and the worker is stopped.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from grader.wire import FromWorker, Message, ToWorker

FRAME_HEADER = struct.Struct("!II")
# The most one read of a pipe returns, what a pipe holds: grader.sandbox.pipes reads this much.
READ_SIZE = 1 << 16


class ProtocolError(Exception):
    """Bytes that do not form a valid message, or a message over one of the limits."""


MB = 1 << 20
# What to do about most budgets, for the student: honest code never comes near one.
SEND_LESS = "Return smaller results and do not write to the grader's pipes."


class OverBudget(ProtocolError):
    """What a worker sent is past one of the budgets of WireLimits: the worker is stopped.

    what: what the worker did, completing "your code's process ..." ("sent more than 256 MB to
    the grader"); advice: what the student should do instead, one sentence.
    """

    def __init__(self, what: str, advice: str = SEND_LESS) -> None:
        super().__init__(what)
        self.what = what
        self.advice = advice


def describe_bytes(count: int) -> str:
    """A size for a student: "64 MB", "1.5 KB", "900 bytes" (MB and KB of 2**20 and 2**10)."""
    if count >= MB:
        return f"{count / MB:.4g} MB"
    if count >= 1024:
        return f"{count / 1024:.4g} KB"
    return f"{count} bytes"


@dataclass(frozen=True)
class WireLimits:
    """Caps on what a worker may send the grader, checked before the bytes are kept or built into
    values: per message, per worker, and per call (each call's messages together).

    Measured on `pytest checks/` (every check against the reference solutions, 2026-12-02): the
    largest message a worker sent was 24 KB (the largest head 4 KB), one call's messages 25 KB in
    all with 21 KB of arrays in them, one call's evaluations 70. Each budget is hundreds to
    thousands of times that, and fits the largest array a message may hold
    (``max_array_elements`` of float64, 32 MB), so correct code never comes near one. Against the
    known attacks (tests/test_budgets.py) the grader's peak memory grew by 68 to 116 MB with the
    budgets, by 776 MB to 1.9 GB without (2026-12-02, Intel Xeon, 2 cores, Python 3.11.7;
    benchmarks/RESULTS.md, "Budgets").

    Per message:

    max_message_bytes: one frame's body, in bytes (64 MB): two of the largest arrays.
    max_head_bytes: one frame's JSON head, in bytes; None: as much as the frame may hold. Python's
      objects for a head take up to 30 times its size (1 MB of ``[[], ...]`` became 31 MB,
      measured), so the grader keeps it to 1 MB (DEFAULT_LIMITS): 50,000 floats written in full.
    max_depth: nesting of tuples, lists and dicts.
    max_nodes: values in one message, counting every element of every container.
    max_string_chars: characters in one string.
    max_array_elements: elements in one array.

    Per worker:

    max_buffered_bytes: bytes read from the worker and not yet taken as frames, in bytes; None:
      one largest frame and a read more. The grader reads what the worker sends while it writes
      a request the worker does not read, so this is what a worker that writes without being
      asked can make it hold: 80 MB in DEFAULT_LIMITS, one largest message and 16 MB more for
      the answers of calls sent ahead (grader.later), a few KB each in the course.

    Per call (grader.student_code; every message from the request to its reply, the logs of
    evaluations and the callbacks included):

    max_call_bytes: frames received, in bytes (256 MB: four of the largest messages).
    max_call_array_bytes: arrays built from them, in bytes (64 MB: two of the largest arrays),
      each reference to a blob counted, and each element as 8 bytes at least, as the float64
      copies the grader's checks and Recorders make of it take. A message naming one blob 256
      times costs 256 arrays, and is counted so.
    max_call_evaluations: formulas replayed (grader.formula), 100,000: about 1.5 s of the
      grader's time (15 µs each with small arrays, measured); the course's checks replay 70 at
      most.
    max_call_evaluation_bytes: the arguments of the evaluations replayed, in bytes, counted as
      arrays are (32 MB: the largest array): a Recorder keeps a float64 copy of each.

    Where: FrameBuffer checks the budgets per message and per worker, a CallBudget
    (grader.protocol) those per call, for grader.student_code. Past one it raises OverBudget;
    the grader stops the worker (grader.sandbox.pipes.WorkerOverBudget) and the call fails with
    one line.
    A worker reads the grader's messages with no budget on heads or buffering (the two None
    defaults): the grader's own, a submission's source among them, are trusted.
    """

    max_message_bytes: int = 64 * MB
    max_head_bytes: int | None = None
    max_depth: int = 32
    max_nodes: int = 100_000
    max_string_chars: int = 100_000
    max_array_elements: int = 4_000_000
    max_buffered_bytes: int | None = None
    max_call_bytes: int = 256 * MB
    max_call_array_bytes: int = 64 * MB
    max_call_evaluations: int = 100_000
    max_call_evaluation_bytes: int = 32 * MB

    def __post_init__(self) -> None:
        if self.max_buffered_bytes is not None and self.max_buffered_bytes < self.buffer_floor:
            raise ValueError(
                "max_buffered_bytes must hold one largest frame and a read more: at least "
                f"{self.buffer_floor} bytes"
            )

    @property
    def buffer_floor(self) -> int:
        """The least a FrameBuffer must hold: one largest frame and one read of a pipe."""
        return FRAME_HEADER.size + self.max_message_bytes + READ_SIZE

    @property
    def buffered_bytes(self) -> int:
        """max_buffered_bytes, or the least it may be."""
        return self.max_buffered_bytes or self.buffer_floor


# What the grader accepts from a worker.
DEFAULT_LIMITS = WireLimits(max_head_bytes=1 * MB, max_buffered_bytes=80 * MB)


# ---------------------------------------------------------------- frames


def pack(message: Message, blobs: Sequence[bytes] = ()) -> bytes:
    """One frame holding ``message`` (its ``blobs`` set here) and its array blobs."""
    message.blobs = [len(blob) for blob in blobs]
    head = _head_encoder.encode(message)
    body_length = len(head) + sum(len(blob) for blob in blobs)
    return b"".join((FRAME_HEADER.pack(body_length, len(head)), head, *blobs))  # one copy


@dataclass
class Frame:
    """A parsed message: its head (grader.wire), the raw blobs its array nodes refer to, and its
    size on the pipe in bytes (the 8-byte header included)."""

    head: Message
    blobs: list[memoryview]
    size: int = 0

    @property
    def op(self) -> str:
        """The message's tag, for messages about it ("unexpected message 'load'")."""
        return type(self.head).__struct_config__.tag  # type: ignore[return-value]


# msgspec reads and writes a frame's head about 3x (reading) and 10x (writing) faster than the
# json module, and is as strict: it refuses NaN and Infinity, numbers out of a float's range,
# integers of more than a few thousand digits (so no slow conversion), malformed UTF-8 and
# nesting deep enough to exhaust the stack. Writing, it would turn a NaN into null: every float
# the grader or a worker puts in a head comes from grader.protocol, which tags non-finite ones.
# Each end decodes only the messages it may receive, each field checked for its type.
_head_encoder = msgspec.json.Encoder()
FROM_WORKER: msgspec.json.Decoder[Message] = msgspec.json.Decoder(FromWorker)
TO_WORKER: msgspec.json.Decoder[Message] = msgspec.json.Decoder(ToWorker)


class FrameBuffer:
    """Collects bytes read from a pipe and cuts them into frames, refusing early what is over the
    limits: a frame as soon as its 8-byte header arrives, and more bytes waiting to be taken than
    ``limits.buffered_bytes`` (a worker writing what the grader is not reading yet).

    A frame's bytes are copied once at most: a frame that ends the buffer, or most of it, keeps
    the buffer's own memory, and what follows it moves instead. So one largest message costs about
    its size, not twice that, and many small ones cost no more than their total.
    """

    def __init__(
        self,
        limits: WireLimits = DEFAULT_LIMITS,
        messages: msgspec.json.Decoder[Message] = FROM_WORKER,
    ) -> None:
        self._limits = limits
        self._messages = messages
        self._budget = limits.buffered_bytes
        self._data = bytearray()

    @property
    def buffered(self) -> int:
        """Bytes fed and not yet taken as frames."""
        return len(self._data)

    def feed(self, data: bytes) -> None:
        self._data += data
        if len(self._data) >= FRAME_HEADER.size:
            self._check_header()
        if len(self._data) > self._budget:
            raise OverBudget(  # the grader reads ahead only while it writes a request
                f"sent more than {describe_bytes(self._budget)} the grader had not asked for yet"
            )

    def _check_header(self) -> tuple[int, int]:
        body_length, head_length = FRAME_HEADER.unpack_from(self._data)
        limits = self._limits
        if body_length > limits.max_message_bytes:
            raise OverBudget(
                f"sent a message of {describe_bytes(body_length)} (over the limit of "
                f"{describe_bytes(limits.max_message_bytes)} for one)"
            )
        if head_length > body_length:
            raise ProtocolError("a message's head is longer than the message")
        if limits.max_head_bytes is not None and head_length > limits.max_head_bytes:
            raise OverBudget(
                f"sent a message with {describe_bytes(head_length)} of values outside arrays "
                f"(over the limit of {describe_bytes(limits.max_head_bytes)} for one)",
                "Return numbers in arrays rather than in long lists, and do not write to the "
                "grader's pipes.",
            )
        return body_length, head_length

    def next_frame(self) -> Frame | None:
        """The next complete frame, or None until more bytes arrive."""
        data = self._data
        if len(data) < FRAME_HEADER.size:
            return None
        body_length, head_length = self._check_header()
        end = FRAME_HEADER.size + body_length
        if len(data) < end:
            return None
        body: bytes | memoryview
        if len(data) - end < body_length:  # less follows than the frame holds: move that
            self._data = data[end:]
            body = memoryview(data)[FRAME_HEADER.size : end]
        else:
            with memoryview(data) as view:
                body = bytes(view[FRAME_HEADER.size : end])
            del data[:end]  # cheap: a bytearray drops its start without moving the rest
        return parse_body(body, head_length, self._limits, self._messages)


def parse_body(
    body: bytes | memoryview,
    head_length: int,
    limits: WireLimits = DEFAULT_LIMITS,
    messages: msgspec.json.Decoder[Message] = FROM_WORKER,
) -> Frame:
    """Split a frame body into its head, one of ``messages``, and its blobs, checking that the
    lengths add up."""
    try:
        head = messages.decode(body[:head_length])
    except msgspec.ValidationError as error:  # a number out of range, an unknown op, a bad field
        raise ProtocolError(f"a message the grader cannot accept: {error}") from None
    except (msgspec.DecodeError, RecursionError) as error:
        raise ProtocolError(f"a message head is not valid JSON: {error}") from None
    lengths = head.blobs
    # Each blob is an array node's (a value), and costs a memoryview of ~200 bytes here.
    if len(lengths) > limits.max_nodes:
        raise ProtocolError(f"a message holds more than {limits.max_nodes} blobs")
    if head_length + sum(lengths) != len(body):
        raise ProtocolError("a message's blob lengths do not add up to its size")
    view = memoryview(body)
    blobs, offset = [], head_length
    for length in lengths:
        blobs.append(view[offset : offset + length])
        offset += length
    return Frame(head, blobs, FRAME_HEADER.size + len(body))
