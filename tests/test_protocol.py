"""The wire protocol: values survive the trip; anything malformed, oversized or executable is
refused with a ProtocolError, never unpickled and never a crash of another kind."""

from __future__ import annotations

import contextlib
import io
import json
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.framing import (
    DEFAULT_LIMITS,
    READ_SIZE,
    FrameBuffer,
    OverBudget,
    ProtocolError,
    WireLimits,
    pack,
    parse_body,
)
from grader.protocol import CallBudget, Decoder, Encoder, array_from_npy, counted_bytes, refuse
from grader.wire import Ready, Returned
from tests.fuzz_targets import parse_frames


def round_trip(value, limits: WireLimits = DEFAULT_LIMITS):
    encoder = Encoder(refuse_encode)
    node = encoder.encode(value)
    buffer = FrameBuffer(limits)
    buffer.feed(pack(Returned(value=node), encoder.blobs))
    frame = buffer.next_frame()
    assert frame is not None
    return Decoder(frame, refuse("handle"), refuse("callback"), limits).decode(frame.head.value)


def refuse_encode(value):
    raise AssertionError(f"not plain data: {value!r}")


def frame_with(head: dict, blobs: list[bytes] = ()) -> bytes:
    """A frame built by hand, as a hostile worker could."""
    data = json.dumps({**head, "blobs": [len(blob) for blob in blobs]}).encode()
    body = data + b"".join(blobs)
    return struct.pack("!II", len(body), len(data)) + body


def decode_frame(data: bytes, limits: WireLimits = DEFAULT_LIMITS):
    buffer = FrameBuffer(limits)
    buffer.feed(data)
    frame = buffer.next_frame()
    assert frame is not None
    assert isinstance(frame.head, Returned)
    return Decoder(frame, refuse("handle"), refuse("callback"), limits).decode(frame.head.value)


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -3,
        2.5,
        "text ✓",
        float("inf"),
        float("-inf"),
        (1, [2.0, "three"], {"a": (None,)}),
        {1: "one", (2, 3): [True]},
        [],
        (),
        {},
    ],
)
def test_plain_values_survive(value) -> None:
    assert round_trip(value) == value


def test_nan_survives_as_a_tagged_float() -> None:
    assert np.isnan(round_trip(float("nan")))


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12.0).reshape(3, 4),
        np.array([True, False]),
        np.arange(6, dtype=np.int8).reshape(2, 3),
        np.arange(4, dtype=np.uint16),
        np.linspace(0, 1, 5, dtype=np.float32),
        np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        np.arange(3.0).astype(">f8"),
        np.zeros((0, 3)),
        np.array(7.5),
    ],
)
def test_arrays_survive_as_plain_native_arrays(array: np.ndarray) -> None:
    got = round_trip(array)
    assert type(got) is np.ndarray and got.dtype.isnative and got.flags.writeable
    assert got.shape == array.shape and np.array_equal(got, array)


def test_numpy_scalars_keep_their_type() -> None:
    got = round_trip((np.float32(1.5), np.int64(-2), np.bool_(True)))
    assert [type(item) for item in got] == [np.float32, np.int64, np.bool_]


def test_array_subclass_arrives_as_a_plain_array() -> None:
    class Sneaky(np.ndarray):
        def __eq__(self, other):
            return True

    got = round_trip(np.arange(3.0).view(Sneaky))
    assert type(got) is np.ndarray and not np.array_equal(got, np.zeros(3))


def test_dict_subclasses_arrive_as_dicts() -> None:
    import collections

    value = {
        "ordered": collections.OrderedDict(W1=np.ones(2)),
        "default": collections.defaultdict(list, b1=[1.0]),
    }
    got = round_trip(value)
    assert type(got["ordered"]) is dict and np.array_equal(got["ordered"]["W1"], np.ones(2))
    assert type(got["default"]) is dict and got["default"] == {"b1": [1.0]}


