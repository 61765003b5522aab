"""nbgrader and `grade batch` on the same students' exercise 3, timed in one run.

    python benchmarks/nbgrader_comparison.py NBGRADER [--students 20]

NBGRADER is the `nbgrader` program of an environment where nbgrader is installed (it is not a
dependency of this package: ``python -m venv /tmp/nbg && /tmp/nbg/bin/pip install nbgrader``).

The script builds an nbgrader course whose one notebook is exercise 3 (the chain rule): a solution
cell holding the reference solution, and three autograded test cells with plain asserts on
chain_rule, compose and the lesson's cos(x² - 1). The students' files come from the synthetic
class's generator (solutions, wrong answers, stubs, crashing files); each becomes a submitted
notebook, its code in the solution cell. It then times `nbgrader autograde` over all of them, and
`grade batch --exercise exercise3` over the same .py files. nbgrader's three asserts do far less
than this grader's 7 checks, which favours nbgrader in the comparison.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.synthetic_class import make_file  # noqa: E402
from grader.course import load_course  # noqa: E402
from grader.runner import load_checks  # noqa: E402

TESTS = {
    "test_chain_rule": (
        "import numpy as np\n"
        "value = chain_rule(lambda u: -np.sin(u), lambda x: x**2 - 1, lambda x: 2 * x, 1.5)\n"
        "assert abs(value - (-np.sin(1.5**2 - 1) * 3.0)) < 1e-9"
    ),
    "test_compose": (
        "import numpy as np\n"
        "f, f_prime = compose([(np.sin, np.cos), (np.exp, np.exp)])\n"
        "assert abs(f(0.3) - np.exp(np.sin(0.3))) < 1e-9\n"
        "assert abs(f_prime(0.3) - np.exp(np.sin(0.3)) * np.cos(0.3)) < 1e-9"
    ),
    "test_lesson_function": (
        "import numpy as np\n"
        "x = np.linspace(-2, 2, 9)\n"
        "assert np.allclose(cos_of_square_minus_one(x), np.cos(x**2 - 1))\n"
        "assert np.allclose(cos_of_square_minus_one_derivative(x), -np.sin(x**2 - 1) * 2 * x)"
    ),
}


def notebook(code: str, solution: bool) -> nbformat.NotebookNode:
    """The exercise as an nbgrader notebook; ``code`` goes in its one solution cell."""
    body = f"### BEGIN SOLUTION\n{code}\n### END SOLUTION" if solution else code
    cells = [
        nbformat.v4.new_code_cell(
            body,
            metadata={
                "nbgrader": {
                    "grade": False,
                    "solution": True,
                    "locked": False,
                    "grade_id": "answer",
                    "schema_version": 3,
                }
            },
        )
    ]
    for name, test in TESTS.items():
        cells.append(
            nbformat.v4.new_code_cell(
                test,
                metadata={
                    "nbgrader": {
                        "grade": True,
                        "solution": False,
                        "locked": True,
                        "grade_id": name,
                        "points": 1,
                        "schema_version": 3,
                    }
                },
            )
        )
    result = nbformat.v4.new_notebook(cells=cells)
    result.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("nbgrader", help="the nbgrader program to run")
    parser.add_argument("--students", type=int, default=20)
    args = parser.parse_args()
    course = load_course(REPO / "course.yaml")
    exercise = course.exercise("exercise3")
    points = {check.id: check.points for check in load_checks(course, exercise)}
    rng = random.Random(5)
    kinds = ("correct", "wrong", "stub", "crash")
    sources = []
    for _ in range(args.students):
        kind = rng.choices(kinds, weights=(45, 30, 12, 8))[0]
        source, _ = make_file(course, exercise, kind, rng, points)
        assert source is not None
        sources.append(source)

    with tempfile.TemporaryDirectory(prefix="nbgrader-comparison-") as scratch:
        root = Path(scratch)
        nb_course = root / "nbgrader"
        (nb_course / "source" / "ps1").mkdir(parents=True)
        (nb_course / "nbgrader_config.py").write_text(
            f"c = get_config()\nc.CourseDirectory.root = {str(nb_course)!r}\n"
            "c.CourseDirectory.course_id = 'gradients'\n"
        )
        solution = exercise.solution_file.read_text() if exercise.solution_file else ""
        nbformat.write(notebook(solution, True), nb_course / "source" / "ps1" / "exercise3.ipynb")
        # nbgrader runs its environment's own programs (alembic, jupyter) by name.
        environment = {
            **os.environ,
            "PATH": f"{Path(args.nbgrader).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        run = {"cwd": nb_course, "capture_output": True, "text": True, "env": environment}
        done = subprocess.run([args.nbgrader, "generate_assignment", "ps1", "--force"], **run)
        if done.returncode != 0:
            sys.exit(f"nbgrader generate_assignment failed: {done.stderr[-2000:]}")
        submissions = root / "class"
        for number, source in enumerate(sources):
            name = f"student{number:03d}"
            folder = nb_course / "submitted" / name / "ps1"
            folder.mkdir(parents=True)
            nbformat.write(notebook(source, False), folder / "exercise3.ipynb")
            (folder / "timestamp.txt").write_text("2026-11-28 12:00:00.000000 UTC")
            (submissions / name).mkdir(parents=True)
            (submissions / name / exercise.file_name).write_text(source)

        started = time.perf_counter()
        done = subprocess.run([args.nbgrader, "autograde", "ps1", "--force"], **run)
        nbgrader_seconds = time.perf_counter() - started
        # A submission that kills its kernel (os._exit) is an error for nbgrader: it says so,
        # goes on with the others, and exits non-zero at the end.
        failed = len(
            set(re.findall(r"error processing assignment '\S+' for student '(\S+)'", done.stderr))
        )
        graded = len(list((nb_course / "autograded").glob("*/ps1/exercise3.ipynb")))

        started = time.perf_counter()
        done = subprocess.run(
            [
                *(sys.executable, "-m", "grader", "batch", str(submissions)),
                *("--out", str(root / "out"), "--exercise", "exercise3"),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        ours = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"grade batch failed: {done.stderr[-2000:]}")

    print("| tool | submissions | not graded | wall time | per submission |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| `nbgrader autograde` (3 asserts) | {len(sources)} | {failed} | "
        f"{nbgrader_seconds:.1f} s | {nbgrader_seconds / len(sources):.2f} s |"
    )
    print(
        f"| `grade batch --exercise exercise3` (7 checks) | {len(sources)} | 0 | {ours:.1f} s | "
        f"{ours / len(sources):.3f} s |"
    )
    print(f"\nnbgrader wrote {graded} autograded notebooks.")


if __name__ == "__main__":
    main()
