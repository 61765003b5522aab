"""Public checks for exercise 5, the feedforward network: weights drawn exactly as the docstring
says, the lesson's 5-neuron input layer, and the forward pass computed here layer by layer.

Each function scores in its own check. feedforward_layers may call layer_forward, and feedforward
may call feedforward_layers: where the function called shows a named mistake (at a point of the
check's own), an answer that follows it is that mistake again, charged once in the check of the
function that made it."""

from typing import Any

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
    shared,
    shows,
    warn_if_inputs_changed,
    with_hint,
)
from grader.student_code.errors import StudentRaised
from grader.student_code.objects import changed_arguments

# The mistakes and their words, shared with the hidden checks: the same mistake, charged once.
mistakes = shared(__file__, "_exercise5_mistakes")
NO_BIAS, BIAS_AFTER = mistakes.NO_BIAS, mistakes.BIAS_AFTER
ACTIVATES_INPUT, OUTPUT_ACTIVATED = mistakes.ACTIVATES_INPUT, mistakes.OUTPUT_ACTIVATED
layers_by_hand = mistakes.layers_by_hand


def weights_as_documented(layer_sizes, seed):
    rng = np.random.default_rng(seed)
    params = {}
    for k in range(1, len(layer_sizes)):
        n_in, n_out = layer_sizes[k - 1], layer_sizes[k]
        params[f"W{k}"] = rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_out))
        params[f"b{k}"] = np.zeros(n_out)
    return params


def shown_mistakes(
    student: Any, x: np.ndarray, params: dict[str, np.ndarray], activation: Any
) -> dict[Any, list[np.ndarray]]:
    """(named mistake, the layers it gives) for layer_forward's named mistake, where the
    student's shows it: feedforward_layers' answer may follow it."""
    mistake = mistakes.layer_forward_mistake(student)
    if mistake is None:
        return {}
    return {mistake: layers_by_hand(x, params, activation, mistake)}


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


def expect_params(got, expected, call, drawn_otherwise=None):
    """``got`` has ``expected``'s keys and arrays; mistakes: hint -> the params that mistake
    gives (each key's array is tried)."""
    if not isinstance(got, dict):
        fail(f"{call} returned {describe(got)}; expected a dict of weights and biases")
    if sorted(got, key=str) != sorted(expected):
        hint = None
        if "W0" in got:
            hint = "layers are numbered from 1: W1 and b1 are the first layer's"
        elif set(got) < set(expected):
            missing = sorted(set(expected) - set(got), key=str)
            hint = f"{', '.join(missing)} are missing: k runs from 1 to len(layer_sizes) - 1"
        fail(
            with_hint(
                f"{call} returned the keys {sorted(got, key=str)}; expected {sorted(expected)}",
                hint,
            )
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
                for hint, params in (drawn_otherwise or {}).items()
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
            drawn_otherwise=weights_drawn_otherwise(sizes, seed),
        )
    again = student.init_network([5, 4, 3], 7)
    other = student.init_network([5, 4, 3], 8)
    if np.array_equal(again["W1"], other["W1"]):
        fail(
            "init_network([5, 4, 3], seed=7) and seed=8 gave the same W1; draw from "
            "np.random.default_rng(seed)"
        )


def layer_answer(
    student: Any, call: str, h: np.ndarray, W: np.ndarray, b: np.ndarray, activation: Any
) -> Any:
    """The student's layer_forward(h, W, b, activation), an error named where a look at a point
    of the check's own says what it is: None called, or a product other than h @ W."""
    try:
        answer = student.layer_forward(h, W, b, activation)
    except StudentRaised as error:
        hint = mistakes.none_hint(student, h, W, b, error) if activation is None else None
        if hint is None and "ValueError" in str(error):
            hint = mistakes.layer_error_hint(student)
        raise mistakes.explained(error, hint) from None
    if answer is None and activation is None:
        hint = mistakes.none_hint(student, h, W, b, None)
        if hint is not None:
            fail(
                with_hint(
                    f"{call} returned None; expected an array of shape {h.shape[0], W.shape[1]}",
                    hint,
                )
            )
    return answer


