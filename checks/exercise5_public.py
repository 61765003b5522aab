"""Public checks for exercise 5, the feedforward network: weights drawn exactly as the docstring
says, the lesson's 5-neuron input layer, and the forward pass computed here layer by layer.

Each function scores in its own check. feedforward_layers may call layer_forward, and feedforward
may call feedforward_layers: where the function called shows a named mistake (at a point of the
check's own), an answer that follows it is that mistake again, charged once in the check of the
function that made it."""

import numpy as np

from grader.checks import (
    Recorder,
    answer_or_none,
    check,
    describe,
    expect_array,
    expect_close,
    expect_number,
    fail,
    shows,
    warn_if_inputs_changed,
    with_hint,
)

# The same texts in the hidden checks, word for word: the same mistake, charged once.
NO_BIAS = ("layer_forward", "the bias is missing")
BIAS_AFTER = ("layer_forward", "the bias is added after the activation")
OUTPUT_ACTIVATED = "the output layer has no activation"


def weights_as_documented(layer_sizes, seed):
    rng = np.random.default_rng(seed)
    params = {}
    for k in range(1, len(layer_sizes)):
        n_in, n_out = layer_sizes[k - 1], layer_sizes[k]
        params[f"W{k}"] = rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_out))
        params[f"b{k}"] = np.zeros(n_out)
    return params


def layers_by_hand(x, params, activation, mistake=None):
    """Every layer's output, as the docstring defines them, or with the named ``mistake``."""
    count = len(params) // 2
    layers = [x]
    for k in range(1, count + 1):
        W, b = params[f"W{k}"], params[f"b{k}"]
        hidden = k < count or mistake == OUTPUT_ACTIVATED
        if mistake == NO_BIAS:
            z = layers[-1] @ W
            layers.append(activation(z) if hidden else z)
        elif mistake == BIAS_AFTER and hidden:
            layers.append(activation(layers[-1] @ W) + b)
        else:
            z = layers[-1] @ W + b
            layers.append(activation(z) if hidden else z)
    return layers


def layer_forward_mistake(student):
    """The named mistake the student's layer_forward shows at a point of this check's own, if
    any: a feedforward that calls it follows it."""
    h = np.array([[0.5, -1.0], [2.0, 0.25]])
    W, b = np.array([[1.0, -0.5, 0.3], [0.2, 0.7, -1.1]]), np.array([0.4, -0.3, 0.9])
    plain = answer_or_none(student.layer_forward, h, W, b, None)
    if plain is not None and shows(plain, h @ W) and not shows(plain, h @ W + b):
        return NO_BIAS
    activated = answer_or_none(student.layer_forward, h, W, b, np.tanh)
    if activated is not None and shows(activated, np.tanh(h @ W) + b):
        return BIAS_AFTER
    return None


def shown_mistakes(student, x, params, activation, function="feedforward_layers"):
    """(named mistake, the layers it gives) for each named mistake that ``function``'s answer
    may follow: layer_forward's, where the student's shows it, and, for feedforward, that of
    the student's feedforward_layers where its answer at (x, params) shows it."""
    found = {}
    mistake = layer_forward_mistake(student)
    if mistake is not None:
        found[mistake] = layers_by_hand(x, params, activation, mistake)
    if function == "feedforward":
        layers = answer_or_none(student.feedforward_layers, x, params, activation)
        mistaken = layers_by_hand(x, params, activation, OUTPUT_ACTIVATED)
        if (
            isinstance(layers, (list, tuple))
            and len(layers) == len(mistaken)
            and shows(layers[-1], mistaken[-1])
        ):
            found[("feedforward_layers", OUTPUT_ACTIVATED)] = mistaken
    return found


