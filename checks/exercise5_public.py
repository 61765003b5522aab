"""Public checks for exercise 5, the feedforward network: weights drawn exactly as the docstring
says, the lesson's 5-neuron input layer, and the forward pass computed here layer by layer."""

import numpy as np

from grader.checks import (
    Recorder,
    check,
    describe,
    expect_array,
    expect_close,
    expect_number,
    fail,
    warn_if_inputs_changed,
)


def weights_as_documented(layer_sizes, seed):
    rng = np.random.default_rng(seed)
    params = {}
    for k in range(1, len(layer_sizes)):
        n_in, n_out = layer_sizes[k - 1], layer_sizes[k]
        params[f"W{k}"] = rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_out))
        params[f"b{k}"] = np.zeros(n_out)
    return params


def layers_by_hand(x, params, activation):
    count = len(params) // 2
    layers = [x]
    for k in range(1, count + 1):
        z = layers[-1] @ params[f"W{k}"] + params[f"b{k}"]
        layers.append(activation(z) if k < count else z)
    return layers


def expect_params(got, expected, call):
    if not isinstance(got, dict):
        fail(f"{call} returned {describe(got)}; expected a dict of weights and biases")
    if sorted(got) != sorted(expected):
        fail(f"{call} returned the keys {sorted(got)}; expected {sorted(expected)}")
    for key, value in expected.items():
        expect_close(
            expect_array(got[key], f"{call}[{key!r}]", value.shape),
            value,
            f"{call}[{key!r}]",
            rtol=1e-12,
        )


@check(points=2)
def test_init_network(student):
    """init_network draws each W from the seeded generator in order, with zero biases."""
    for sizes, seed in [([5, 4, 3], 0), ([5, 6, 4, 2], 42)]:
        call = f"init_network({sizes}, seed={seed})"
        expect_params(student.init_network(sizes, seed), weights_as_documented(sizes, seed), call)
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
    expect_close(got, h @ W + b, call, rtol=1e-12, mistakes={"the bias is missing": h @ W})
    call = "layer_forward(h (3, 5), W (5, 4), b (4,), tanh)"
    got = expect_array(student.layer_forward(h, W, b, np.tanh), call, (3, 4))
    expect_close(
        got,
        np.tanh(h @ W + b),
        call,
        rtol=1e-12,
        mistakes={"the bias is added after the activation": np.tanh(h @ W) + b},
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
    for index, (layer, want) in enumerate(zip(got, expected, strict=True)):
        name = f"{call}[{index}]"
        expect_close(
            expect_array(layer, name, want.shape),
            want,
            name,
            rtol=1e-10,
            mistakes={
                "the output layer has no activation": np.tanh(want),
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
    hidden = np.ravel(x @ params["W1"] + params["b1"])
    if not all(np.any(np.isclose(seen, entry, rtol=1e-12, atol=0)) for entry in hidden):
        fail(
            f"{call} gave the right values without applying the activation it was given to every "
            "hidden pre-activation; call activation(...) rather than a function of your own"
        )
    call = "feedforward(x (4, 5), params of a [5, 4, 3] network, tanh)"
    expect_close(
        expect_array(student.feedforward(x, params, np.tanh), call, (4, 3)),
        expected[-1],
        call,
        rtol=1e-10,
    )


@check(points=1)
def test_count_layers_and_one_example(student, rng):
    """count_layers counts weight matrices; a single example (N = 1) goes through as a batch."""
    params = weights_as_documented([5, 6, 6, 2], 1)
    call = "count_layers(params of a [5, 6, 6, 2] network)"
    if expect_number(student.count_layers(params), call) != 3:
        fail(f"{call}: expected 3 layers with weights")
    x = rng.normal(size=(1, 5))
    call = "feedforward(x (1, 5), params of a [5, 6, 6, 2] network, tanh)"
    expect_close(
        expect_array(student.feedforward(x, params, np.tanh), call, (1, 2)),
        layers_by_hand(x, params, np.tanh)[-1],
        call,
        rtol=1e-10,
    )