@check(points=1)
def test_layer_forward(student, rng):
    """layer_forward computes activation(h @ W + b), or h @ W + b with no activation."""
    h, W, b = rng.normal(size=(3, 5)), rng.normal(size=(5, 4)), rng.normal(size=4)
    call = "layer_forward(h (3, 5), W (5, 4), b (4,), None)"
    got = expect_array(layer_answer(student, call, h, W, b, None), call, (3, 4))
    expect_close(got, h @ W + b, call, rtol=1e-12, mistakes={NO_BIAS: h @ W})
    call = "layer_forward(h (3, 5), W (5, 4), b (4,), tanh)"
    got = expect_array(layer_answer(student, call, h, W, b, np.tanh), call, (3, 4))
    expect_close(
        got,
        np.tanh(h @ W + b),
        call,
        rtol=1e-12,
        mistakes={BIAS_AFTER: np.tanh(h @ W) + b, ACTIVATES_INPUT: np.tanh(h) @ W + b},
    )


def layers_answer(
    student: Any, call: str, x: np.ndarray, params: dict[str, np.ndarray], activation: Any
) -> Any:
    """The student's feedforward_layers (or feedforward) answer, an error named where it shows
    a named mistake: a key past the last layer, a shape error of layer_forward's product."""
    function = (
        student.feedforward if call.startswith("feedforward(") else student.feedforward_layers
    )
    try:
        return function(x, params, activation)
    except StudentRaised as error:
        hint = mistakes.layers_error_hint(student, error, params, call)
        raise mistakes.explained(error, hint) from None


def expect_layers(
    student: Any,
    x: np.ndarray,
    params: dict[str, np.ndarray],
    sizes: list[int],
    activation: Any,
) -> tuple[Any, dict[Any, list[np.ndarray]]]:
    """feedforward_layers(x, params, activation) is [x, h_1, ..., output], each layer's output
    as the docstring defines it, or following a named mistake of layer_forward, which it calls;
    returns the student's layers and the mistakes they follow."""
    call = f"feedforward_layers(x {x.shape}, params of a {sizes} network, tanh)"
    got = layers_answer(student, call, x, params, activation)
    warn_if_inputs_changed(student, call)
    expected = layers_by_hand(x, params, np.tanh)
    if not isinstance(got, (list, tuple)) or len(got) != len(expected):
        hint, mistake = mistakes.short_list_hint(student, got, x, params, np.tanh, call)
        fail(
            with_hint(
                f"{call} returned {describe(got)}; expected a list of {len(expected)} arrays: x, "
                "each hidden layer's output and the output layer's",
                hint,
            ),
            mistake,
        )
    following = shown_mistakes(student, x, params, np.tanh)
    own = mistakes.list_mistakes(got, x, params, np.tanh)
    activated = layers_by_hand(x, params, np.tanh, OUTPUT_ACTIVATED)
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
                OUTPUT_ACTIVATED: activated[index],
                **{hint: layers[index] for hint, layers in own.items()},
            },
        )
    return got, following


