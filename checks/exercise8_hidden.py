"""Hidden checks for exercise 8, losses: per function, the reference on other shapes (which
catches a softmax over the wrong axis made the same way in the loss and its gradient), each call
made twice, and scores of ±1000. Each function scores on its own; a mistake the public checks
name is named here in the same words (checks/_exercise8_mistakes.py), charged there, and a
gradient that follows a loss's named mistake is not charged again. An error the student's code
raises gives no answer: it fails each check that meets it, naming its mistake again."""

from collections.abc import Callable
from typing import Any

import numpy as np

from grader.checks import (
    CheckFailed,
    answer_or_none,
    check,
    expect_array,
    expect_matches_reference,
    expect_same_again,
    fail,
    fail_unless_charged,
    follows,
    shared,
    warn_if_inputs_changed,
    with_hint,
)

mistakes = shared(__file__, "_exercise8_mistakes")
SHAPES = [(1, 3), (6, 2), (7, 5)]
CE_OVERFLOW = (
    "e^1000 overflows to inf (and e^-1000 underflows to 0): subtract each row's maximum before "
    "exponentiating, log Σ exp(s) = m + log Σ exp(s - m)"
)
CE_GLOBAL_SHIFT = (
    "the scores are shifted by one maximum for the whole batch, so the exponentials of a row far "
    "below it all underflow to 0, and log(0) = -inf: subtract each row's own maximum, "
    "scores.max(axis=1, keepdims=True)"
)
CE_LOG_OF_ZERO = (
    "a probability of e^-1000 underflows to 0, and log(0) = -inf: take the log through "
    "log-softmax (shifted - log Σ exp(shifted)), never np.log of a probability"
)
CE_SHIFT_OVERFLOWS = (
    "e^(s - shift) overflows where a score lies far above what is subtracted: subtract each row's "
    "maximum, which keeps every exponent at most 0"
)
CE_NOT_FINITE = (
    "take the log through log-softmax (shifted - log Σ exp(shifted)), never np.log of a probability"
)
# Scores whose log Σ exp overflows unless shifted (and a row far below the batch's maximum), a
# row whose exponentials all underflow unless shifted, a probability that underflows, and a
# row spanning 750 whose right class is its largest score (no probability of it underflows).
OVERFLOW = (np.array([[800.0, 801.0, 799.0], [-3.0, 0.0, 2.0]]), np.array([0, 2]))
LOW = (np.array([[-800.0, -801.0, -799.0]]), np.array([0]))
UNDERFLOW = (np.array([[0.0, -800.0, -5.0], [1.0, 2.0, 0.0]]), np.array([1, 0]))
SPREAD = (np.array([[0.0, 750.0, 5.0]]), np.array([1]))


def flat(got: Any, reference: Any, named: dict[Any, Any]) -> dict[Any, Any]:
    """``named`` for expect_same_again: each list of a mistake's forms replaced by the one
    ``got`` shows, without the Weak ones, and none at all where two fit ``got``."""
    offered = {
        key: mistakes.closest(got, value)
        for key, value in named.items()
        if not isinstance(value, mistakes.Weak)
    }
    fitting = [key for key, value in offered.items() if mistakes.fits(got, reference, value)]
    return {} if len(fitting) > 1 else offered


