"""Hidden checks for exercise 9, backpropagation: the reference on deeper networks and other batch
sizes (N = 1 included), gradient keys for any depth, and hygiene."""

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


def network(rng, sizes):
    params = {}
    for k in range(1, len(sizes)):
        params[f"W{k}"] = rng.normal(scale=1 / np.sqrt(sizes[k - 1]), size=sizes[k - 1 : k + 1])
        params[f"b{k}"] = 0.1 * rng.normal(size=sizes[k])
    return params


@check(points=2)
def test_backprop_matches_reference(student, solution, rng):
    """loss_and_gradients agrees with the reference for 1 to 3 hidden layers and N = 1 to 7."""
    for sizes, n in [([5, 6, 3], 7), ([5, 4, 4, 2], 1), ([5, 8, 6, 5, 3], 3)]:
        params = network(rng, sizes)
        x = rng.normal(size=(n, 5))
        labels = rng.integers(0, sizes[-1], size=n)
        call = f"loss_and_gradients(x ({n}, 5), labels, params of a {sizes} network)"
        loss, grads = expect_pair(student.loss_and_gradients(x, labels, params), call)
        expected_loss, expected_grads = solution.loss_and_gradients(x, labels, params)
        expect_matches_reference(expect_number(loss, call + " loss"), expected_loss, call)
        if not isinstance(grads, dict) or sorted(grads) != sorted(expected_grads):
            fail(f"{call} did not return gradients keyed {sorted(expected_grads)}")
        for key, expected in expected_grads.items():
            name = f"{call}: {key}"
            expect_matches_reference(expect_array(grads[key], name, expected.shape), expected, name)


@check(points=1)
def test_backward_matches_reference(student, solution, rng):
    """network_backward agrees with the reference for a given upstream gradient."""
    params = network(rng, [5, 7, 4])
    x = rng.normal(size=(5, 5))
    dscores = rng.normal(size=(5, 4))
    call = "network_forward(x (5, 5), params of a [5, 7, 4] network)"
    scores, caches = expect_pair(student.network_forward(x, params), call)
    expected_scores, expected_caches = solution.network_forward(x, params)
    expect_matches_reference(expect_array(scores, call, (5, 4)), expected_scores, call)
    call = "network_backward(dscores (5, 4), caches)"
    grads = student.network_backward(dscores, caches)
    expected = solution.network_backward(dscores, expected_caches)
    if not isinstance(grads, dict) or sorted(grads) != sorted(expected):
        fail(f"{call} did not return a dict keyed {sorted(expected)}")
    for key, value in expected.items():
        expect_matches_reference(
            expect_array(grads[key], f"{call}: {key}", value.shape), value, f"{call}: {key}"
        )


@check(points=1)
def test_backprop_hygiene(student, rng):
    """Inputs unchanged, the same call twice gives the same loss and gradients."""
    params = network(rng, [5, 4, 3])
    x = rng.normal(size=(4, 5))
    labels = np.array([0, 1, 2, 1])
    call = "loss_and_gradients(x (4, 5), labels, params)"
    first_loss, first = expect_pair(student.loss_and_gradients(x, labels, params), call)
    warn_if_inputs_changed(student, call)
    second_loss, second = expect_pair(student.loss_and_gradients(x, labels, params), call)
    if not isinstance(first, dict) or not isinstance(second, dict):
        fail(f"{call} did not return a dict of gradients")
    same = sorted(first) == sorted(second) and all(
        np.array_equal(first[key], second[key]) for key in first
    )
    if first_loss != second_loss or not same:
        fail(f"{call} gave a different result the second time; it must not keep state")
