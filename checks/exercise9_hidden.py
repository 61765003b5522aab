"""Hidden checks for exercise 9, backpropagation: per function, the reference on deeper networks
and other batch sizes (N = 1 included), gradient keys for any depth, each call made twice. The
mistakes are named as in the public checks, in the same words (checks/_exercise9_mistakes.py and,
for loss_and_gradients, checks/_exercise9_loss.py), and charged there once: a backward or a loss
that follows them is not charged again. An error the student's code raises is never excused."""

from typing import Any

import numpy as np

from grader.checks import (
    check,
    expect_array,
    expect_matches_reference,
    expect_number,
    expect_pair,
    expect_same_again,
    fail,
    shared,
    shows,
    warn_if_inputs_changed,
)
from grader.student_code.errors import StudentError, StudentRaised

mistakes = shared(__file__, "_exercise9_mistakes")  # the network's and the backward's
losses = shared(__file__, "_exercise9_loss")  # loss_and_gradients'

DEEP = [([5, 6, 3], 7), ([5, 4, 4, 2], 1), ([5, 8, 6, 5, 3], 3)]


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


def expect_grads(grads, expected, call, following):
    """grads, a dict keyed like ``expected`` (or some of its keys, where a mistake of the keys
    was charged), agrees with it, or follows a named mistake: ``following`` maps each to the
    gradients it gives."""
    arrays = {}
    for key in mistakes.key_order(grads):
        want = expected[key]
        name = f"{call}: {key}"
        arrays[key] = expect_array(grads[key], name, want.shape)
        named = {mistake: values[key] for mistake, values in following.items()}
        expect_matches_reference(arrays[key], want, name, mistakes=named)
    return arrays


def expect_grads_again(first, grads, expected, call, following):
    if not isinstance(grads, dict) or not set(first) <= set(grads):
        fail(f"the same call a second time: {call} did not return gradients keyed the same")
    for key in first:
        named = {mistake: values[key] for mistake, values in following.items()}
        expect_same_again(first[key], grads[key], expected[key], f"{call}: {key}", mistakes=named)


@check(points=1)
def test_network_forward_matches_reference(student, solution, rng):
    """network_forward agrees with the reference for 1 to 3 hidden layers and N = 1 to 7."""
    for sizes, n in DEEP:
        params = mistakes.network(rng, sizes)
        x = rng.normal(size=(n, 5))
        call = f"network_forward(x ({n}, 5), params of a {sizes} network)"
        answer = mistakes.forward_answer(student, x, params, call)
        scores, _ = expect_pair(answer, call)
        warn_if_inputs_changed(student, call)
        if mistakes.truncated_scores(scores, x, params, call):  # excused: still asked again
            again, _ = expect_pair(student.network_forward(x, params), call)
            if not shows(again, scores):
                fail(f"the same call a second time: {call} did not return the same scores")
            continue
        scores = expect_array(scores, call, (n, sizes[-1]))
        expected, _ = solution.network_forward(x, params)
        named = mistakes.forward_mistakes(x, params, scores)
        expect_matches_reference(scores, expected, call, mistakes=named)
        if shows(scores, expected):  # right scores: are the caches what the backward reads?
            mistakes.own_caches_usable(student, x, params, answer[1], call)
        again, _ = expect_pair(student.network_forward(x, params), call)
        expect_same_again(scores, again, expected, call, mistakes=named)


