"""Public checks for exercise 10, training: the update computed here, the loss falling on a small
data set, the same seed giving the same result, and rate 0 changing nothing."""

import numpy as np

from grader.checks import (
    check,
    describe,
    expect_array,
    expect_close,
    warn_if_inputs_changed,
    expect_number,
    expect_pair,
    fail,
)

SIZES = [5, 8, 3]


def blobs(rng, per_class=10, classes=3):
    """A small data set: 5-D points around one centre per class, each feature standardised
    (mean 0, standard deviation 1), so that the rate below is safe for any seed."""
    centres = 2 * rng.normal(size=(classes, 5))
    labels = np.repeat(np.arange(classes), per_class)
    x = centres[labels] + 0.7 * rng.normal(size=(len(labels), 5))
    return (x - x.mean(axis=0)) / x.std(axis=0), labels


def initial_params(sizes, seed):
    """init_network of exercise 5, as its docstring defines it."""
    rng = np.random.default_rng(seed)
    params = {}
    for k in range(1, len(sizes)):
        params[f"W{k}"] = rng.normal(0.0, 1.0 / np.sqrt(sizes[k - 1]), size=sizes[k - 1 : k + 1])
        params[f"b{k}"] = np.zeros(sizes[k])
    return params


def trained(student, x, labels, rate, epochs, seed):
    call = f"train(x {x.shape}, labels, {SIZES}, rate={rate:g}, epochs={epochs}, seed={seed})"
    params, losses = expect_pair(student.train(x, labels, SIZES, rate, epochs, seed), call)
    if not isinstance(params, dict) or sorted(params) != sorted(initial_params(SIZES, 0)):
        fail(
            f"{call} returned {describe(params)} as the parameters; expected a dict like "
            "init_network's"
        )
    return call, params, expect_array(losses, call + " losses", (epochs,))


@check(points=2)
def test_sgd_update(student, rng):
    """sgd_update returns new parameters, each one step against its gradient."""
    params = initial_params(SIZES, 1)
    grads = {key: rng.normal(size=value.shape) for key, value in params.items()}
    call = "sgd_update(params, grads, rate=0.3)"
    new = student.sgd_update(params, grads, 0.3)
    warn_if_inputs_changed(student, call, docstring_asks=True)
    if not isinstance(new, dict) or sorted(new) != sorted(params):
        fail(f"{call} returned {describe(new)}; expected a new dict with the keys {sorted(params)}")
    for key in params:
        name = f"{call}[{key!r}]"
        expect_close(
            expect_array(new[key], name, params[key].shape),
            params[key] - 0.3 * grads[key],
            name,
            rtol=1e-12,
            mistakes={
                "the step goes uphill: subtract rate · grad": params[key] + 0.3 * grads[key],
            },
        )


@check(points=2)
def test_training_lowers_the_loss(student, rng):
    """The loss falls: the first step lowers it, and the last is well below the first."""
    x, labels = blobs(rng)
    # Measured over 3,000 data sets: at this rate the first step always lowers the loss (by 0.08
    # or more) and 60 steps always end below 0.28 of the first loss.
    call, params, losses = trained(student, x, labels, 0.3, 60, seed=3)
    if not losses[1] < losses[0]:
        fail(
            f"{call}: the first update did not lower the loss ({losses[0]:.6g} -> "
            f"{losses[1]:.6g}); each update goes against the gradient"
        )
    if not losses[-1] < 0.5 * losses[0]:
        fail(
            f"{call}: the loss went from {losses[0]:.6g} to {losses[-1]:.6g}; after 60 "
            "updates it should be well below half of where it started"
        )
    _, params_again, losses_again = trained(student, x, labels, 0.3, 60, seed=3)
    if not np.array_equal(losses, losses_again) or any(
        not np.array_equal(params[key], params_again[key]) for key in params
    ):
        fail(f"{call} gave a different result the second time; the seed decides everything")


@check(points=1)
def test_rate_zero_changes_nothing(student, rng):
    """With rate 0 the parameters stay as init_network made them and every loss is the same."""
    x, labels = blobs(rng)
    call, params, losses = trained(student, x, labels, 0.0, 5, seed=11)
    for key, value in initial_params(SIZES, 11).items():
        expect_close(
            expect_array(params[key], f"{call}[{key!r}]", value.shape),
            value,
            f"{call}[{key!r}]",
            rtol=0,
            atol=0,
        )
    if not np.all(losses == losses[0]):
        fail(f"{call} recorded losses {describe(losses)}; with rate 0 nothing changes")


@check(points=1)
def test_predict_and_accuracy(student):
    """predict takes each row's largest score; accuracy is the fraction predicted right."""
    params = {
        "W1": np.zeros((5, 2)),
        "b1": np.zeros(2),
        "W2": np.zeros((2, 3)),
        "b2": np.array([0.0, 1.0, 0.0]),
    }
    x = np.ones((3, 5))
    call = "predict(x (3, 5), params whose last bias is [0, 1, 0])"
    predicted = student.predict(x, params)
    if isinstance(predicted, np.ndarray) and predicted.dtype.kind not in "iu":
        fail(f"{call} returned dtype {predicted.dtype}; classes are ints (np.argmax gives them)")
    got = expect_array(predicted, call, (3,))
    expect_close(got, [1, 1, 1], call, rtol=0)
    call = "accuracy(x (3, 5), labels=[0, 1, 1], those params)"
    expect_close(
        expect_number(student.accuracy(x, np.array([0, 1, 1]), params), call),
        2 / 3,
        call,
        rtol=1e-12,
    )
