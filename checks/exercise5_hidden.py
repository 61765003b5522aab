"""Hidden checks for exercise 5, the feedforward network: the reference on deeper networks, other
activations and batch sizes, and the same result from the same call twice. feedforward and
feedforward_layers score apart; an answer that follows a named mistake of a function it calls
(as the public checks name it, charged there once) is not charged again."""

import numpy as np

from grader.checks import (
    answer_or_none,
    check,
    describe,
    expect_array,
    expect_matches_reference,
    fail,
    shows,
)

# As in the public checks, word for word: the same mistake, charged once.
NO_BIAS = ("layer_forward", "the bias is missing")
BIAS_AFTER = ("layer_forward", "the bias is added after the activation")
OUTPUT_ACTIVATED = "the output layer has no activation"


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


NETWORKS = [([5, 8, 6, 4, 2], 7, np.tanh), ([5, 3, 1], 1, sigmoid), ([5, 9, 9, 3], 3, np.tanh)]


def layers_by_hand(x, params, activation, mistake):
    """Every layer's output with the named ``mistake``."""
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
    """The named mistake the student's layer_forward shows at a point of this check's own."""
    h = np.array([[0.5, -1.0], [2.0, 0.25]])
    W, b = np.array([[1.0, -0.5, 0.3], [0.2, 0.7, -1.1]]), np.array([0.4, -0.3, 0.9])
    plain = answer_or_none(student.layer_forward, h, W, b, None)
    if plain is not None and shows(plain, h @ W) and not shows(plain, h @ W + b):
        return NO_BIAS
    activated = answer_or_none(student.layer_forward, h, W, b, np.tanh)
    if activated is not None and shows(activated, np.tanh(h @ W) + b):
        return BIAS_AFTER
    return None


def network(solution, rng, sizes):
    params = solution.init_network(sizes, int(rng.integers(1000)))
    return {key: value + 0.2 * rng.normal(size=value.shape) for key, value in params.items()}


@check(points=0.5)
def test_feedforward_matches_reference(student, solution, rng):
    """feedforward agrees with the reference on deeper networks, batch sizes 1 to 7, and twice."""
    mistake = layer_forward_mistake(student)
    for sizes, batch, activation in NETWORKS:
        params = network(solution, rng, sizes)
        x = rng.normal(size=(batch, 5))
        call = f"feedforward(x ({batch}, 5), params of a {sizes} network)"
        expected = solution.feedforward(x, params, activation)
        following = {}
        if mistake is not None:
            following[mistake] = layers_by_hand(x, params, activation, mistake)[-1]
        layers = answer_or_none(student.feedforward_layers, x, params, activation)
        activated = layers_by_hand(x, params, activation, OUTPUT_ACTIVATED)[-1]
        if isinstance(layers, (list, tuple)) and layers and shows(layers[-1], activated):
            following[("feedforward_layers", OUTPUT_ACTIVATED)] = activated
        following[OUTPUT_ACTIVATED] = activated
        first = expect_array(student.feedforward(x, params, activation), call, expected.shape)
        expect_matches_reference(first, expected, call, mistakes=following)
        second = student.feedforward(x, params, activation)
        if not np.array_equal(first, second):
            fail(f"{call} gave a different result the second time; it must not keep state")


@check(points=0.5)
def test_feedforward_layers_matches_reference(student, solution, rng):
    """feedforward_layers agrees with the reference on deeper networks and batch sizes 1 to 7."""
    mistake = layer_forward_mistake(student)
    for sizes, batch, activation in NETWORKS:
        params = network(solution, rng, sizes)
        x = rng.normal(size=(batch, 5))
        layers = student.feedforward_layers(x, params, activation)
        reference = solution.feedforward_layers(x, params, activation)
        if not isinstance(layers, (list, tuple)) or len(layers) != len(reference):
            fail(
                f"feedforward_layers for a {sizes} network returned {describe(layers)}; "
                f"expected {len(reference)} arrays"
            )
        following = {OUTPUT_ACTIVATED: layers_by_hand(x, params, activation, OUTPUT_ACTIVATED)}
        if mistake is not None:
            following = {mistake: layers_by_hand(x, params, activation, mistake), **following}
        for index, (layer, want) in enumerate(zip(layers, reference, strict=True)):
            name = f"feedforward_layers(...)[{index}] for a {sizes} network"
            expect_matches_reference(
                expect_array(layer, name, want.shape),
                want,
                name,
                mistakes={key: values[index] for key, values in following.items()},
            )


@check(points=1)
def test_init_network_matches_reference(student, solution, rng):
    """init_network agrees with the reference for other sizes and seeds."""
    for sizes in ([5, 1], [5, 20, 10, 3]):
        seed = int(rng.integers(2**31))
        call = f"init_network({sizes}, seed={seed})"
        got = student.init_network(sizes, seed)
        expected = solution.init_network(sizes, seed)
        if not isinstance(got, dict) or sorted(got) != sorted(expected):
            fail(f"{call} returned {describe(got)}; expected keys {sorted(expected)}")
        for key, value in expected.items():
            expect_matches_reference(
                expect_array(got[key], f"{call}[{key!r}]", value.shape), value, f"{call}[{key!r}]"
            )
