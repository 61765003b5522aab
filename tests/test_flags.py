"""Suspicious imports and calls are flagged for the instructor in the JSON report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.cli import main
from grader.flags import suspicious_uses
from tests.helpers import REPO


def test_suspicious_imports_and_calls_are_named_with_their_lines() -> None:
    source = (
        "import numpy as np\nimport ctypes, os\nfrom solutions import exercise1\n"
        "os._exit(0)\nexec('1')\nimport subprocess as sp\nfrom grader.checks import fail\n"
    )
    assert suspicious_uses(source) == [
        "line 2: imports ctypes (raw memory and C calls)",
        "line 3: imports solutions (the reference solutions)",
        "line 4: calls _exit (ending the process)",
        "line 5: calls exec (running code built at run time)",
        "line 6: imports subprocess (starting other programs)",
        "line 7: imports grader.checks (the grader itself)",
    ]


def test_the_solutions_raise_no_flag() -> None:
    for path in sorted((REPO / "solutions").glob("exercise*.py")):
        assert suspicious_uses(path.read_text()) == [], path.name


def test_code_that_does_not_parse_has_no_flags() -> None:
    assert suspicious_uses("import ctypes\ndef broken(:\n") == []


def test_flags_are_in_the_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    solution = (REPO / "solutions" / "exercise3_chain_rule.py").read_text()
    path = tmp_path / "exercise3_chain_rule.py"
    path.write_text("import socket\n" + solution)
    status = main(
        ["exercise3", "--course", str(REPO), "--submission", str(path), "--format", "json"]
    )
    report = json.loads(capsys.readouterr().out)
    assert status == 0  # a flag is not a penalty
    assert report["flags"] == ["line 1: imports socket (network connections)"]


def test_names_spelled_in_another_script_are_found() -> None:
    """Python reads a fullwidth ｅｘｅｃ as exec: code that is not ASCII is always read."""
    assert suspicious_uses('ｅｘｅｃ("print(1)")\n') == [
        "line 1: calls exec (running code built at run time)"
    ]
