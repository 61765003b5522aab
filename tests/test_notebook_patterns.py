"""Correct notebooks written the ways students write them score full marks, and where the rule
must leave a line out, the failing check names that line instead of a stale value or a rename.

Each case is exercise 1's solution as a notebook, with cells changed or added; every one runs top
to bottom in a kernel."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from grader.cli import main
from grader.notebooks import notebook_from_source
from tests.helpers import REPO

SOLUTION = (REPO / "solutions/exercise1_derivatives.py").read_text()
DEFINITION = "def numerical_derivative(f, x, h=1e-5):"
RETURN = "    return (f(x + h) - f(x - h)) / (2 * h)"


def graded(tmp_path: Path, capsys: pytest.CaptureFixture[str], notebook) -> dict:
    path = tmp_path / "exercise1_derivatives.ipynb"
    path.write_text(nbformat.writes(notebook))
    main(["exercise1", "--course", str(REPO), "--submission", str(path), "--format", "json"])
    return json.loads(capsys.readouterr().out)


def solved(*extra: str, replace: tuple[str, str] | None = None, before: str = "") -> object:
    """The solved notebook; ``replace`` changes the numerical_derivative cell's text; ``before``
    is a cell put before every function; ``extra`` cells go before the check cell."""
    notebook = notebook_from_source(SOLUTION, "exercise1")
    if replace is not None:
        cell = next(cell for cell in notebook.cells if DEFINITION in cell.source)
        cell.source = cell.source.replace(*replace)
    at = next(i for i, cell in enumerate(notebook.cells) if "def " in cell.source)
    if before:
        notebook.cells.insert(at, nbformat.v4.new_code_cell(before))
    notebook.cells[-1:-1] = [nbformat.v4.new_code_cell(code) for code in extra]
    return notebook


FULL_MARKS = {
    "a try-out spread over cells after a star import": solved(
        "from numpy import *", "xs = linspace(0, 1, 5)\nxs", "err = xs - 1.0\nerr"
    ),
    "the optional-import pattern": solved(
        before="try:\n    import scipy.special as sp\nexcept ImportError:\n    sp = None\n"
        "import numpy as np"
    ),
    "a pip line inside a Colab block": solved(
        before='import sys\nif "google.colab" in sys.modules:\n    !pip install -q numpy\n'
        "import numpy as np"
    ),
    "a timing magic assigned in the definition's cell": solved(
        replace=(
            RETURN,
            f"{RETURN}\n\n\nt = %timeit -o -q numerical_derivative(abs, 1.0)\nt.average",
        )
    ),
    "a configuration item set later with a literal": solved(
        before='CONFIG = {"h": 1e-1}\nCONFIG["h"] = 1e-5',
        replace=(DEFINITION, 'def numerical_derivative(f, x, h=CONFIG["h"]):'),
    ),
    "a lambda in a list": solved(before="PAIRS = [(abs, lambda u: u)]"),
    "an import in a try whose handler prints": solved(
        before='try:\n    import numpy as np\nexcept ImportError:\n    print("pip install numpy")'
    ),
    "a helper decorated by a left-out call, used by no graded function": solved(
        "import functools\nmemo = functools.lru_cache(maxsize=128)",
        "@memo\ndef _sq(x):\n    return x * x",
    ),
}


@pytest.mark.parametrize("case", FULL_MARKS)
def test_a_correct_notebook_scores_full_marks(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = graded(tmp_path, capsys, FULL_MARKS[case])
    failing = [test["message"] for test in report["tests"] if test["status"] != "passed"]
    assert report["score"] == 10, failing


NAMED = {
    # The default reads a constant whose line is left out: one function's checks fail, named.
    "a default from a left-out constant": (
        solved(before="H = float(1e-5)", replace=(DEFINITION, DEFINITION.replace("1e-5", "H"))),
        "`numerical_derivative` is defined in cell",
        "it uses `H`, which is left out, when it is defined",
    ),
    # The kernel's last h is 1e-5 (left out): grading must not run with the stale 0.5.
    "a constant set again by a left-out line": (
        solved(
            before="h = 0.5\nh = float(1e-5)",
            replace=(DEFINITION, DEFINITION.replace("1e-5", "h")),
        ),
        "`numerical_derivative` is defined in cell",
        "it uses `h`, which is left out",
    ),
    "a decorator made by a left-out call": (
        solved(
            before="import functools\nmemo = functools.lru_cache(maxsize=128)",
            replace=(DEFINITION, f"@memo\n{DEFINITION}"),
        ),
        "`numerical_derivative` is defined in cell",
        "(`@memo`)",
    ),
    "a stub redefined by a left-out line": (
        solved("three_x = np.vectorize(lambda x: 3 * x)"),
        "`three_x` is defined in cell",
        "np.vectorize",
    ),
    "a global set by a left-out setup call": (
        solved(
            "def setup():\n    global STEP\n    STEP = 1e-5\n\nsetup()",
            replace=(RETURN, f"    h = STEP\n{RETURN}"),
        ),
        "`STEP` is set in cell",
        "setup()",
    ),
}


@pytest.mark.parametrize("case", NAMED)
def test_a_left_out_line_is_named_where_it_costs(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notebook, *words = NAMED[case]
    report = graded(tmp_path, capsys, notebook)
    assert report["problem"] is None  # the rest of the file loads and is graded
    failing = [test for test in report["tests"] if test["status"] != "passed"]
    assert failing and report["score"] > 0
    first = failing[0]["message"]
    assert "Hint: " in first and "did you rename" not in first, first
    for word in words:
        assert word in first, first
