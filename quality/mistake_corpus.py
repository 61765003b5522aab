"""Whether the failing checks' messages name the mistake: a corpus of realistic wrong answers.

    python quality/mistake_corpus.py [--exercise exercise7] [--show unnamed|misleading|all]
    python quality/mistake_corpus.py --record-unnamed   # rewrite quality/mistakes/unnamed.txt

Each case in quality/mistakes/exerciseN.toml is one mistake as a student makes it, written as
students write (loops, einsum, in-place tricks), never a mechanical mutant: the reference solution
with one function (or one method of a class, indented by four spaces) replaced by the case's
``code``. Fields::

    [[case]]
    id = "dW-product-reversed"            # unique in its file
    function = "linear_backward"          # the function the mistake is in
    mistake = "dW = dout @ x.T"           # what the student did, for the reader
    says = ["dW", "x.T @ dout|transpose"] # words a message naming it must hold (| = or)
    code = '''
    def linear_backward(dout, cache): ...
    '''

A case is graded as a submission and counted:
- loses: it scores less than full marks, and a failing check's message speaks of its function
  (quality/ and tests/test_mistake_corpus.py require every case to);
- named: one failing check's message holds every entry of ``says`` (case-insensitive, any of
  an entry's ``|`` alternatives);
- misleading: a failing check's hint (what follows "Hint:", the mistake a message claims) names
  none of the case's words, or a message blames another function's mistake ("this follows the
  mistake in ..."). A hint that may mislead is worse than none.

Prints a table per exercise, the share named and the misleading count (goal: 90 % named, 0
misleading), ready for quality/RESULTS.md; exits 1 if a case does not lose points.

quality/mistakes/unnamed.txt lists the cases no message names yet ("exercise7 dW-product-reversed"
per line). tests/test_mistake_corpus.py holds every other case to being named, so a hint that stops
naming its mistake fails a test; a case named since must leave the list (--record-unnamed).
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "quality" / "mistakes"
UNNAMED = CORPUS / "unnamed.txt"  # the cases no message names yet
sys.path.insert(0, str(REPO))

from grader.course import Course, load_course  # noqa: E402
from grader.results import ExerciseResult  # noqa: E402
from grader.runner import grade  # noqa: E402
from tests.helpers import with_function, with_method  # noqa: E402


@dataclass(frozen=True)
class Case:
    """One realistic mistake: ``code`` swapped into ``exercise``'s reference solution."""

    exercise: str
    id: str
    function: str
    mistake: str
    says: tuple[str, ...]
    code: str


@dataclass(frozen=True)
class Verdict:
    """How the failing checks' messages read for one case."""

    case: Case
    score: float
    max_score: float
    loses: bool
    named: bool
    misleading: list[str]  # the hints (or blame) that name something else
    messages: list[str]  # the failing checks' messages, in report order


def unnamed(verdicts: list[Verdict]) -> list[tuple[str, str]]:
    """(exercise, id) of each case no failing message names, in corpus order."""
    return [(v.case.exercise, v.case.id) for v in verdicts if not v.named]


def recorded_unnamed(path: Path | None = None) -> set[tuple[str, str]]:
    """The cases quality/mistakes/unnamed.txt lists as not yet named."""
    lines = (path or UNNAMED).read_text().splitlines()
    return {(exercise, id) for exercise, id in (line.split() for line in lines if line.strip())}


def load_cases(corpus: Path = CORPUS) -> list[Case]:
    """Every case of every exercise's file, in file order; ValueError on a malformed one."""
    cases: list[Case] = []
    for path in sorted(corpus.glob("exercise*.toml"), key=lambda p: int(p.stem[8:])):
        data = tomllib.loads(path.read_text())
        seen: set[str] = set()
        for entry in data.get("case", []):
            missing = {"id", "function", "mistake", "says", "code"} - entry.keys()
            if missing:
                raise ValueError(f"{path.name}: a case lacks {', '.join(sorted(missing))}")
            if entry["id"] in seen:
                raise ValueError(f"{path.name}: two cases are called {entry['id']}")
            seen.add(entry["id"])
            cases.append(
                Case(
                    path.stem,
                    entry["id"],
                    entry["function"],
                    entry["mistake"],
                    tuple(entry["says"]),
                    entry["code"],
                )
            )
    return cases


def submission_text(course: Course, case: Case) -> str:
    """The reference solution of the case's exercise with the case's code swapped in."""
    solution = course.exercise(case.exercise).solution_file
    assert solution is not None
    swap = with_method if case.code.lstrip("\n").startswith("    def ") else with_function
    return swap(solution.read_text(), case.code)


