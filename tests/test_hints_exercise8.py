"""Exercise 8's hints: a wrong loss or softmax is named by the value its mistake gives at the
check's own points, or by what a probe shows of an error, in words the public and hidden checks
share (checks/_exercise8_mistakes.py), so that each mistake costs its own check's points once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.check_outcome import CheckFailed
from grader.checks import expect_close
from grader.course import Course
from grader.course_modules import import_file
from tests.helpers import REPO, failed, grade_text, message_of, solution_text, with_function

mistakes = import_file(REPO / "checks" / "_exercise8_mistakes.py", "checks")


def test_the_public_and_hidden_checks_load_one_shared_module() -> None:
    public = import_file(REPO / "checks" / "exercise8_public.py", "checks")
    hidden = import_file(REPO / "checks" / "exercise8_hidden.py", "checks")
    assert public.mistakes is hidden.mistakes is mistakes


# One submission per row, at most one mistake per function: (code, check id -> words its message
# holds). Only the checks named fail: a wrong answer the hidden checks meet again is that mistake,
# charged once; an error is no answer, and fails every check it meets, naming the same mistake.
CASES = [
    (
        """
def mse_loss(pred, target):
    d = pred - target
    return 0.5 * float(np.mean(d**2)), d / d.size

def softmax(scores):
    out = np.zeros(scores.shape, dtype=int)
    for n in range(scores.shape[0]):
        e = np.exp(scores[n] - scores[n].max())
        out[n] = e / e.sum()
    return out

def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    z = scores - scores.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    d = np.exp(logp)
    d[np.arange(n), labels] -= 1
    return float(np.mean(logp[np.arange(n), labels])), d / n
""",
        {
            "mse_loss": "one-half convention",
            "softmax": "integer array",
            "softmax_cross_entropy": "the minus sign is missing",
        },
    ),
    (
        """
def mse_loss(pred, target):
    d = pred - target
    return np.mean(d**2, axis=0), 2 * d / d.size

def softmax(scores):
    e = np.exp(scores - scores.max())
    return e / e.sum()

def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(n), labels] + 1e-7))
    d = p.copy()
    d[np.arange(n), labels] -= 1
    return float(loss), d / n
""",
        {
            "mse_loss": "one mean per output",
            "softmax": "normalised over the whole array",
            "softmax_cross_entropy": "an ε added inside the log",
        },
    ),
    (
        """
def mse_loss(pred, target):
    d = pred - target
    return 2 * d / d.size, float(np.mean(d**2))

def softmax(scores):
    e = np.exp(np.clip(scores, -300, 300))
    return e / e.sum(axis=1, keepdims=True)

def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    loss, d = 0.0, np.zeros_like(scores)
    for i in range(n):
        row = scores[i] - scores[i].max()
        logp = row - np.log(np.exp(row).sum())
        loss -= logp[labels[i]] / n
        d[i] = np.exp(logp)
        d[i, labels[i]] -= 1
        d /= n
    return loss, d
""",
        {
            "mse_loss": "the pair is in the wrong order",
            "softmax": "np.clip",
            "softmax_cross_entropy": "on every pass of the loop",
        },
    ),
    (
        """
def mse_loss(pred, target):
    d = pred - target
    return float(np.mean(d**2)), 2 * d / pred.shape[1]

def softmax(scores):
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1)

def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    z = scores - scores.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -float(np.sum(labels * logp)) / n, (np.exp(logp) - labels) / n
""",
        {
            "mse_loss": "the M outputs only",
            "softmax": "the row sums, .sum(axis=1) without keepdims=True",
            "softmax_matches_reference": "the row sums, .sum(axis=1) without keepdims=True",
            "softmax_cross_entropy": "labels holds class indices",
            "softmax_cross_entropy_matches_reference": "labels holds class indices",
        },
    ),
    (
        """
def softmax(scores):
    e = np.exp(scores - np.max(scores, axis=1))
    return e / e.sum(axis=1, keepdims=True)

def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    z = scores - scores.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    d = softmax(scores)
    d[np.arange(n), labels] -= 1
    return -float(np.mean(logp[np.arange(n), labels])), d / n
""",
        {
            "softmax": "the row maxima, .max(axis=1) without keepdims=True",
            "softmax_matches_reference": "the row maxima, .max(axis=1) without keepdims=True",
            # The gradient calls softmax, which raises at 5 × 4 and 6 × 2: no answer to excuse.
            "softmax_cross_entropy": "this follows the mistake in softmax: the row maxima",
            "softmax_cross_entropy_matches_reference": "the mistake in softmax: the row maxima",
        },
    ),
    (
        """
def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    z = scores - scores.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    y = np.eye(n)[labels]
    return -float(np.sum(y * logp)) / n, (np.exp(logp) - y) / n
""",
        {
            "softmax_cross_entropy": "N = scores.shape[0] is used where",
            "softmax_cross_entropy_matches_reference": "N = scores.shape[0] is used where",
        },
    ),
    (
        """
