"""The mistakes exercise 5's public and hidden checks name, in the same words: one mistake, one
text, charged once in the check of the function that made it.

Each mistake is recognised by the value it gives at the check's own point, confirmed where small
numbers could make several formulas agree (a count at two networks, a list of layers as a whole,
a layer's product at a square point where a wrong order does not raise). Where two mistakes fit,
nothing is named."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from grader.checks import (
    answer_or_none,
    describe,
    fail,
    fail_unless_charged,
    follows,
    shows,
    with_hint,
)
from grader.student_code.errors import StudentError, StudentRaised

Activation = Callable[[np.ndarray], np.ndarray]
Params = dict[str, np.ndarray]

# layer_forward's mistakes, which feedforward_layers and feedforward follow when they call it.
NO_BIAS = ("layer_forward", "the bias is missing")
BIAS_AFTER = ("layer_forward", "the bias is added after the activation")
ACTIVATES_INPUT = (
    "layer_forward",
    "this is activation(h) @ W + b, the activation applied to the layer's input: it comes after "
    "the product, on the pre-activation, activation(h @ W + b)",
)
NONE_CALLED = (
    "activation=None means no activation: the layer returns h @ W + b as it is "
    "(if activation is None: return z), it does not call None"
)
NONE_GIVES_NONE = (
    "with activation=None it returns None: no activation means the layer's output is "
    "h @ W + b itself; return it"
)
# layer_forward at a square point (n_in = n_out = N), where a product in the wrong form does not
# raise and gives its own value.
SQUARE_H = np.array([[0.6, -1.2, 0.9], [1.5, 0.3, -0.7], [-0.4, 2.0, 1.1]])
SQUARE_W = np.array([[0.8, -0.5, 1.3], [0.2, 1.7, -0.6], [-1.1, 0.4, 0.9]])
SQUARE_B = np.array([0.3, -0.8, 0.5])
PRODUCTS = {
    "this is W @ h, the product in the wrong order: with the examples as rows the layer is "
    "h @ W + b, h (N, n_in) times W (n_in, n_out)": SQUARE_W @ SQUARE_H + SQUARE_B,
    "this is W.T @ h, the product in the wrong order: with the examples as rows the layer is "
    "h @ W + b, h (N, n_in) times W (n_in, n_out)": SQUARE_W.T @ SQUARE_H + SQUARE_B,
    "this is h * W, an entry-by-entry product: the layer takes the matrix product h @ W "
    "(np.dot(h, W) or @) and adds b": SQUARE_H * SQUARE_W + SQUARE_B,
    "this is h @ W.T, W read as (n_out, n_in), transposed: W has shape (n_in, n_out) and the "
    "layer is h @ W + b": SQUARE_H @ SQUARE_W.T + SQUARE_B,
    "b is added as a column (b.reshape(-1, 1)), one entry per example: the bias has one entry "
    "per output, n_out of them, added to every row as it is, h @ W + b": (
        SQUARE_H @ SQUARE_W + SQUARE_B[:, None]
    ),
}
# And at a point where N, n_in and n_out all differ, where it is right if its product is.
WIDE_H = SQUARE_H[:2]
WIDE_W = np.array([[0.7, -0.2, 1.4, 0.5], [-0.9, 0.6, 0.1, -1.3], [0.3, 1.8, -0.4, 0.8]])
WIDE_B = np.array([0.2, -0.6, 0.9, -0.1])
SQUARE_ONLY = (
    "it gives the right values where W is square and raises otherwise: the output has shape "
    "(N, n_out), with n_out = W.shape[1] columns, whatever the width n_in of h"
)

# count_layers' mistakes: hint -> the count it gives for a network of L layers with weights.
COUNTS: dict[str, Callable[[int], int]] = {
    'this counts the biases too (every key of params): count the "Wk" keys only, one per layer '
    "with weights": lambda layers: 2 * layers,
    'this counts the input layer too, which has no weights: count the "Wk" keys, one per layer '
    "with weights": lambda layers: layers + 1,
    "this is one short, the hidden layers only: the output layer has weights W_L too; count "
    'every "Wk" key': lambda layers: layers - 1,
}

# feedforward_layers' mistakes.
OUTPUT_ACTIVATED = "the output layer has no activation"
HIDDEN_NOT_ACTIVATED = (
    "a hidden layer is left without its activation: every hidden layer applies it, the last one "
    "too (k < L); only the output layer (k = L) has none"
)
PRE_ACTIVATIONS = (
    "the list holds a hidden layer's pre-activation h @ W + b, from before the activation: store "
    "the activated output, the one passed on to the next layer"
)
X_MISSING = (
    "the input x is missing: the list starts with x, then each layer's output, "
    "[x, h_1, ..., output]"
)
STOPS_SHORT = (
    "the list stops before the last layer: a network has L = count_layers(params) layers, any "
    "number of them; loop over each layer, k = 1 .. L"
)
FROM_X = (
    "every layer is fed the input x: layer k takes the previous layer's output, h_(k-1) = "
    "layers[-1], not x"
)
OWN_ACTIVATION = (
    "call activation(...) rather than a function of your own: the hidden layers apply the "
    "activation passed in, whatever it is"
)
# A network of square layers, where feeding x to every layer does not raise.
SQUARE_X = np.array([[0.5, -1.0, 0.8, 0.3, -0.6], [1.2, 0.4, -0.9, 0.7, 0.2]])
SQUARE_PARAMS: Params = {
    key: value
    for k, seed in ((1, 11), (2, 12), (3, 13))
    for key, value in (
        (f"W{k}", np.random.default_rng(seed).normal(0.0, 0.5, size=(5, 5))),
        (f"b{k}", np.random.default_rng(seed + 10).normal(0.0, 0.3, size=5)),
    )
}

# feedforward's mistakes.
WHOLE_LIST = (
    "this is the whole list of layers: feedforward returns its last entry, the output layer's, "
    "feedforward_layers(...)[-1]"
)
FIRST_ENTRY = (
    "this is x, the input, the first entry of the list of layers: the output is the last entry, "
    "feedforward_layers(...)[-1]"
)
SOFTMAX = (
    "this is a softmax of the output layer's scores: feedforward returns the scores as they are "
    "(the output layer has no activation)"
)
IN_PLACE = (
    "this is the output for x as the code changed it in place (x -= ..., x[...] = ...): the "
    "forward pass takes x as given; work on a copy (x = x - ...) or leave x alone"
)
NOT_PASSED_ON = (
    "this is the output with no activation anywhere: pass the activation given on to "
    "feedforward_layers, feedforward_layers(x, params, activation)"
)
OTHER_ACTIVATION = (
    "this is the output with {} for the hidden layers, not the activation given: pass "
    "activation on to feedforward_layers as it is"
)
STANDARDISED = (
    "this is the output for (x - x.mean(axis=0)) / x.std(axis=0), the input centred and scaled: "
    "the forward pass takes x as it is given"
)
CENTRED = (
    "this is the output for x - x.mean(axis=0), the input centred: the forward pass takes x as "
    "it is given"
)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0)


def layers_by_hand(
    x: np.ndarray,
    params: Params,
    activation: Activation,
    mistake: Any = None,
    plain: Sequence[int] = (),
) -> list[np.ndarray]:
    """Every layer's output as the docstring defines them, or with the named ``mistake``; the
    hidden layers numbered in ``plain`` left without their activation."""
    count = len(params) // 2
    layers = [x]
    passed = x
    for k in range(1, count + 1):
        W, b = params[f"W{k}"], params[f"b{k}"]
        hidden = (k < count and k not in plain) or mistake == OUTPUT_ACTIVATED
        z = passed @ W + b
        if mistake == NO_BIAS:
            z = passed @ W
            out = activation(z) if hidden else z
        elif mistake == BIAS_AFTER and hidden:
            out = activation(passed @ W) + b
        elif mistake == ACTIVATES_INPUT and hidden:
            out = activation(passed) @ W + b
        else:
            out = activation(z) if hidden else z
        layers.append(z if mistake == PRE_ACTIVATIONS and hidden else out)
        passed = out
    return layers


def layer_forward_mistake(student: Any) -> Any:
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
    if activated is not None and shows(activated, np.tanh(h) @ W + b):
        return ACTIVATES_INPUT
    return None


def explained(error: StudentRaised, hint: str | None) -> StudentRaised:
    """The student's error with ``hint`` as its second line (in place of any other), or as it
    was where there is none."""
    if hint is None:
        return error
    return StudentRaised(with_hint(str(error).split("\n")[0].rstrip("."), hint), error.line)


def layer_error_hint(student: Any) -> str | None:
    """The hint for a shape error (a ValueError) of layer_forward: the product it takes instead
    of h @ W, seen at a square point where it does not raise, or that it works only where W is
    square."""
    got = answer_or_none(student.layer_forward, SQUARE_H, SQUARE_W, SQUARE_B, None)
    if got is None:
        return None
    found = [hint for hint, value in PRODUCTS.items() if shows(got, value)]
    if len(found) == 1:
        return found[0]
    if not found and shows(got, SQUARE_H @ SQUARE_W + SQUARE_B):
        return SQUARE_ONLY
    return None


def none_hint(student: Any, h: np.ndarray, W: np.ndarray, b: np.ndarray, got: Any) -> str | None:
    """The hint for layer_forward(h, W, b, None) where it called None (``got``: the error) or
    gave None, while it is right with an activation at the same point."""
    if isinstance(got, StudentRaised):
        if "'NoneType' object is not callable" not in str(got):
            return None
        hint = NONE_CALLED
    elif got is None:
        hint = NONE_GIVES_NONE
    else:
        return None
    activated = answer_or_none(student.layer_forward, h, W, b, np.tanh)
    return hint if activated is not None and shows(activated, np.tanh(h @ W + b)) else None


def count_hint(answers: Sequence[tuple[int, Any]]) -> str | None:
    """The hint for count_layers' answers, (the right count, the student's) at two networks or
    more: the one mistake whose count is the student's at every one of them."""
    found = [
        hint
        for hint, counted in COUNTS.items()
        if all(
            isinstance(got, (int, float, np.integer, np.floating))
            and not isinstance(got, bool)
            and got == counted(right)
            for right, got in answers
        )
    ]
    return found[0] if len(found) == 1 else None


