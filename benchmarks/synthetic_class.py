"""A synthetic class for `grade batch`: student folders and zips made from the solutions, the
stubs and the realistic wrong answers of the test suite, with the score each file should get.

    python benchmarks/synthetic_class.py DEST [--students 200] [--loops 4] [--seed 1]

Each student's exercises are, at random: the solution (45 %), one of the test suite's wrong
answers for that exercise (30 %), the untouched stub (12 %), a file that crashes its process while
loading (8 %: an exception, or os._exit), or nothing at all (5 %). ``--loops`` exercise files,
spread over the class, loop forever in one function, so their checks time out. About one student
in seven hands in a .zip instead of a folder, and one file in ten is a notebook.

DEST/expected.csv gives, per student and exercise, the score the file must get (empty for the
loops, whose score depends on which checks reach the looping function before the time runs out).
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import sys
import zipfile
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from grader.course import Course, Exercise, load_course  # noqa: E402
from grader.runner import load_checks  # noqa: E402
from tests import test_wrong_implementations, test_wrong_implementations_course  # noqa: E402
from tests.helpers import Mistake, with_function, with_method  # noqa: E402

CRASHES = (
    'raise RuntimeError("left over from debugging")\n',
    "import os\nos._exit(3)\n",
)
LOOP = "\n\ndef {name}(*args, **kwargs):\n    while True:\n        pass\n"


def mistakes(exercise: Exercise) -> list[Mistake]:
    number = exercise.id.removeprefix("exercise")
    for module in (test_wrong_implementations, test_wrong_implementations_course):
        found = getattr(module, f"EXERCISE{number}", None)
        if found:
            return list(found)
    return []


def _looping(source: str) -> str:
    """``source`` with its first student function (or, in a class, method) looping forever."""
    import ast

    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            if not (ast.get_docstring(node) or "").startswith("Given:"):
                return source + LOOP.format(name=node.name)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and not item.name.startswith("__"):
                    return (
                        source
                        + LOOP.format(name="_forever")
                        + (f"\n\n{node.name}.{item.name} = _forever\n")
                    )
    raise ValueError("no student function")


def make_file(
    course: Course, exercise: Exercise, kind: str, rng: random.Random, points: dict[str, float]
) -> tuple[str | None, float | None]:
    """(source, expected score) of one exercise file of ``kind``; source None: no file."""
    assert exercise.solution_file is not None
    solution = exercise.solution_file.read_text()
    if kind == "correct":
        return solution, exercise.points
    if kind == "stub":
        return exercise.student_file.read_text(), 0.0
    if kind == "crash":
        return solution + "\n" + rng.choice(CRASHES), 0.0
    if kind == "missing":
        return None, 0.0
    if kind == "loop":
        return _looping(solution), None
    case = rng.choice(mistakes(exercise))
    swap = with_method if case.code.startswith("\n    def ") else with_function
    lost = sum(points[check] for check in case.fails)
    return swap(solution, case.code), exercise.points - lost


def make_class(
    course: Course, dest: Path, students: int, loops: int, seed: int
) -> dict[tuple[str, str], float | None]:
    """Write the class into ``dest`` (emptied first); the expected score of every file."""
    rng = random.Random(seed)
    shutil.rmtree(dest, ignore_errors=True)
    (dest / "submissions").mkdir(parents=True)
    points = {
        exercise.id: {check.id: check.points for check in load_checks(course, exercise)}
        for exercise in course.exercises
    }
    cells = [(s, e) for s in range(students) for e in range(len(course.exercises))]
    looping = set(rng.sample(cells, min(loops, len(cells))))
    expected: dict[tuple[str, str], float | None] = {}
    kinds = ("correct", "wrong", "stub", "crash", "missing")
    weights = (45, 30, 12, 8, 5)
    for number in range(students):
        name = f"student{number:03d}"
        zipped = rng.random() < 1 / 7
        folder = dest / ("unzipped" if zipped else "submissions") / name / "exercises"
        folder.mkdir(parents=True)
        for index, exercise in enumerate(course.exercises):
            kind = "loop" if (number, index) in looping else rng.choices(kinds, weights=weights)[0]
            source, score = make_file(course, exercise, kind, rng, points[exercise.id])
            expected[(name, exercise.id)] = score
            if source is None:
                continue
            # A notebook is graded without its top-level statements: no crash or loop can be one.
            if kind not in ("crash", "loop") and rng.random() < 0.1:
                notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
                path = folder / (exercise.student_file.stem + ".ipynb")
                path.write_text(nbformat.writes(notebook))
            else:
                (folder / exercise.file_name).write_text(source)
        if zipped:
            archive = dest / "submissions" / f"{name}.zip"
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
                for path in sorted(folder.parent.rglob("*")):
                    handle.write(path, path.relative_to(folder.parent.parent))
    shutil.rmtree(dest / "unzipped", ignore_errors=True)
    with (dest / "expected.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "exercise", "expected"])
        for (student, exercise_id), score in sorted(expected.items()):
            writer.writerow([student, exercise_id, "" if score is None else f"{score:g}"])
    return expected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--loops", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--course", type=Path, default=REPO / "course.yaml")
    args = parser.parse_args()
    expected = make_class(load_course(args.course), args.dest, args.students, args.loops, args.seed)
    where = args.dest / "submissions"
    print(f"{args.students} students, {len(expected)} exercise files in {where}")


if __name__ == "__main__":
    main()