def test_a_subclass_is_read_through_its_base_types_methods() -> None:
    """What arrives is the data the object holds, not what its overridden methods claim."""

    class Liar(dict):
        def items(self):
            return [("W1", "anything you like")]

        def __eq__(self, other):
            return True

    got = round_trip((Liar(W1=0.5),))
    assert got == ({"W1": 0.5},) and type(got[0]) is dict


def npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("blob", "words"),
    [
        (npy_bytes(np.array([object()], dtype=object), allow_pickle=True), "not a plain numeric"),
        (npy_bytes(np.zeros(2, dtype=[("a", "f8"), ("b", "i4")])), "not a plain numeric"),
        (npy_bytes(np.zeros(2, dtype=complex)), "not a plain numeric"),
        (npy_bytes(np.array(["text"])), "not a plain numeric"),
        (npy_bytes(np.zeros(4))[:-8], "does not match the shape"),
        (npy_bytes(np.zeros(4)) + b"\0" * 8, "does not match the shape"),
        (b"not an npy file at all", "header is invalid"),
    ],
)
def test_unsafe_or_broken_arrays_are_refused(blob: bytes, words: str) -> None:
    with pytest.raises(ProtocolError, match=words):
        array_from_npy(memoryview(blob))


def test_array_over_the_element_limit_is_refused_from_its_header() -> None:
    with pytest.raises(ProtocolError, match="over the limit"):
        array_from_npy(memoryview(npy_bytes(np.zeros(1000))), WireLimits(max_array_elements=999))


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ({"t": "list", "v": [1, 2]}, None),
        ([1, 2], "untagged list"),
        ({"t": "pickle", "v": "gASV"}, "unknown value tag"),
        ({"t": "array", "i": 5}, "blob the message does not have"),
        ({"t": "handle", "id": 1}, "handle is not allowed"),
        ({"t": "callback", "id": 1}, "callback is not allowed"),
        ({"t": "dict", "v": [[{"t": "list", "v": []}, 1]]}, "dict key"),
        ({"t": "float", "v": "1e400"}, "unknown value tag"),
    ],
)
def test_hand_made_values(value, words: str | None) -> None:
    data = frame_with({"op": "return", "value": value})
    if words is None:
        assert decode_frame(data) == [1, 2]
    else:
        with pytest.raises(ProtocolError, match=words):
            decode_frame(data)


def test_json_nan_constant_is_refused() -> None:
    body = b'{"op":"return","value":NaN,"blobs":[]}'
    with pytest.raises(ProtocolError, match="not valid JSON"):
        parse_body(body, len(body))


def test_json_overflowing_number_is_refused() -> None:
    body = b'{"op":"return","value":1e999,"blobs":[]}'
    with pytest.raises(ProtocolError, match="Number out of range"):
        parse_body(body, len(body))


def test_json_integer_too_long_to_convert_quickly_is_refused() -> None:
    body = b'{"op":"return","value":' + b"7" * 100_000 + b',"blobs":[]}'
    with pytest.raises(ProtocolError, match=r"(?i)value out of range"):
        parse_body(body, len(body))


def test_oversized_frame_is_refused_before_it_is_buffered() -> None:
    buffer = FrameBuffer(WireLimits(max_message_bytes=1000))
    with pytest.raises(ProtocolError, match="over the limit"):
        buffer.feed(struct.pack("!II", 10**9, 10))


def test_deep_nesting_is_refused() -> None:
    value: dict = {"t": "list", "v": []}
    for _ in range(40):
        value = {"t": "list", "v": [value]}
    with pytest.raises(ProtocolError, match="nested deeper"):
        decode_frame(frame_with({"op": "return", "value": value}))


def test_too_many_values_are_refused() -> None:
    value = {"t": "list", "v": list(range(2000))}
    with pytest.raises(ProtocolError, match="more than 1000 values"):
        decode_frame(frame_with({"op": "return", "value": value}), WireLimits(max_nodes=1000))