def weights(sizes: Sequence[int]) -> Params:
    """Fixed parameters of a network of ``sizes``, for a look at count_layers."""
    rng = np.random.default_rng(len(sizes))
    return {
        key: value
        for k in range(1, len(sizes))
        for key, value in (
            (f"W{k}", rng.normal(size=(sizes[k - 1], sizes[k]))),
            (f"b{k}", np.zeros(sizes[k])),
        )
    }


def count_mistake(student: Any) -> str | None:
    """count_layers' named mistake, seen at two networks of this module's own, if it shows one."""
    answers = []
    for sizes in ([5, 6, 6, 2], [5, 3]):
        answers.append((len(sizes) - 1, answer_or_none(student.count_layers, weights(sizes))))
    return count_hint(answers)


def shown_list(got: Any, layers: Sequence[np.ndarray]) -> bool:
    """Whether every entry of the list ``got`` is the layer ``layers`` has there."""
    return (
        isinstance(got, (list, tuple))
        and len(got) == len(layers)
        and all(shows(item, layer) for item, layer in zip(got, layers, strict=True))
    )


def list_mistakes(
    got: Any, x: np.ndarray, params: Params, activation: Activation
) -> dict[str, list[np.ndarray]]:
    """Hint -> the layers feedforward_layers gives with that mistake of its own, for the one
    mistake the whole list ``got`` shows (none where two fit, or where it is right)."""
    count = len(params) // 2
    candidates = [(PRE_ACTIVATIONS, layers_by_hand(x, params, activation, PRE_ACTIVATIONS))]
    if count > 1:
        candidates += [
            (HIDDEN_NOT_ACTIVATED, layers_by_hand(x, params, activation, plain=[count - 1])),
            (HIDDEN_NOT_ACTIVATED, layers_by_hand(x, params, activation, plain=range(count))),
        ]
    for other in (np.tanh, sigmoid, relu):
        candidates.append((OWN_ACTIVATION, layers_by_hand(x, params, other)))
    if shown_list(got, layers_by_hand(x, params, activation)):
        return {}
    found = {hint: layers for hint, layers in candidates if shown_list(got, layers)}
    return found if len(found) == 1 else {}


