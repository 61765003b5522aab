"""Hidden checks for exercise 10, training: the reference's losses and parameters on another data
set and network, and a single example. Where the student's sgd_update steps uphill (its named
mistake, charged in its own check), a train that follows it is checked over a few epochs against
the same uphill steps and not charged again."""

import numpy as np

from grader.checks import (
    answer_or_none,
    check,
    expect_array,
    expect_matches_reference,
    expect_pair,
    fail,
    shows,
)

# As in the public checks, word for word: the same mistake, charged once.
UPHILL = "the step goes uphill: subtract rate · grad"
SGD_UPHILL = ("sgd_update", UPHILL)
# Steps uphill make the loss grow without bound: a few epochs show them.
UPHILL_EPOCHS = 3


def uphill_mistake(student):
    """Whose mistake an uphill update is: sgd_update's, where the student's sgd_update steps
    uphill (at a point of this check's own), else train's own."""
    params, grads = {"b1": np.array([1.0, -2.0])}, {"b1": np.array([0.5, 0.25])}
    new = answer_or_none(student.sgd_update, params, grads, 0.1)
    if isinstance(new, dict) and "b1" in new and shows(new["b1"], params["b1"] + 0.1 * grads["b1"]):
        return SGD_UPHILL
    return UPHILL


def uphill_training(solution, x, labels, sizes, rate, epochs, seed):
    """train with every step uphill, by the reference's own functions."""
    params = solution.init_network(sizes, seed)
    losses = np.zeros(epochs)
    for epoch in range(epochs):
        losses[epoch], grads = solution.loss_and_gradients(x, labels, params)
        params = {key: params[key] + rate * grads[key] for key in params}
    return params, losses


def trained(student, call, x, labels, sizes, rate, epochs, seed, expected_params):
    params, losses = expect_pair(student.train(x, labels, sizes, rate, epochs, seed), call)
    losses = expect_array(losses, call + " losses", (epochs,))
    if not isinstance(params, dict) or sorted(params) != sorted(expected_params):
        fail(f"{call} did not return parameters keyed {sorted(expected_params)}")
    params = {
        key: expect_array(params[key], f"{call}[{key!r}]", value.shape)
        for key, value in expected_params.items()
    }
    return params, losses


def follows_uphill(student, solution, x, labels, sizes, rate, seed, mistake):
    """Whether the student's train steps uphill over the first epochs: then that mistake again
    (noted where an earlier check charged it, else failed) and nothing more to see."""
    epochs = UPHILL_EPOCHS
    call = f"train(x ({len(x)}, 5), labels, {sizes}, rate={rate:g}, epochs={epochs}, seed={seed})"
    expected_params, _ = solution.train(x, labels, sizes, rate, epochs, seed)
    params, losses = trained(student, call, x, labels, sizes, rate, epochs, seed, expected_params)
    uphill_params, uphill_losses = uphill_training(solution, x, labels, sizes, rate, epochs, seed)
    if not (
        shows(losses, uphill_losses) and all(shows(params[k], uphill_params[k]) for k in params)
    ):
        return False
    for key, value in expected_params.items():
        expect_matches_reference(
            params[key], value, f"{call}[{key!r}]", mistakes={mistake: uphill_params[key]}
        )
    return True


@check(points=2)
def test_training_matches_reference(student, solution, rng):
    """train agrees with the reference, update for update, for other sizes, rates and N = 1."""
    mistake = uphill_mistake(student)
    for sizes, n, rate, epochs in [([5, 6, 4, 2], 12, 0.3, 25), ([5, 3], 1, 1.0, 10)]:
        x = rng.normal(size=(n, 5))
        labels = rng.integers(0, sizes[-1], size=n)
        seed = int(rng.integers(1000))
        if follows_uphill(student, solution, x, labels, sizes, rate, seed, mistake):
            continue
        call = f"train(x ({n}, 5), labels, {sizes}, rate={rate:g}, epochs={epochs}, seed={seed})"
        expected_params, expected_losses = solution.train(x, labels, sizes, rate, epochs, seed)
        params, losses = trained(
            student, call, x, labels, sizes, rate, epochs, seed, expected_params
        )
        expect_matches_reference(losses, expected_losses, call + " losses")
        for key, value in expected_params.items():
            expect_matches_reference(params[key], value, f"{call}[{key!r}]")
