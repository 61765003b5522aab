"""Broken files get a clear message naming the file and what is wrong; nothing crashes the grader;
the other exercises are still graded. Fuzzed: no input makes the loaders raise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.cli import main
from grader.submission import Source, read_source
from tests.fuzz_targets import load_file, load_notebook_json, notebook_json
from tests.helpers import REPO

NOTEBOOKS = {
    "not JSON": ("{cells: [", "is not a notebook: not valid JSON"),
    "a JSON list": ("[1, 2]", "is not a notebook: its JSON is a list"),
    "no version": ('{"cells": []}', "has no nbformat version number"),
    "a future version": (
        '{"nbformat": 99, "nbformat_minor": 0, "cells": []}',
        "is not a valid notebook",
    ),
    "cells that are not a list": (
        '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": 7}',
        "is not a valid notebook",
    ),
}


@pytest.mark.parametrize("case", NOTEBOOKS, ids=list(NOTEBOOKS))
def test_broken_notebook_is_named_and_scores_zero(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text, words = NOTEBOOKS[case]
    path = tmp_path / "exercise3_chain_rule.ipynb"
    path.write_text(text)
    status = main(
        ["exercise3", "--course", str(REPO), "--submission", str(path), "--format", "json"]
    )
    report = json.loads(capsys.readouterr().out)
    assert status == 1 and report["score"] == 0
    assert (
        report["problem"].startswith("exercise3_chain_rule.ipynb ") and words in report["problem"]
    )


def test_old_notebook_versions_are_upgraded(tmp_path: Path) -> None:
    cell = {"cell_type": "code", "input": "x = 1\n", "language": "python", "outputs": []}
    for version in (2, 3):
        data = {
            "nbformat": version,
            "nbformat_minor": 0,
            "metadata": {},
            "worksheets": [{"cells": [cell], "metadata": {}}],
        }
        path = tmp_path / f"v{version}.ipynb"
        path.write_text(json.dumps(data))
        source = read_source(path)
        assert isinstance(source, Source) and source.text.startswith("x = 1")


def test_oversized_file_is_refused_without_reading_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "exercise1_derivatives.py"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # 50 MB, sparse
    status = main(
        ["exercise1", "--course", str(REPO), "--submission", str(path), "--format", "json"]
    )
    report = json.loads(capsys.readouterr().out)
    assert status == 1 and report["score"] == 0
    assert report["problem"] == "exercise1_derivatives.py is 50.0 MB; a submission is at most 5 MB"


@pytest.mark.slow
def test_a_broken_file_does_not_stop_the_other_exercises(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for exercise_file in (REPO / "solutions").glob("exercise*.py"):
        (tmp_path / exercise_file.name).write_text(exercise_file.read_text())
    (tmp_path / "exercise2_gradients.py").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    status = main(["all", "--course", str(REPO), "--submission", str(tmp_path), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert status == 1
    scores = {item["exercise"]: item["score"] for item in report["exercises"]}
    assert scores.pop("exercise2") == 0
    assert report["score"] == 90 and all(score > 0 for score in scores.values())


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@pytest.mark.slow
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".py", ".ipynb"]))
def test_any_bytes_load_or_are_refused(tmp_path: Path, data: bytes, suffix: str) -> None:
    load_file(tmp_path, data, suffix)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@pytest.mark.slow
@given(data=notebook_json)
def test_any_notebook_shaped_json_loads_or_is_refused(tmp_path: Path, data: object) -> None:
    load_notebook_json(tmp_path, data)
