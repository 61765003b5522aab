"""Public checks for exercise 8, losses: values from the formulas, gradients against central
differences of the losses the docstrings define, computed here (the student's loss is called at
the check's own points only), and softmax at scores of ±1000. A softmax_cross_entropy that
follows its softmax's named mistake is that mistake again, charged once in softmax's check."""

import numpy as np

from grader.checks import (
    answer_or_none,
    check,
    expect_array,
    expect_close,
    expect_gradient,
    expect_number,
    expect_pair,
    fail,
    shows,
    warn_if_inputs_changed,
)

MSE_SUMMED = "the loss is summed over the outputs; take the mean over every entry"
CROSS_ENTROPY_SUMMED = "the loss is summed over the batch; average it over the N examples"
SOFTMAX_DOWN_COLUMNS = (
    "softmax",
    "the probabilities are normalised down each column (axis 0); each row is one example",
)


def down_columns(scores):
    """softmax with the named mistake: each column normalised."""
    exp = np.exp(scores - scores.max(axis=0, keepdims=True))
    return exp / exp.sum(axis=0, keepdims=True)


def softmax_down_columns(student, scores):
    """The column-normalised probabilities where the student's softmax gives them at ``scores``,
    else None: for a loss that calls it."""
    got = answer_or_none(student.softmax, scores)
    return down_columns(scores) if got is not None and shows(got, down_columns(scores)) else None


def log_softmax(scores):
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


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


@check(points=2)
def test_mse_loss(student, rng):
    """mse_loss is mean((pred - target)²) with gradient 2(pred - target)/(N·M)."""
    pred, target = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    call = "mse_loss(pred (4, 3), target (4, 3))"
    loss, dpred = expect_pair(student.mse_loss(pred, target), call)
    warn_if_inputs_changed(student, call)
    expect_close(
        expect_number(loss, call + " loss"),
        mse(pred, target),
        call + " loss",
        rtol=1e-12,
        mistakes={MSE_SUMMED: np.mean(np.sum((pred - target) ** 2, axis=1))},
    )
    diff = pred - target
    expect_gradient(
        dpred,
        lambda p: mse(p, target),
        pred,
        call + ": dpred",
        mistakes={
            "divide by the number of entries, N·M = 12": 2 * diff,
            "the gradient is divided by N only; the loss averages over all N·M entries": 2
            * diff
            / 4,
        },
    )


@check(points=1)
def test_softmax(student, rng):
    """softmax gives positive rows summing to 1, also for scores of ±1000."""
    scores = rng.normal(size=(3, 4))
    call = "softmax(scores (3, 4))"
    expect_close(
        expect_array(student.softmax(scores), call, (3, 4)),
        np.exp(log_softmax(scores)),
        call,
        rtol=1e-12,
        mistakes={SOFTMAX_DOWN_COLUMNS: down_columns(scores)},
    )
    extreme = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -999.0]])
    call = "softmax([[1000, -1000, 0], [-1000, -1000, -999]])"
    with np.errstate(all="ignore"):
        got = expect_array(student.softmax(extreme), call, (2, 3))
    if not np.all(np.isfinite(got)):
        fail(f"{call} gave {got.tolist()}; subtract each row's maximum before exponentiating")
    expect_close(got, np.exp(log_softmax(extreme)), call, rtol=1e-12, atol=1e-300)


@check(points=3)
def test_softmax_cross_entropy(student, rng):
    """softmax_cross_entropy: -mean log p[y], and a gradient matching its central differences."""
    n, classes = 5, 4
    scores = rng.normal(size=(n, classes))
    labels = labels_for(rng, n, classes)
    call = f"softmax_cross_entropy(scores ({n}, {classes}), labels={labels.tolist()})"
    loss, dscores = expect_pair(student.softmax_cross_entropy(scores, labels), call)
    warn_if_inputs_changed(student, call)
    log_probs = log_softmax(scores)
    expected = cross_entropy(scores, labels)
    columns = softmax_down_columns(student, scores)
    following = {}
    if columns is not None:
        following[SOFTMAX_DOWN_COLUMNS] = -float(np.mean(np.log(columns[np.arange(n), labels])))
    expect_close(
        expect_number(loss, call + " loss"),
        expected,
        call + " loss",
        rtol=1e-10,
        mistakes={CROSS_ENTROPY_SUMMED: n * expected, **following},
    )
    probs = np.exp(log_probs)
    onehot = np.eye(classes)[labels]
    column_bug = probs.copy()
    column_bug[:, labels] -= 1  # subtracts in every row, for each label's column
    expect_gradient(
        dscores,
        lambda s: cross_entropy(s, labels),
        scores,
        call + ": dscores",
        mistakes={
            f"the 1/N is missing: divide the gradient by N = {n}": probs - onehot,
            f"the gradient is divided by N = {n} twice": (probs - onehot) / n**2,
            "dscores[:, labels] -= 1 subtracts in every row; use dscores[np.arange(N), "
            "labels]": column_bug / n,
            **({SOFTMAX_DOWN_COLUMNS: (columns - onehot) / n} if columns is not None else {}),
        },
    )