def short_list_mistake(
    got: Any, x: np.ndarray, params: Params, activation: Activation
) -> str | None:
    """The hint for a list of layers one or more entries short: x left out, or the list
    stopping before the last layer (the last entry the layer it stopped at, activated or not)."""
    expected = layers_by_hand(x, params, activation)
    if not isinstance(got, (list, tuple)) or not 1 < len(got) < len(expected):
        return None
    if len(got) == len(expected) - 1 and shown_list(got, expected[1:]):
        return X_MISSING
    last = len(got) - 1
    plain = layers_by_hand(x, params, activation, plain=[last])[last]
    if shown_list(got[:last], expected[:last]) and (
        shows(got[last], expected[last]) or shows(got[last], plain)
    ):
        return STOPS_SHORT
    return None


def short_list_hint(
    student: Any, got: Any, x: np.ndarray, params: Params, activation: Activation, call: str
) -> tuple[str | None, Any]:
    """(hint, named mistake) for feedforward_layers' list one or more entries short: where the
    student's count_layers shows its named mistake, the list follows it (a mistake charged in
    count_layers' check, not here); else short_list_mistake's, feedforward_layers' own."""
    hint = short_list_mistake(got, x, params, activation)
    if hint is None:
        return None, None
    counted = count_mistake(student)
    if counted is not None:
        return follows(("count_layers", counted), call), None
    return hint, ("feedforward_layers", hint)