def softmax_cross_entropy(labels, scores):
    n = scores.shape[0]
    z = scores - scores.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    d = np.exp(logp)
    d[np.arange(n), labels] -= 1
    return -float(np.mean(logp[np.arange(n), labels])), d / n
""",
        {
            "softmax_cross_entropy": "the arguments are read in the order (labels, scores)",
            "softmax_cross_entropy_matches_reference": "the arguments are read in the order",
            "cross_entropy_at_extreme_scores": "the arguments are read in the order",
        },
    ),
    (
        # At the ±1000 batch N = C = 3: a loss divided by N again is also one divided by C;
        # the public check's 5 examples and 4 classes told them apart, and charged it.
        """
def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    z = scores - scores.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    d = np.exp(logp)
    d[np.arange(n), labels] -= 1
    return -float(np.mean(logp[np.arange(n), labels])) / n, d / n
""",
        {"softmax_cross_entropy": "the loss is divided by N twice"},
    ),
    (
        """
def softmax_cross_entropy(scores, labels):
    n, c = scores.shape
    y = np.eye(c)[labels]
    z = scores - scores.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -float(np.mean(y * logp)), (np.exp(logp) - y) / n
""",
        {"softmax_cross_entropy": "the number of classes C too"},
    ),
    (
        """
def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    z = scores - scores.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -float(np.mean(logp[np.arange(n), labels])), np.exp(logp) / n
""",
        {"softmax_cross_entropy": "the one-hot of the labels is not subtracted"},
    ),
    (
        """
def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    logp = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    d = np.exp(scores - scores.max(axis=1, keepdims=True))
    d /= d.sum(axis=1, keepdims=True)
    d[np.arange(n), labels] -= 1
    return -float(np.mean(logp[np.arange(n), labels])), d / n
""",
        {"cross_entropy_at_extreme_scores": "e^1000 overflows to inf"},
    ),
    (
        """
def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    p = softmax(scores)
    loss = -np.mean(np.log(p[np.arange(n), labels]))
    d = p.copy()
    d[np.arange(n), labels] -= 1
    return float(loss), d / n
""",
        {"cross_entropy_at_extreme_scores": "underflows to 0, and log(0) = -inf: take the log"},
    ),
    (
        """
def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    z = scores - np.max(scores)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    d = np.exp(logp)
    d[np.arange(n), labels] -= 1
    return -float(np.mean(logp[np.arange(n), labels])), d / n
""",
        {"cross_entropy_at_extreme_scores": "shifted by one maximum for the whole batch"},
    ),
    (
        """
def mse_loss(pred, target):
    d = pred - target
    return 0.5 * float(np.sum(d**2)), d

def softmax(scores):
    return np.exp(scores - scores.max(axis=1, keepdims=True))

def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    y = labels.argmax(axis=1)
    z = scores - scores.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    d = np.exp(logp)
    d[np.arange(n), y] -= 1
    return -float(np.mean(logp[np.arange(n), y])), d / n
""",
        {
            "mse_loss": "summed and halved",
            "softmax": "the exponentials are not normalised",
            "softmax_cross_entropy": "labels holds class indices",
            "softmax_cross_entropy_matches_reference": "labels holds class indices",
            "cross_entropy_at_extreme_scores": "labels holds class indices",
        },
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("code", "says"), CASES)
def test_a_mistake_is_named_and_charged_once(
    course: Course, tmp_path: Path, code: str, says: dict[str, str]
) -> None:
    text = with_function(solution_text(course, "exercise8"), code)
    result = grade_text(course, "exercise8", text, tmp_path)
    assert failed(result) == set(says), {c.id: c.message for c in result.checks}
    for check_id, words in says.items():
        message = message_of(result, check_id)
        assert "Hint:" in message and words in message.split("Hint:")[1], (check_id, message)


# Wrong answers no listed mistake explains: they fail, and name none.
UNEXPLAINED = [
    # A loss off by a constant is below the right one, as an ε makes it, but no ε fits twice.
    """
def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    z = scores - scores.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    d = np.exp(logp)
    d[np.arange(n), labels] -= 1
    return -float(np.mean(logp[np.arange(n), labels])) - 0.001, d / n
""",
    # Three classes taken for granted: right at a 3 × 3 batch, but it is not N for C.
    """
def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    y = np.eye(3)[labels]
    z = scores - scores.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -float(np.sum(y * logp)) / n, (np.exp(logp) - y) / n
""",
    # squeeze() drops the batch axis of one example: right wherever N > 1, N = C included, so
    # it is not N for C either.
    """
def softmax_cross_entropy(scores, labels):
    s = scores.squeeze()
    n = s.shape[0]
    z = s - s.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    d = np.exp(logp)
    d[np.arange(n), labels] -= 1
    return -float(np.mean(logp[np.arange(n), labels])), d / n
