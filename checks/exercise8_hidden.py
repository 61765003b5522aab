"""Hidden checks for exercise 8, losses: per function, the reference on other shapes (which
catches a softmax over the wrong axis made the same way in the loss and its gradient), each call
made twice, and scores of ±1000. Each function scores on its own; a loss averaged the wrong way
is named as in the public checks, charged there, and a gradient that follows it is not charged
again."""

import numpy as np

from grader.checks import (
    answer_or_none,
    check,
    expect_array,
    expect_matches_reference,
    expect_number,
    expect_pair,
    expect_same_again,
    fail,
    shows,
    warn_if_inputs_changed,
)

# As in the public checks, word for word: the same mistake, charged once.
MSE_SUMMED = "the loss is summed over the outputs; take the mean over every entry"
CROSS_ENTROPY_SUMMED = "the loss is summed over the batch; average it over the N examples"
SOFTMAX_DOWN_COLUMNS = (
    "softmax",
    "the probabilities are normalised down each column (axis 0); each row is one example",
)
SHAPES = [(1, 3), (6, 2), (7, 5)]


def down_columns(scores):
    """softmax with the named mistake: each column normalised."""
    exp = np.exp(scores - scores.max(axis=0, keepdims=True))
    return exp / exp.sum(axis=0, keepdims=True)


def softmax_down_columns(student, scores):
    """The column-normalised probabilities where the student's softmax gives them at ``scores``
    (and they are not the right ones), else None: for a loss that calls it."""
    got = answer_or_none(student.softmax, scores)
    columns = down_columns(scores)
    if got is None or not shows(got, columns) or shows(got, np.exp(log_softmax(scores))):
        return None
    return columns


def log_softmax(scores):
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def expect_loss(student, solution, name, call, arguments, summed, columns=None):
    """``name``(*arguments) gives the reference's loss and gradient, twice. summed: (hint, the
    loss summed the wrong way, the gradient of that loss): a loss summed so, and a gradient that
    follows it, are that named mistake. columns: where the student's softmax normalises down
    the columns, its probabilities: a loss or gradient computed from them follows that
    mistake."""
    hint, summed_loss, summed_gradient = summed
    function = getattr(student, name)
    loss, gradient = expect_pair(function(*arguments), call)
    warn_if_inputs_changed(student, call)
    loss = expect_number(loss, call + " loss")
    expected_loss, expected_gradient = getattr(solution, name)(*arguments)
    loss_mistakes = {hint: summed_loss}
    following = {(name, hint): summed_gradient} if shows(loss, summed_loss) else {}
    if columns is not None:
        scores, labels = arguments
        rows = np.arange(scores.shape[0])
        loss_mistakes[SOFTMAX_DOWN_COLUMNS] = -float(np.mean(np.log(columns[rows, labels])))
        onehot = np.eye(scores.shape[1])[labels]
        following[SOFTMAX_DOWN_COLUMNS] = (columns - onehot) / scores.shape[0]
    expect_matches_reference(loss, expected_loss, call + " loss", mistakes=loss_mistakes)
    gradient_call = f"{call}: d{'pred' if name == 'mse_loss' else 'scores'}"
    gradient = expect_array(gradient, gradient_call, arguments[0].shape)
    expect_matches_reference(gradient, expected_gradient, gradient_call, mistakes=following)
    loss_again, gradient_again = expect_pair(function(*arguments), call)
    expect_same_again(loss, loss_again, expected_loss, call + " loss", mistakes=loss_mistakes)
    expect_same_again(
        gradient, gradient_again, expected_gradient, gradient_call, mistakes=following
    )


def cross_entropy_summed(solution, scores, labels):
    """The cross-entropy summed over the batch, and its gradient: N times the reference's."""
    loss, dscores = solution.softmax_cross_entropy(scores, labels)
    n = scores.shape[0]
    return CROSS_ENTROPY_SUMMED, n * loss, n * dscores


def expect_cross_entropy(student, solution, call, scores, labels):
    summed = cross_entropy_summed(solution, scores, labels)
    columns = softmax_down_columns(student, scores)
    expect_loss(student, solution, "softmax_cross_entropy", call, (scores, labels), summed, columns)


@check(points=1)
def test_mse_loss_matches_reference(student, solution, rng):
    """mse_loss and its gradient agree with the reference, N = 1 included."""
    for n, outputs in SHAPES:
        pred, target = rng.normal(scale=3, size=(n, outputs)), rng.normal(size=(n, outputs))
        call = f"mse_loss(pred ({n}, {outputs}), target ({n}, {outputs}))"
        diff = pred - target
        summed = (MSE_SUMMED, float(np.mean(np.sum(diff**2, axis=1))), 2 * diff / n)
        expect_loss(student, solution, "mse_loss", call, (pred, target), summed)


@check(points=1)
def test_softmax_matches_reference(student, solution, rng):
    """softmax agrees with the reference, N = 1 included."""
    for n, classes in SHAPES:
        scores = rng.normal(scale=3, size=(n, classes))
        call = f"softmax(scores ({n}, {classes}))"
        got = expect_array(student.softmax(scores), call, scores.shape)
        warn_if_inputs_changed(student, call)
        expected = solution.softmax(scores)
        mistakes = {SOFTMAX_DOWN_COLUMNS: down_columns(scores)}
        expect_matches_reference(got, expected, call, mistakes=mistakes)
        expect_same_again(got, student.softmax(scores), expected, call, mistakes=mistakes)


@check(points=1)
def test_softmax_cross_entropy_matches_reference(student, solution, rng):
    """softmax_cross_entropy and its gradient agree with the reference, N = 1 included."""
    for n, classes in SHAPES:
        scores = rng.normal(scale=3, size=(n, classes))
        labels = rng.integers(0, classes, size=n)
        call = f"softmax_cross_entropy(scores ({n}, {classes}), labels={labels.tolist()})"
        expect_cross_entropy(student, solution, call, scores, labels)


@check(points=1)
def test_cross_entropy_at_extreme_scores(student, solution):
    """With scores of ±1000 the loss and gradient are finite and match the reference."""
    scores = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 3.0], [0.0, 0.0, -1000.0]])
    labels = np.array([1, 1, 2])
    call = "softmax_cross_entropy(scores of ±1000, labels=[1, 1, 2])"
    with np.errstate(all="ignore"):
        loss, dscores = expect_pair(student.softmax_cross_entropy(scores, labels), call)
    loss = expect_number(loss, call + " loss")
    dscores = expect_array(dscores, call + ": dscores", scores.shape)
    if not (np.isfinite(loss) and np.all(np.isfinite(dscores))):
        fail(
            f"{call} gave loss {loss} and dscores {dscores.tolist()}; take the log through "
            "log-softmax (shifted - log Σ exp(shifted)), never np.log of a probability"
        )
    with np.errstate(all="ignore"):
        expect_cross_entropy(student, solution, call, scores, labels)
