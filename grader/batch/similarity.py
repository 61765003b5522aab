"""similarity.csv and the report's "Similar submissions": pairs of students whose code for one
exercise is unusually alike once the stub is taken away. A flag for the instructor to look at,
never a penalty: no score depends on it.

For each exercise, each student's graded file (a .py, or a notebook's code cells joined) is
fingerprinted with copydetect: pygments tokenizes it, every name becomes ``V``/``F``/``O``, every
string ``S``, comments and white space go, and each run of ``NOISE`` characters of what is left
(a k-gram) is hashed. The k-grams of the exercise's stub (its .py and its notebook's code cells,
with the given helpers, kept whole in the stub) are boilerplate and are dropped; so are the
lines of a student's own copy of a given helper (a function whose docstring starts with
grader.stubs.GIVEN), even reformatted. Renaming variables or rewriting comments changes nothing
of the fingerprint; reordering functions changes little.

The similarity of a pair is the share of the two files' own code (not the stub's), taken
together, that lies in passages of at least ``NOISE`` filtered characters found in the other
file: 1 for the same code under other names, 0 for nothing in common beyond the stub. A pair is
listed when it reaches ``THRESHOLD`` and the two files share at least ``MIN_SHARED`` characters
of own code, so that two students who each wrote one short line the exercise all but dictates
are not flagged. A k-gram found in more than ``COMMON_SHARE`` of the files (and more than
``COMMON_FILES``) is dropped too, as MOSS drops passages common to many files: what the exercise
all but dictates, or a solution handed round the whole class, says nothing of two students.

Every k-gram is kept (no winnowing window): the files are small, and k-grams hash with Python's
per-process string hash, so a window would pick other k-grams on every run. Pairs that share
fewer than ``PREFILTER`` of the smaller file's k-grams are not compared further (a set
intersection, some 45 times quicker than the full comparison: without it the 495,000 pairs of
300 students take two minutes over 11 exercises, with it seconds).
"""

from __future__ import annotations

import ast
import csv
import io
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from grader import safe_text
from grader.stubs import GIVEN
from grader.submission import code_cells

if TYPE_CHECKING:
    from copydetect import CodeFingerprint

    from grader.course import Exercise

NOISE = 25  # k: the shortest match counted, in characters of filtered code
THRESHOLD = 0.6  # a pair is listed from this similarity on
MIN_SHARED = 60  # and when the two files share this many filtered characters of own code
COMMON_SHARE = 0.1  # a k-gram in more than this share of the files is common, not copied
COMMON_FILES = 5  # ... and in more than this many files
PREFILTER = 0.3  # compared only when sharing this share of the smaller file's k-grams
MAX_CHARS = 30_000  # of a file's code fingerprinted: 7 times the longest solution
TOP_PAIRS = 10  # pairs the report shows side by side
REPORT_ROWS = 500  # pairs the report's table lists; similarity.csv has them all
SHOWN_LINES = 400  # lines of each file shown side by side
COLUMNS = ("exercise", "student_a", "student_b", "similarity")


@dataclass(frozen=True)
class Handed:
    """One student's graded file for an exercise."""

    student: str
    exercise: Exercise
    path: Path


@dataclass(frozen=True)
class Pair:
    """Two students' files for one exercise, with their similarity and what matched.

    code_a, code_b: each file's code as fingerprinted (a notebook's code cells joined, a given
    helper's lines blank); lines_a, lines_b: the 1-based lines holding matched code."""

    exercise: str
    student_a: str
    student_b: str
    similarity: float
    code_a: str
    code_b: str
    lines_a: frozenset[int]
    lines_b: frozenset[int]


def _given_lines(code: str) -> set[int]:
    """The 1-based lines of the top-level functions and top-level classes' methods whose
    docstring starts with GIVEN (where grader.stubs keeps them)."""
    if GIVEN not in code:
        return set()
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    lines: set[int] = set()
    for top in tree.body:
        inside = top.body if isinstance(top, ast.ClassDef) else [top]
        for node in inside:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            doc = ast.get_docstring(node, clean=False) or ""
            if doc.startswith(GIVEN) and node.end_lineno is not None:
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                lines.update(range(first, node.end_lineno + 1))
    return lines


def code_of(path: Path) -> str | None:
    """The code of a graded file, as fingerprinted: a notebook's code cells joined by a blank
    line, each line of a given helper left empty (line numbers are kept; each cell is parsed on
    its own, so a cell with IPython's syntax costs only its own helpers), cut at MAX_CHARS."""
    cells = code_cells(path)
    if cells is None:
        return None
    lines: list[str] = []
    left = MAX_CHARS
    for whole in cells:
        if left <= 0:
            break
        cell = whole[:left]
        left -= len(cell) + 2
        if lines:
            lines.append("")
        given = _given_lines(cell)
        lines += [
            "" if number in given else line for number, line in enumerate(cell.split("\n"), start=1)
        ]
    return "\n".join(lines)