def from_x_mistake(student: Any) -> str | None:
    """FROM_X where the student's feedforward_layers feeds x to every layer of a network of
    square layers, where that does not raise."""
    layers = answer_or_none(student.feedforward_layers, SQUARE_X, SQUARE_PARAMS, np.tanh)
    count = len(SQUARE_PARAMS) // 2
    fed_x = [SQUARE_X]
    for k in range(1, count + 1):
        z = SQUARE_X @ SQUARE_PARAMS[f"W{k}"] + SQUARE_PARAMS[f"b{k}"]
        fed_x.append(np.tanh(z) if k < count else z)
    return FROM_X if shown_list(layers, fed_x) else None


def layers_error_hint(student: Any, error: StudentRaised, params: Params, call: str) -> str | None:
    """The hint for an error of feedforward_layers (or of feedforward, which calls it): a key
    past the last layer (from the student's count_layers where it shows its mistake), None
    called or a shape error by the student's layer_forward, or every layer fed x."""
    message = str(error)
    key = re.search(r"KeyError: '([Wb])(\d+)'", message)
    count = len(params) // 2
    if key is not None and int(key.group(2)) == count + 1:
        counted = count_mistake(student)
        if counted is not None:
            return follows(("count_layers", counted), call)
        if answer_or_none(student.count_layers, params) == count:
            return (
                f"there is no {key.group(1)}{count + 1}: the loop goes past the last layer; the "
                f"network has L = count_layers(params) = {count} layers, k = 1 .. L"
            )
        return None
    if "'NoneType' object is not callable" in message:
        try:
            plain = student.layer_forward(WIDE_H, WIDE_W, WIDE_B, None)
        except StudentRaised as error:
            plain = error
        except StudentError:
            return None
        hint = none_hint(student, WIDE_H, WIDE_W, WIDE_B, plain)
        return None if hint is None else follows(("layer_forward", hint), call)
    if "ValueError" not in message:
        return None
    try:
        student.layer_forward(WIDE_H, WIDE_W, WIDE_B, None)
        layer = None
    except StudentRaised as error:  # a shape error of its own where N, n_in and n_out differ
        layer = layer_error_hint(student) if "ValueError" in str(error) else None
    except StudentError:
        layer = None
    if layer is not None:
        return follows(("layer_forward", layer), call)
    fed_x = from_x_mistake(student)
    if fed_x is not None:
        return follows(("feedforward_layers", fed_x), call)
    return None


def output_mistakes(
    changes: Sequence[Any], x: np.ndarray, params: Params, activation: Activation
) -> dict[str, np.ndarray]:
    """Hint -> what feedforward(x, params, activation) gives with that mistake of its own: a
    softmax on the output, the input changed in place (``changes``: what the worker reported of
    the call, changed_arguments), or centred."""
    expected = layers_by_hand(x, params, activation)[-1]
    shifted = np.exp(expected - expected.max(axis=1, keepdims=True))
    mistakes = {SOFTMAX: shifted / shifted.sum(axis=1, keepdims=True)}
    for change in changes:
        if change.name == "x" and change.after.shape == x.shape:
            after = np.asarray(change.after, dtype=np.float64)
            mistakes[IN_PLACE] = layers_by_hand(after, params, activation)[-1]
    # For one example, x - x.mean(axis=0) is 0: the output for 0, still what the code computes.
    mistakes[CENTRED] = layers_by_hand(x - x.mean(axis=0), params, activation)[-1]
    mistakes[NOT_PASSED_ON] = layers_by_hand(x, params, activation, plain=range(len(params)))[-1]
    for name, other in (("np.tanh", np.tanh), ("a sigmoid", sigmoid), ("a ReLU", relu)):
        value = layers_by_hand(x, params, other)[-1]
        if not np.allclose(value, expected, rtol=1e-9, atol=0):
            mistakes[OTHER_ACTIVATION.format(name)] = value
    spread = x.std(axis=0)
    if np.all(spread > 0):
        standard = (x - x.mean(axis=0)) / spread
        mistakes[STANDARDISED] = layers_by_hand(standard, params, activation)[-1]
    return mistakes


