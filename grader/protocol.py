"""Values on the wire between the grader and a worker, and their strict decoder.

A message is a frame (grader.framing) whose JSON head holds values as tagged nodes and whose blobs
are arrays as .npy bytes. Nothing a worker sends is ever turned into an arbitrary object:

=============================  ======================================================
JSON node                      value
=============================  ======================================================
null, true, 3, 2.5, "text"     None, bool, int, finite float, str
{"t": "float", "v": "nan"}     float("nan"), and "inf" / "-inf"
{"t": "tuple", "v": [...]}     tuple (likewise "list")
{"t": "dict", "v": [[k, v]]}   dict; keys decode to str, int, float, bool, None or tuples of them
{"t": "array", "i": 0}         numpy.ndarray read from blob 0 (dtype kind b, i, u or f only)
{"t": "scalar", "i": 0}        numpy scalar read from a 0-d array in blob 0
{"t": "handle", "id": 3}       an object that stays in the worker (grader.student_code.objects)
{"t": "callback", "id": 5}     a grader function the worker may ask the grader to call
=============================  ======================================================

Everything here is imported by the worker too, so it depends on numpy and the standard library
only, and grabs its helpers at import time, before any student code runs.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from grader.framing import (
    DEFAULT_LIMITS,
    Frame,
    OverBudget,
    ProtocolError,
    WireLimits,
    describe_bytes,
)

ARRAY_KINDS = frozenset("biuf")
_read_magic = np.lib.format.read_magic
_read_header_1 = np.lib.format.read_array_header_1_0
_read_header_2 = np.lib.format.read_array_header_2_0
_write_array = np.lib.format.write_array

# ---------------------------------------------------------------- arrays


# Header parsing is deterministic in its bytes, and the same few shapes repeat in a grading:
# remember parsed headers (and built ones) instead of running numpy's literal_eval every time.
_CACHE_SIZE = 512
_parsed_headers: dict[bytes, tuple[tuple[int, ...], bool, np.dtype[Any]]] = {}
_built_headers: dict[tuple[str, tuple[int, ...]], bytes] = {}


def array_to_npy(array: np.ndarray) -> bytes:
    """``.npy`` bytes of a numeric array (kinds b, i, u, f), never pickled."""
    array = np.asarray(array, order="C")
    key = (array.dtype.str, array.shape)
    header = _built_headers.get(key)
    if header is None:
        buffer = io.BytesIO()
        _write_array(buffer, array, allow_pickle=False)
        data = buffer.getvalue()
        header = data[: len(data) - array.nbytes]
        if len(_built_headers) < _CACHE_SIZE:
            _built_headers[key] = header
    return b"".join((header, array.data))  # the array's bytes copied once, not twice


def _npy_header(blob: memoryview) -> tuple[tuple[int, ...], bool, np.dtype[Any], int]:
    """(shape, fortran order, dtype, data offset) from a .npy header, parsed by numpy once."""
    prefix = bytes(blob[:12])
    offset = 0
    if prefix[:6] == b"\x93NUMPY" and len(prefix) == 12:
        length_bytes = 2 if prefix[6] == 1 else 4
        offset = 8 + length_bytes + int.from_bytes(prefix[8 : 8 + length_bytes], "little")
        cached = _parsed_headers.get(bytes(blob[:offset]))
        if cached is not None:
            return (*cached, offset)
    stream = io.BytesIO(blob)
    try:
        version = _read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = _read_header_1(stream)
        elif version == (2, 0):
            shape, fortran_order, dtype = _read_header_2(stream)
        else:
            raise ProtocolError(f"unsupported .npy version {version}")
    except (ValueError, TypeError, SyntaxError, OverflowError) as error:
        raise ProtocolError(f"an array's .npy header is invalid: {error}") from None
    if stream.tell() == offset and len(_parsed_headers) < _CACHE_SIZE:
        _parsed_headers[bytes(blob[:offset])] = (shape, fortran_order, dtype)
    return shape, fortran_order, dtype, stream.tell()


def array_from_npy(
    blob: memoryview,
    limits: WireLimits = DEFAULT_LIMITS,
    on_size: Callable[[int], None] | None = None,
) -> np.ndarray:
    """A fresh, writable, plain ``np.ndarray`` from ``.npy`` bytes, checked header first.

    The dtype must be a plain number or bool (kind b, i, u, f; no fields, no objects) and the
    byte count must match the header's shape exactly; nothing is unpickled. ``on_size`` is told
    what the array will count against a budget (`counted_bytes`) before it is built, and may
    refuse it by raising.
    """
    shape, fortran_order, dtype, offset = _npy_header(blob)
    if dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise ProtocolError(f"an array of dtype {dtype.str} is not a plain numeric array")
    if len(shape) > limits.max_depth or not all(type(n) is int and n >= 0 for n in shape):
        raise ProtocolError(f"an array has an invalid shape {shape!r}")
    count = math.prod(shape)
    if count > limits.max_array_elements:
        raise ProtocolError(
            f"an array of {count} elements is over the limit of {limits.max_array_elements}"
        )
    if len(blob) - offset != count * dtype.itemsize:
        raise ProtocolError("an array's data does not match the shape in its header")
    if on_size is not None:
        on_size(counted_bytes(count, dtype.itemsize))
    flat = np.frombuffer(blob, dtype=dtype, count=count, offset=offset)
    array = np.array(flat.reshape(shape, order="F" if fortran_order else "C"), order="C")
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    return array


def counted_bytes(elements: int, itemsize: int) -> int:
    """What an array counts against a budget: its bytes, and at least 8 for each element, as the
    grader's float64 copies of it take (a Recorder's, a check's ``np.asarray(x, float)``)."""
    return elements * max(itemsize, 8)


