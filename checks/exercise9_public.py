"""Public checks for exercise 9, backpropagation: the forward pass computed here, and every
weight's and bias's gradient against central differences of the network and loss the docstrings
define, computed here too (the student's code is called at the check's own points only), on a
batch of N >= 3 with distinct layer sizes and labels of several classes."""

import numpy as np

from grader.checks import (
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

SIZES = [5, 4, 3]  # the lesson's 5 inputs, one hidden layer, 3 classes
LAST_LAYER_RELU = (
    "network_forward",
    "the last layer has a ReLU too; the scores come straight from the last linear layer",
)


def network(rng, sizes=SIZES):
    params = {}
    for k in range(1, len(sizes)):
        params[f"W{k}"] = rng.normal(scale=1 / np.sqrt(sizes[k - 1]), size=sizes[k - 1 : k + 1])
        params[f"b{k}"] = 0.1 * rng.normal(size=sizes[k])
    return params


def scores_by_hand(x, params, last_relu=False):
    """The scores of the network the docstring defines; last_relu: with the named mistake."""
    count = len(params) // 2
    h = x
    for k in range(1, count + 1):
        h = h @ params[f"W{k}"] + params[f"b{k}"]
        if k < count or last_relu:
            h = np.maximum(h, 0)
    return h


def cross_entropy(scores, labels):
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -float(np.mean(log_probs[np.arange(scores.shape[0]), labels]))


def grads_of(value, params, call):
    """The student's gradient dict, checked for keys."""
    if not isinstance(value, dict):
        fail(
            f"{call} returned {type(value).__name__}; expected a dict of gradients keyed like "
            f"params: {sorted(params)}"
        )
    if sorted(value) != sorted(params):
        fail(f"{call} returned the keys {sorted(value)}; expected {sorted(params)}")
    return value


def batch_mistakes(n):
    return lambda expected: {
        f"the 1/N is missing (N = {n})": n * expected,
        f"divided by N = {n} once too often": expected / n,
    }


@check(points=2)
def test_network_forward(student, rng):
    """network_forward gives the scores of linear layers with ReLU between them."""
    params = network(rng)
    x = rng.normal(size=(4, 5))
    call = "network_forward(x (4, 5), params of a [5, 4, 3] network)"
    scores, _ = expect_pair(student.network_forward(x, params), call)
    warn_if_inputs_changed(student, call)
    expected = scores_by_hand(x, params)
    expect_close(
        expect_array(scores, call, (4, 3)),
        expected,
        call,
        rtol=1e-10,
        mistakes={LAST_LAYER_RELU: np.maximum(expected, 0)},
    )


@check(points=2)
def test_network_backward_by_finite_differences(student, rng):
    """Every gradient network_backward returns matches central differences of the network."""
    params = network(rng)
    x = rng.normal(size=(4, 5))
    dscores = rng.normal(size=(4, 3))
    call = "network_forward(x (4, 5), params of a [5, 4, 3] network)"
    scores, caches = expect_pair(student.network_forward(x, params), call)
    last_relu = shows(scores, scores_by_hand(x, params, last_relu=True))
    call = "network_backward(dscores (4, 3), caches)"
    grads = grads_of(student.network_backward(dscores, caches), params, call)

    def linear_response(key, value, last_relu=False):
        return float(np.sum(scores_by_hand(x, {**params, key: value}, last_relu) * dscores))

    for key in sorted(params):
        expect_gradient(
            grads[key],
            lambda v, key=key: linear_response(key, v),
            params[key],
            f"{call}: {key}",
            mistaken_forwards={LAST_LAYER_RELU: lambda v, key=key: linear_response(key, v, True)}
            if last_relu
            else None,
        )


@check(points=2)
def test_loss_and_gradients(student, rng):
    """loss_and_gradients gives the softmax cross-entropy and the gradient of every parameter."""
    params = network(rng)
    x = rng.normal(size=(6, 5))
    labels = np.array([0, 1, 2, 2, 1, 0])
    call = "loss_and_gradients(x (6, 5), labels, params of a [5, 4, 3] network)"
    loss, grads = expect_pair(student.loss_and_gradients(x, labels, params), call)
    warn_if_inputs_changed(student, call)
    loss = expect_number(loss, call + " loss")
    relu_loss = cross_entropy(scores_by_hand(x, params, last_relu=True), labels)
    expect_close(
        loss,
        cross_entropy(scores_by_hand(x, params), labels),
        call + " loss",
        rtol=1e-10,
        mistakes={LAST_LAYER_RELU: relu_loss},
    )
    last_relu = shows(loss, relu_loss)
    grads = grads_of(grads, params, call)

    def loss_at(key, value, last_relu=False):
        return cross_entropy(scores_by_hand(x, {**params, key: value}, last_relu), labels)

    for key in sorted(params):
        expect_gradient(
            grads[key],
            lambda v, key=key: loss_at(key, v),
            params[key],
            f"{call}: {key}",
            mistakes=batch_mistakes(6),
            mistaken_forwards={LAST_LAYER_RELU: lambda v, key=key: loss_at(key, v, True)}
            if last_relu
            else None,
        )
