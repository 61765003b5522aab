"""Hidden checks for exercise 9, backpropagation: per function, the reference on deeper networks
and other batch sizes (N = 1 included), gradient keys for any depth, each call made twice. A last
layer with a ReLU, hidden layers without one, and a backward that skips the hidden ReLUs are
named as in the public checks, charged there once; a backward or a loss that follows them is
not charged again."""

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
DEEP = [([5, 6, 3], 7), ([5, 4, 4, 2], 1), ([5, 8, 6, 5, 3], 3)]


def network(rng, sizes):
    params = {}
    for k in range(1, len(sizes)):
        params[f"W{k}"] = rng.normal(scale=1 / np.sqrt(sizes[k - 1]), size=sizes[k - 1 : k + 1])
        params[f"b{k}"] = 0.1 * rng.normal(size=sizes[k])
    return params


def with_last_relu(solution, x, labels, params):
    """(loss, grads) of the network with a ReLU after its last layer too, by the reference's
    layers: the gradient through that ReLU is dscores where the scores are > 0."""
    scores, caches = solution.network_forward(x, params)
    loss, dscores = solution.softmax_cross_entropy(np.maximum(scores, 0), labels)
    return loss, solution.network_backward(dscores * (scores > 0), caches)


def without_hidden_relus(solution, x, params):
    """(scores, caches) of the network with no hidden ReLU, by the reference's layers."""
    count = len(params) // 2
    caches, h = [], x
    for k in range(1, count + 1):
        h, linear_cache = solution.linear_forward(h, params[f"W{k}"], params[f"b{k}"])
        caches.append((linear_cache, None))
    return h, caches


def ungated(solution, dscores, caches):
    """The gradients of a backward that skips the hidden ReLUs, from the reference's caches."""
    return solution.network_backward(dscores, [(linear, None) for linear, _ in caches])


def backward_skips_the_relus(student, solution, x, params, dscores):
    """The ungated gradients where the student's network_backward, from its own forward's
    caches, gives them (at this check's point), else None: for a function that calls it."""
    _, caches = solution.network_forward(x, params)
    expected = ungated(solution, dscores, caches)
    forward = answer_or_none(student.network_forward, x, params)
    if not isinstance(forward, (tuple, list)) or len(forward) != 2:
        return None
    grads = answer_or_none(student.network_backward, dscores, forward[1])
    if not isinstance(grads, dict) or sorted(grads) != sorted(params):
        return None
    return expected if all(shows(grads[key], expected[key]) for key in params) else None


def expect_grads(grads, expected, call, following):
    """grads, a dict keyed like ``expected``, agrees with it, or follows a named mistake:
    ``following`` maps each to the gradients it gives."""
    if not isinstance(grads, dict) or sorted(grads) != sorted(expected):
        fail(f"{call} did not return gradients keyed {sorted(expected)}")
    arrays = {}
    for key, want in expected.items():
        name = f"{call}: {key}"
        arrays[key] = expect_array(grads[key], name, want.shape)
        mistakes = {mistake: values[key] for mistake, values in following.items()}
        expect_matches_reference(arrays[key], want, name, mistakes=mistakes)
    return arrays


def expect_grads_again(first, grads, expected, call, following):
    if not isinstance(grads, dict) or sorted(grads) != sorted(expected):
        fail(f"the same call a second time: {call} did not return gradients keyed the same")
    for key, want in expected.items():
        mistakes = {mistake: values[key] for mistake, values in following.items()}
        expect_same_again(first[key], grads[key], want, f"{call}: {key}", mistakes=mistakes)