def test_long_string_is_refused() -> None:
    with pytest.raises(ProtocolError, match="characters is over the limit"):
        decode_frame(
            frame_with({"op": "return", "value": "x" * 101}), WireLimits(max_string_chars=100)
        )


def test_blob_lengths_must_add_up() -> None:
    head = b'{"op":"return","value":1,"blobs":[10]}'
    with pytest.raises(ProtocolError, match="do not add up"):
        parse_body(head + b"\0" * 3, len(head))


def test_frames_split_across_reads_are_reassembled() -> None:
    data = pack(Ready()) * 3
    buffer = FrameBuffer()
    frames = []
    for start in range(0, len(data), 5):
        buffer.feed(data[start : start + 5])
        while (frame := buffer.next_frame()) is not None:
            frames.append(frame.op)
    assert frames == ["ready"] * 3


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_only_ever_raise_protocol_error(data: bytes) -> None:
    parse_frames(data, max_message_bytes=4096)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(10**6), 10**6)
        | st.text(max_size=20)
        | st.floats(allow_nan=False),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=5), children, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_json_bodies_only_ever_raise_protocol_error(value) -> None:
    data = frame_with({"op": "return", "value": value})
    with contextlib.suppress(ProtocolError):
        decode_frame(data)


# ---------------------------------------------------------------- budgets


def small_budgets(**fields: int) -> WireLimits:
    return WireLimits(max_message_bytes=1000, max_head_bytes=200, **fields)


def test_bytes_waiting_past_the_buffer_budget_are_refused() -> None:
    limits = small_budgets(max_buffered_bytes=1000 + 8 + READ_SIZE)
    buffer = FrameBuffer(limits)
    frame = pack(Returned(value=None), [bytes(900)])
    for _ in range((limits.buffered_bytes - 1) // len(frame)):
        buffer.feed(frame)  # whole frames, none taken yet: as while the grader writes
    with pytest.raises(OverBudget, match="had not asked for yet") as caught:
        buffer.feed(frame)
    assert caught.value.advice == "Return smaller results and do not write to the grader's pipes."


def test_the_buffer_budget_holds_one_largest_frame_and_a_read() -> None:
    with pytest.raises(ValueError, match="one largest frame"):
        WireLimits(max_message_bytes=1000, max_buffered_bytes=1000)
    assert WireLimits(max_message_bytes=1000).buffered_bytes == 1000 + 8 + READ_SIZE
    buffer = FrameBuffer(WireLimits(max_message_bytes=1000))
    data = pack(Returned(value=None), [bytes(900)])
    buffer.feed(data[:-1] + bytes(READ_SIZE))  # a largest frame, nearly whole, and a read
    assert buffer.buffered == len(data) - 1 + READ_SIZE


def test_a_head_over_its_budget_is_refused_from_the_header() -> None:
    buffer = FrameBuffer(small_budgets())
    with pytest.raises(OverBudget, match=r"values outside arrays \(over the limit of 200 bytes"):
        buffer.feed(struct.pack("!II", 900, 300))


def test_the_grader_keeps_heads_small_and_the_worker_does_not() -> None:
    """A worker reads the grader's heads, a submission's source among them, unlimited."""
    assert DEFAULT_LIMITS.max_head_bytes == 1 << 20
    assert WireLimits(max_message_bytes=1 << 30).max_head_bytes is None


def test_more_blobs_than_values_are_refused() -> None:
    with pytest.raises(ProtocolError, match="more than 10 blobs"):
        decode_frame(frame_with({"op": "return", "value": 1}, [b""] * 11), WireLimits(max_nodes=10))


@pytest.mark.parametrize("sizes", [[5000, 10], [10, 5000], [3000, 3000, 1], [1, 1, 1]])
def test_frames_back_to_back_come_out_whole(sizes: list[int]) -> None:
    """A frame is cut from the buffer by moving what follows it or by copying it out, whichever
    is smaller: either way each frame comes out as it went in."""
    frames = [pack(Returned(value=n), [bytes([n % 256]) * n]) for n in sizes]
    buffer = FrameBuffer()
    buffer.feed(b"".join(frames))
    for n in sizes:
        frame = buffer.next_frame()
        assert frame is not None and frame.head.value == n
        assert bytes(frame.blobs[0]) == bytes([n % 256]) * n
        assert frame.size == len(pack(Returned(value=n), [bytes(n)]))
    assert buffer.next_frame() is None and buffer.buffered == 0


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(0, 3000), min_size=1, max_size=6),
    st.lists(st.integers(1, 4000), min_size=1, max_size=12),
)
def test_frames_survive_any_split_into_reads(sizes: list[int], reads: list[int]) -> None:
    data = b"".join(pack(Returned(value=n), [bytes([n % 256]) * n]) for n in sizes)
    buffer = FrameBuffer()
    got, start, turn = [], 0, 0
    while start < len(data):
        size = reads[turn % len(reads)]
        buffer.feed(data[start : start + size])
        start, turn = start + size, turn + 1
        while (frame := buffer.next_frame()) is not None:
            got.append((frame.head.value, bytes(frame.blobs[0])))
    assert got == [(n, bytes([n % 256]) * n) for n in sizes]