def _fingerprint(code: str, name: str) -> CodeFingerprint:
    """copydetect's fingerprint of ``code``, every k-gram kept (a window of 1)."""
    from copydetect import CodeFingerprint

    return CodeFingerprint(name, NOISE, 1, language="python", fp=io.StringIO(code))


def _without(found: CodeFingerprint, boilerplate: set[int]) -> None:
    """Take ``boilerplate``'s hashes out of ``found``, and count its own code again.

    Done here rather than by CodeFingerprint's own ``boilerplate``: with every k-gram kept a
    file holds repeated hashes, which its numpy intersection (told the hashes are unique) would
    count as boilerplate, dropping a student's own repeated code."""
    from copydetect.utils import get_token_coverage

    if not boilerplate & found.hashes:
        return
    found.hashes = found.hashes - boilerplate
    found.hash_idx = {h: at for h, at in found.hash_idx.items() if h not in boilerplate}
    found.token_coverage = get_token_coverage(found.hash_idx, NOISE, len(found.filtered_code))


def stub_boilerplate(exercise: Exercise) -> set[int]:
    """The k-gram hashes of the exercise's stub: its .py and its notebook's code cells, each
    as it is and with its given helpers' lines left empty (as code_of leaves them)."""
    hashes: set[int] = set()
    for path in (exercise.student_file, exercise.student_file.with_suffix(".ipynb")):
        cells = code_cells(path) if path.is_file() else None
        if cells:
            hashes |= _fingerprint("\n\n".join(cells), path.name).hashes
            hashes |= _fingerprint(code_of(path) or "", path.name).hashes
    return hashes


def common_passages(prints: list[CodeFingerprint]) -> set[int]:
    """The k-grams found in more files than COMMON_FILES and COMMON_SHARE of them: what the
    exercise all but dictates, or the class shares (a helper from the lesson)."""
    counts = Counter(h for found in prints for h in found.hashes)
    most = max(COMMON_FILES, COMMON_SHARE * len(prints))
    return {h for h, count in counts.items() if count > most}


def _lines(code: str, slices: object) -> frozenset[int]:
    """The 1-based lines of ``code`` that hold part of a matched slice (copydetect's 2×N array
    of start and end offsets), blank lines aside."""
    import numpy as np

    spans = np.asarray(slices)
    if spans.ndim != 2 or spans.shape[1] == 0:
        return frozenset()
    starts = np.cumsum([0, *(len(line) + 1 for line in code.split("\n"))])
    lines: set[int] = set()
    for start, end in zip(spans[0], spans[1], strict=True):
        first = int(np.searchsorted(starts, start, side="right"))
        last = int(np.searchsorted(starts, max(int(start), int(end) - 1), side="right"))
        lines.update(range(first, last + 1))
    text = code.split("\n")
    return frozenset(number for number in lines if text[number - 1].strip())


@dataclass(frozen=True)
class _Compared:
    """One pair as compared: its similarity, and the own code each file shares."""

    pair: Pair
    shared: float  # filtered characters of own code matched, the smaller of the two files'


def _compared(
    exercise: Exercise, handed: list[Handed], prefilter: float = PREFILTER
) -> list[_Compared]:
    """Every pair of ``handed`` (one exercise's files) past the prefilter, compared."""
    from copydetect import compare_files

    boilerplate = stub_boilerplate(exercise)
    prints = []
    for item in handed:
        code = code_of(item.path)
        if code is not None:
            found = _fingerprint(code, item.path.name)
            _without(found, boilerplate)
            prints.append((item.student, code, found))
    common = common_passages([found for _, _, found in prints])
    for _, _, found in prints:
        _without(found, common)
    compared = []
    for i, (student_a, code_a, print_a) in enumerate(prints):
        for student_b, code_b, print_b in prints[i + 1 :]:
            smaller = min(len(print_a.hashes), len(print_b.hashes))
            shared = len(print_a.hashes & print_b.hashes)
            if not smaller or not shared or shared < prefilter * smaller:
                continue
            _, (share_a, share_b), (slices_a, slices_b) = compare_files(print_a, print_b)
            own_a, own_b = print_a.token_coverage, print_b.token_coverage
            matched = share_a * own_a + share_b * own_b
            similarity = min(1.0, float(matched / (own_a + own_b)))
            first, second = sorted([(student_a, code_a, slices_a), (student_b, code_b, slices_b)])
            pair = Pair(
                exercise.id,
                first[0],
                second[0],
                round(similarity, 3),
                first[1],
                second[1],
                _lines(first[1], first[2]),
                _lines(second[1], second[2]),
            )
            compared.append(_Compared(pair, float(min(share_a * own_a, share_b * own_b))))
    return compared


