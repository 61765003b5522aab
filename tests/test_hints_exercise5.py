"""Exercise 5's hints: a wrong network is named by the value its mistake gives at the check's own
points (a count at two networks, a list of layers as a whole, a layer's product at a square
point), each mistake charged once in its own function's check, and the hidden checks name it in
the same words, from the module both share."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from grader.course import Course
from tests.helpers import REPO, failed, grade_text, message_of, solution_text, with_function

CHECKS = REPO / "checks"


def shared_module():
    path = CHECKS / "_exercise5_mistakes.py"
    spec = importlib.util.spec_from_file_location("_exercise5_mistakes_under_test", path)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def test_both_check_files_take_the_mistakes_words_from_the_shared_module() -> None:
    mistakes = shared_module()
    texts = [
        value if isinstance(value, str) else value[1]
        for name, value in vars(mistakes).items()
        if name.isupper() and isinstance(value, (str, tuple)) and name != "PRODUCTS"
    ]
    assert len(texts) >= 15
    for name in ("exercise5_public.py", "exercise5_hidden.py"):
        source = (CHECKS / name).read_text()
        assert 'shared(__file__, "_exercise5_mistakes")' in source
        for text in texts:
            assert text[:40] not in source, (name, text)


def test_a_count_is_named_only_where_one_mistake_alone_fits() -> None:
    mistakes = shared_module()
    # At a network of one layer, 2 is both 2·1 (the biases counted) and 1 + 1 (the input layer).
    assert mistakes.count_hint([(1, 2)]) is None
    assert "biases" in mistakes.count_hint([(3, 6), (1, 2)])
    assert "input layer" in mistakes.count_hint([(3, 4), (1, 2)])
    assert "one short" in mistakes.count_hint([(3, 2), (1, 0)])
    assert mistakes.count_hint([(3, 6), (1, 3)]) is None  # not confirmed at the second network
    assert mistakes.count_hint([(3, 5), (1, 5)]) is None


def test_a_list_is_named_only_where_the_whole_of_it_shows_one_mistake() -> None:
    mistakes = shared_module()
    rng = np.random.default_rng(0)
    sizes = [5, 4, 3, 2]
    params = {}
    for k in range(1, len(sizes)):
        params[f"W{k}"] = rng.normal(size=(sizes[k - 1], sizes[k]))
        params[f"b{k}"] = rng.normal(size=sizes[k])
    x = rng.normal(size=(3, 5))
    right = mistakes.layers_by_hand(x, params, np.tanh)
    assert mistakes.list_mistakes(right, x, params, np.tanh) == {}
    stored = mistakes.layers_by_hand(x, params, np.tanh, mistakes.PRE_ACTIVATIONS)
    assert list(mistakes.list_mistakes(stored, x, params, np.tanh)) == [mistakes.PRE_ACTIVATIONS]
    # The pre-activations stored, but the output wrong as well: two mistakes, nothing named.
    wrong = [*stored[:-1], stored[-1] + 1]
    assert mistakes.list_mistakes(wrong, x, params, np.tanh) == {}
    plain = mistakes.layers_by_hand(x, params, np.tanh, plain=[2])
    assert list(mistakes.list_mistakes(plain, x, params, np.tanh)) == [
        mistakes.HIDDEN_NOT_ACTIVATED
    ]
    assert mistakes.short_list_mistake(right[1:], x, params, np.tanh) == mistakes.X_MISSING
    assert mistakes.short_list_mistake(right[:3], x, params, np.tanh) == mistakes.STOPS_SHORT
    assert mistakes.short_list_mistake(right[::-1][1:], x, params, np.tanh) is None


# (the code swapped into the solution, {check id: words its message holds}, the checks it fails)
CASES = [
    (
        "def count_layers(params):\n    return len(params)\n",
        {
            "count_layers": "this counts the biases too",
            "forward_flows_layer_by_layer": "this follows the mistake in count_layers",
        },
        None,
    ),
    (
        "def count_layers(params):\n    return sum(1 for key in params if 'W' in key) + 1\n",
        {"count_layers": "the input layer too, which has no weights"},
        None,
    ),
    (
        "def count_layers(params):\n    return len(params) // 2 - 1\n",
        {
            "count_layers": "the hidden layers only",
            "forward_flows_layer_by_layer": "this follows the mistake in count_layers",
        },
        None,
    ),
    (
        """
def layer_forward(h, W, b, activation):
    z = W.dot(h) + b
    return z if activation is None else activation(z)
""",
        {
            "layer_forward": "this is W @ h, the product in the wrong order",
            "forward_flows_layer_by_layer": "this follows the mistake in layer_forward: this is W",
        },
        None,
    ),
    (
        """
def layer_forward(h, W, b, activation):
    z = h * W + b
    return activation(z) if activation else z
