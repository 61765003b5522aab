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
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fuzz_targets import (  # noqa: E402
    load_file,
    load_notebook_json,
    notebook_json,
    parse_frames,
)

ROUND = settings(
    max_examples=2000, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
FOLDER = Path(tempfile.mkdtemp(prefix="fuzz-"))
counts = {"protocol frames": 0, "submission bytes": 0, "notebook JSON": 0}


@given(st.binary(max_size=4000))
def protocol_frames(data: bytes) -> None:
    counts["protocol frames"] += 1
    parse_frames(data)


@given(st.binary(max_size=4000), st.sampled_from([".py", ".ipynb"]))
def submission_bytes(data: bytes, suffix: str) -> None:
    counts["submission bytes"] += 1
    load_file(FOLDER, data, suffix)


@given(notebook_json)
def notebook_documents(data: object) -> None:
    counts["notebook JSON"] += 1
    load_notebook_json(FOLDER, data)


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
