"""How fast `grade batch` grades a class, and what a worker costs to start, on this machine.

    python benchmarks/batch_speed.py [--students 200] [--loops 4] [--jobs N] [--runs 20]

1. Worker start: a fresh worker (``python -I -m grader.sandbox.start``, numpy imported) against
   one forked from the warm fork server (grader.sandbox.forkserver), each from creation to
   "ready", then killed and reaped; medians of --runs, every protection layer this machine allows.
2. A synthetic class (benchmarks/synthetic_class.py: solutions, stubs, wrong answers, crashing
   files, --loops looping ones) graded by `grade batch` into an empty folder, timed as a user runs
   it, outputs included. Every score is compared with the one the class's maker expects. Then a
   class made the same way without looping files: a looping file spins a core until its timeout,
   which slows the gradings beside it, so the rate without any is the plain measure.

The goal is 50 gradings per second on 2 cores, not counting the time the looping files spend
reaching their timeout: the rate is (gradings - loops) / (wall time - loop seconds / jobs). The
course is graded with its own checks and a call limit of 2 s and a grading limit of 6 s, so that
the loops end sooner; no correct or wrong file comes near those limits.

Prints a Markdown table with the machine's description, ready for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.synthetic_class import make_class  # noqa: E402
from grader.batch.pool import usable_cpus  # noqa: E402
from grader.course import load_course  # noqa: E402
from grader.limits import Limits  # noqa: E402
from grader.sandbox.launcher import Launcher  # noqa: E402
from tests.helpers import write_course  # noqa: E402


def start_cost(runs: int, forked: bool) -> tuple[float, float]:
    """Median milliseconds from asking for a worker to its "ready", and to kill it after."""
    launcher = Launcher()
    if forked:
        launcher.use_forkserver()
    starts, kills = [], []
    try:
        for _ in range(runs):
            started = time.perf_counter()
            worker = launcher.take(Limits())
            worker.wait_ready()
            ready = time.perf_counter()
            worker.kill()
            starts.append(1000 * (ready - started))
            kills.append(1000 * (time.perf_counter() - ready))
    finally:
        launcher.close()
    return statistics.median(starts), statistics.median(kills)


def machine() -> str:
    model = "unknown processor"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--loops", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=len(usable_cpus()))  # as grade batch
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    fresh = start_cost(args.runs, forked=False)
    forked = start_cost(args.runs, forked=True)

    runs = [
        grade_class(args.students, loops, args.jobs)
        for loops in sorted({args.loops, 0}, reverse=True)
    ]
    print(f"Machine: {machine()}; `grade batch --jobs {args.jobs}`\n")
    print("| measure | value |")
    print("| --- | --- |")
    for name, (start, kill) in (("fresh interpreter", fresh), ("fork server", forked)):
        print(f"| worker start to ready, {name} (median of {args.runs}) | {start:.1f} ms |")
        print(f"| worker kill and reap, {name} (median of {args.runs}) | {kill:.1f} ms |")
    for run in runs:
        which = f"with {run.loops} looping files" if run.loops else "without looping files"
        print(f"| {which}: students / exercise files graded | {args.students} / {run.graded} |")
        if run.loops:
            print(f"| {which}: the loops' seconds to their timeouts | {run.loop_seconds:.1f} s |")
        print(f"| {which}: wall time of `grade batch`, outputs included | {run.wall:.1f} s |")
        print(f"| {which}: gradings per second, loops' timeouts left out | {run.rate:.1f} |")
        print(f"| {which}: scores different from the expected ones | {run.wrong} |")


@dataclass(frozen=True)
class ClassRun:
    loops: int
    graded: int
    loop_seconds: float
    wall: float
    rate: float
    wrong: int


def grade_class(students: int, loops: int, jobs: int) -> ClassRun:
    """Make a class with ``loops`` looping files, grade it into an empty folder, and measure."""
    with tempfile.TemporaryDirectory(prefix="batch-speed-") as scratch:
        root = Path(scratch)
        course = load_course(
            write_course(root, load_course(REPO / "course.yaml"), call_seconds=2, wall_seconds=6)
        )
        expected = make_class(course, root / "class", students, loops, seed=1)
        out = root / "out"
        started = time.perf_counter()
        done = subprocess.run(
            [
                *(sys.executable, "-m", "grader", "batch", str(root / "class" / "submissions")),
                *("--out", str(out), "--course", str(course.path), "--jobs", str(jobs)),
            ],
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"grade batch failed: {done.stderr}")
        with sqlite3.connect(out / "gradebook.sqlite") as db:
            rows = db.execute(
                "SELECT student, exercise, file_hash, raw_score, seconds FROM gradings"
            ).fetchall()
    looping = {key for key, score in expected.items() if score is None}
    graded = [row for row in rows if row[2] != "none"]
    loop_seconds = sum(row[4] for row in graded if (row[0], row[1]) in looping)
    wrong = sum(
        1
        for student, exercise, _, score, _ in rows
        if expected[(student, exercise)] is not None
        and abs(expected[(student, exercise)] - score) > 1e-9  # type: ignore[operator]
    )
    rate = (len(graded) - len(looping)) / (wall - loop_seconds / jobs)
    return ClassRun(loops, len(graded), loop_seconds, wall, rate, wrong)


if __name__ == "__main__":
    main()