""",
        {"layer_forward": "this is h * W, an entry-by-entry product"},
        None,
    ),
    (
        """
def layer_forward(h, W, b, activation):
    z = np.einsum("nk,mk->nm", h, W) + b
    return activation(z) if activation is not None else z
""",
        {"layer_forward": "this is h @ W.T"},
        None,
    ),
    (
        """
def layer_forward(h, W, b, activation):
    out = np.zeros(h.shape)
    for i, row in enumerate(h):
        out[i] = row @ W + b
    return out if activation is None else activation(out)
""",
        {"layer_forward": "right values where W is square"},
        None,
    ),
    (
        """
def layer_forward(h, W, b, activation):
    z = np.dot(h, W) + np.reshape(b, (len(b), 1))
    return z if activation is None else activation(z)
""",
        {"layer_forward": "b is added as a column"},
        None,
    ),
    (
        "def layer_forward(h, W, b, activation):\n    return activation(np.dot(h, W) + b)\n",
        {
            "layer_forward": "activation=None means no activation",
            "forward_flows_layer_by_layer": "this follows the mistake in layer_forward",
        },
        None,
    ),
    (
        """
def layer_forward(h, W, b, activation):
    z = h @ W + b
    if activation is not None:
        return activation(z)
""",
        {"layer_forward": "with activation=None it returns None"},
        None,
    ),
    (
        """
def layer_forward(h, W, b, activation):
    if activation is None:
        return h @ W + b
    return activation(h) @ W + b
""",
        {"layer_forward": "this is activation(h) @ W + b"},
        {"layer_forward"},
    ),
    (
        """
def feedforward_layers(x, params, activation):
    L = count_layers(params)
    layers, h = [x], x
    for k in range(1, L + 1):
        z = h @ params[f"W{k}"] + params[f"b{k}"]
        h = activation(z) if k < L else z
        layers.append(z)
    return layers
""",
        {"forward_flows_layer_by_layer": "a hidden layer's pre-activation"},
        {"forward_flows_layer_by_layer"},
    ),
    (
        """
def feedforward_layers(x, params, activation):
    L = count_layers(params)
    layers = [x]
    for k in range(1, L + 1):
        use = activation if k < L - 1 else None
        layers.append(layer_forward(layers[-1], params[f"W{k}"], params[f"b{k}"], use))
    return layers
""",
        {"forward_flows_layer_by_layer": "a hidden layer is left without its activation"},
        {"forward_flows_layer_by_layer"},
    ),
    (
        """
def feedforward_layers(x, params, activation):
    L = count_layers(params)
    layers = [x]
    for k in range(1, L + 1):
        z = layers[-1] @ params[f"W{k}"] + params[f"b{k}"]
        layers.append(np.tanh(z) if k < L else z)
    return layers
""",
        {"forward_flows_layer_by_layer": "call activation(...) rather than a function of your own"},
        {"forward_flows_layer_by_layer"},
    ),
    (
        """
def feedforward_layers(x, params, activation):
    outputs, h = [], x
    L = count_layers(params)
    for k in range(1, L + 1):
        h = layer_forward(h, params[f"W{k}"], params[f"b{k}"], activation if k < L else None)
        outputs.append(h)
    return outputs
""",
        {"forward_flows_layer_by_layer": "the input x is missing"},
        {"forward_flows_layer_by_layer"},
    ),
    (
        """
def feedforward_layers(x, params, activation):
    h1 = layer_forward(x, params["W1"], params["b1"], activation)
    return [x, h1, layer_forward(h1, params["W2"], params["b2"], None)]
""",
        {"forward_flows_layer_by_layer": "the list stops before the last layer"},
        {"forward_flows_layer_by_layer"},
    ),
    (
        """
def feedforward_layers(x, params, activation):
    L = count_layers(params)
    layers = [x]
    for k in range(1, L + 1):
        use = activation if k < L else None
        layers.append(layer_forward(x, params[f"W{k}"], params[f"b{k}"], use))
    return layers
""",
        {
            "forward_flows_layer_by_layer": "every layer is fed the input x",
            "feedforward": "this follows the mistake in feedforward_layers: every layer is fed",
        },
        None,
    ),
    (
        """
def feedforward_layers(x, params, activation):
    layers = [x]
    for k in range(1, len(params) + 1):
        act = activation if k < len(params) // 2 else None
        layers.append(layer_forward(layers[-1], params[f"W{k}"], params[f"b{k}"], act))
    return layers
""",
        {"forward_flows_layer_by_layer": "there is no W3: the loop goes past the last layer"},
        None,
    ),
    (
        "def feedforward(x, params, activation):\n"
        "    return feedforward_layers(x, params, activation)\n",
        {"feedforward": "this is the whole list of layers"},
        {"feedforward"},
    ),
    (
        """
