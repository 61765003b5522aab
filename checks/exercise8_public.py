"""Public checks for exercise 8, losses: values from the formulas, gradients against central
differences of the losses the docstrings define, computed here (the student's loss is called at
the check's own points only), and softmax at scores of ±1000. A softmax_cross_entropy whose
answer is what its softmax's named mistake gives is that mistake again, charged once in softmax's
check; one that raises gives no answer, and fails here too.

A wrong answer is named where it is the value a known mistake gives at the check's own point,
and an error where a probe shows what raised (checks/_exercise8_mistakes.py): the hidden checks
name the same mistakes in the same words."""

from typing import Any

import numpy as np

from grader.checks import (
    answer_or_none,
    check,
    expect_array,
    expect_close,
    expect_gradient,
    fail,
    shared,
    warn_if_inputs_changed,
)

mistakes = shared(__file__, "_exercise8_mistakes")
log_softmax = mistakes.log_softmax
SOFTMAX_CLIPPED = (
    "this is the softmax of the scores clipped (np.clip): clipping changes the probabilities "
    "wherever a score lies outside the bounds; subtract each row's maximum before exponentiating "
    "instead, which keeps every exponent at most 0"
)
CLIP_PROBE = np.array([[1000.0, 0.0], [-1000.0, 0.0]])


def clipped_softmax(student: Any, extreme: np.ndarray, got: np.ndarray) -> dict[str, Any]:
    """SOFTMAX_CLIPPED -> softmax(np.clip(extreme, low, high)), where CLIP_PROBE shows the bounds
    the student's softmax clips the scores to and those bounds give ``got``, entry by entry."""
    probe = answer_or_none(student.softmax, CLIP_PROBE)
    if not isinstance(probe, np.ndarray) or probe.shape != CLIP_PROBE.shape:
        return {}
    with np.errstate(all="ignore"):
        top, bottom = float(probe[0, 1]), float(probe[1, 0])
        high = np.log(1 / top - 1) if 0 < top < 0.5 else np.inf
        low = np.log(bottom / (1 - bottom)) if 0 < bottom < 0.5 else -np.inf
    if not (np.isfinite(high) or np.isfinite(low)):
        return {}
    predicted = np.exp(log_softmax(np.clip(extreme, low, high)))
    if not np.allclose(got, predicted, rtol=1e-6, atol=0):
        return {}
    return {SOFTMAX_CLIPPED: predicted}


def mse(pred, target):
    """mean((pred - target)²), computed in the grader."""
    return float(np.mean((pred - target) ** 2))


def cross_entropy(scores, labels):
    """-mean log softmax(scores)[n, labels[n]], computed in the grader."""
    return -float(np.mean(log_softmax(scores)[np.arange(scores.shape[0]), labels]))


def labels_for(rng, n, classes):
    """Labels covering at least two classes (equal labels hide indexing bugs)."""
    labels = rng.integers(0, classes, size=n)
    labels[:2] = [0, 1]
    return rng.permutation(labels)


def gradient_at(x: np.ndarray) -> Any:
    """expect_gradient at ``x``, called as mistakes.expect calls an expectation."""
    return lambda got, f, call, **options: expect_gradient(got, f, x, call, **options)


@check(points=2)
def test_mse_loss(student, rng):
    """mse_loss is mean((pred - target)²) with gradient 2(pred - target)/(N·M)."""
    pred, target = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    call = "mse_loss(pred (4, 3), target (4, 3))"
    loss, dpred = mistakes.loss_pair(student.mse_loss(pred, target), call, pred.shape)
    warn_if_inputs_changed(student, call)
    diff = pred - target
    expected = mse(pred, target)
    loss_mistakes = {hint: value for hint, (value, _) in mistakes.mse_loss_mistakes(diff).items()}
    loss = mistakes.loss_number(loss, call + " loss", mistakes.mse_loss_forms(diff))
    mistakes.expect(
        expect_close, loss, expected, call + " loss", expected, loss_mistakes, rtol=1e-12
    )
    mistakes.expect(
        gradient_at(pred),
        dpred,
        lambda p: mse(p, target),
        call + ": dpred",
        2 * diff / diff.size,
        mistakes.mse_gradient_mistakes(diff),
    )


@check(points=1)
def test_softmax(student, rng):
    """softmax gives positive rows summing to 1, also for scores of ±1000."""
    scores = rng.normal(size=(3, 4))
    call = "softmax(scores (3, 4))"
    answer = mistakes.answer(student, "softmax", scores)
    expected = np.exp(log_softmax(scores))
    mistakes.expect(
        expect_close,
        expect_array(answer, call, (3, 4)),
        expected,
        call,
        expected,
        mistakes.softmax_mistakes(scores, answer),
        rtol=1e-12,
    )
    extreme = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -999.0]])
    call = "softmax([[1000, -1000, 0], [-1000, -1000, -999]])"
    with np.errstate(all="ignore"):
        got = expect_array(student.softmax(extreme), call, (2, 3))
    if not np.all(np.isfinite(got)):
        fail(f"{call} gave {got.tolist()}; subtract each row's maximum before exponentiating")
    expected = np.exp(log_softmax(extreme))
    named = {}
    if not np.allclose(got, expected, rtol=1e-12, atol=1e-300):
        named = clipped_softmax(student, extreme, got)
    expect_close(got, expected, call, rtol=1e-12, atol=1e-300, mistakes=named)


@check(points=3)
def test_softmax_cross_entropy(student, rng):
    """softmax_cross_entropy: -mean log p[y], and a gradient matching its central differences."""
    n, classes = 5, 4
    scores = rng.normal(size=(n, classes))
    labels = labels_for(rng, n, classes)
    call = f"softmax_cross_entropy(scores ({n}, {classes}), labels={labels.tolist()})"
    answer = mistakes.answer(student, "softmax_cross_entropy", scores, labels)
    loss, dscores = mistakes.loss_pair(answer, call, scores.shape)
    warn_if_inputs_changed(student, call)
    expected = cross_entropy(scores, labels)
    following, gradient_following = mistakes.softmax_following(student, scores, labels)
    loss = mistakes.loss_number(loss, call + " loss", mistakes.ce_loss_forms(scores, labels))
    losses, gradients = mistakes.ce_mistakes(scores, labels)
    loss_mistakes = {hint: value for hint, (value, _) in losses.items()}
    if not np.isclose(loss, expected, rtol=1e-10, atol=0):
        loss_mistakes.update(mistakes.eps_mistakes(student, scores, labels, loss))
    mistakes.expect(
        expect_close,
        loss,
        expected,
        call + " loss",
        expected,
        loss_mistakes,
        following,
        rtol=1e-10,
    )
    mistakes.expect(
        gradient_at(scores),
        dscores,
        lambda s: cross_entropy(s, labels),
        call + ": dscores",
        mistakes.gradient_of(log_softmax(scores), labels),
        gradients,
        gradient_following,
    )
