"""False failures: the reference solutions must pass every check under any course seed.

    python quality/seed_sweep.py [--seeds 1000] [--jobs 2]

Every check draws its random inputs from the course seed; a check that fails correct code for
some seed would fail a correct student. This grades each exercise's solution under seeds
1 .. N (one worker per exercise and process, reused across seeds) and prints every failure with
its seed and message, then a table of checks run and failures per exercise. The goal: none.
The test suite runs a few seeds; this script runs the 1,000.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.course import load_course  # noqa: E402
from grader.runner import check_rng, load_checks, run_check  # noqa: E402
from grader.student_code.objects import StudentModule  # noqa: E402
from grader.student_code.session import StudentSession  # noqa: E402
from grader.submission import Source, read_source  # noqa: E402


def sweep(task: tuple[str, list[int]]) -> tuple[str, int, list[str]]:
    """Grade one exercise's solution under ``seeds``: (exercise, checks run, failures)."""
    exercise_id, seeds = task
    course = load_course(REPO / "course.yaml")
    exercise = course.exercise(exercise_id)
    assert exercise.solution_file is not None
    checks = load_checks(course, exercise)
    source = read_source(exercise.solution_file)
    assert isinstance(source, Source)
    failures, runs = [], 0
    session = StudentSession(source, exercise.limits, time.monotonic() + 10**6)
    try:
        for index, seed in enumerate(seeds):
            if index % 50 == 0:  # a grading gets a fresh worker: don't let CPU time pile up
                session.close()
                session = StudentSession(source, exercise.limits, time.monotonic() + 10**6)
                student = StudentModule(session)
            for check in checks:
                result = run_check(check, student, check_rng(seed, exercise.id, check.id), exercise)
                runs += 1
                if result.status != "passed":
                    failures.append(f"seed {seed}: {exercise.id} {check.id}: {result.message}")
    finally:
        session.close()
    return exercise_id, runs, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    course = load_course(REPO / "course.yaml")
    seeds = list(range(1, args.seeds + 1))
    chunks = [seeds[start :: args.jobs] for start in range(args.jobs)]
    tasks = [(exercise.id, chunk) for exercise in course.exercises for chunk in chunks]
    started = time.monotonic()
    totals: dict[str, list[int]] = {exercise.id: [0, 0] for exercise in course.exercises}
    with multiprocessing.Pool(args.jobs) as pool:
        for exercise_id, runs, failures in pool.imap_unordered(sweep, tasks):
            totals[exercise_id][0] += runs
            totals[exercise_id][1] += len(failures)
            for failure in failures:
                print(failure, flush=True)
    print(f"\n{args.seeds} seeds, {time.monotonic() - started:.0f} s\n")
    print("| exercise | checks run | false failures |")
    print("|---|---|---|")
    for exercise_id, (runs, failed) in totals.items():
        print(f"| {exercise_id} | {runs} | {failed} |")
    return 1 if any(failed for _, failed in totals.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