@check(points=1)
def test_network_backward_matches_reference(student, solution, rng):
    """network_backward, from the caches of the student's forward, agrees with the reference."""
    params = mistakes.network(rng, [5, 7, 4])
    x = rng.normal(size=(5, 5))
    dscores = rng.normal(size=(5, 4))
    expected_scores, expected_caches = solution.network_forward(x, params)
    try:
        answer = student.network_forward(x, params)
    except StudentError:
        answer = None
    pair = isinstance(answer, (tuple, list)) and len(answer) == 2
    right = pair and shows(answer[0], expected_scores)
    # A backward that follows its forward's mistake: with no hidden ReLU, W1's gradient is also
    # the one that skips them.
    following = {}
    if pair and shows(answer[0], np.maximum(expected_scores, 0)):
        following[mistakes.LAST_LAYER_RELU] = solution.network_backward(
            dscores * (expected_scores > 0), expected_caches
        )
    linear_scores, linear_caches = without_hidden_relus(solution, x, params)
    if pair and shows(answer[0], linear_scores):
        following[mistakes.NO_HIDDEN_RELU] = solution.network_backward(dscores, linear_caches)
    call = "network_backward(dscores (5, 4), caches)"
    if right and not mistakes.own_caches_usable(student, x, params, answer[1], call):
        right = False
    if right or following:
        caches = answer[1]
    else:
        call = "network_backward(dscores (5, 4), caches kept as the docstring's example keeps them)"
        caches = mistakes.caches_by_hand(x, params)

    def backward() -> Any:
        try:
            return student.network_backward(dscores, caches)
        except StudentRaised as error:
            if right:
                return mistakes.backward_answer(student, x, params, dscores, caches)
            if following:
                raise
            raise StudentRaised(
                f"{mistakes.first_line(str(error))}; network_forward gives no right scores "
                "here, so network_backward was given caches as the docstring's example keeps "
                "them: per layer, (x, W, b) and the ReLU's z (None for the last layer).",
                error.line,
            ) from None

    grads = backward()
    warn_if_inputs_changed(student, call)
    expected = solution.network_backward(dscores, expected_caches)
    keyed = None
    if following:
        mistakes.keys_failure(grads, params, None, call)
    else:
        grads, fit, keyed = mistakes.check_keys(student, grads, x, params, dscores, call)
        following.update(fit)
    first = expect_grads(grads, expected, call, following)
    again = student.network_backward(dscores, caches)
    if isinstance(again, dict) and keyed is not None:
        again = mistakes.remapped(again, keyed, params)
    expect_grads_again(first, again, expected, call, following)


@check(points=2)
def test_backprop_matches_reference(student, solution, rng):
    """loss_and_gradients agrees with the reference for 1 to 3 hidden layers and N = 1 to 7."""
    for sizes, n in DEEP:
        params = mistakes.network(rng, sizes)
        x = rng.normal(size=(n, 5))
        labels = rng.integers(0, sizes[-1], size=n)
        call = f"loss_and_gradients(x ({n}, 5), labels, params of a {sizes} network)"
        try:
            answer = student.loss_and_gradients(x, labels, params)
        except StudentRaised as error:
            losses.loss_error(student, x, labels, params, error)
        loss, grads = losses.pair_of(answer, call)
        warn_if_inputs_changed(student, call)
        parts = losses.Parts(student, x, labels, params)
        if losses.follow_parts(parts, loss, grads, params, call):
            continue
        loss = expect_number(loss, call + " loss")
        expected_loss, expected_grads = solution.loss_and_gradients(x, labels, params)
        relu_loss, relu_grads = with_last_relu(solution, x, labels, params)
        linear_scores, linear_caches = without_hidden_relus(solution, x, params)
        linear_loss, linear_dscores = solution.softmax_cross_entropy(linear_scores, labels)
        named = losses.loss_mistakes(student, x, labels, params, (grads, loss), parts)
        losses.forward_loss_failure(parts, loss, expected_loss, call)
        expect_matches_reference(loss, expected_loss, call + " loss", mistakes=named)
        following = {}
        if shows(loss, relu_loss) and parts.mistake == mistakes.LAST_LAYER_RELU:
            following[mistakes.LAST_LAYER_RELU] = relu_grads
        if shows(loss, linear_loss) and parts.mistake == mistakes.NO_HIDDEN_RELU:
            following[mistakes.NO_HIDDEN_RELU] = solution.network_backward(
                linear_dscores, linear_caches
            )
        mistakes.keys_failure(grads, params, parts, call)
        fit = losses.loss_gradient_fit(student, loss, grads, x, labels, params)
        for mistake, values in fit.items():
            following.setdefault(mistake, values)
        first = expect_grads(grads, expected_grads, call, following)
        loss_again, grads_again = losses.pair_of(
            student.loss_and_gradients(x, labels, params), call
        )
        expect_same_again(loss, loss_again, expected_loss, call + " loss", mistakes=named)
        expect_grads_again(first, grads_again, expected_grads, call, following)
