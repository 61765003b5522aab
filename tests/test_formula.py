"""Grader functions given as formulas (grader.formula): evaluated in the worker, replayed in the
grader, with the same answers and the same records as functions that stay in the grader."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from grader.checks import Recorder, formula
from grader.student_code.errors import WorkerCrashed
from grader.student_code.objects import StudentModule
from grader.student_code.session import StudentSession
from tests.helpers import session_of

CODE = """
import numpy as np

def descend(grad, x, rate, steps):
    path = [x.copy()]
    for _ in range(steps):
        x -= rate * grad(x)  # in place: what the grader saw must not change with it
        path.append(x.copy())
    return np.array(path)

def apply(f, x):
    return f(x)

def apply_to_text(f):
    try:
        return f("text")
    except Exception as error:
        return str(error)

def change_numpy_then_apply(f, x):
    np.sin = lambda value: 0.5
    return f(x)
"""


@pytest.fixture
def session() -> Iterator[StudentSession]:
    with session_of(CODE, call_seconds=5) as session:
        yield session


def count_callbacks(session: StudentSession, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one for each callback the worker asks the grader to answer."""
    asked: list[int] = []
    answer = session._answer_callback

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(1)
        return answer(*args, **kwargs)

    monkeypatch.setattr(session, "_answer_callback", counted)
    return asked


def test_a_formula_is_evaluated_in_the_worker_and_recorded_in_order(
    session: StudentSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = count_callbacks(session, monkeypatch)
    gradient = Recorder(formula("scale * x", "∇", scale=2.0), "∇")
    x0 = np.array([1.0, -0.5])
    path = StudentModule(session).descend(gradient, x0.copy(), 0.1, 600)  # several log frames
    assert asked == []
    expected = x0 * 0.8 ** np.arange(601)[:, None]
    assert np.allclose(path, expected, rtol=1e-12, atol=0)
    assert len(gradient.inputs) == 600
    # Each input as it was when the student's code passed it, though it changed in place after.
    assert all(np.array_equal(got, want) for got, want in zip(gradient.inputs, path, strict=False))


def test_a_plain_function_still_calls_back(
    session: StudentSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = count_callbacks(session, monkeypatch)
    path = StudentModule(session).descend(lambda x: 2 * x, np.array([1.0]), 0.1, 5)
    assert len(asked) == 5 and np.allclose(path[-1], 0.8**5)


def test_a_changed_numpy_is_caught_by_the_replay(session: StudentSession) -> None:
    with pytest.raises(WorkerCrashed, match=r"from the grader's function sin at 1\.0"):
        StudentModule(session).change_numpy_then_apply(formula("np.sin(x)", "sin"), 1.0)


def test_what_a_formula_cannot_take_goes_to_the_grader(session: StudentSession) -> None:
    student = StudentModule(session)
    as_formula = student.apply_to_text(formula("2 * x + 1", "f"))
    as_function = student.apply_to_text(lambda x: 2 * x + 1)
    assert as_formula == as_function and "str" in as_formula


def test_a_formula_gives_what_the_grader_computes(session: StudentSession) -> None:
    matrix = np.array([[2.0, 1.0], [1.0, 3.0]])
    offset = np.array([0.5, -1.0])
    slope = formula("matrix @ x - offset", "∇f", matrix=matrix, offset=offset)
    x = np.array([0.3, 0.7])
    assert np.array_equal(StudentModule(session).apply(slope, x), matrix @ x - offset)
    assert np.array_equal(slope(x), matrix @ x - offset)


def test_a_log_longer_than_a_worker_sends_is_refused(session: StudentSession) -> None:
    """The grader replays every logged evaluation: a frame may hold only as many as the worker
    puts in one, so a hostile worker cannot make one frame cost the grader seconds."""
    from grader.framing import ProtocolError, pack, parse_body
    from grader.wire import EVALUATIONS_PER_FRAME, Evaluated, Evaluation

    session._values.callbacks[1] = formula("2 * x", "f")
    data = pack(Evaluated(calls=[Evaluation(1, 1.0, 2.0)] * (EVALUATIONS_PER_FRAME + 1)))
    with pytest.raises(ProtocolError, match="length <= 256"):
        parse_body(data[8:], int.from_bytes(data[4:8], "big"))
    ok = pack(Evaluated(calls=[Evaluation(1, 1.0, 2.0)] * EVALUATIONS_PER_FRAME))
    frame = parse_body(ok[8:], int.from_bytes(ok[4:8], "big"))
    assert isinstance(frame.head, Evaluated)
    session._replay(frame, frame.head, session._generation, "f")
