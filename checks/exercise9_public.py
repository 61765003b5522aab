"""Public checks for exercise 9, backpropagation: the forward pass computed here, and every
weight's and bias's gradient against central differences of the network and loss the docstrings
define, computed here too (the student's code is called at the check's own points only), on a
batch of N >= 3 with distinct layer sizes and labels of several classes.

Each function scores on its own. A backward pass that follows its forward pass's named mistake,
and a loss_and_gradients that follows a named mistake of either, are that mistake again: charged
once, in the check of the function that made it. Where the student's forward gives wrong scores
(or caches its right backward cannot use), network_backward is checked on caches kept as the
docstring's example keeps them. The mistakes and their words are in
checks/_exercise9_mistakes.py (the network's and the backward's) and checks/_exercise9_loss.py
(loss_and_gradients'), shared with the hidden checks."""

from typing import Any

import numpy as np

from grader.checks import (
    check,
    expect_array,
    expect_close,
    expect_gradient,
    expect_number,
    expect_pair,
    shared,
    shows,
    warn_if_inputs_changed,
)
from grader.student_code.errors import StudentError, StudentRaised

mistakes = shared(__file__, "_exercise9_mistakes")  # the network's and the backward's
losses = shared(__file__, "_exercise9_loss")  # loss_and_gradients'

SIZES = [5, 4, 3]  # the lesson's 5 inputs, one hidden layer, 3 classes
FOLLOWED = {  # the forward mistakes whose caches a right backward follows, and their variant
    mistakes.LAST_LAYER_RELU: "last relu",
    mistakes.NO_HIDDEN_RELU: "no relu",
}


def expect_scores(scores: Any, x: np.ndarray, params: dict, call: str) -> None:
    """network_forward's scores are the network's, or fail naming the mistake they show."""
    expected = mistakes.forward_by_hand(x, params)
    if mistakes.truncated_scores(scores, x, params, call):
        return
    got = expect_array(scores, call, expected.shape)
    named = mistakes.forward_mistakes(x, params, got)
    expect_close(got, expected, call, rtol=1e-10, mistakes=named)


@check(points=2)
def test_network_forward(student, rng):
    """network_forward gives the scores of linear layers with ReLU between them."""
    params = mistakes.network(rng, SIZES)
    x = rng.normal(size=(4, 5))
    call = "network_forward(x (4, 5), params of a [5, 4, 3] network)"
    answer = mistakes.forward_answer(student, x, params, call)
    scores, caches = expect_pair(answer, call)
    warn_if_inputs_changed(student, call)
    expect_scores(scores, x, params, call)
    if shows(scores, mistakes.forward_by_hand(x, params)):  # are the caches what it reads?
        mistakes.own_caches_usable(student, x, params, caches, call)


def variant_response(x: np.ndarray, params: dict, dscores: np.ndarray, variant: str):
    """sum(scores · dscores) of the network with one parameter replaced, as ``variant`` of
    the forward computes the scores ("" for the docstring's)."""

    def response(key: str, value: np.ndarray) -> float:
        scores = mistakes.forward_by_hand(x, {**params, key: value}, variant)
        return float(np.sum(scores * dscores))

    return response


