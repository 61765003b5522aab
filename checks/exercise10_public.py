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
    fail_unless_charged,
    shared,
    shows,
    warn_if_inputs_changed,
    with_hint,
)
from grader.student_code.objects import changed_arguments

SIZES = [5, 8, 3]
# The seeds a train that ignores its seed argument uses instead (hard-coded).
OTHER_SEEDS = (0, 1, 42, 123, 1234, 2024, 3)
common = shared(__file__, "_exercise10_mistakes")  # the mistakes both check files name


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


def train_call(x, rate, epochs, seed):
    return f"train(x {x.shape}, labels, {SIZES}, rate={rate:g}, epochs={epochs}, seed={seed})"


def expect_train_pair(params, losses, call, epochs):
    """Fail, naming the mistake, where train's pair is (losses, params) or its losses have
    another length than ``epochs``: the pair's order and the length are facts of the answer.
    True where the length is a named mistake an earlier check charged (noted here)."""
    if isinstance(losses, dict) and not isinstance(params, dict):
        fail(
            with_hint(
                f"{call} returned {describe(params)} first and a dict second",
                "the pair is in the wrong order (losses first): return params, losses",
            )
        )
    return common.miscounted_losses(losses, call, epochs)


def trained(student, x, labels, rate, epochs, seed):
    """(call, params, losses) of the student's train, checked for their form; losses None where
    their count is a named mistake an earlier check charged (then only params is checked)."""
    call = train_call(x, rate, epochs, seed)
    params, losses = expect_pair(
        student.train(x, labels, SIZES, rate, epochs, seed), call, ("params", "losses")
    )
    counted_wrong = expect_train_pair(params, losses, call, epochs)
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
    if counted_wrong:
        return call, params, None
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


def expect_loss(got, params, x, labels, call, what, where, mistakes=None, named=None):
    """Fail unless the recorded loss ``got`` is the loss computed here at ``params``; mistakes:
    hint -> the loss that mistake records (a loss recorded at the wrong moment); named: hint ->
    the loss that mistake records, the hint said as it is."""
    expected = loss_at(x, labels, params)
    if not abs(got - expected) <= 1e-9 + 1e-7 * abs(expected):
        found = {hint: f"{hint}; {common.RECORD_BEFORE}" for hint in (mistakes or {})}
        found.update({hint: hint for hint in (named or {})})
        values = {**(mistakes or {}), **(named or {})}
        hint = next((hint for hint in found if abs(got - values[hint]) <= 1e-9), None)
        message = (
            f"{call} recorded {what} = {got:.10g}, but the loss {where} is {expected:.10g} "
            "(the network's softmax cross-entropy, computed here)"
        )
        if hint is None:
            fail(message + " Each entry is the loss loss_and_gradients gives before an update.")
        fail_unless_charged(with_hint(message, found[hint]), common.train_mistake(hint))


def same_params(got, expected):
    """Whether every parameter of ``got`` is ``expected``'s, as a hint recognises it."""
    return all(shows(got[key], expected[key]) for key in expected)


def stale_steps(x, labels, start, rate, epochs):
    """train with the named mistake: every epoch steps with the gradient at ``start``."""
    _, grads = loss_and_gradients(x, labels, start)
    return {key: start[key] - epochs * rate * grads[key] for key in start}


def per_example_epoch(x, labels, params, rate):
    """One epoch with the named mistake: one update per example, in order."""
    for i in range(len(labels)):
        _, grads = loss_and_gradients(x[i : i + 1], labels[i : i + 1], params)
        params = {key: params[key] - rate * grads[key] for key in params}
    return params


def rate_changed(x, labels, params, after, rate, epoch):
    """{hint: the parameters} where ``after`` is one step from ``params`` against the gradient
    with a rate other than ``rate`` (a rate that decays), else {}."""
    _, grads = loss_and_gradients(x, labels, params)
    g = np.concatenate([grads[key].ravel() for key in params])
    delta = np.concatenate([(after[key] - params[key]).ravel() for key in params])
    if not np.dot(g, g) > 0:
        return {}
    used = -float(np.dot(delta, g) / np.dot(g, g))
    if not used > 0 or abs(used - rate) <= 1e-6 * rate:
        return {}
    hint = (
        f"the update of epoch {epoch} used rate {used:.4g}, not rate={rate:g}: keep the same "
        "rate in every epoch"
    )
    return {hint: {key: params[key] - used * grads[key] for key in params}}


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
                common.UPHILL: params[key] + 0.3 * grads[key],
                f"{key} did not move (it was not updated): every key takes its step, "
                f"params[{key!r}] - rate·grads[{key!r}]": params[key],
                "the step is rate·grad: the rate is left out": params[key] - grads[key],
                "the step is rate·grad: the rate is applied twice": params[key] - 0.09 * grads[key],
                "the step is rate·grad, the gradient times the rate, not divided by it": params[key]
                - grads[key] / 0.3,
            },
        )


