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
from collections.abc import Callable
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
# target name -> (the strategies of its arguments, what it does with them)
TARGETS: dict[str, tuple[tuple[st.SearchStrategy, ...], Callable[..., None]]] = {
    "protocol frames": ((st.binary(max_size=4000),), parse_frames),
    "submission bytes": (
        (st.binary(max_size=4000), st.sampled_from([".py", ".ipynb"])),
        lambda data, suffix: load_file(FOLDER, data, suffix),
    ),
    "notebook JSON": ((notebook_json,), lambda data: load_notebook_json(FOLDER, data)),
}
counts = dict.fromkeys(TARGETS, 0)


def run_round(name: str, number: int) -> None:
    """One round of a target: a new hypothesis test (settings apply once per function)."""
    strategies, body = TARGETS[name]

    def counted(arguments: tuple[object, ...]) -> None:
        counts[name] += 1
        body(*arguments)

    seed(number)(ROUND(given(st.tuples(*strategies))(counted)))()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    minutes = parser.parse_args().minutes
    names = list(TARGETS)
    started = time.monotonic()
    round_number = 0
    while time.monotonic() - started < minutes * 60:
        name = names[round_number % len(names)]
        try:
            run_round(name, round_number)
        except Exception as error:  # a finding: hypothesis has shrunk and printed the input
            print(f"FOUND in {name}, round {round_number}: {type(error).__name__}: {error}")
            return 1
        round_number += 1
    elapsed = time.monotonic() - started
    print(f"{elapsed / 60:.1f} minutes, {round_number} rounds, nothing found")
    for name, count in counts.items():
        print(f"  {name}: {count} inputs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
