"""Hidden checks for exercise 10, training: the reference's losses and parameters on another data
set and network, and a single example. Where the student's sgd_update steps uphill (its named
mistake, charged in its own check), a train that follows it is checked over a few epochs against
the same uphill steps and not charged again; so is a train that shows another of the public
checks' named mistakes (checks/_exercise10_mistakes.py)."""

import numpy as np

from grader.checks import (
    check,
    expect_array,
    expect_matches_reference,
    expect_pair,
    fail,
    fail_unless_charged,
    shared,
    shows,
    with_hint,
)

common = shared(__file__, "_exercise10_mistakes")  # the mistakes both check files name
# Steps uphill make the loss grow without bound: a few epochs show them.
UPHILL_EPOCHS = 3


def uphill_training(solution, x, labels, sizes, rate, epochs, seed):
    """train with every step uphill, by the reference's own functions."""
    params = solution.init_network(sizes, seed)
    losses = np.zeros(epochs)
    for epoch in range(epochs):
        losses[epoch], grads = solution.loss_and_gradients(x, labels, params)
        params = {key: params[key] + rate * grads[key] for key in params}
    return params, losses


def trained(student, call, x, labels, sizes, rate, epochs, seed, expected_params):
    """train's (params, losses), checked for their form; None where the count of losses is a
    named mistake the public checks charged (noted here)."""
    params, losses = expect_pair(
        student.train(x, labels, sizes, rate, epochs, seed), call, ("params", "losses")
    )
    if common.miscounted_losses(losses, call, epochs):
        return None
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
    answer = trained(student, call, x, labels, sizes, rate, epochs, seed, expected_params)
    if answer is None:
        return True  # a named mistake, noted: nothing more to see
    params, losses = answer
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
    mistake = common.uphill_mistake(student)
    for sizes, n, rate, epochs in [([5, 6, 4, 2], 12, 0.3, 25), ([5, 3], 1, 1.0, 10)]:
        x = rng.normal(size=(n, 5))
        labels = rng.integers(0, sizes[-1], size=n)
        seed = int(rng.integers(1000))
        if follows_uphill(student, solution, x, labels, sizes, rate, seed, mistake):
            continue
        call = f"train(x ({n}, 5), labels, {sizes}, rate={rate:g}, epochs={epochs}, seed={seed})"
        expected_params, expected_losses = solution.train(x, labels, sizes, rate, epochs, seed)
        answer = trained(student, call, x, labels, sizes, rate, epochs, seed, expected_params)
        if answer is None:
            continue
        params, losses = answer

        def mistaken(sizes=sizes, x=x, labels=labels, rate=rate, epochs=epochs, seed=seed):
            start = solution.init_network(sizes, seed)
            return common.mistaken_trainings(
                solution.loss_and_gradients, start, x, labels, rate, epochs
            )

        hint = common.named_training(params, losses, expected_params, expected_losses, mistaken)
        if hint is not None:
            shown = f"{hint}; {common.RECORD_BEFORE}" if hint == common.AFTER_THE_UPDATE else hint
            fail_unless_charged(
                with_hint(f"{call} is not the reference's training", shown),
                common.train_mistake(hint),
            )
            continue
        expect_matches_reference(losses, expected_losses, call + " losses")
        for key, value in expected_params.items():
            expect_matches_reference(params[key], value, f"{call}[{key!r}]")