@check(points=1)
def test_network_forward_matches_reference(student, solution, rng):
    """network_forward agrees with the reference for 1 to 3 hidden layers and N = 1 to 7."""
    for sizes, n in DEEP:
        params = network(rng, sizes)
        x = rng.normal(size=(n, 5))
        call = f"network_forward(x ({n}, 5), params of a {sizes} network)"
        scores, _ = expect_pair(student.network_forward(x, params), call)
        warn_if_inputs_changed(student, call)
        scores = expect_array(scores, call, (n, sizes[-1]))
        expected, _ = solution.network_forward(x, params)
        mistakes = {
            LAST_LAYER_RELU: np.maximum(expected, 0),
            NO_HIDDEN_RELU: without_hidden_relus(solution, x, params)[0],
        }
        expect_matches_reference(scores, expected, call, mistakes=mistakes)
        again, _ = expect_pair(student.network_forward(x, params), call)
        expect_same_again(scores, again, expected, call, mistakes=mistakes)


@check(points=1)
def test_network_backward_matches_reference(student, solution, rng):
    """network_backward, from the caches of the student's forward, agrees with the reference."""
    params = network(rng, [5, 7, 4])
    x = rng.normal(size=(5, 5))
    dscores = rng.normal(size=(5, 4))
    call = "network_forward(x (5, 5), params of a [5, 7, 4] network)"
    scores, caches = expect_pair(student.network_forward(x, params), call)
    expected_scores, expected_caches = solution.network_forward(x, params)
    # A backward that follows its forward's mistake first: with no hidden ReLU, W1's gradient
    # is also the one that skips them.
    following = {}
    if shows(scores, np.maximum(expected_scores, 0)):
        following[LAST_LAYER_RELU] = solution.network_backward(
            dscores * (expected_scores > 0), expected_caches
        )
    linear_scores, linear_caches = without_hidden_relus(solution, x, params)
    if shows(scores, linear_scores):
        following[NO_HIDDEN_RELU] = solution.network_backward(dscores, linear_caches)
    following[NO_RELU_GATE] = ungated(solution, dscores, expected_caches)
    call = "network_backward(dscores (5, 4), caches)"
    grads = student.network_backward(dscores, caches)
    warn_if_inputs_changed(student, call)
    expected = solution.network_backward(dscores, expected_caches)
    first = expect_grads(grads, expected, call, following)
    again = student.network_backward(dscores, caches)
    expect_grads_again(first, again, expected, call, following)


@check(points=2)
def test_backprop_matches_reference(student, solution, rng):
    """loss_and_gradients agrees with the reference for 1 to 3 hidden layers and N = 1 to 7."""
    for sizes, n in DEEP:
        params = network(rng, sizes)
        x = rng.normal(size=(n, 5))
        labels = rng.integers(0, sizes[-1], size=n)
        call = f"loss_and_gradients(x ({n}, 5), labels, params of a {sizes} network)"
        loss, grads = expect_pair(student.loss_and_gradients(x, labels, params), call)
        warn_if_inputs_changed(student, call)
        loss = expect_number(loss, call + " loss")
        expected_loss, expected_grads = solution.loss_and_gradients(x, labels, params)
        relu_loss, relu_grads = with_last_relu(solution, x, labels, params)
        linear_scores, linear_caches = without_hidden_relus(solution, x, params)
        linear_loss, linear_dscores = solution.softmax_cross_entropy(linear_scores, labels)
        mistakes = {LAST_LAYER_RELU: relu_loss, NO_HIDDEN_RELU: linear_loss}
        expect_matches_reference(loss, expected_loss, call + " loss", mistakes=mistakes)
        following = {}
        if shows(loss, relu_loss):
            following[LAST_LAYER_RELU] = relu_grads
        if shows(loss, linear_loss):
            following[NO_HIDDEN_RELU] = solution.network_backward(linear_dscores, linear_caches)
        _, dscores = solution.softmax_cross_entropy(solution.network_forward(x, params)[0], labels)
        skipped = backward_skips_the_relus(student, solution, x, params, dscores)
        if skipped is not None:
            following[NO_RELU_GATE] = skipped
        first = expect_grads(grads, expected_grads, call, following)
        loss_again, grads_again = expect_pair(student.loss_and_gradients(x, labels, params), call)
        expect_same_again(loss, loss_again, expected_loss, call + " loss", mistakes=mistakes)
        expect_grads_again(first, grads_again, expected_grads, call, following)
