"""Hidden checks for exercise 5, the feedforward network: the reference on deeper networks, other
activations and batch sizes, and the same result from the same call twice."""

import numpy as np

from grader.checks import (
    check,
    describe,
    expect_array,
    expect_matches_reference,
    fail,
)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


@check(points=1)
def test_feedforward_matches_reference(student, solution, rng):
    """feedforward agrees with the reference on deeper networks, batch sizes 1 to 7, and twice."""
    for sizes, batch, activation in [
        ([5, 8, 6, 4, 2], 7, np.tanh),
        ([5, 3, 1], 1, sigmoid),
        ([5, 9, 9, 3], 3, np.tanh),
    ]:
        params = solution.init_network(sizes, int(rng.integers(1000)))
        params = {key: value + 0.2 * rng.normal(size=value.shape) for key, value in params.items()}
        x = rng.normal(size=(batch, 5))
        call = f"feedforward(x ({batch}, 5), params of a {sizes} network)"
        expected = solution.feedforward(x, params, activation)
        first = expect_array(student.feedforward(x, params, activation), call, expected.shape)
        expect_matches_reference(first, expected, call)
        second = student.feedforward(x, params, activation)
        if not np.array_equal(first, second):
            fail(f"{call} gave a different result the second time; it must not keep state")
        layers = student.feedforward_layers(x, params, activation)
        reference = solution.feedforward_layers(x, params, activation)
        if not isinstance(layers, (list, tuple)) or len(layers) != len(reference):
            fail(
                f"feedforward_layers for a {sizes} network returned {describe(layers)}; "
                f"expected {len(reference)} arrays"
            )
        for index, (layer, want) in enumerate(zip(layers, reference, strict=True)):
            name = f"feedforward_layers(...)[{index}] for a {sizes} network"
            expect_matches_reference(expect_array(layer, name, want.shape), want, name)


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