def shuffled_x(student, x):
    """The x that the latest train call left behind, where it shuffled x's rows in place (its
    rows those of ``x`` in another order), else None: the x of a step that shuffled x alone."""
    for change in changed_arguments(student):
        after = change.after
        if change.name != "x" or after.shape != x.shape or np.array_equal(after, x):
            continue
        if np.array_equal(after[np.lexsort(after.T[::-1])], x[np.lexsort(x.T[::-1])]):
            return np.array(after, dtype=np.float64)
    return None


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
    if losses is None:  # as many updates as losses: the count's mistake, charged already
        return start, step, None, False
    shuffled = shuffled_x(student, x)
    if all(np.array_equal(params[key], start[key]) for key in start):
        fail_unless_charged(
            f"{call} {common.STARTED_FROM}", common.train_mistake(common.STARTED_FROM)
        )
    expect_params(
        params,
        step,
        call,
        mistakes={
            common.uphill_mistake(student): uphill,
            "this is two updates from the start; epochs=1 makes exactly one": one_step(
                x, labels, step, rate
            ),
            common.PER_EXAMPLE: per_example_epoch(x, labels, start, rate),
            **(
                {common.SHUFFLED_X: one_step(shuffled, labels, start, rate)}
                if shuffled is not None
                else {}
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
    if losses is None:
        return  # their count is a mistake charged already: nothing more to see in them
    call = train_call(x, rate, 1, seed)
    expect_loss(
        losses[0],
        start,
        x,
        labels,
        call,
        "losses[0]",
        "of the parameters it starts from (those of epochs=0)",
        mistakes={common.AFTER_THE_UPDATE: loss_at(x, labels, step)},
    )

    def advance(params):
        return one_step(x, labels, params, rate, uphill=uphill)

    # Measured over 3,000 data sets: at this rate 60 steps always end below 0.28 of the first
    # loss. Steps uphill (a mistake charged already) are followed for a few epochs only: the
    # loss then grows without bound.
    epochs = 3 if uphill else 60
    call, params, losses = trained(student, x, labels, rate, epochs, seed)
    if losses is None:
        return
    first_loss = loss_at(x, labels, start)
    shifted = abs(losses[-1] - first_loss) <= 1e-9
    expect_loss(
        losses[0],
        start,
        x,
        labels,
        call,
        "losses[0]",
        "of the parameters it starts from",
        named={common.INDEX_SHIFTED: loss_at(x, labels, step)} if shifted else None,
    )
    restarts = {
        common.INIT_IN_LOOP: same_params(params, step),
        common.GRADS_ONCE: same_params(params, stale_steps(x, labels, start, rate, epochs)),
    }
    expect_loss(
        losses[1],
        step,
        x,
        labels,
        call,
        "losses[1]",
        "after one update",
        mistakes={common.AFTER_THE_UPDATE: loss_at(x, labels, advance(step))},
        named={hint: first_loss for hint, shown in restarts.items() if shown},
    )
    if restarts[common.GRADS_ONCE] and not same_params(params, step):
        fail_unless_charged(
            with_hint(
                f"{call} returned the parameters of {epochs} steps, each with the gradient at the "
                "start",
                common.GRADS_ONCE,
            ),
            common.train_mistake(common.GRADS_ONCE),
        )
        return
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
    expect_params(
        params_more,
        advance(params),
        call,
        mistakes={} if uphill else rate_changed(x, labels, params, params_more, rate, epochs + 1),
    )


@check(points=1)
def test_rate_zero_changes_nothing(student, rng):
    """With rate 0 the parameters stay as init_network made them and every loss is their loss;
    from the same seed, rate 0.3 makes one gradient-descent step."""
    x, labels = blobs(rng)
    call, params, losses = trained(student, x, labels, 0.0, 5, seed=11)
    initial = initial_params(SIZES, 11)
    other_seeds = {
        f"these are init_network's parameters for seed {other}, not seed=11: the seed is "
        "ignored; pass it on, init_network(layer_sizes, seed)": initial_params(SIZES, other)
        for other in OTHER_SEEDS
    }
    for key, value in initial.items():
        expect_close(
            params[key],
            value,
            f"{call}[{key!r}]",
            rtol=0,
            atol=0,
            mistakes={hint: other[key] for hint, other in other_seeds.items()},
        )
    if losses is not None:
        if not np.all(losses == losses[0]):
            fail(f"{call} recorded losses {describe(losses)}; with rate 0 nothing changes")
        expect_loss(
            losses[0], initial, x, labels, call, "every loss", "at init_network's parameters"
        )
    # A train that never updates keeps rate 0's parameters too: rate 0 shows nothing unless the
    # same train updates at another rate.
    first_epoch(student, x, labels, 0.3, 11)


def random_network(rng, sizes=SIZES):
    params = {}
    for k in range(1, len(sizes)):
        params[f"W{k}"] = rng.normal(size=sizes[k - 1 : k + 1])
        params[f"b{k}"] = 0.3 * rng.normal(size=sizes[k])
    return params


def prediction_mistakes(scores):
    """(what the mistake gives, hint) for predictions made the wrong way from ``scores``, in
    the order to try them: several can give the same classes at a point (ties)."""
    return [
        (np.argmin(scores, axis=1), "np.argmin(scores, axis=1), each row's lowest score"),
        (np.argmax(scores, axis=0), "np.argmax(scores, axis=0), each column's best example"),
        (
            np.argmax(np.maximum(scores, 0.0), axis=1),
            "the classes of ReLU(scores): the output layer has no ReLU",
        ),
    ]


def expect_predictions(student, x, params, expected, call):
    predicted = student.predict(x, params)
    scores = scores_of(x, params)
    fix = "take each row's index of the largest score, np.argmax(scores, axis=1)"
    if isinstance(predicted, np.ndarray) and predicted.shape == scores.shape:
        fail(
            with_hint(
                f"{call} returned an array of shape {predicted.shape}, a value per class",
                f"these are scores or probabilities, shape (N, C); {fix}",
            )
        )
    if isinstance(predicted, (int, np.integer)) and int(predicted) == int(np.argmax(scores)):
        fail(
            with_hint(
                f"{call} returned the number {predicted}, one index into the flattened scores",
                f"np.argmax without an axis flattens them; {fix}",
            )
        )
    if isinstance(predicted, np.ndarray) and predicted.dtype.kind not in "iu":
        fail(f"{call} returned dtype {predicted.dtype}; classes are ints (np.argmax gives them)")
    got = expect_array(predicted, call, expected.shape)
    if not np.array_equal(got, expected):
        named = [
            hint
            for value, hint in prediction_mistakes(scores)
            if value.shape == got.shape and np.array_equal(got, value)
        ]
        if named:
            fail(
                with_hint(
                    f"{call}: expected {expected.tolist()}, got {got.astype(int).tolist()}",
                    f"this is {' and also '.join(named)}; {fix}",
                )
            )
    expect_close(got, expected, call, rtol=0)


def accuracy_mistakes(predicted, labels, features):
    """Hint -> the accuracy that mistake gives, for the predictions ``predicted``."""
    right = int(np.sum(predicted == labels))
    count = len(labels)
    return {
        f"this is the count of right predictions ({right}), not the fraction: divide by the "
        "number of examples, np.mean(predict(x, params) == labels)": right,
        "this is the fraction wrong (predictions != labels), the error rate: accuracy is the "
        "fraction right, predictions == labels": float(np.mean(predicted != labels)),
        "this is a percentage: accuracy is a fraction between 0 and 1, no factor 100": 100
        * right
        / count,
        f"this is {right}/{count} truncated to an integer (// or int()): divide with /, a "
        "float": right // count,
        "this is the mean of an (N, N) table: predictions and labels broadcast against each "
        "other (one is a column); compare two arrays of shape (N,)": float(
            np.mean(predicted[None, :] == labels[:, None])
        ),
        f"this is the count right divided by the number of features ({features}): divide by "
        "the number of examples, len(labels)": right / features,
    }


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
        mistakes=accuracy_mistakes(np.array([1, 1, 1]), np.array([0, 1, 1]), 5),
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
        mistakes=accuracy_mistakes(expected, labels, 5),
    )
    one = x[:1]
    expect_predictions(student, one, params, expected[:1], "predict(x (1, 5), those params)")
