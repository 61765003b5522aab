"""Public checks for exercise 9, backpropagation: the forward pass computed here, and every
weight's and bias's gradient against central differences of the network and loss the docstrings
define, computed here too (the student's code is called at the check's own points only), on a
batch of N >= 3 with distinct layer sizes and labels of several classes.

Each function scores on its own. A backward pass that follows its forward pass's named mistake,
and a loss_and_gradients that follows a named mistake of either, are that mistake again: charged
once, in the check of the function that made it."""

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

SIZES = [5, 4, 3]  # the lesson's 5 inputs, one hidden layer, 3 classes
LAST_LAYER_RELU = (
    "network_forward",
    "the last layer has a ReLU too; the scores come straight from the last linear layer",
)
NO_HIDDEN_RELU = (
    "network_forward",
    "the hidden layers have no ReLU: every layer but the last is followed by relu_forward",
)
NO_RELU_GATE = (
    "network_backward",
    "the gradient skips the hidden ReLUs: pass it through relu_backward with each hidden "
    "layer's ReLU cache before that layer's linear_backward",
)


def network(rng, sizes=SIZES):
    params = {}
    for k in range(1, len(sizes)):
        params[f"W{k}"] = rng.normal(scale=1 / np.sqrt(sizes[k - 1]), size=sizes[k - 1 : k + 1])
        params[f"b{k}"] = 0.1 * rng.normal(size=sizes[k])
    return params


def scores_by_hand(x, params, last_relu=False, hidden_relu=True):
    """The scores of the network the docstring defines; last_relu, not hidden_relu: with that
    named mistake."""
    count = len(params) // 2
    h = x
    for k in range(1, count + 1):
        h = h @ params[f"W{k}"] + params[f"b{k}"]
        if (k < count and hidden_relu) or (k == count and last_relu):
            h = np.maximum(h, 0)
    return h


def ungated_backward(x, params, dscores):
    """The gradients a backward pass gives that skips the hidden ReLUs (the named mistake)."""
    count = len(params) // 2
    inputs, h = [], x
    for k in range(1, count + 1):
        inputs.append(h)
        h = h @ params[f"W{k}"] + params[f"b{k}"]
        if k < count:
            h = np.maximum(h, 0)
    grads, upstream = {}, dscores
    for k in range(count, 0, -1):
        grads[f"W{k}"] = inputs[k - 1].T @ upstream
        grads[f"b{k}"] = upstream.sum(axis=0)
        upstream = upstream @ params[f"W{k}"].T
    return grads


def cross_entropy_gradient(scores, labels):
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    probs[np.arange(scores.shape[0]), labels] -= 1
    return probs / scores.shape[0]


def backward_skips_the_relus(student, x, params, dscores):
    """The gradients of the ungated backward where the student's network_backward, from its own
    forward's caches, gives them (at this check's point), else None: for a function that calls
    it."""
    ungated = ungated_backward(x, params, dscores)
    forward = answer_or_none(student.network_forward, x, params)
    if not isinstance(forward, (tuple, list)) or len(forward) != 2:
        return None
    grads = answer_or_none(student.network_backward, dscores, forward[1])
    if not isinstance(grads, dict) or sorted(grads) != sorted(params):
        return None
    return ungated if all(shows(grads[key], ungated[key]) for key in params) else None


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
        mistakes={
            LAST_LAYER_RELU: np.maximum(expected, 0),
            NO_HIDDEN_RELU: scores_by_hand(x, params, hidden_relu=False),
        },
    )


@check(points=2)
def test_network_backward_by_finite_differences(student, rng):
    """Every gradient network_backward returns matches central differences of the network."""
    params = network(rng)
    x = rng.normal(size=(4, 5))
    dscores = rng.normal(size=(4, 3))
    call = "network_forward(x (4, 5), params of a [5, 4, 3] network)"
    scores, caches = expect_pair(student.network_forward(x, params), call)
    forwards = {
        LAST_LAYER_RELU: {"last_relu": True},
        NO_HIDDEN_RELU: {"hidden_relu": False},
    }
    shown = {
        mistake: variant
        for mistake, variant in forwards.items()
        if shows(scores, scores_by_hand(x, params, **variant))
    }
    call = "network_backward(dscores (4, 3), caches)"
    grads = grads_of(student.network_backward(dscores, caches), params, call)
    ungated = ungated_backward(x, params, dscores)

    def linear_response(key, value, **variant):
        return float(np.sum(scores_by_hand(x, {**params, key: value}, **variant) * dscores))

    for key in sorted(params):
        expect_gradient(
            grads[key],
            lambda v, key=key: linear_response(key, v),
            params[key],
            f"{call}: {key}",
            mistakes={NO_RELU_GATE: ungated[key]},
            mistaken_forwards={
                mistake: lambda v, key=key, variant=variant: linear_response(key, v, **variant)
                for mistake, variant in shown.items()
            },
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
    forwards = {
        LAST_LAYER_RELU: {"last_relu": True},
        NO_HIDDEN_RELU: {"hidden_relu": False},
    }
    losses = {
        mistake: cross_entropy(scores_by_hand(x, params, **variant), labels)
        for mistake, variant in forwards.items()
    }
    expect_close(
        loss,
        cross_entropy(scores_by_hand(x, params), labels),
        call + " loss",
        rtol=1e-10,
        mistakes=losses,
    )
    shown = {mistake: forwards[mistake] for mistake, value in losses.items() if shows(loss, value)}
    grads = grads_of(grads, params, call)
    dscores = cross_entropy_gradient(scores_by_hand(x, params), labels)
    ungated = backward_skips_the_relus(student, x, params, dscores)

    def loss_at(key, value, **variant):
        return cross_entropy(scores_by_hand(x, {**params, key: value}, **variant), labels)

    def mistakes_of(key):
        def mistakes(numeric):
            found = batch_mistakes(6)(numeric)
            if ungated is not None:
                found[NO_RELU_GATE] = ungated[key]
            return found

        return mistakes

    for key in sorted(params):
        expect_gradient(
            grads[key],
            lambda v, key=key: loss_at(key, v),
            params[key],
            f"{call}: {key}",
            mistakes=mistakes_of(key),
            mistaken_forwards={
                mistake: lambda v, key=key, variant=variant: loss_at(key, v, **variant)
                for mistake, variant in shown.items()
            },
        )