def expect_loss(
    student: Any,
    solution: Any,
    name: str,
    call: str,
    arguments: tuple[np.ndarray, np.ndarray],
    loss_mistakes: dict[str, tuple[Any, np.ndarray]],
    loss_forms: dict[str, np.ndarray],
    gradient_mistakes: dict[Any, Any],
    more: Callable[[float], dict[str, float]] | None = None,
    softmax_following: tuple[dict[Any, float], dict[Any, np.ndarray]] = ({}, {}),
) -> None:
    """``name``(*arguments) gives the reference's loss and gradient, twice. loss_mistakes: hint ->
    (the loss with that mistake, the gradient of that loss): a loss showing one, and a gradient
    that follows it, are that named mistake. more: the student's loss -> more loss mistakes.
    softmax_following: where the student's softmax shows a named mistake, the loss and the
    gradient computed from its probabilities, which follow that mistake."""
    answer = mistakes.answer(student, name, *arguments)
    loss, gradient = mistakes.loss_pair(answer, call, arguments[0].shape)
    warn_if_inputs_changed(student, call)
    loss = mistakes.loss_number(loss, call + " loss", loss_forms)
    expected_loss, expected_gradient = getattr(solution, name)(*arguments)
    losses = {hint: value for hint, (value, _) in loss_mistakes.items()}
    if more is not None and not np.isclose(loss, expected_loss, rtol=1e-7, atol=0):
        losses.update(more(loss))
    following = {
        (name, hint): slope
        for hint, (value, slope) in loss_mistakes.items()
        if mistakes.fits(loss, expected_loss, mistakes.closest(loss, value))
    }
    loss_following, gradient_following = softmax_following
    following.update(gradient_following)
    loss_call = call + " loss"
    mistakes.expect(
        expect_matches_reference,
        loss,
        expected_loss,
        loss_call,
        expected_loss,
        losses,
        loss_following,
    )
    gradient_call = f"{call}: d{'pred' if name == 'mse_loss' else 'scores'}"
    gradient = expect_array(gradient, gradient_call, arguments[0].shape)
    mistakes.expect(
        expect_matches_reference,
        gradient,
        expected_gradient,
        gradient_call,
        expected_gradient,
        gradient_mistakes,
        following,
    )
    again = mistakes.answer(student, name, *arguments)
    loss_again, gradient_again = mistakes.loss_pair(again, call, arguments[0].shape)
    # As the first answer was read: the loss as a float, the gradient as float64.
    loss_again = mistakes.loss_number(loss_again, loss_call, loss_forms)
    if isinstance(gradient_again, np.ndarray) and gradient_again.dtype.kind in "biuf":
        gradient_again = gradient_again.astype(np.float64)
    named = flat(loss_again, expected_loss, {**loss_following, **losses})
    expect_same_again(loss, loss_again, expected_loss, loss_call, mistakes=named)
    named = flat(gradient_again, expected_gradient, {**following, **gradient_mistakes})
    expect_same_again(gradient, gradient_again, expected_gradient, gradient_call, mistakes=named)


def expect_cross_entropy(student, solution, call, scores, labels):
    losses, gradients = mistakes.ce_mistakes(scores, labels)
    expect_loss(
        student,
        solution,
        "softmax_cross_entropy",
        call,
        (scores, labels),
        losses,
        mistakes.ce_loss_forms(scores, labels),
        gradients,
        lambda loss: mistakes.eps_mistakes(student, scores, labels, loss),
        mistakes.softmax_following(student, scores, labels),
    )


def finite(answer: Any) -> bool:
    loss, gradient = mistakes.loss_of(answer)
    return bool(
        loss is not None
        and np.isfinite(loss)
        and isinstance(gradient, np.ndarray)
        and np.all(np.isfinite(gradient))
    )


def not_finite_hint(student: Any) -> str | None:
    """What to do where the loss or gradient is not finite at ±1000, told by the probes that are
    not finite either: all but UNDERFLOW unshifted, OVERFLOW alone shifted by the batch's
    maximum, UNDERFLOW alone the log of a probability, UNDERFLOW and SPREAD shifted by less
    than each row's maximum (its minimum, say)."""
    with np.errstate(all="ignore"):
        fails = tuple(
            not finite(answer_or_none(student.softmax_cross_entropy, *probe))
            for probe in (OVERFLOW, LOW, UNDERFLOW, SPREAD)
        )
    hints = {
        (True, True, False, True): CE_OVERFLOW,
        (True, False, False, False): CE_GLOBAL_SHIFT,
        (False, False, True, False): CE_LOG_OF_ZERO,
        (False, False, True, True): CE_SHIFT_OVERFLOWS,
    }
    return hints.get(fails)


