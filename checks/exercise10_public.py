"""Public checks for exercise 10, training: the update computed here, the loss falling on a small
data set, the same seed giving the same result, and rate 0 changing nothing.

Nothing train reports is taken on trust: the loss of every set of parameters it returns, and the
step from one epoch to the next, are computed here with the course's network (ReLU hidden layers,
softmax cross-entropy, full-batch gradient descent), written out below with numpy.
"""

import numpy as np

from grader.checks import (
    check,
    describe,
    expect_array,
    expect_close,
    expect_number,
    expect_pair,
    fail,
    warn_if_inputs_changed,
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


def loss_and_gradients(x, labels, params):
    """The network's softmax cross-entropy loss at ``params`` and the gradient of every parameter,
    as exercises 5 to 9 define them."""
    count = len(params) // 2
    inputs, h = [], x
    for k in range(1, count + 1):
        inputs.append(h)
        h = h @ params[f"W{k}"] + params[f"b{k}"]
        if k < count:
            h = np.maximum(h, 0.0)
    shifted = h - h.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(labels))
    loss = -float(np.mean(log_probs[rows, labels]))
    upstream = np.exp(log_probs)
    upstream[rows, labels] -= 1.0
    upstream /= len(labels)
    grads = {}
    for k in range(count, 0, -1):
        if k < count:
            upstream = upstream * (inputs[k] > 0)
        grads[f"W{k}"] = inputs[k - 1].T @ upstream
        grads[f"b{k}"] = upstream.sum(axis=0)
        upstream = upstream @ params[f"W{k}"].T
    return loss, grads


def loss_at(x, labels, params):
    return loss_and_gradients(x, labels, params)[0]


def one_step(x, labels, params, rate):
    """One epoch of full-batch gradient descent from ``params``."""
    _, grads = loss_and_gradients(x, labels, params)
    return {key: params[key] - rate * grads[key] for key in params}


def train_call(x, rate, epochs, seed):
    return f"train(x {x.shape}, labels, {SIZES}, rate={rate:g}, epochs={epochs}, seed={seed})"


def trained(student, x, labels, rate, epochs, seed):
    call = train_call(x, rate, epochs, seed)
    params, losses = expect_pair(student.train(x, labels, SIZES, rate, epochs, seed), call)
    reference = initial_params(SIZES, 0)
    if not isinstance(params, dict) or sorted(params) != sorted(reference):
        fail(
            f"{call} returned {describe(params)} as the parameters; expected a dict like "
            "init_network's"
        )
    params = {
        key: expect_array(params[key], f"{call}[{key!r}]", value.shape)
        for key, value in reference.items()
    }
    return call, params, expect_array(losses, call + " losses", (epochs,))


def expect_params(got, expected, call, mistakes=None):
    """Fail unless every parameter in ``got`` equals ``expected``'s up to rounding; mistakes:
    hint -> the parameters that mistake gives."""
    for key, value in expected.items():
        largest = float(np.max(np.abs(value)))
        expect_close(
            got[key],
            value,
            f"{call}[{key!r}]",
            rtol=1e-7,
            atol=1e-9 * largest + 1e-12,
            mistakes={hint: params[key] for hint, params in (mistakes or {}).items()},
        )


def expect_loss(got, params, x, labels, call, what, where, mistakes=None):
    """Fail unless the recorded loss ``got`` is the loss computed here at ``params``; mistakes:
    hint -> the loss that mistake records."""
    expected = loss_at(x, labels, params)
    if not abs(got - expected) <= 1e-9 + 1e-7 * abs(expected):
        hint = next(
            (hint for hint, value in (mistakes or {}).items() if abs(got - value) <= 1e-9), None
        )
        fail(
            f"{call} recorded {what} = {got:.10g}, but the loss {where} is {expected:.10g} "
            "(the network's softmax cross-entropy, computed here)"
            + (f". Hint: {hint}" if hint else "")
            + "; record the loss that loss_and_gradients gives before each update"
        )


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