def array_frame(node, blobs: list[bytes]):
    buffer = FrameBuffer()
    buffer.feed(frame_with({"op": "return", "value": node}, blobs))
    frame = buffer.next_frame()
    assert frame is not None
    return frame


def test_every_reference_to_a_blob_counts_against_the_call() -> None:
    """One blob named 100 times is 100 arrays: each counted, and refused once past the budget,
    before the array that would pass it is built."""
    blob = npy_bytes(np.zeros(1000))  # 8,000 bytes
    frame = array_frame({"t": "list", "v": [{"t": "array", "i": 0}] * 100}, [blob])
    budget = CallBudget(WireLimits(max_call_array_bytes=80_000))
    built = []

    def counted(size: int) -> None:
        budget.take_array(size)
        built.append(size)

    decoder = Decoder(frame, refuse("handle"), refuse("callback"), DEFAULT_LIMITS, counted)
    with pytest.raises(OverBudget, match=r"arrays of more than 78.12 KB in all \(8 bytes a"):
        decoder.decode(frame.head.value)
    assert len(built) == 10 and budget.array_bytes == 88_000


def test_small_numbers_count_as_eight_bytes() -> None:
    """A check makes float64 copies: a bool counts as much as a float64."""
    assert counted_bytes(1000, 1) == counted_bytes(1000, 8) == 8000
    assert counted_bytes(1000, 16) == 16_000
    sizes: list[int] = []
    frame = array_frame({"t": "array", "i": 0}, [npy_bytes(np.zeros(1000, dtype=bool))])
    Decoder(frame, refuse("handle"), refuse("callback"), DEFAULT_LIMITS, sizes.append).decode(
        frame.head.value
    )
    assert sizes == [8000]


def test_a_call_budget_counts_frames_evaluations_and_their_arguments() -> None:
    budget = CallBudget(
        WireLimits(max_call_bytes=100, max_call_evaluations=3, max_call_evaluation_bytes=16)
    )
    frame = array_frame(None, [])
    budget.take_frame(frame)
    with pytest.raises(OverBudget, match="sent more than 100 bytes to the grader"):
        for _ in range(100 // frame.size):
            budget.take_frame(frame)
    budget.take_evaluations(3)
    with pytest.raises(OverBudget, match="more than 3 times"):
        budget.take_evaluations(1)
    budget.take_evaluation_argument(16)
    assert budget.array_bytes == 16
    with pytest.raises(OverBudget, match="at arrays of more than 16 bytes in all"):
        budget.take_evaluation_argument(8)