def followed_by_feedforward(
    student: Any, x: np.ndarray, params: Params, activation: Activation
) -> dict[Any, np.ndarray]:
    """(function, hint) -> feedforward's output with that mistake, for each named mistake that
    the student's layer_forward shows at a point of this module's own, or the student's
    feedforward_layers at (x, params): an answer that follows it is that mistake again."""
    found: dict[Any, np.ndarray] = {}
    mistake = layer_forward_mistake(student)
    if mistake is not None:
        found[mistake] = layers_by_hand(x, params, activation, mistake)[-1]
    layers = answer_or_none(student.feedforward_layers, x, params, activation)
    activated = layers_by_hand(x, params, activation, OUTPUT_ACTIVATED)
    if (
        isinstance(layers, (list, tuple))
        and len(layers) == len(activated)
        and shows(layers[-1], activated[-1])
    ):
        found[("feedforward_layers", OUTPUT_ACTIVATED)] = activated[-1]
    for hint, variant in list_mistakes(layers, x, params, activation).items():
        found[("feedforward_layers", hint)] = variant[-1]
    short = short_list_mistake(layers, x, params, activation)
    if short == STOPS_SHORT and count_mistake(student) is None:
        found[("feedforward_layers", STOPS_SHORT)] = np.asarray(layers[-1], dtype=np.float64)
    return found


def following_shape(got: Any, call: str, shape: tuple[int, ...], following: dict) -> bool:
    """Where feedforward's answer has another shape than ``shape`` and is the output of a named
    mistake of ``following`` (a list of layers stopping short), that mistake again: failed with
    its hint, or noted where an earlier check charged it (then True: the answer was checked)."""
    if not isinstance(got, np.ndarray) or got.shape == shape:
        return False
    for mistake, value in following.items():
        if np.shape(value) == got.shape and shows(got, value):
            message = f"{call} returned an array of shape {got.shape}; expected shape {shape}"
            fail_unless_charged(with_hint(message, follows(mistake, call)), mistake)
            return True
    return False


def wrong_entry(got: Any, x: np.ndarray, call: str, shape: tuple[int, ...]) -> None:
    """Fails naming the mistake where feedforward's answer is x itself, the first entry of the
    list of layers. Charged wherever it shows: an answer that is its own input computes nothing
    a later check could excuse."""
    if isinstance(got, np.ndarray) and got.shape != shape and shows(got, x):
        message = f"{call} returned an array of shape {got.shape}; expected shape {shape}"
        fail(with_hint(message, FIRST_ENTRY))


def whole_list(got: Any, expected: np.ndarray) -> bool:
    """Whether feedforward returned a list of layers whose last entry is the right output."""
    return isinstance(got, (list, tuple)) and len(got) > 1 and shows(got[-1], expected)


OWN_LOOP_SHORT = "the loop stops before the output layer, at a hidden layer's output"


def stops_short(got: Any, layers: list[np.ndarray], call: str, following: Any) -> bool:
    """Fail (or, where an earlier check charged it, note and return True) where feedforward's
    ``got`` is a hidden layer's output of ``layers`` (x, each layer's output, computed here), a
    loop of its own that stops short; False where it is not, or follows another function's
    mistake."""
    hidden = layers[1:-1]
    short = next(
        (
            k
            for k, layer in enumerate(hidden, 1)
            if isinstance(got, np.ndarray) and got.shape == layer.shape and shows(got, layer)
        ),
        None,
    )
    if short is None or following:
        return False
    fail_unless_charged(
        with_hint(
            f"{call} returned layer {short}'s output of {len(hidden) + 1}, {describe(got)}",
            f"{OWN_LOOP_SHORT}: go through every layer, for k in range(1, L + 1)",
        ),
        ("feedforward", OWN_LOOP_SHORT),
    )
    return True