""",
]


@pytest.mark.slow
@pytest.mark.parametrize("code", UNEXPLAINED)
def test_an_unexplained_wrong_answer_names_no_mistake(
    course: Course, tmp_path: Path, code: str
) -> None:
    text = with_function(solution_text(course, "exercise8"), code)
    result = grade_text(course, "exercise8", text, tmp_path)
    assert failed(result)
    for check in result.checks:
        assert "Hint:" not in (check.message or ""), (check.id, check.message)


# Correct in forms the docstrings allow: full marks, and nothing said.
CORRECT = """
def mse_loss(pred, target):
    diff = np.subtract(pred, target)
    return np.einsum("ij,ij->", diff, diff) / diff.size, np.multiply(2.0 / diff.size, diff)

def softmax(scores):
    e = np.exp(scores - np.max(scores, axis=1)[:, None])
    return (e.T / e.sum(axis=1)).T

def softmax_cross_entropy(scores, labels):
    n = len(labels)
    top = scores.max(axis=1, keepdims=True)
    lse = top + np.log(np.exp(scores - top).sum(axis=1, keepdims=True))
    picked = np.take_along_axis(scores, labels[:, None], axis=1)
    d = np.exp(scores - lse)
    np.add.at(d, (np.arange(n), labels), -1.0)
    return float(np.mean(lse - picked)), d / n
"""


@pytest.mark.slow
def test_a_correct_variant_loses_nothing_and_hears_no_hint(course: Course, tmp_path: Path) -> None:
    text = with_function(solution_text(course, "exercise8"), CORRECT)
    result = grade_text(course, "exercise8", text, tmp_path)
    assert result.score == result.max_score, {c.id: c.message for c in result.checks}
    assert not any("Hint:" in note for note in result.notes)


def test_two_mistakes_that_fit_alike_name_neither() -> None:
    expected = np.array([1.0, 2.0])
    twice = {"one mistake": 2 * expected, "another mistake": 2 * expected}
    with pytest.raises(CheckFailed) as raised:
        mistakes.expect(expect_close, 2 * expected, expected, "f(x)", expected, twice)
    assert "Hint:" not in str(raised.value)
    with pytest.raises(CheckFailed) as raised:
        mistakes.expect(
            expect_close, 2 * expected, expected, "f(x)", expected, {"one mistake": 2 * expected}
        )
    assert "Hint: one mistake" in str(raised.value)


def test_the_eps_in_the_log_is_read_off_the_loss() -> None:
    probability = np.exp(-np.array([0.5, 3.0, 20.0, 2000.0]))  # the last one underflows to 0
    curve = mistakes.eps_curves(probability)[mistakes.CE_EPS_ADDED]
    with np.errstate(all="ignore"):
        eps = mistakes.solve_eps(curve, curve(1e-8))
        assert eps is not None and abs(eps / 1e-8 - 1) < 1e-6
    finite = mistakes.eps_curves(probability[:3])[mistakes.CE_EPS_ADDED]
    assert mistakes.solve_eps(finite, finite(0.0) + 1.0) is None  # above the right loss: no ε


# A mistake one check charged, met again in a later check, is the one charged or nothing is
# named, and it excuses no more than it gives: the check still fails where the answer is not
# what that mistake alone gives. (code, the words of the charged mistake, a check that fails,
# words its message holds)
CHARGED_AND_ANOTHER = [
    (
        """
def softmax(scores):
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1)

def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    p = softmax(scores)
    loss = -float(np.mean(np.log(p[np.arange(n), labels])))
    d = p.copy()
    d[np.arange(n), labels] -= 1
    return loss, d / n
""",
        # At the 3 × 3 batch of ±1000 a softmax whose row sums lack keepdims gives what one
        # that does not normalise gives, and the loss is np.log of a probability that underflows,
        # its own mistake there: a second softmax mistake named would be charged again.
        "the row sums, .sum(axis=1) without keepdims=True",
        "cross_entropy_at_extreme_scores",
        "never np.log of a probability",
    ),
    (
        """
def softmax(scores):
    e = np.exp(scores)
    return e / e.sum(axis=1)

def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    z = scores - scores.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    d = softmax(scores)
    d[np.arange(n), labels] -= 1
    return -float(np.mean(logp[np.arange(n), labels])), d / n
""",
        # A softmax without the shift, whose sums lack keepdims too: its gradient of nan at ±1000
        # is what the sums without keepdims give of unshifted scores, the missing shift a second
        # mistake, which softmax's check, stopped by the error at 3 × 4, never charged.
        "the row sums, .sum(axis=1) without keepdims=True",
        "cross_entropy_at_extreme_scores",
        "dscores [[nan",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("code", "charged", "check_id", "says"), CHARGED_AND_ANOTHER)
def test_a_mistake_met_again_is_the_one_charged_or_none(
    course: Course, tmp_path: Path, code: str, charged: str, check_id: str, says: str
) -> None:
    text = with_function(solution_text(course, "exercise8"), code)
    result = grade_text(course, "exercise8", text, tmp_path)
    messages = {c.id: c.message or "" for c in result.checks if c.status != "passed"}
    hints = {
        key: message.split("Hint:")[1] for key, message in messages.items() if "Hint:" in message
    }
    assert hints and all(charged in hint for hint in hints.values()), hints
    assert check_id in messages and says in messages[check_id], messages