def not_finite(
    student: Any, call: str, arguments: tuple[np.ndarray, np.ndarray], loss: float, dscores: Any
) -> None:
    """Fail for a loss or gradient that is not finite, unless the answer, loss and gradient, is
    what one named mistake gives, nan and all (computed here): the loss's own, or its softmax's
    (the gradient from those probabilities, with the right loss, or the loss from them where
    that is finite: here np.log of a probability is log(0) whatever the softmax, a mistake of
    the loss's own), each made with scores shifted by a maximum (a missing shift is another
    mistake, which no check charged). That mistake is named, where several fit the one an
    earlier check charged, else none; charged before, it is noted and a second call must give
    the same answer. Else fail with what the probes tell (not_finite_hint), else only what to
    do."""
    message = f"{call} gave loss {loss} and dscores {dscores.tolist()}"
    scores, labels = arguments
    fitting: dict[Any, None] = {}
    with np.errstate(all="ignore"):
        losses, gradients = mistakes.softmax_following(student, *arguments, shifted_only=True)
        right = mistakes.cross_entropy_of(mistakes.log_softmax(scores), labels)
        for key, gradient in gradients.items():
            loss_fits = any(
                np.isfinite(value) and mistakes.same(np.array(loss), np.array(value))
                for value in (right, losses.get(key, np.nan))
            )
            if loss_fits and mistakes.same(dscores, gradient):
                fitting[key] = None
        for hint, pairs in mistakes.ce_candidates(*arguments, shifted_only=True).items():
            for value, gradient in pairs:
                if mistakes.same(np.array(loss), np.array(value)) and mistakes.same(
                    dscores, gradient
                ):
                    fitting[("softmax_cross_entropy", hint)] = None
    for key in fitting:
        try:
            fail_unless_charged(with_hint(message, follows(key, call)), key)
        except CheckFailed:
            if len(fitting) == 1:
                raise
            continue
        expect_same_answer_again(student, call, arguments, loss, dscores)
        return
    hint = not_finite_hint(student)
    fail(with_hint(message if hint else f"{message}; {CE_NOT_FINITE}", hint))


def expect_same_answer_again(
    student: Any, call: str, arguments: tuple[np.ndarray, np.ndarray], loss: float, dscores: Any
) -> None:
    """The same call a second time gives the same loss and dscores, nan and all."""
    scores = arguments[0]
    with np.errstate(all="ignore"):
        again = mistakes.answer(student, "softmax_cross_entropy", *arguments)
        loss_again, dscores_again = mistakes.loss_pair(again, call, scores.shape)
    loss_call = call + " loss"
    loss_again = mistakes.loss_number(loss_again, loss_call, mistakes.ce_loss_forms(*arguments))
    dscores_again = expect_array(dscores_again, call + ": dscores", scores.shape)
    if not (
        np.array_equal(np.array(loss_again), np.array(loss), equal_nan=True)
        and np.array_equal(dscores_again, dscores, equal_nan=True)
    ):
        fail(
            f"the same call a second time: {call} gave loss {loss_again} and dscores "
            f"{dscores_again.tolist()}, where the first call gave loss {loss} and dscores "
            f"{dscores.tolist()}: keep nothing from one call to the next."
        )


@check(points=1)
def test_mse_loss_matches_reference(student, solution, rng):
    """mse_loss and its gradient agree with the reference, N = 1 included."""
    for n, outputs in SHAPES:
        pred, target = rng.normal(scale=3, size=(n, outputs)), rng.normal(size=(n, outputs))
        call = f"mse_loss(pred ({n}, {outputs}), target ({n}, {outputs}))"
        diff = pred - target
        expect_loss(
            student,
            solution,
            "mse_loss",
            call,
            (pred, target),
            mistakes.mse_loss_mistakes(diff),
            mistakes.mse_loss_forms(diff),
            mistakes.mse_gradient_mistakes(diff),
        )


@check(points=1)
def test_softmax_matches_reference(student, solution, rng):
    """softmax agrees with the reference, N = 1 included."""
    for n, classes in SHAPES:
        scores = rng.normal(scale=3, size=(n, classes))
        call = f"softmax(scores ({n}, {classes}))"
        answer = mistakes.answer(student, "softmax", scores)
        got = expect_array(answer, call, scores.shape)
        warn_if_inputs_changed(student, call)
        expected = solution.softmax(scores)
        named = mistakes.softmax_mistakes(scores, answer)
        mistakes.expect(expect_matches_reference, got, expected, call, expected, named)
        again = mistakes.answer(student, "softmax", scores)
        expect_same_again(got, again, expected, call, mistakes=flat(again, expected, named))


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
        answer = mistakes.answer(student, "softmax_cross_entropy", scores, labels)
        loss, dscores = mistakes.loss_pair(answer, call, scores.shape)
    loss = mistakes.loss_number(loss, call + " loss", mistakes.ce_loss_forms(scores, labels))
    dscores = expect_array(dscores, call + ": dscores", scores.shape)
    if not (np.isfinite(loss) and np.all(np.isfinite(dscores))):
        not_finite(student, call, (scores, labels), loss, dscores)
        return
    with np.errstate(all="ignore"):
        expect_cross_entropy(student, solution, call, scores, labels)