# ---------------------------------------------------------------- budgets


class CallBudget:
    """What the messages of one call have used of the per-call budgets of ``limits``
    (grader.framing.WireLimits); each ``take_`` raises OverBudget past one.

    The grader (grader.student_code) makes one for each call into the worker, and counts against it
    every frame received until the reply, every array built from them, and every evaluation it
    replays.
    """

    def __init__(self, limits: WireLimits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self.frame_bytes = 0
        self.array_bytes = 0
        self.evaluations = 0
        self.evaluation_bytes = 0

    def take_frame(self, frame: Frame) -> None:
        self.frame_bytes += frame.size
        if self.frame_bytes > self.limits.max_call_bytes:
            raise OverBudget(
                f"sent more than {describe_bytes(self.limits.max_call_bytes)} to the grader"
            )

    def take_array(self, counted: int) -> None:
        """An array about to be built, counting ``counted`` bytes (`counted_bytes`)."""
        self.array_bytes += counted
        if self.array_bytes > self.limits.max_call_array_bytes:
            raise OverBudget(
                "sent the grader arrays of more than "
                f"{describe_bytes(self.limits.max_call_array_bytes)} in all (8 bytes a number)",
                "Return smaller arrays and do not write to the grader's pipes.",
            )

    def take_evaluations(self, count: int) -> None:
        """Evaluations of formulas about to be replayed."""
        self.evaluations += count
        if self.evaluations > self.limits.max_call_evaluations:
            raise OverBudget(
                f"evaluated the grader's functions more than "
                f"{self.limits.max_call_evaluations:,} times",
                "Look for a loop that runs far more often than it should, and do not write to "
                "the grader's pipes.",
            )

    def take_evaluation_argument(self, counted: int) -> None:
        """An array in the argument of a replayed evaluation, about to be built: what a
        Recorder keeps a copy of. It counts as an array too."""
        self.evaluation_bytes += counted
        if self.evaluation_bytes > self.limits.max_call_evaluation_bytes:
            raise OverBudget(
                "evaluated the grader's functions at arrays of more than "
                f"{describe_bytes(self.limits.max_call_evaluation_bytes)} in all (8 bytes a "
                "number)",
                "Pass them smaller arrays, or call them less often, and do not write to the "
                "grader's pipes.",
            )
        self.take_array(counted)


# ---------------------------------------------------------------- values


def _is_plain_array(value: Any) -> bool:
    return (
        isinstance(value, np.ndarray)
        and value.dtype.kind in ARRAY_KINDS
        and value.dtype.fields is None
        and value.dtype.subdtype is None
    )


class Encoder:
    """Turns a value into a JSON node plus blobs; what is not plain data goes to ``on_other``.

    ``on_other(value)`` returns the node to send instead: a handle in the worker, a callback in
    the grader.
    """

    def __init__(self, on_other: Callable[[Any], dict[str, Any]], max_depth: int = 32) -> None:
        self._on_other = on_other
        self._max_depth = max_depth
        self.blobs: list[bytes] = []

    def encode(self, value: Any, depth: int = 0) -> Any:
        kind = type(value)
        if value is None or kind is bool or kind is int or kind is str:
            return value
        if kind is float:
            return value if math.isfinite(value) else {"t": "float", "v": repr(value)}
        if isinstance(value, np.generic) and value.dtype.kind in ARRAY_KINDS:
            return {"t": "scalar", "i": self._add_blob(np.asarray(value))}
        if _is_plain_array(value):
            return {"t": "array", "i": self._add_blob(np.asarray(value))}
        if depth < self._max_depth and kind in (tuple, list):
            return {
                "t": kind.__name__,
                "v": [self.encode(item, depth + 1) for item in value],
            }
        # A dict subclass (an OrderedDict, a defaultdict) is sent as a dict, read through dict's
        # own methods: what arrives is the data it holds, never what an overridden items() or
        # __eq__ would claim. A tuple subclass stays in the worker as a handle: a namedtuple
        # cache must come back to the student's backward pass as itself.
        if depth < self._max_depth and isinstance(value, dict):
            return {
                "t": "dict",
                "v": [
                    [self.encode(key, depth + 1), self.encode(item, depth + 1)]
                    for key, item in dict.items(value)
                ],
            }
        return self._on_other(value)

    def _add_blob(self, array: np.ndarray) -> int:
        self.blobs.append(array_to_npy(array))
        return len(self.blobs) - 1


class Decoder:
    """Builds values from the JSON nodes of one frame, under ``limits``.

    ``on_handle(node)`` and ``on_callback(node)`` turn those two tags into objects; a side that
    must not receive one of them passes a function that raises ProtocolError. ``on_array`` (a
    CallBudget's ``take_array``, say) is told what each array counts (`counted_bytes`) before it
    is built: every reference to a blob is a fresh array, and each is counted.
    """

    def __init__(
        self,
        frame: Frame,
        on_handle: Callable[[dict[str, Any]], Any],
        on_callback: Callable[[dict[str, Any]], Any],
        limits: WireLimits = DEFAULT_LIMITS,
        on_array: Callable[[int], None] | None = None,
    ) -> None:
        self._blobs = frame.blobs
        self._on_handle = on_handle
        self._on_callback = on_callback
        self._limits = limits
        self._on_array = on_array
        self._nodes = 0

    def decode(self, node: Any, depth: int = 0) -> Any:
        self._nodes += 1
        if self._nodes > self._limits.max_nodes:
            raise ProtocolError(f"a message holds more than {self._limits.max_nodes} values")
        if depth > self._limits.max_depth:
            raise ProtocolError(f"a value is nested deeper than {self._limits.max_depth} levels")
        if node is None or type(node) in (bool, int, float):
            return node
        if type(node) is str:
            if len(node) > self._limits.max_string_chars:
                raise ProtocolError(
                    f"a string of {len(node)} characters is over the limit of "
                    f"{self._limits.max_string_chars}"
                )
            return node
        if type(node) is not dict:
            raise ProtocolError(f"an untagged {type(node).__name__} where a value was expected")
        tag = node.get("t")
        if tag == "float" and node.get("v") in ("nan", "inf", "-inf"):
            return float(node["v"])
        if tag in ("tuple", "list") and type(node.get("v")) is list:
            items = [self.decode(item, depth + 1) for item in node["v"]]
            return tuple(items) if tag == "tuple" else items
        if tag == "dict" and type(node.get("v")) is list:
            return self._decode_dict(node["v"], depth)
        if tag in ("array", "scalar"):
            array = array_from_npy(self._blob(node), self._limits, self._on_array)
            if tag == "scalar":
                if array.ndim != 0:
                    raise ProtocolError("a scalar's blob is not a 0-d array")
                return array[()]
            return array
        if tag == "handle" and type(node.get("id")) is int:
            return self._on_handle(node)
        if tag == "callback" and type(node.get("id")) is int:
            return self._on_callback(node)
        raise ProtocolError(f"an unknown value tag {str(tag)[:40]!r}")

    def _decode_dict(self, pairs: list[Any], depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for pair in pairs:
            if type(pair) is not list or len(pair) != 2:
                raise ProtocolError("a dict entry is not a [key, value] pair")
            key = self.decode(pair[0], depth + 1)
            if not _is_plain_key(key):
                raise ProtocolError("a dict key is not a string, number, bool or None")
            result[key] = self.decode(pair[1], depth + 1)
        return result

    def _blob(self, node: dict[str, Any]) -> memoryview:
        index = node.get("i")
        if type(index) is not int or not 0 <= index < len(self._blobs):
            raise ProtocolError("an array refers to a blob the message does not have")
        return self._blobs[index]


def _is_plain_key(key: Any) -> bool:
    if key is None or type(key) in (str, int, float, bool):
        return True
    return type(key) is tuple and all(_is_plain_key(item) for item in key)


def refuse(what: str) -> Callable[[dict[str, Any]], Any]:
    """An ``on_handle``/``on_callback`` for a side that must never receive that tag."""

    def refuse_node(node: dict[str, Any]) -> Any:
        raise ProtocolError(f"a {what} is not allowed here")

    return refuse_node
