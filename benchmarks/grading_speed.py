"""How long one grading takes, against the interpreter's own fixed costs, on this machine.

    python benchmarks/grading_speed.py [--runs 20]

Times, as wall clock over fresh processes (median and best of --runs):
- ``python -c pass`` and ``python -c "import numpy"``: the floor any Python grader pays;
- ``grade exercise3 --submission solutions``: one whole grading, as a user runs it, with every
  protection layer this machine allows, again without the grading's cgroup, and again without
  the namespace layers and the private view as well.

The goal: a grading takes at most 0.5 s and at most 4x ``python -c "import numpy"``. Prints a
Markdown table with the machine's description, ready to paste into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def wall_times(
    command: list[str], runs: int, environment: dict[str, str] | None = None
) -> list[float]:
    """Seconds each of ``runs`` runs of ``command`` took, after one warm-up run."""
    env = {**os.environ, **(environment or {})}
    subprocess.run(command, cwd=REPO, capture_output=True, check=False, env=env)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=REPO, capture_output=True, check=False, env=env)
        times.append(time.perf_counter() - started)
    return times


def machine() -> str:
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    grade = Path(sys.executable).with_name("grade")
    grade_command = [str(grade)] if grade.exists() else [sys.executable, "-m", "grader"]
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import numpy"': [sys.executable, "-c", "import numpy"],
        "grade exercise3 --submission solutions": [
            *grade_command,
            "exercise3",
            "--submission",
            "solutions",
        ],
    }
    results = {name: wall_times(command, runs) for name, command in commands.items()}
    # What the grading's container costs: the same grading with its cgroup switched off, then
    # with the namespace layers and the private view switched off too, as on a machine that
    # forbids them.
    grading = commands["grade exercise3 --submission solutions"]
    results["the same, GRADE_NO_CGROUPS=1"] = wall_times(grading, runs, {"GRADE_NO_CGROUPS": "1"})
    results["the same, and GRADE_NO_NAMESPACES=1"] = wall_times(
        grading, runs, {"GRADE_NO_CGROUPS": "1", "GRADE_NO_NAMESPACES": "1"}
    )
    print(f"Machine: {machine()}; {runs} runs each, {time.strftime('%Y-%m-%d')}\n")
    print("| command | median (ms) | best (ms) |")
    print("|---|---|---|")
    for name, times in results.items():
        print(f"| `{name}` | {statistics.median(times) * 1000:.0f} | {min(times) * 1000:.0f} |")
    grading = statistics.median(results["grade exercise3 --submission solutions"])
    numpy_import = statistics.median(results['python -c "import numpy"'])
    print(
        f"\nOne grading: {grading * 1000:.0f} ms (goal: at most 500 ms), "
        f"{grading / numpy_import:.2f}x `import numpy` (goal: at most 4x)."
    )


if __name__ == "__main__":
    main()