def weights_drawn_otherwise(layer_sizes, seed):
    """Hint -> the params init_network gives with that mistake in how its weights are drawn."""

    def drawn(draw, one_generator=True):
        rng = np.random.default_rng(seed)
        params = {}
        for k in range(1, len(layer_sizes)):
            n_in, n_out = layer_sizes[k - 1], layer_sizes[k]
            if not one_generator:
                rng = np.random.default_rng(seed)
            params[f"W{k}"] = draw(rng, n_in, n_out)
            params[f"b{k}"] = np.zeros(n_out)
        return params

    legacy = np.random.RandomState(seed)  # what np.random.seed(seed) then np.random.randn give
    return {
        "a new generator for each layer starts the same stream again: make "
        "rng = np.random.default_rng(seed) once, before the loop": drawn(
            lambda rng, n_in, n_out: rng.normal(0.0, 1 / np.sqrt(n_in), (n_in, n_out)), False
        ),
        "the standard deviation is 1 / sqrt(n_in) (1 / n_in is the variance)": drawn(
            lambda rng, n_in, n_out: rng.normal(0.0, 1 / n_in, (n_in, n_out))
        ),
        "the standard deviation is 1 / sqrt(n_in) as the docstring says, not He's "
        "sqrt(2 / n_in)": drawn(
            lambda rng, n_in, n_out: rng.normal(0.0, np.sqrt(2 / n_in), (n_in, n_out))
        ),
        "the standard deviation is 1 / sqrt(n_in), n_in the size of the layer feeding it, "
        "not of the layer itself": drawn(
            lambda rng, n_in, n_out: rng.normal(0.0, 1 / np.sqrt(n_out), (n_in, n_out))
        ),
        "the standard deviation is 1 / sqrt(n_in): the weights are not scaled": drawn(
            lambda rng, n_in, n_out: rng.normal(0.0, 1.0, (n_in, n_out))
        ),
        "draw the weights from a normal distribution, rng.normal, not rng.uniform": drawn(
            lambda rng, n_in, n_out: rng.uniform(
                -1 / np.sqrt(n_in), 1 / np.sqrt(n_in), (n_in, n_out)
            )
        ),
        "np.random.seed and np.random.randn are numpy's legacy generator, another stream: "
        "draw from rng = np.random.default_rng(seed)": {
            key: value
            for k in range(1, len(layer_sizes))
            for key, value in (
                (
                    f"W{k}",
                    legacy.randn(layer_sizes[k - 1], layer_sizes[k]) / np.sqrt(layer_sizes[k - 1]),
                ),
                (f"b{k}", np.zeros(layer_sizes[k])),
            )
        },
    }


def expect_params(got, expected, call, mistakes=None):
    """``got`` has ``expected``'s keys and arrays; mistakes: hint -> the params that mistake
    gives (each key's array is tried)."""
    if not isinstance(got, dict):
        fail(f"{call} returned {describe(got)}; expected a dict of weights and biases")
    if sorted(got) != sorted(expected):
        hint = None
        if "W0" in got:
            hint = "layers are numbered from 1: W1 and b1 are the first layer's"
        elif set(got) < set(expected):
            missing = sorted(set(expected) - set(got))
            hint = f"{', '.join(missing)} are missing: k runs from 1 to len(layer_sizes) - 1"
        fail(
            with_hint(f"{call} returned the keys {sorted(got)}; expected {sorted(expected)}", hint)
        )
    for key, value in expected.items():
        array = expect_array(got[key], f"{call}[{key!r}]", value.shape)
        if key.startswith("b") and np.any(array):
            fail(
                with_hint(
                    f"{call}[{key!r}] is {describe(array)}; the biases start at zero",
                    "the biases are np.zeros(n_out), not drawn (a draw for them also moves "
                    "every weight drawn after it)",
                )
            )
        expect_close(
            array,
            value,
            f"{call}[{key!r}]",
            rtol=1e-12,
            mistakes={
                hint: params[key]
                for hint, params in (mistakes or {}).items()
                if key in params and np.shape(params[key]) == value.shape
            },
        )


@check(points=2)
def test_init_network(student):
    """init_network draws each W from the seeded generator in order, with zero biases."""
    first, second = student.init_network([5, 4, 3], 0), student.init_network([5, 4, 3], 0)
    both = isinstance(first, dict) and isinstance(second, dict) and "W1" in first and "W1" in second
    if both and not np.array_equal(np.asarray(first["W1"]), np.asarray(second["W1"])):
        fail(
            with_hint(
                "init_network([5, 4, 3], seed=0) gave other weights the second time",
                "the same seed gives the same weights: rng = np.random.default_rng(seed), "
                "with the seed passed",
            )
        )
    for sizes, seed in [([5, 4, 3], 0), ([5, 6, 4, 2], 42)]:
        call = f"init_network({sizes}, seed={seed})"
        expect_params(
            student.init_network(sizes, seed),
            weights_as_documented(sizes, seed),
            call,
            mistakes=weights_drawn_otherwise(sizes, seed),
        )
    again = student.init_network([5, 4, 3], 7)
    other = student.init_network([5, 4, 3], 8)
    if np.array_equal(again["W1"], other["W1"]):
        fail(
            "init_network([5, 4, 3], seed=7) and seed=8 gave the same W1; draw from "
            "np.random.default_rng(seed)"
        )