# Where a message quotes the student's own line, that quote names nothing.
QUOTED_LINE = re.compile(r"\((?:line \d+|cell [^:)]*line \d+)[^`)]*: `[^`]*`\)")


def says_all(text: str, words: tuple[str, ...]) -> bool:
    """Whether ``text`` holds every entry of ``words`` (any of an entry's | alternatives), not
    counting the quoted line of the student's code."""
    lowered = QUOTED_LINE.sub("", text).lower()
    return all(any(word.lower() in lowered for word in entry.split("|")) for entry in words)


def says_any(text: str, words: tuple[str, ...]) -> bool:
    lowered = QUOTED_LINE.sub("", text).lower()
    return any(word.lower() in lowered for entry in words for word in entry.split("|"))


def hint_of(message: str) -> str:
    """The part of a failing check's message that claims a mistake: what follows "Hint:" ("" when
    there is none). A second line that states a rule (numpy's broadcasting) claims nothing."""
    return message.partition("Hint:")[2].strip()


BLAME = re.compile(r"this follows the mistake in (\w+(?:\.\w+)?)")  # a function, or Value.tanh


def judge(case: Case, result: ExerciseResult) -> Verdict:
    """Count ``case``'s grading: does it lose points, is it named, does anything mislead."""
    messages = [check.message for check in result.checks if check.status != "passed"]
    about_function = [message for message in messages if case.function in message]
    misleading = []
    for message in messages:
        hint = hint_of(message)
        if hint and not says_any(hint, case.says):
            misleading.append(hint)
        for blamed in BLAME.findall(message):
            if blamed.split(".")[-1] != case.function.split(".")[-1]:
                misleading.append(f"blames {blamed}")
    return Verdict(
        case=case,
        score=result.score,
        max_score=result.max_score,
        loses=result.score < result.max_score and bool(about_function),
        named=any(says_all(message, case.says) for message in messages),
        misleading=misleading,
        messages=messages,
    )


def grade_case(case: Case) -> Verdict:
    course = load_course(REPO / "course.yaml")
    exercise = course.exercise(case.exercise)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / exercise.file_name
        path.write_text(submission_text(course, case))
        return judge(case, grade(course, exercise, path))


def table(verdicts: list[Verdict]) -> list[str]:
    """The Markdown table: per exercise, cases, losing, named, misleading; then the total."""
    lines = [
        "| exercise | cases | lose points | named | misleading |",
        "|---|---|---|---|---|",
    ]
    exercises = list(dict.fromkeys(verdict.case.exercise for verdict in verdicts))
    for name in [*exercises, "all"]:
        rows = [v for v in verdicts if name in ("all", v.case.exercise)]
        named = sum(v.named for v in rows)
        lines.append(
            f"| {name} | {len(rows)} | {sum(v.loses for v in rows)} | "
            f"{named} ({100 * named / max(len(rows), 1):.0f} %) | "
            f"{sum(bool(v.misleading) for v in rows)} |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercise", help="only this exercise's cases")
    parser.add_argument("--show", choices=["unnamed", "misleading", "all"], default="unnamed")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--record-unnamed", action="store_true", help=f"write the unnamed cases to {UNNAMED}"
    )
    args = parser.parse_args()
    cases = [c for c in load_cases() if args.exercise in (None, c.exercise)]
    with multiprocessing.Pool(args.jobs) as pool:
        verdicts = pool.map(grade_case, cases, chunksize=4)
    for verdict in verdicts:
        shown = (
            args.show == "all"
            or (args.show == "unnamed" and not verdict.named)
            or (args.show == "misleading" and verdict.misleading)
            or not verdict.loses
        )
        if shown:
            case = verdict.case
            flags = ", ".join(
                flag
                for flag, on in [
                    ("DOES NOT LOSE", not verdict.loses),
                    ("unnamed", not verdict.named),
                    ("misleading", bool(verdict.misleading)),
                ]
                if on
            )
            print(f"## {case.exercise} {case.id} ({case.function}): {case.mistake}  [{flags}]")
            print(f"   says {list(case.says)}; scored {verdict.score:g}/{verdict.max_score:g}")
            for message in verdict.messages[:3]:
                print("   > " + message.replace("\n", "\n   > "))
            for hint in verdict.misleading:
                print(f"   misleading: {hint}")
    print()
    print("\n".join(table(verdicts)))
    if args.record_unnamed:
        if args.exercise:
            print("--record-unnamed records every exercise's cases: leave out --exercise")
            return 2
        UNNAMED.write_text("".join(f"{exercise} {id}\n" for exercise, id in unnamed(verdicts)))
    return 0 if all(verdict.loses for verdict in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
