"""Public checks for exercise 10, training: the update computed here, the loss falling on a small
data set, the same seed giving the same result, and rate 0 changing nothing.

Nothing train reports is taken on trust: the loss of every set of parameters it returns, and the
step from one epoch to the next, are computed here with the course's network (ReLU hidden layers,
softmax cross-entropy, full-batch gradient descent), written out below with numpy.
"""

import numpy as np

from grader.checks import (
    answer_or_none,
    check,
    describe,
    expect_array,
    expect_close,
    expect_number,
    expect_pair,
    fail,
    shows,
    warn_if_inputs_changed,
    with_hint,
)

SIZES = [5, 8, 3]
# The same text in every check, and in the hidden checks: the same mistake, charged once.
UPHILL = "the step goes uphill: subtract rate · grad"
SGD_UPHILL = ("sgd_update", UPHILL)


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


def scores_of(x, params):
    """The network's scores: linear layers with ReLU between them."""
    count = len(params) // 2
    h = x
    for k in range(1, count + 1):
        h = h @ params[f"W{k}"] + params[f"b{k}"]
        if k < count:
            h = np.maximum(h, 0.0)
    return h


def loss_at(x, labels, params):
    return loss_and_gradients(x, labels, params)[0]


def one_step(x, labels, params, rate, uphill=False):
    """One epoch of full-batch gradient descent from ``params``; uphill: with the named mistake."""
    _, grads = loss_and_gradients(x, labels, params)
    sign = 1.0 if uphill else -1.0
    return {key: params[key] + sign * rate * grads[key] for key in params}


def uphill_mistake(student):
    """Whose mistake an uphill update is: sgd_update's, where the student's sgd_update steps
    uphill (at a point of this check's own), else train's own."""
    params, grads = {"b1": np.array([1.0, -2.0])}, {"b1": np.array([0.5, 0.25])}
    new = answer_or_none(student.sgd_update, params, grads, 0.1)
    if isinstance(new, dict) and "b1" in new and shows(new["b1"], params["b1"] + 0.1 * grads["b1"]):
        return SGD_UPHILL
    return UPHILL


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
            with_hint(
                f"{call} recorded {what} = {got:.10g}, but the loss {where} is {expected:.10g} "
                "(the network's softmax cross-entropy, computed here)",
                f"{hint}; record the loss that loss_and_gradients gives before each update"
                if hint
                else None,
            )
            + ("" if hint else " Each entry is the loss loss_and_gradients gives before an update.")
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
                UPHILL: params[key] + 0.3 * grads[key],
                f"{key} did not move: every parameter takes its step, "
                f"params[{key!r}] - rate·grads[{key!r}]": params[key],
                "the step is rate·grad: the rate is left out": params[key] - grads[key],
                "the step is rate·grad: the rate is applied twice": params[key] - 0.09 * grads[key],
                "the step is rate·grad, the gradient times the rate, not divided by it": params[key]
                - grads[key] / 0.3,
            },
        )


AFTER_THE_UPDATE = "this is the loss after the update"
STARTED_FROM = (
    "returned the parameters it started from (those of epochs=0); each epoch updates them: "
    "params = sgd_update(params, grads, rate)"
)


def first_epoch(student, x, labels, rate, seed):
    """(start, step, losses, uphill): train's parameters after 0 epochs, the step it makes from
    them (checked: one gradient-descent step, computed here) and the losses it records in that
    epoch; ``uphill`` where the step is the uphill one instead,
    that named mistake again (charged once: sgd_update's where the student's sgd_update shows
    it). The epoch-0 parameters are checked against init_network by the rate-0 check."""
    _, start, _ = trained(student, x, labels, rate, 0, seed)
    step = one_step(x, labels, start, rate)
    uphill = one_step(x, labels, start, rate, uphill=True)
    call, params, losses = trained(student, x, labels, rate, 1, seed)
    if all(np.array_equal(params[key], start[key]) for key in start):
        fail(f"{call} {STARTED_FROM}")
    expect_params(
        params,
        step,
        call,
        mistakes={
            uphill_mistake(student): uphill,
            "this is two updates from the start; epochs=1 makes exactly one": one_step(
                x, labels, step, rate
            ),
        },
    )
    follows = all(shows(params[key], uphill[key]) for key in start) and not all(
        shows(params[key], step[key]) for key in start
    )
    return start, (uphill if follows else step), losses, follows


