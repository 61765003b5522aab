"""What fuzzing feeds and expects, shared by the tests (a few hundred inputs) and
quality/fuzz.py (minutes of them)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import strategies as st

from grader.framing import FrameBuffer, ProtocolError, WireLimits
from grader.protocol import Decoder, refuse
from grader.submission import Source, SubmissionProblem, read_source

NOTEBOOK_KEYS = [
    "cells",
    "nbformat",
    "nbformat_minor",
    "metadata",
    "cell_type",
    "source",
    "outputs",
    "id",
    "worksheets",
    "input",
    "execution_count",
]
notebook_json = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.sampled_from(NOTEBOOK_KEYS), children, max_size=6)
    ),
    max_leaves=40,
)


def parse_frames(data: bytes, max_message_bytes: int = 8192) -> None:
    """Feed bytes to the protocol parser: a value or a ProtocolError, nothing else."""
    buffer = FrameBuffer(WireLimits(max_message_bytes=max_message_bytes))
    try:
        buffer.feed(data)
        while (frame := buffer.next_frame()) is not None:
            value = getattr(frame.head, "value", None)
            Decoder(frame, refuse("handle"), refuse("callback")).decode(value)
    except ProtocolError:
        pass


def load_file(folder: Path, data: bytes, suffix: str) -> None:
    """Bytes as a submission file: a Source or a SubmissionProblem, nothing else."""
    path = folder / f"submission{suffix}"
    path.write_bytes(data)
    assert isinstance(read_source(path), (Source, SubmissionProblem))


def load_notebook_json(folder: Path, data: object) -> None:
    """JSON as a notebook: a Source or a SubmissionProblem, nothing else."""
    load_file(folder, json.dumps(data).encode(), ".ipynb")