def pair_scores(exercise: Exercise, handed: list[Handed]) -> dict[tuple[str, str], float]:
    """The similarity of every pair that shares any k-gram, listed or not, by its two names in
    order, without the prefilter (a pair not in it has nothing in common beyond the stub)."""
    return {
        (item.pair.student_a, item.pair.student_b): item.pair.similarity
        for item in _compared(exercise, handed, prefilter=0.0)
    }


def exercise_pairs(exercise: Exercise, handed: list[Handed]) -> list[Pair]:
    """The pairs of ``handed`` (one exercise's files) listed as similar: at least THRESHOLD
    alike, sharing at least MIN_SHARED characters of own code."""
    return [
        item.pair
        for item in _compared(exercise, handed)
        if item.pair.similarity >= THRESHOLD and item.shared >= MIN_SHARED
    ]


def find(exercises: Iterable[Exercise], handed: Iterable[Handed]) -> list[Pair]:
    """Every exercise's similar pairs, most similar first (then by exercise and names); none,
    with a line saying why, when copydetect (the `batch` extra) is not installed."""
    import importlib.util

    if importlib.util.find_spec("copydetect") is None:
        print(
            "grade: similarity.csv lists no pairs: copydetect is not installed "
            "(pip install 'gradients-by-hand[batch]')",
            file=sys.stderr,
        )
        return []
    by_exercise: dict[str, list[Handed]] = {}
    for item in handed:
        by_exercise.setdefault(item.exercise.id, []).append(item)
    order = {}
    pairs: list[Pair] = []
    for index, exercise in enumerate(exercises):
        order[exercise.id] = index
        try:
            pairs += exercise_pairs(exercise, by_exercise.get(exercise.id, []))
        except Exception as error:  # a flag, not worth the feedback and report written after it
            print(
                f"grade: similarity.csv: {exercise.id} not compared "
                f"({type(error).__name__}: {safe_text.terminal(str(error), one_line=True)})",
                file=sys.stderr,
            )
    return sorted(pairs, key=lambda p: (-p.similarity, order[p.exercise], p.student_a, p.student_b))


def csv_text(pairs: list[Pair]) -> str:
    """similarity.csv: ``exercise,student_a,student_b,similarity``, most similar first; names
    through grader.safe_text.csv_cell as in grades.csv."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for pair in pairs:
        writer.writerow(
            [
                pair.exercise,
                safe_text.csv_cell(pair.student_a),
                safe_text.csv_cell(pair.student_b),
                f"{pair.similarity:.3f}",
            ]
        )
    return out.getvalue()


def _shown(code: str, matched: frozenset[int]) -> dict[str, object]:
    """One file for the report: its lines (shown, never obeyed) with whether each matched."""
    lines = safe_text.terminal(code).split("\n")
    return {
        "lines": [
            {"number": number, "text": text, "matched": number in matched}
            for number, text in enumerate(lines[:SHOWN_LINES], start=1)
        ],
        "cut": max(0, len(lines) - SHOWN_LINES),
        "matched": len(matched),
    }


def report_view(pairs: list[Pair]) -> dict[str, object]:
    """What report.html shows: the first REPORT_ROWS pairs' rows, and the top TOP_PAIRS side by
    side."""
    return {
        "threshold": f"{THRESHOLD:.2f}",
        "rows": [
            {
                "exercise": pair.exercise,
                "student_a": safe_text.terminal(pair.student_a, one_line=True),
                "student_b": safe_text.terminal(pair.student_b, one_line=True),
                "similarity": f"{pair.similarity:.2f}",
            }
            for pair in pairs[:REPORT_ROWS]
        ],
        "count": len(pairs),
        "top": [
            {
                "exercise": pair.exercise,
                "student_a": safe_text.terminal(pair.student_a, one_line=True),
                "student_b": safe_text.terminal(pair.student_b, one_line=True),
                "similarity": f"{pair.similarity:.2f}",
                "a": _shown(pair.code_a, pair.lines_a),
                "b": _shown(pair.code_b, pair.lines_b),
            }
            for pair in pairs[:TOP_PAIRS]
        ],
    }