@check(points=2)
def test_network_backward_by_finite_differences(student, rng):
    """Every gradient network_backward returns matches central differences of the network."""
    params = mistakes.network(rng, SIZES)
    x = rng.normal(size=(4, 5))
    dscores = rng.normal(size=(4, 3))
    try:
        answer = student.network_forward(x, params)
    except StudentError:
        answer = None
    pair = isinstance(answer, (tuple, list)) and len(answer) == 2
    right = pair and shows(answer[0], mistakes.forward_by_hand(x, params))
    shown = {
        mistake: variant
        for mistake, variant in FOLLOWED.items()
        if pair and shows(answer[0], mistakes.forward_by_hand(x, params, variant))
    }
    call = "network_backward(dscores (4, 3), caches)"
    if right and not mistakes.own_caches_usable(student, x, params, answer[1], call):
        right = False
    if right:
        grads = mistakes.backward_answer(student, x, params, dscores, answer[1])
    elif shown:
        grads = student.network_backward(dscores, answer[1])
    else:
        call = "network_backward(dscores (4, 3), caches kept as the docstring's example keeps them)"
        grads = by_the_docstring(student, x, params, dscores)
    fit: dict = {}
    if shown and not right:
        mistakes.keys_failure(grads, params, None, call)
    else:
        grads, fit, _ = mistakes.check_keys(student, grads, x, params, dscores, call)
    true_response = variant_response(x, params, dscores, "")
    for key in mistakes.key_order(grads):
        expect_gradient(
            grads[key],
            lambda v, key=key: true_response(key, v),
            params[key],
            f"{call}: {key}",
            mistakes={mistake: values[key] for mistake, values in fit.items()},
            mistaken_forwards={
                mistake: lambda v, key=key, variant=variant: variant_response(
                    x, params, dscores, variant
                )(key, v)
                for mistake, variant in shown.items()
            },
        )


def by_the_docstring(student: Any, x: np.ndarray, params: dict, dscores: np.ndarray) -> Any:
    """network_backward on caches as the docstring's example keeps them: the student's forward
    gave no right scores here (its mistake is charged in its own check)."""
    try:
        return student.network_backward(dscores, mistakes.caches_by_hand(x, params))
    except StudentRaised as error:
        raise StudentRaised(
            f"{mistakes.first_line(str(error))}; network_forward gives no right scores here, so "
            "network_backward was given caches as the docstring's example keeps them: per "
            "layer, (x, W, b) and the ReLU's z (None for the last layer).",
            error.line,
        ) from None


@check(points=2)
def test_loss_and_gradients(student, rng):
    """loss_and_gradients gives the softmax cross-entropy and the gradient of every parameter."""
    params = mistakes.network(rng, SIZES)
    x = rng.normal(size=(6, 5))
    labels = np.array([0, 1, 2, 2, 1, 0])
    call = "loss_and_gradients(x (6, 5), labels, params of a [5, 4, 3] network)"
    try:
        answer = student.loss_and_gradients(x, labels, params)
    except StudentRaised as error:
        losses.loss_error(student, x, labels, params, error)
    loss, grads = losses.pair_of(answer, call)
    warn_if_inputs_changed(student, call)
    parts = losses.Parts(student, x, labels, params)
    if losses.follow_parts(parts, loss, grads, params, call):
        return
    loss = expect_number(loss, call + " loss")
    named = losses.loss_mistakes(student, x, labels, params, (grads, loss), parts)
    scores = mistakes.forward_by_hand(x, params)
    right = losses.cross_entropy(scores, labels)[0]
    losses.forward_loss_failure(parts, loss, right, call)
    expect_close(loss, right, call + " loss", rtol=1e-10, mistakes=named)
    shown = {
        mistake: variant
        for mistake, variant in FOLLOWED.items()
        if mistake in named and shows(loss, named[mistake])
    }
    mistakes.keys_failure(grads, params, parts, call)

    def loss_at(key: str, value: np.ndarray, variant: str = "") -> float:
        changed = mistakes.forward_by_hand(x, {**params, key: value}, variant)
        return losses.cross_entropy(changed, labels)[0]

    fit = losses.loss_gradient_fit(student, loss, grads, x, labels, params)
    for key in mistakes.key_order(params):
        expect_gradient(
            grads[key],
            lambda v, key=key: loss_at(key, v),
            params[key],
            f"{call}: {key}",
            mistakes={mistake: values[key] for mistake, values in fit.items()},
            mistaken_forwards={
                mistake: lambda v, key=key, variant=variant: loss_at(key, v, variant)
                for mistake, variant in shown.items()
            },
        )
