"""check() as a Jupyter student uses it: in a real kernel (nbclient), in a student release, on a
solved notebook, a wrong answer, an unsaved edit, a lambda helper and a redefined function; and
the HTML it shows, opened in headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from grader.cli import main
from grader.notebook_report import NotebookReport
from grader.notebooks import notebook_from_source
from grader.results import CheckResult, ExerciseResult
from grader.unsaved import differing_names, kernel_file, unsaved_line
from tests.helpers import REPO, with_function
from tests.test_batch_outputs import browser

CHECK_CELL = 'from grader import check\nreport = check("exercise3")\nreport'
NOTEBOOK = "exercise3_chain_rule.ipynb"


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("release") / "student"
    assert main(["release", "student", str(dest), "--course", str(REPO)]) == 0
    return dest


@pytest.fixture
def release(released: Path, tmp_path: Path) -> Path:
    """A fresh copy of the student release, for one test to write its notebook into."""
    return Path(shutil.copytree(released, tmp_path / "student"))


def solution_notebook(source: str | None = None) -> nbformat.NotebookNode:
    text = source or (REPO / "solutions/exercise3_chain_rule.py").read_text()
    return notebook_from_source(text, "exercise3")


def run_in_kernel(notebook: nbformat.NotebookNode, folder: Path) -> nbformat.NotebookNode:
    """Run every cell as Jupyter does, in ``folder``; the notebook with its outputs."""
    from jupyter_client.kernelspec import KernelSpecManager

    if "python3" not in KernelSpecManager().find_kernel_specs():
        pytest.skip("no python3 Jupyter kernel installed (pip install ipykernel)")
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    return notebook


def shown(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """What the last cell displayed: its text/plain and text/html."""
    [output] = [item for item in notebook.cells[-1].outputs if item.get("data")]
    return {"text": output["data"]["text/plain"], "html": output["data"].get("text/html", "")}


def grade_json(release: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "grader", "exercise3", "--format", "json"],
        cwd=release / "exercises",
        capture_output=True,
        text=True,
        check=False,
    )
    return json.loads(done.stdout)


def checked(release: Path, notebook: nbformat.NotebookNode, *before: str) -> dict[str, str]:
    """Save ``notebook`` into the release, run it in a kernel with ``before`` cells and the
    check cell appended; what the check cell showed."""
    nbformat.write(notebook, release / "exercises" / NOTEBOOK)
    running = nbformat.reads(nbformat.writes(notebook), as_version=4)
    running.cells += [nbformat.v4.new_code_cell(code) for code in (*before, CHECK_CELL)]
    return shown(run_in_kernel(running, release / "exercises"))


@pytest.mark.slow
def test_a_solved_notebook_scores_as_grade_does(release: Path) -> None:
    seen = checked(release, solution_notebook())
    assert "Score 6/6" in seen["text"]
    assert "+ 4 more points from hidden checks" in seen["text"]
    graded = grade_json(release)
    assert graded["score"] == 6
    assert "6 / 6" in seen["html"] and "not graded" not in seen["html"]
    # grade's note on choosing the notebook over the .py is for a terminal, not for this notebook
    assert any("--submission" in note for note in graded["notes"])
    assert "--submission" not in seen["text"] and "--submission" not in seen["html"]


@pytest.mark.slow
def test_a_wrong_answer_is_named_and_shown_first(release: Path) -> None:
    wrong = with_function(
        (REPO / "solutions/exercise3_chain_rule.py").read_text(),
        "def chain_rule(f_prime, g, g_prime, x):\n    return f_prime(g(x))\n",
    )
    seen = checked(release, solution_notebook(wrong))
    assert grade_json(release)["score"] == 4
    assert "Score 4/6" in seen["text"]
    assert "inner derivative g'(x) is missing" in seen["text"]
    html = seen["html"]
    assert html.index('class="check failed"') < html.index('class="check passed"')


@pytest.mark.slow
def test_an_unsaved_edit_is_not_graded_but_told_to_save(release: Path) -> None:
    """The kernel ran the solution; the file on disk still holds the stub."""
    stub = release / "exercises" / NOTEBOOK
    saved = stub.read_text()
    running = solution_notebook()
    running.cells += [nbformat.v4.new_code_cell(CHECK_CELL)]
    stub.write_text(saved)
    seen = shown(run_in_kernel(running, release / "exercises"))
    assert "not graded" in seen["text"] and "save the notebook (Ctrl+S)" in seen["text"]
    assert "Score" not in seen["text"]
    assert "`chain_rule`" in seen["text"]


@pytest.mark.slow
def test_a_lambda_helper_and_a_computed_constant_are_graded(release: Path) -> None:
    notebook = solution_notebook()
    cell = next(cell for cell in notebook.cells if "def chain_rule" in cell.source)
    cell.source = "inner = lambda x: x\nTWO = 2 * 1.0\n" + cell.source.replace(
        "return ", "return inner(TWO / 2) * ", 1
    )
    seen = checked(release, notebook)
    assert "Score 6/6" in seen["text"], seen["text"]


@pytest.mark.slow
def test_a_later_cell_redefining_a_stub_is_what_is_graded(release: Path) -> None:
    """The stub's cells are left as they were; the solution is added at the end, as a student
    who writes their answers in new cells does. The .py stub beside it is untouched."""
    stub_notebook = nbformat.read(release / "exercises" / NOTEBOOK, as_version=4)
    solution = solution_notebook()
    stub_notebook.cells += [
        nbformat.v4.new_code_cell(cell.source)
        for cell in solution.cells
        if cell.cell_type == "code" and "def " in cell.source
    ]
    nbformat.write(stub_notebook, release / "exercises" / NOTEBOOK)
    for path in (release / "exercises").glob("exercise3_chain_rule.*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))  # saved together, as a clone leaves them
    assert grade_json(release)["score"] == 6
    seen = checked(release, stub_notebook)
    assert "Score 6/6" in seen["text"], seen["text"]


@pytest.mark.slow
def test_handing_in_from_the_notebook_writes_the_zip_grade_submit_writes(release: Path) -> None:
    seen = checked(release, solution_notebook(), 'from grader import check\ncheck("submit")')
    # checked() showed the last cell; the hand-in cell ran before it.
    with zipfile.ZipFile(release / "submission.zip") as handed:
        assert f"exercises/{NOTEBOOK}" in handed.namelist()
    assert "Score 6/6" in seen["text"]


@pytest.mark.slow
def test_handing_in_is_refused_while_the_kernel_code_is_unsaved(release: Path) -> None:
    running = solution_notebook()
    running.cells += [nbformat.v4.new_code_cell('from grader import check\ncheck("submit")')]
    seen = shown(run_in_kernel(running, release / "exercises"))
    assert "not handed in" in seen["text"] and "save the notebook" in seen["text"]
    assert not (release / "submission.zip").exists()


@pytest.mark.slow
@pytest.mark.skipif(
    browser() is None,
    reason="no headless Chromium here (Debian: apt-get install chromium-headless-shell)",
)
def test_the_report_shows_the_score_and_the_failing_checks_in_a_browser(
    release: Path, tmp_path: Path
) -> None:
    wrong = with_function(
        (REPO / "solutions/exercise3_chain_rule.py").read_text(),
        "def chain_rule(f_prime, g, g_prime, x):\n    return f_prime(g(x))\n",
    )
    seen = checked(release, solution_notebook(wrong))
    page = tmp_path / "cell.html"
    page.write_text(f"<!DOCTYPE html><html><body>{seen['html']}</body></html>", encoding="utf-8")
    command = [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access"]
    dom = subprocess.run(
        [*command, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    assert "exercise3 · The chain rule" in dom
    assert "4 / 6" in dom
    failing = dom.index('class="check failed"')
    assert "chain_rule gives the lesson" in dom[failing : failing + 400]
    assert "inner derivative" in dom


# ---------------------------------------------------------------- without a kernel


def test_a_definition_edited_after_it_ran_differs() -> None:
    ran = ["def f(x):\n    return x + 1\n", "def g(x):\n    return 2 * x\n"]
    assert (
        differing_names(ran, ["def f(x):\n    return x + 1\n\n\ndef g(x):\n    return 2 * x"]) == []
    )
    assert differing_names(
        ran, ["def f(x):\n    return x + 2\n", "def g(x):\n    return 2 * x"]
    ) == ["f"]
    # The last definition the kernel ran counts, as in the kernel.
    rerun = [*ran, "def f(x):\n    return x + 2\n"]
    assert differing_names(rerun, ["def f(x):\n    return x + 2\n", "def g(x): return 2 * x"]) == []


def test_constants_set_again_are_not_an_unsaved_edit() -> None:
    ran = ["h = 1e-3", "def f(x):\n    return x + h", "h = 1e-6", "h = 1e-3"]
    assert differing_names(ran, ["h = 1e-6\ndef f(x):\n    return x + h"]) == []


def notebook_file(folder: Path, name: str, *cells: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(cell) for cell in cells]
    path = folder / name
    path.write_text(nbformat.writes(notebook))
    return path


def test_among_several_exercises_only_the_kernels_own_file_is_compared(tmp_path: Path) -> None:
    """Exercises share function names; the kernel's notebook is the one holding the cells it
    ran that no other file holds (its check cell), not one that shares a function name."""
    seventh = notebook_file(tmp_path, "e7.ipynb", "def linear(x):\n    return x", 'check("e7")')
    ninth = notebook_file(tmp_path, "e9.ipynb", "def linear(x):\n    return 2 * x", 'check("e9")')
    ran = ["def linear(x):\n    return 2 * x", 'check("e9")']
    assert kernel_file(ran, [seventh, ninth]) == ninth
    assert unsaved_line(ran, ninth) is None
    assert unsaved_line(ran, seventh) is not None  # what comparing every file would have said
    assert kernel_file(["def linear(x):\n    return 3 * x"], [seventh, ninth]) is None


def report_with(message: str, status: str = "failed") -> NotebookReport:
    checks = [
        CheckResult("a", "first", 1, 1, "passed", False, ""),
        CheckResult("b", "second", 0, 2, status, False, message),  # type: ignore[arg-type]
    ]
    result = ExerciseResult("exercise3", "The chain rule", 3, "x.ipynb", checks)
    return NotebookReport("exercise3", results=[result])


def test_the_html_report_escapes_what_the_student_code_said() -> None:
    html = report_with('<script>alert("x")</script>\x1b[2J')._repr_html_()
    assert html is not None
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "\x1b" not in html


def test_the_report_has_the_score_and_withholds_it_when_unsaved() -> None:
    report = report_with("expected 1, got 2")
    assert (report.score, report.max_score) == (1, 3)
    assert "Score 1/3" in str(report) and "expected 1, got 2" in str(report)
    report.stale["exercise3"] = "the saved x.ipynb differs from what your kernel ran"
    assert report.score is None and report.checks == []
    assert "not graded" in str(report) and "Score" not in str(report)


def test_a_mistyped_exercise_is_one_line_not_a_traceback() -> None:
    from grader.notebook_api import check

    report = check("exercise33", course=REPO)
    assert report.score is None
    assert report.problem is not None and "did you mean exercise3" in report.problem
    assert "\n" not in report.problem and "Traceback" not in str(report)
    html = report._repr_html_()
    assert html is not None and "did you mean exercise3" in html


def test_several_exercises_show_the_total_and_fold_each_exercise() -> None:
    one = report_with("expected 1, got 2")
    two = NotebookReport("all", results=[*one.results, *report_with("x").results])
    html = two._repr_html_()
    assert html is not None and "Total 2 / 6" in html
    assert html.count('<details class="exercise"') == 2 and " open>" not in html
    single = one._repr_html_()
    assert single is not None and '<details class="exercise" id="exercise3" open>' in single