@check(points=2)
def test_training_lowers_the_loss(student, rng):
    """Each epoch is one gradient-descent step, the curve is the loss before each, and it falls."""
    x, labels = blobs(rng)
    rate, seed = 0.3, 3
    start, step, losses, uphill = first_epoch(student, x, labels, rate, seed)
    call = train_call(x, rate, 1, seed)
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

    def advance(params):
        return one_step(x, labels, params, rate, uphill=uphill)

    # Measured over 3,000 data sets: at this rate 60 steps always end below 0.28 of the first
    # loss. Steps uphill (a mistake charged already) are followed for a few epochs only: the
    # loss then grows without bound.
    epochs = 3 if uphill else 60
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
        mistakes={AFTER_THE_UPDATE: loss_at(x, labels, advance(step))},
    )
    first, last = loss_at(x, labels, start), loss_at(x, labels, params)
    if not uphill and not last < 0.5 * first:
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
    expect_params(params_more, advance(params), call)


@check(points=1)
def test_rate_zero_changes_nothing(student, rng):
    """With rate 0 the parameters stay as init_network made them and every loss is their loss;
    from the same seed, rate 0.3 makes one gradient-descent step."""
    x, labels = blobs(rng)
    call, params, losses = trained(student, x, labels, 0.0, 5, seed=11)
    initial = initial_params(SIZES, 11)
    for key, value in initial.items():
        expect_close(params[key], value, f"{call}[{key!r}]", rtol=0, atol=0)
    if not np.all(losses == losses[0]):
        fail(f"{call} recorded losses {describe(losses)}; with rate 0 nothing changes")
    expect_loss(losses[0], initial, x, labels, call, "every loss", "at init_network's parameters")
    # A train that never updates keeps rate 0's parameters too: rate 0 shows nothing unless the
    # same train updates at another rate.
    first_epoch(student, x, labels, 0.3, 11)


def random_network(rng, sizes=SIZES):
    params = {}
    for k in range(1, len(sizes)):
        params[f"W{k}"] = rng.normal(size=sizes[k - 1 : k + 1])
        params[f"b{k}"] = 0.3 * rng.normal(size=sizes[k])
    return params


def expect_predictions(student, x, params, expected, call):
    predicted = student.predict(x, params)
    if isinstance(predicted, np.ndarray) and predicted.dtype.kind not in "iu":
        fail(f"{call} returned dtype {predicted.dtype}; classes are ints (np.argmax gives them)")
    expect_close(expect_array(predicted, call, expected.shape), expected, call, rtol=0)


@check(points=1)
def test_predict_and_accuracy(student, rng):
    """predict takes each row's largest score; accuracy is the fraction predicted right."""
    params = {
        "W1": np.zeros((5, 2)),
        "b1": np.zeros(2),
        "W2": np.zeros((2, 3)),
        "b2": np.array([0.0, 1.0, 0.0]),
    }
    x = np.ones((3, 5))
    expect_predictions(
        student,
        x,
        params,
        np.array([1, 1, 1]),
        "predict(x (3, 5), params whose last bias is [0, 1, 0])",
    )
    call = "accuracy(x (3, 5), labels=[0, 1, 1], those params)"
    expect_close(
        expect_number(student.accuracy(x, np.array([0, 1, 1]), params), call),
        2 / 3,
        call,
        rtol=1e-12,
    )
    # Random weights and inputs: the classes depend on both, and differ from row to row. Some
    # networks never score one class highest, so both are drawn afresh until two classes show
    # (the first draw does for 94 % of seeds; none of seeds 1 to 10,000 needs more than 4).
    for _ in range(100):
        params = random_network(rng)
        x = rng.normal(size=(9, 5))
        expected = scores_of(x, params).argmax(axis=1)
        if len(set(expected.tolist())) >= 2:
            break
    expect_predictions(
        student, x, params, expected, f"predict(x (9, 5), random params of a {SIZES} network)"
    )
    labels = expected.copy()
    labels[::3] = (labels[::3] + 1) % 3  # three of nine wrong
    call = f"accuracy(x (9, 5), labels={labels.tolist()}, those params)"
    expect_close(
        expect_number(student.accuracy(x, labels, params), call),
        float(np.mean(expected == labels)),
        call,
        rtol=1e-12,
    )
    one = x[:1]
    expect_predictions(student, one, params, expected[:1], "predict(x (1, 5), those params)")