@check(points=2)
def test_forward_flows_layer_by_layer(student, rng):
    """feedforward_layers returns the input and each layer's output; only hidden layers activate."""
    params = weights_as_documented([5, 4, 3], 3)
    params = {key: value + 0.1 * rng.normal(size=value.shape) for key, value in params.items()}
    x = rng.normal(size=(4, 5))
    activation = Recorder(np.tanh, "tanh")
    got, following = expect_layers(student, x, params, [5, 4, 3], activation)
    # The values above show which layers were activated; what is left to see is that the
    # activation given was the one used. It may be applied to the whole array, row by row or
    # entry by entry ("a function applied entry by entry"): every hidden pre-activation must
    # have gone through it, in whatever pieces.
    seen = np.concatenate(
        [np.ravel(np.asarray(item, dtype=np.float64)) for item in activation.inputs]
        or [np.zeros(0)]
    )
    # What went through the activation where the layers follow a named mistake of layer_forward.
    fed = {NO_BIAS: x @ params["W1"], BIAS_AFTER: x @ params["W1"], ACTIVATES_INPUT: x}
    shown = [
        mistake for mistake in fed if mistake in following and shows(got[1], following[mistake][1])
    ]
    hidden = fed[shown[0]] if shown else x @ params["W1"] + params["b1"]
    call = "feedforward_layers(x (4, 5), params of a [5, 4, 3] network, tanh)"
    if not all(np.any(np.isclose(seen, entry, rtol=1e-12, atol=0)) for entry in hidden.ravel()):
        fail(
            with_hint(
                f"{call} gave the right values without applying the activation it was given to "
                "every hidden pre-activation",
                mistakes.OWN_ACTIVATION,
            ),
            ("feedforward_layers", mistakes.OWN_ACTIVATION),
        )
    # A deeper network: every layer, however many there are.
    params = weights_as_documented([5, 6, 3, 2], 5)
    params = {key: value + 0.1 * rng.normal(size=value.shape) for key, value in params.items()}
    expect_layers(student, rng.normal(size=(3, 5)), params, [5, 6, 3, 2], np.tanh)


def expect_output(
    student: Any, x: np.ndarray, params: dict[str, np.ndarray], sizes: list[int]
) -> None:
    """feedforward's answer for (x, params) is the output layer's, or follows a named mistake of
    a function it calls, or is a mistake of its own (the output layer activated, a softmax, the
    input changed)."""
    call = f"feedforward(x {x.shape}, params of a {sizes} network, tanh)"
    got = layers_answer(student, call, x, params, np.tanh)
    own = mistakes.output_mistakes(changed_arguments(student), x, params, np.tanh)
    warn_if_inputs_changed(student, call)
    expected = layers_by_hand(x, params, np.tanh)[-1]
    if mistakes.whole_list(got, expected):
        fail(
            with_hint(
                f"{call} returned {describe(got)}; expected an array of shape {expected.shape}",
                mistakes.WHOLE_LIST,
            ),
            ("feedforward", mistakes.WHOLE_LIST),
        )
    following = mistakes.followed_by_feedforward(student, x, params, np.tanh)
    if mistakes.following_shape(got, call, expected.shape, following):
        return
    mistakes.wrong_entry(got, x, call, expected.shape)
    if mistakes.stops_short(got, layers_by_hand(x, params, np.tanh), call, following):
        return
    expect_close(
        expect_array(got, call, expected.shape),
        expected,
        call,
        rtol=1e-10,
        mistakes={**following, OUTPUT_ACTIVATED: np.tanh(expected), **own},
    )


@check(points=0.5)
def test_count_layers(student):
    """count_layers counts the weight matrices."""
    networks = [([5, 6, 6, 2], 3), ([5, 3], 1)]
    for sizes, count in networks:
        params = weights_as_documented(sizes, 1)
        call = f"count_layers(params of a {sizes} network)"
        got = expect_number(student.count_layers(params), call)
        if got != count:
            # A wrong count is named where the other network's count confirms it.
            answers = [(count, got)] + [
                (other, answer_or_none(student.count_layers, weights_as_documented(more, 1)))
                for more, other in networks
                if more != sizes
            ]
            fail(
                with_hint(
                    f"{call} returned {describe(got)}; expected {count} "
                    f"layer{'s' if count > 1 else ''} with weights",
                    mistakes.count_hint(answers),
                )
            )


@check(points=0.5)
def test_feedforward(student, rng):
    """feedforward gives the output layer's scores, for a batch and for one example (N = 1)."""
    params = weights_as_documented([5, 4, 3], 3)
    params = {key: value + 0.1 * rng.normal(size=value.shape) for key, value in params.items()}
    expect_output(student, rng.normal(size=(4, 5)), params, [5, 4, 3])
    params = weights_as_documented([5, 6, 6, 2], 1)
    params = {key: value + 0.1 * rng.normal(size=value.shape) for key, value in params.items()}
    expect_output(student, rng.normal(size=(1, 5)), params, [5, 6, 6, 2])
