"""The realistic-mistake corpus (quality/mistakes): every case loses points in its own function's
checks, no failing message claims a mistake the code did not make, and every case named today
stays named (quality/mistakes/unnamed.txt lists those not yet named)."""

from __future__ import annotations

import multiprocessing
from collections import Counter

import pytest

from quality.mistake_corpus import Case, Verdict, grade_case, load_cases, recorded_unnamed

CASES = load_cases()


@pytest.fixture(scope="module")
def verdicts() -> dict[tuple[str, str], Verdict]:
    """Every case graded, two at a time (each grading's worker is a process of its own)."""
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        graded = pool.map(grade_case, CASES, chunksize=8)
    return {(verdict.case.exercise, verdict.case.id): verdict for verdict in graded}


def test_the_corpus_covers_every_exercise_with_200_cases_or_more() -> None:
    per_exercise = Counter(case.exercise for case in CASES)
    assert len(CASES) >= 200
    assert set(per_exercise) == {f"exercise{number}" for number in range(1, 12)}
    assert min(per_exercise.values()) >= 15


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.exercise}-{case.id}")
def test_a_case_loses_points_and_nothing_misleads(
    case: Case, verdicts: dict[tuple[str, str], Verdict]
) -> None:
    verdict = verdicts[case.exercise, case.id]
    assert verdict.loses, f"{case.mistake}: {verdict.score}/{verdict.max_score}"
    assert not verdict.misleading, verdict.misleading


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.exercise}-{case.id}")
def test_a_named_case_stays_named(case: Case, verdicts: dict[tuple[str, str], Verdict]) -> None:
    verdict = verdicts[case.exercise, case.id]
    listed = (case.exercise, case.id) in recorded_unnamed()
    if listed:
        assert not verdict.named, "named now: python quality/mistake_corpus.py --record-unnamed"
    else:
        assert verdict.named, (case.says, verdict.messages[:2])


def test_the_unnamed_list_holds_only_cases_of_the_corpus() -> None:
    assert recorded_unnamed() <= {(case.exercise, case.id) for case in CASES}
