"""Fuzzing what reads untrusted bytes: the worker protocol's parser and the submission loaders.

    python quality/fuzz.py [--minutes 10]

Three targets, each given random inputs by hypothesis in rounds with fresh seeds until the time is
up: frames of arbitrary bytes into the protocol parser; arbitrary bytes as a .py or .ipynb file
into the loader; arbitrary notebook-shaped JSON into the loader. The only acceptable outcomes are
a value, a ProtocolError, or a Source / SubmissionProblem; anything else is printed with its input
and ends the run with status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.framing import FrameBuffer, ProtocolError, WireLimits  # noqa: E402
from grader.protocol import Decoder, refuse  # noqa: E402
from grader.submission import Source, SubmissionProblem, read_source  # noqa: E402

ROUND = settings(
    max_examples=2000, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
FOLDER = Path(tempfile.mkdtemp(prefix="fuzz-"))
counts = {"protocol frames": 0, "submission bytes": 0, "notebook JSON": 0}


@given(st.binary(max_size=4000))
def protocol_frames(data: bytes) -> None:
    counts["protocol frames"] += 1
    buffer = FrameBuffer(WireLimits(max_message_bytes=8192))
    try:
        buffer.feed(data)
        while (frame := buffer.next_frame()) is not None:
            Decoder(frame, refuse("handle"), refuse("callback")).decode(frame.head.get("value"))
    except ProtocolError:
        pass


@given(st.binary(max_size=4000), st.sampled_from([".py", ".ipynb"]))
def submission_bytes(data: bytes, suffix: str) -> None:
    counts["submission bytes"] += 1
    path = FOLDER / f"submission{suffix}"
    path.write_bytes(data)
    assert isinstance(read_source(path), (Source, SubmissionProblem))


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


@given(notebook_json)
def notebook_documents(data: object) -> None:
    counts["notebook JSON"] += 1
    path = FOLDER / "submission.ipynb"
    path.write_text(json.dumps(data))
    assert isinstance(read_source(path), (Source, SubmissionProblem))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    minutes = parser.parse_args().minutes
    targets = [protocol_frames, submission_bytes, notebook_documents]
    started = time.monotonic()
    round_number = 0
    while time.monotonic() - started < minutes * 60:
        target = targets[round_number % len(targets)]
        try:
            seed(round_number)(ROUND(target))()
        except Exception as error:  # a finding: hypothesis has shrunk and printed the input
            print(
                f"FOUND in {target.__name__}, round {round_number}: {type(error).__name__}: {error}"
            )
            return 1
        round_number += 1
    elapsed = time.monotonic() - started
    print(f"{elapsed / 60:.1f} minutes, {round_number} rounds, nothing found")
    for name, count in counts.items():
        print(f"  {name}: {count} inputs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
