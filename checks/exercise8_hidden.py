"""Hidden checks for exercise 8, losses: the reference on other shapes (which catches a softmax
over the wrong axis made the same way in the loss and its gradient), scores of ±1000, hygiene."""

import numpy as np

from grader.checks import (
    check,
    expect_array,
    expect_matches_reference,
    expect_number,
    expect_pair,
    fail,
    warn_if_inputs_changed,
)


@check(points=2)
def test_losses_match_reference(student, solution, rng):
    """Both losses and their gradients agree with the reference, N = 1 included."""
    for n, classes in [(1, 3), (6, 2), (7, 5)]:
        scores = rng.normal(scale=3, size=(n, classes))
        labels = rng.integers(0, classes, size=n)
        call = f"softmax_cross_entropy(scores ({n}, {classes}), labels={labels.tolist()})"
        loss, dscores = expect_pair(student.softmax_cross_entropy(scores, labels), call)
        expected_loss, expected_dscores = solution.softmax_cross_entropy(scores, labels)
        expect_matches_reference(expect_number(loss, call + " loss"), expected_loss, call)
        expect_matches_reference(
            expect_array(dscores, call + ": dscores", scores.shape),
            expected_dscores,
            call + ": dscores",
        )
        target = rng.normal(size=(n, classes))
        call = f"mse_loss(pred ({n}, {classes}), target ({n}, {classes}))"
        loss, dpred = expect_pair(student.mse_loss(scores, target), call)
        expected_loss, expected_dpred = solution.mse_loss(scores, target)
        expect_matches_reference(expect_number(loss, call + " loss"), expected_loss, call)
        expect_matches_reference(
            expect_array(dpred, call + ": dpred", scores.shape), expected_dpred, call + ": dpred"
        )
        call = f"softmax(scores ({n}, {classes}))"
        expect_matches_reference(
            expect_array(student.softmax(scores), call, scores.shape),
            solution.softmax(scores),
            call,
        )


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
    expected_loss, expected_dscores = solution.softmax_cross_entropy(scores, labels)
    expect_matches_reference(loss, expected_loss, call + " loss")
    expect_matches_reference(dscores, expected_dscores, call + ": dscores")


@check(points=1)
def test_loss_hygiene(student, rng):
    """Inputs are left unchanged and the same call gives the same result."""
    scores = rng.normal(size=(4, 3))
    labels = np.array([0, 2, 1, 2])
    call = "softmax_cross_entropy(scores (4, 3), labels=[0, 2, 1, 2])"
    first = expect_pair(student.softmax_cross_entropy(scores, labels), call)
    warn_if_inputs_changed(student, call)
    second = expect_pair(student.softmax_cross_entropy(scores, labels), call)
    if first[0] != second[0] or not np.array_equal(first[1], second[1]):
        fail(f"{call} gave a different result the second time")
