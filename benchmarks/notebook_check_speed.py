"""How long ``check("exercise3")`` takes in a notebook, side by side with `grade exercise3`.

    python benchmarks/notebook_check_speed.py [--runs 10]

In a student release (written to a temporary folder) with the solved exercise 3 notebook saved,
a real Jupyter kernel (nbclient) runs the notebook's cells, then times ``check("exercise3")``
--runs times inside the kernel; the same number of `grade exercise3` runs are timed as fresh
processes, alternating with nothing else running. Prints a Markdown table with the machine's
description, the medians and their ratio, ready to paste into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.grading_speed import machine  # noqa: E402
from grader.notebooks import notebook_from_source  # noqa: E402

TIMED_CELL = """
import json, time
from grader import check
times = []
for _ in range({runs}):
    started = time.perf_counter()
    report = check("exercise3")
    times.append(time.perf_counter() - started)
    assert report.score == report.max_score, report
print(json.dumps(times))
"""


def kernel_times(release: Path, runs: int) -> list[float]:
    """Seconds each check("exercise3") took in a kernel that ran the solved notebook."""
    solution = (REPO / "solutions/exercise3_chain_rule.py").read_text()
    notebook = notebook_from_source(solution, "exercise3")
    nbformat.write(notebook, release / "exercises/exercise3_chain_rule.ipynb")
    notebook.cells.append(nbformat.v4.new_code_cell(TIMED_CELL.format(runs=runs + 1)))
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(release)}}
    ).execute()
    printed = next(item["text"] for item in notebook.cells[-1].outputs if "text" in item)
    return [float(value) for value in json.loads(printed)][1:]  # the first warms up


def grade_times(release: Path, runs: int) -> list[float]:
    """Seconds each `grade exercise3` took as a fresh process in the release."""
    command = [sys.executable, "-m", "grader", "exercise3"]
    subprocess.run(command, cwd=release, capture_output=True, check=False)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=release, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        release = Path(folder) / "student"
        subprocess.run(
            [sys.executable, "-m", "grader", "release", "student", str(release)],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        in_kernel = kernel_times(release, args.runs)
        in_terminal = grade_times(release, args.runs)
    kernel, terminal = statistics.median(in_kernel), statistics.median(in_terminal)
    print(f"{machine()}; {args.runs} runs each\n")
    print("| what | median | best |")
    print("|---|---|---|")
    print(f'| `check("exercise3")` in a kernel | {kernel:.3f} s | {min(in_kernel):.3f} s |')
    print(f"| `grade exercise3` | {terminal:.3f} s | {min(in_terminal):.3f} s |")
    print(f"\nratio check / grade: {kernel / terminal:.2f}")


if __name__ == "__main__":
    main()