def feedforward(x, params, activation):
    scores = feedforward_layers(x, params, activation)[-1]
    e = np.exp(scores - np.max(scores, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)
""",
        {"feedforward": "this is a softmax of the output layer's scores"},
        {"feedforward"},
    ),
    (
        """
def feedforward(x, params, activation):
    x *= 0.5
    return feedforward_layers(x, params, activation)[-1]
""",
        {"feedforward": "this is the output for x as the code changed it in place"},
        {"feedforward"},
    ),
    (
        "def feedforward(x, params, activation):\n"
        "    return feedforward_layers(x, params, activation)[0]\n",
        {
            "feedforward": "this is x, the input, the first entry",
            "feedforward_matches_reference": "this is x, the input, the first entry",
        },
        # An answer that is its own input is charged wherever it shows: it computes nothing.
        {"feedforward", "feedforward_matches_reference"},
    ),
    (
        """
def feedforward(x, params, activation):
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    return feedforward_layers(x, params, activation)[-1]
""",
        {"feedforward": "the input centred and scaled"},
        None,
    ),
    (
        "def feedforward(x, params, activation):\n"
        "    return feedforward_layers(x, params, None)[-1]\n",
        {"feedforward": "this is the output with no activation anywhere"},
        {"feedforward"},
    ),
    (
        "def feedforward(x, params, activation):\n"
        "    return feedforward_layers(x, params, np.tanh)[-1]\n",
        {"feedforward_matches_reference": "this is the output with np.tanh for the hidden layers"},
        {"feedforward_matches_reference"},
    ),
    (
        """
def feedforward(x, params, activation):
    x = x - x.mean(axis=0)
    return feedforward_layers(x, params, activation)[-1]
""",
        {"feedforward": "this is the output for x - x.mean(axis=0)"},
        {"feedforward"},
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("code", "says", "fails"), CASES, ids=[str(i) for i in range(len(CASES))])
def test_a_mistake_is_named_in_its_checks(
    course: Course,
    tmp_path: Path,
    code: str,
    says: dict[str, str],
    fails: set[str] | None,
) -> None:
    text = with_function(solution_text(course, "exercise5"), code)
    result = grade_text(course, "exercise5", text, tmp_path)
    for check_id, words in says.items():
        message = message_of(result, check_id)
        assert words in message, (check_id, message)
        if words:
            assert "\nHint: " in message
    if fails is not None:
        # Charged once, in the check of the function that made the mistake.
        assert failed(result) == fails, {c.id: c.message for c in result.checks if c.message}


CORRECT = """
def count_layers(params):
    return len([name for name in params if name[0] == "W"])


def layer_forward(h, W, b, activation):
    z = np.einsum("ni,io->no", h, W)
    z += b
    if not activation:
        return z
    out = np.empty_like(z)
    for index in np.ndindex(z.shape):
        out[index] = activation(z[index])
    return out


def feedforward_layers(x, params, activation):
    layers = [x]
    k = 1
    while f"W{k}" in params:
        last = f"W{k + 1}" not in params
        use = None if last else activation
        layers.append(layer_forward(layers[-1], params[f"W{k}"], params[f"b{k}"], use))
        k += 1
    return layers


def feedforward(x, params, activation):
    x = np.array(x, copy=True)
    x -= 0.0
    h = x
    count = count_layers(params)
    for k in range(1, count + 1):
        h = np.dot(h, params["W" + str(k)]) + params["b" + str(k)]
        if k != count:
            h = activation(h)
    return h
"""


@pytest.mark.slow
def test_correct_code_in_other_forms_scores_full_and_hears_no_hint(
    course: Course, tmp_path: Path
) -> None:
    text = with_function(solution_text(course, "exercise5"), CORRECT)
    result = grade_text(course, "exercise5", text, tmp_path)
    assert result.score == result.max_score, [c.message for c in result.checks if c.message]
    assert not [c.message for c in result.checks if "Hint:" in c.message]


def test_a_key_of_another_type_is_a_wrong_key_not_a_broken_check(
    course: Course, tmp_path: Path
) -> None:
    code = """
def init_network(layer_sizes, seed):
    rng = np.random.default_rng(seed)
    params = {0: None}
    for k in range(1, len(layer_sizes)):
        n_in, n_out = layer_sizes[k - 1], layer_sizes[k]
        params[f"W{k}"] = rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_out))
        params[f"b{k}"] = np.zeros(n_out)
    return params
"""
    text = with_function(solution_text(course, "exercise5"), code)
    result = grade_text(course, "exercise5", text, tmp_path)
    assert "returned the keys [0, 'W1'" in message_of(result, "init_network")
    assert all("the check itself failed" not in check.message for check in result.checks)
