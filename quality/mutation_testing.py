"""How strong the checks are: mutation testing of every solution with cosmic-ray.

    python quality/mutation_testing.py [exercise3 exercise7 ...]

For each exercise, a copy of its reference solution is mutated by cosmic-ray, one small change at
a time (an operator swapped, a number changed, a comparison flipped, ...), and each mutant is
graded as a student submission against the untouched reference:

    grade EXERCISE --submission <mutated copy>

Exit status 0 (full marks) means the mutant survived: the checks did not notice the change. The
script prints, per exercise, the mutants, how many were killed, the kill rate among the
non-equivalent ones, and every survivor with its line. Mutants inside helpers the exercise gives
the student ("Given:" docstrings) are not the student's code and are left out. A survivor that
cannot change any result (an equivalent mutant) is listed with the reason in
quality/equivalent_mutants.toml and excluded from the rate. The goal: at least 95 % per exercise.

Needs cosmic-ray (pip install cosmic-ray).
"""

from __future__ import annotations

import argparse
import ast
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.course import load_course  # noqa: E402
from grader.stubs import GIVEN  # noqa: E402

EQUIVALENT = REPO / "quality" / "equivalent_mutants.toml"
GOAL = 0.95


@dataclass(frozen=True)
class Mutant:
    function: str
    operator: str
    occurrence: int
    line: int
    code: str  # the source line it changes
    killed: bool
    outcome: str


def given_functions(source: str) -> set[str]:
    """Functions (and methods) whose docstring marks them as given to the student."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and (ast.get_docstring(node) or "").startswith(GIVEN):
            names.add(node.name)
    return names


def run_cosmic_ray(exercise_id: str, solution: Path, folder: Path) -> list[Mutant]:
    target = folder / solution.name
    shutil.copy(solution, target)
    config = folder / "cosmic-ray.toml"
    grade = f"{sys.executable} -m grader {exercise_id} --course {REPO} --submission {target}"
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{target}"\n'
        "timeout = 120.0\n"
        "excluded-modules = []\n"
        f'test-command = "{grade} --format json"\n\n'
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )
    # Baseline: the unmutated copy must score full marks, or every "kill" would mean nothing.
    baseline = subprocess.run(
        [*grade.split(), "--format", "json"], capture_output=True, text=True, cwd=folder
    )
    if baseline.returncode != 0:
        raise SystemExit(
            f"{exercise_id}: the unmutated solution does not score full marks "
            f"(exit {baseline.returncode}); fix that first:\n{baseline.stderr}"
        )
    session = folder / "session.sqlite"
    for step in (["init", str(config), str(session)], ["exec", str(config), str(session)]):
        subprocess.run(["cosmic-ray", *step], check=True, capture_output=True, cwd=folder)
    dump = subprocess.run(
        ["cosmic-ray", "dump", str(session)], check=True, capture_output=True, text=True, cwd=folder
    ).stdout
    lines = solution.read_text().splitlines()
    mutants = []
    for row in dump.splitlines():
        item, result = json.loads(row)
        [mutation] = item["mutations"]
        line = mutation["start_pos"][0]
        outcome = (result or {}).get("test_outcome", "pending")
        mutants.append(
            Mutant(
                function=mutation.get("definition_name") or "<module>",
                operator=mutation["operator_name"],
                occurrence=mutation["occurrence"],
                line=line,
                code=lines[line - 1].strip(),
                killed=outcome != "survived",
                outcome=outcome,
            )
        )
    return mutants


def equivalent_mutants() -> dict[str, dict[tuple[str, str, int], str]]:
    """exercise id -> (function, operator, occurrence) -> why the mutant is equivalent."""
    if not EQUIVALENT.exists():
        return {}
    data = tomllib.loads(EQUIVALENT.read_text())
    return {
        exercise: {
            (item["function"], item["operator"], item["occurrence"]): item["reason"]
            for item in items
        }
        for exercise, items in data.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Mutation testing of the course's checks.")
    parser.add_argument("exercises", nargs="*", help="exercise ids (default: all)")
    chosen = parser.parse_args().exercises
    course = load_course(REPO / "course.yaml")
    known = equivalent_mutants()
    rows = []
    all_met = True
    for exercise in course.exercises:
        if (chosen and exercise.id not in chosen) or exercise.solution_file is None:
            continue
        given = given_functions(exercise.solution_file.read_text())
        with tempfile.TemporaryDirectory() as folder:
            mutants = run_cosmic_ray(exercise.id, exercise.solution_file, Path(folder))
        students = [mutant for mutant in mutants if mutant.function not in given]
        equivalent = known.get(exercise.id, {})
        counted = [m for m in students if (m.function, m.operator, m.occurrence) not in equivalent]
        survivors = [m for m in counted if not m.killed]
        rate = 1 - len(survivors) / len(counted) if counted else 1.0
        all_met &= rate >= GOAL
        rows.append(
            (
                exercise.id,
                len(mutants),
                len(mutants) - len(students),
                len(students) - len(counted),
                len(counted) - len(survivors),
                len(counted),
                rate,
            )
        )
        print(
            f"{exercise.id}: {len(counted) - len(survivors)} of {len(counted)} killed ({rate:.1%})",
            flush=True,
        )
        for mutant in survivors:
            print(
                f"  survived: {mutant.function}, line {mutant.line}, {mutant.operator} "
                f"#{mutant.occurrence}: `{mutant.code}`",
                flush=True,
            )
    print("\n| exercise | mutants | in given helpers | equivalent | killed | counted | kill rate |")
    print("|---|---|---|---|---|---|---|")
    for exercise_id, total, in_given, equivalent, killed, counted, rate in rows:
        print(
            f"| {exercise_id} | {total} | {in_given} | {equivalent} | {killed} | {counted} | "
            f"{rate:.1%} |"
        )
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
