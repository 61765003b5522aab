"""Frames on a pipe between the grader and a worker; no numpy, so it loads in a few milliseconds.

A message is one frame::

    u32 body_length | u32 head_length | head: JSON, UTF-8 | blobs: bytes, back to back

The head is a JSON object with an ``op`` and a ``blobs`` list giving each blob's length in bytes.
Values inside it are decoded by grader.protocol. Every length is checked against WireLimits before
the bytes are kept, and the JSON parser (msgspec's) refuses NaN constants and overflowing numbers.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

FRAME_HEADER = struct.Struct("!II")


class ProtocolError(Exception):
    """Bytes that do not form a valid message, or a message over one of the limits."""


@dataclass(frozen=True)
class WireLimits:
    """Caps on what one message may hold; checked before the bytes are read or built into values.

    max_message_bytes: one frame's body, in bytes.
    max_depth: nesting of tuples, lists and dicts.
    max_nodes: values in one message, counting every element of every container.
    max_string_chars: characters in one string.
    max_array_elements: elements in one array.
    """

    max_message_bytes: int = 64 * 1024 * 1024
    max_depth: int = 32
    max_nodes: int = 100_000
    max_string_chars: int = 100_000
    max_array_elements: int = 4_000_000


DEFAULT_LIMITS = WireLimits()


# ---------------------------------------------------------------- frames


def pack(message: dict[str, Any], blobs: Sequence[bytes] = ()) -> bytes:
    """One frame holding ``message`` (a JSON-able dict with an "op") and its array blobs."""
    head = _head_encoder.encode({**message, "blobs": [len(blob) for blob in blobs]})
    body_length = len(head) + sum(len(blob) for blob in blobs)
    return FRAME_HEADER.pack(body_length, len(head)) + head + b"".join(blobs)


@dataclass
class Frame:
    """A parsed message: its JSON head and the raw blobs its array nodes refer to."""

    head: dict[str, Any]
    blobs: list[memoryview]

    @property
    def op(self) -> str:
        return self.head["op"]


# msgspec reads and writes a frame's head about 3x (reading) and 10x (writing) faster than the
# json module, and is as strict: it refuses NaN and Infinity, numbers out of a float's range,
# integers of more than a few thousand digits (so no slow conversion), malformed UTF-8 and
# nesting deep enough to exhaust the stack. Writing, it would turn a NaN into null: every float
# the grader or a worker puts in a head comes from grader.protocol, which tags non-finite ones.
_head_encoder = msgspec.json.Encoder()
_head_decoder = msgspec.json.Decoder()


class FrameBuffer:
    """Collects bytes read from a pipe and cuts them into frames, refusing oversized ones early."""

    def __init__(self, limits: WireLimits = DEFAULT_LIMITS) -> None:
        self._limits = limits
        self._data = bytearray()

    def feed(self, data: bytes) -> None:
        self._data += data
        if len(self._data) >= FRAME_HEADER.size:
            self._check_header()

    def _check_header(self) -> tuple[int, int]:
        body_length, head_length = FRAME_HEADER.unpack_from(self._data)
        if body_length > self._limits.max_message_bytes:
            raise ProtocolError(
                f"a message of {body_length} bytes is over the limit of "
                f"{self._limits.max_message_bytes} bytes"
            )
        if head_length > body_length:
            raise ProtocolError("a message's head is longer than the message")
        return body_length, head_length

    def next_frame(self) -> Frame | None:
        """The next complete frame, or None until more bytes arrive."""
        if len(self._data) < FRAME_HEADER.size:
            return None
        body_length, head_length = self._check_header()
        end = FRAME_HEADER.size + body_length
        if len(self._data) < end:
            return None
        body = bytes(self._data[FRAME_HEADER.size : end])
        del self._data[:end]
        return parse_body(body, head_length)


def parse_body(body: bytes, head_length: int) -> Frame:
    """Split a frame body into its JSON head and blobs, checking that the lengths add up."""
    try:
        head = _head_decoder.decode(body[:head_length])
    except msgspec.ValidationError as error:  # a number out of range
        raise ProtocolError(f"a message head holds a number out of range: {error}") from None
    except (msgspec.DecodeError, RecursionError) as error:
        raise ProtocolError(f"a message head is not valid JSON: {error}") from None
    if not isinstance(head, dict) or not isinstance(head.get("op"), str):
        raise ProtocolError("a message head is not an object with an 'op'")
    lengths = head.get("blobs")
    if not isinstance(lengths, list) or not all(
        type(length) is int and length >= 0 for length in lengths
    ):
        raise ProtocolError("a message's blob lengths are not a list of sizes")
    if head_length + sum(lengths) != len(body):
        raise ProtocolError("a message's blob lengths do not add up to its size")
    view = memoryview(body)
    blobs, offset = [], head_length
    for length in lengths:
        blobs.append(view[offset : offset + length])
        offset += length
    return Frame(head, blobs)