AFTER_THE_UPDATE = "this is the loss after the update"


@check(points=2)
def test_training_lowers_the_loss(student, rng):
    """Each epoch is one gradient-descent step, the curve is the loss before each, and it falls."""
    x, labels = blobs(rng)
    rate, seed = 0.3, 3
    # Where train starts (checked against init_network by test_rate_zero_changes_nothing).
    _, start, _ = trained(student, x, labels, rate, 0, seed)
    step = one_step(x, labels, start, rate)
    call, params, losses = trained(student, x, labels, rate, 1, seed)
    if all(np.array_equal(params[key], start[key]) for key in start):
        fail(
            f"{call} returned the parameters it started from (those of epochs=0); each epoch "
            "updates them: params = sgd_update(params, grads, rate)"
        )
    expect_params(
        params,
        step,
        call,
        mistakes={
            "the step goes uphill: subtract rate · grad": {
                key: 2 * start[key] - step[key] for key in start
            },
            "this is two updates from the start; epochs=1 makes exactly one": one_step(
                x, labels, step, rate
            ),
        },
    )
    expect_loss(
        losses[0],
        start,
        x,
        labels,
        call,
        "losses[0]",
        "of the parameters it starts from (those of epochs=0)",
        mistakes={AFTER_THE_UPDATE: loss_at(x, labels, step)},
    )
    # Measured over 3,000 data sets: at this rate 60 steps always end below 0.28 of the first
    # loss.
    epochs = 60
    call, params, losses = trained(student, x, labels, rate, epochs, seed)
    expect_loss(losses[0], start, x, labels, call, "losses[0]", "of the parameters it starts from")
    expect_loss(
        losses[1],
        step,
        x,
        labels,
        call,
        "losses[1]",
        "after one update",
        mistakes={AFTER_THE_UPDATE: loss_at(x, labels, one_step(x, labels, step, rate))},
    )
    first, last = loss_at(x, labels, start), loss_at(x, labels, params)
    if not last < 0.5 * first:
        fail(
            f"{call}: the loss of the returned parameters is {last:.6g} (computed here), from "
            f"{first:.6g} at the start; after {epochs} updates it should be well below half"
        )
    _, params_again, losses_again = trained(student, x, labels, rate, epochs, seed)
    if not np.array_equal(losses, losses_again) or any(
        not np.array_equal(params[key], params_again[key]) for key in params
    ):
        fail(f"{call} gave a different result the second time; the seed decides everything")
    # One epoch more: the curve goes on with the loss of the parameters returned above, and the
    # last update is one gradient-descent step from them.
    call, params_more, losses_more = trained(student, x, labels, rate, epochs + 1, seed)
    expect_close(
        losses_more[:epochs],
        losses,
        f"{call} losses[:{epochs}], against those of epochs={epochs}",
        rtol=1e-9,
        atol=1e-12,
    )
    expect_loss(
        losses_more[epochs],
        params,
        x,
        labels,
        call,
        f"losses[{epochs}]",
        f"of the parameters that epochs={epochs} returned",
    )
    expect_params(params_more, one_step(x, labels, params, rate), call)


@check(points=1)
def test_rate_zero_changes_nothing(student, rng):
    """With rate 0 the parameters stay as init_network made them and every loss is their loss."""
    x, labels = blobs(rng)
    call, params, losses = trained(student, x, labels, 0.0, 5, seed=11)
    initial = initial_params(SIZES, 11)
    for key, value in initial.items():
        expect_close(params[key], value, f"{call}[{key!r}]", rtol=0, atol=0)
    if not np.all(losses == losses[0]):
        fail(f"{call} recorded losses {describe(losses)}; with rate 0 nothing changes")
    expect_loss(losses[0], initial, x, labels, call, "every loss", "at init_network's parameters")


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