@check(points=1)
def test_layer_forward(student, rng):
    """layer_forward computes activation(h @ W + b), or h @ W + b with no activation."""
    h, W, b = rng.normal(size=(3, 5)), rng.normal(size=(5, 4)), rng.normal(size=4)
    call = "layer_forward(h (3, 5), W (5, 4), b (4,), None)"
    got = expect_array(student.layer_forward(h, W, b, None), call, (3, 4))
    expect_close(got, h @ W + b, call, rtol=1e-12, mistakes={NO_BIAS: h @ W})
    call = "layer_forward(h (3, 5), W (5, 4), b (4,), tanh)"
    got = expect_array(student.layer_forward(h, W, b, np.tanh), call, (3, 4))
    expect_close(
        got,
        np.tanh(h @ W + b),
        call,
        rtol=1e-12,
        mistakes={BIAS_AFTER: np.tanh(h @ W) + b},
    )


@check(points=2)
def test_forward_flows_layer_by_layer(student, rng):
    """feedforward_layers returns the input and each layer's output; only hidden layers activate."""
    params = weights_as_documented([5, 4, 3], 3)
    params = {key: value + 0.1 * rng.normal(size=value.shape) for key, value in params.items()}
    x = rng.normal(size=(4, 5))
    activation = Recorder(np.tanh, "tanh")
    call = "feedforward_layers(x (4, 5), params of a [5, 4, 3] network, tanh)"
    got = student.feedforward_layers(x, params, activation)
    warn_if_inputs_changed(student, call)
    expected = layers_by_hand(x, params, np.tanh)
    if not isinstance(got, (list, tuple)) or len(got) != 3:
        fail(
            f"{call} returned {describe(got)}; expected a list of 3 arrays: x, the hidden "
            "layer's output and the output layer's"
        )
    following = shown_mistakes(student, x, params, np.tanh)
    for index, (layer, want) in enumerate(zip(got, expected, strict=True)):
        name = f"{call}[{index}]"
        layer = expect_array(layer, name, want.shape)
        expect_close(
            layer,
            want,
            name,
            rtol=1e-10,
            mistakes={
                **{mistake: layers[index] for mistake, layers in following.items()},
                OUTPUT_ACTIVATED: layers_by_hand(x, params, np.tanh, OUTPUT_ACTIVATED)[index],
            },
        )
    # The values above show which layers were activated; what is left to see is that the
    # activation given was the one used. It may be applied to the whole array, row by row or
    # entry by entry ("a function applied entry by entry"): every hidden pre-activation must
    # have gone through it, in whatever pieces.
    seen = np.concatenate(
        [np.ravel(np.asarray(item, dtype=np.float64)) for item in activation.inputs]
        or [np.zeros(0)]
    )
    without_bias = any(
        mistake in following and shows(got[1], following[mistake][1])
        for mistake in (NO_BIAS, BIAS_AFTER)
    )
    hidden = x @ params["W1"] if without_bias else x @ params["W1"] + params["b1"]
    if not all(np.any(np.isclose(seen, entry, rtol=1e-12, atol=0)) for entry in hidden.ravel()):
        fail(
            f"{call} gave the right values without applying the activation it was given to every "
            "hidden pre-activation; call activation(...) rather than a function of your own"
        )


def expect_output(student, x, params, sizes):
    """feedforward's answer for (x, params) is the output layer's, or follows a named mistake of
    a function it calls, or is its own mistake of activating the output layer."""
    call = f"feedforward(x {x.shape}, params of a {sizes} network, tanh)"
    got = student.feedforward(x, params, np.tanh)
    warn_if_inputs_changed(student, call)
    expected = layers_by_hand(x, params, np.tanh)[-1]
    following = shown_mistakes(student, x, params, np.tanh, "feedforward")
    expect_close(
        expect_array(got, call, expected.shape),
        expected,
        call,
        rtol=1e-10,
        mistakes={
            **{mistake: layers[-1] for mistake, layers in following.items()},
            OUTPUT_ACTIVATED: np.tanh(expected),
        },
    )


@check(points=0.5)
def test_count_layers(student):
    """count_layers counts the weight matrices."""
    for sizes, count in [([5, 6, 6, 2], 3), ([5, 3], 1)]:
        params = weights_as_documented(sizes, 1)
        call = f"count_layers(params of a {sizes} network)"
        if expect_number(student.count_layers(params), call) != count:
            fail(f"{call}: expected {count} layer{'s' if count > 1 else ''} with weights")


@check(points=0.5)
def test_feedforward(student, rng):
    """feedforward gives the output layer's scores, for a batch and for one example (N = 1)."""
    params = weights_as_documented([5, 4, 3], 3)
    params = {key: value + 0.1 * rng.normal(size=value.shape) for key, value in params.items()}
    expect_output(student, rng.normal(size=(4, 5)), params, [5, 4, 3])
    params = weights_as_documented([5, 6, 6, 2], 1)
    params = {key: value + 0.1 * rng.normal(size=value.shape) for key, value in params.items()}
    expect_output(student, rng.normal(size=(1, 5)), params, [5, 6, 6, 2])
