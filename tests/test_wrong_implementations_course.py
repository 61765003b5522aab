"""Realistic wrong answers to exercises 4 to 11 lose exactly the checks they should.

As in test_wrong_implementations.py: each case swaps one function (or method) of the reference
solution for a mistaken version; exactly the listed checks fail, and the score drops by exactly
their points. The layer exercises (6, 7, 8) have at least 8 mistakes each. Where a mistake passes
a check, it is because that check cannot see it: a missing bias when the biases are zero, `=` for
`+=` where every Value is used once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import (
    Mistake,
    assert_loses_exactly_its_checks,
    mistake,
)

EXERCISE4 = [
    mistake(
        "steps uphill",
        """
def gradient_step(x, grad, rate):
    return x + rate * grad
""",
        # Named: the paths that follow it (gradient_descent and descend_until_flat call
        # gradient_step) are not charged again.
        {"gradient_step"},
        ("gradient_step", "stepped uphill"),
    ),
    mistake(
        "path without its start",
        """
def gradient_descent(grad_f, x0, rate, steps):
    path = np.zeros((steps, len(x0)))
    x = x0
    for k in range(steps):
        x = gradient_step(x, grad_f(x), rate)
        path[k] = x
    return path
""",
        {
            "gradient_descent_path",
            "learning_rate_decides_the_outcome",
            "gradient_descent_matches_reference",
        },
        ("gradient_descent_path", "steps + 1"),
    ),
    mistake(
        "step changes x in place",
        """
def gradient_step(x, grad, rate):
    x -= rate * grad
    return x
""",
        # The change itself costs nothing (a note says it); the path it spoils costs points, once
        # in the public checks (the learning-rate check meets it again and notes it).
        {"gradient_descent_path", "gradient_descent_matches_reference"},
    ),
    mistake(
        "tests flatness only after a step",
        """
def descend_until_flat(grad_f, x0, rate, tolerance, max_steps):
    x = np.array(x0, dtype=np.float64)
    steps = 0
    while steps < max_steps:
        x = gradient_step(x, grad_f(x), rate)
        steps += 1
        if np.linalg.norm(grad_f(x)) < tolerance:
            break
    return x, steps
""",
        {"descend_until_flat_edge_cases"},
        ("descend_until_flat_edge_cases", "before each step, the first one included"),
    ),
    mistake(
        "flatness tested entry by entry",
        """
def descend_until_flat(grad_f, x0, rate, tolerance, max_steps):
    x = np.array(x0, dtype=np.float64)
    for steps in range(max_steps):
        grad = grad_f(x)
        if np.all(np.abs(grad) < tolerance):
            return x, steps
        x = gradient_step(x, grad, rate)
    return x, max_steps
""",
        {"descend_until_flat_edge_cases"},
        ("descend_until_flat_edge_cases", "not each entry"),
    ),
    mistake(
        "one step too many",
        """
def descend_until_flat(grad_f, x0, rate, tolerance, max_steps):
    x = np.array(x0, dtype=np.float64)
    for steps in range(max_steps + 1):
        grad = grad_f(x)
        if np.linalg.norm(grad) < tolerance:
            return x, steps
        x = gradient_step(x, grad, rate)
    return x, max_steps + 1
""",
        {"descend_until_flat"},
    ),
]

EXERCISE5 = [
    mistake(
        "weights of standard deviation 1",
        """
def init_network(layer_sizes, seed):
    rng = np.random.default_rng(seed)
    params = {}
    for k in range(1, len(layer_sizes)):
        n_in, n_out = layer_sizes[k - 1], layer_sizes[k]
        params[f"W{k}"] = rng.normal(0.0, 1.0, size=(n_in, n_out))
        params[f"b{k}"] = np.zeros(n_out)
    return params
""",
        {"init_network", "init_network_matches_reference"},
    ),
    mistake(
        "random biases",
        """
def init_network(layer_sizes, seed):
    rng = np.random.default_rng(seed)
    params = {}
    for k in range(1, len(layer_sizes)):
        n_in, n_out = layer_sizes[k - 1], layer_sizes[k]
        params[f"W{k}"] = rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_out))
        params[f"b{k}"] = rng.normal(size=n_out)
    return params
""",
        {"init_network", "init_network_matches_reference"},
    ),
    mistake(
        "activation on the output layer",
        """
def feedforward_layers(x, params, activation):
    layers = [x]
    for k in range(1, count_layers(params) + 1):
        layers.append(layer_forward(layers[-1], params[f"W{k}"], params[f"b{k}"], activation))
    return layers
""",
        # Named: feedforward, which calls it, follows it and is not charged again.
        {"forward_flows_layer_by_layer"},
        ("forward_flows_layer_by_layer", "the output layer has no activation"),
    ),
    mistake(
        "no bias",
        """
def layer_forward(h, W, b, activation):
    z = h @ W
    return z if activation is None else activation(z)
""",
        {"layer_forward"},
        ("layer_forward", "the bias is missing"),
    ),
    mistake(
        "counts every key",
        """
def count_layers(params):
    return len(params)
""",
        # The functions that call it cannot give an answer (KeyError): their checks fail too.
        {
            "count_layers",
            "forward_flows_layer_by_layer",
            "feedforward",
            "feedforward_matches_reference",
            "feedforward_layers_matches_reference",
        },
    ),
]

EXERCISE6 = [
    mistake(
        "sigmoid that overflows for large z",
        """
def sigmoid_forward(z):
    return np.exp(z) / (1 + np.exp(z)), z
""",
        {"sigmoid", "sigmoid_matches_reference"},
        ("sigmoid", "is between 0 and 1"),
    ),
    mistake(
        "s·(1 - z) for the sigmoid",
        """
def sigmoid_backward(dout, cache):
    out, _ = sigmoid_forward(cache)
    return dout * out * (1 - cache)
""",
        {"sigmoid"},
        ("sigmoid", "this is s·(1 - z)"),
    ),
    mistake(
        "sigmoid backward without dout",
        """
def sigmoid_backward(dout, cache):
    out, _ = sigmoid_forward(cache)
    return out * (1 - out)
""",
        {"sigmoid"},
        ("sigmoid", "the upstream gradient dout is missing"),
    ),
    mistake(
        "tanh applied again to the cached output",
        """
def tanh_backward(dout, cache):
    return dout * (1 - np.tanh(cache) ** 2)
""",
        {"tanh"},
        ("tanh", "the cache already holds t = tanh(z)"),
    ),
    mistake(
        "tanh derivative without the square",
        """
def tanh_backward(dout, cache):
    return dout * (1 - cache)
""",
        {"tanh"},
        ("tanh", "with t squared"),
    ),
    mistake(
        "pre-activation used where the output was needed",
        """
def tanh_forward(z):
    return np.tanh(z), z
""",
        {"tanh"},
    ),
    mistake(
        "σ applied again to a cached output",
        """
def sigmoid_forward(z):
    exp = np.exp(-np.abs(z))
    out = np.where(z >= 0, 1 / (1 + exp), exp / (1 + exp))
    return out, out

def sigmoid_backward(dout, cache):
    s, _ = sigmoid_forward(cache)
    return dout * s * (1 - s)
""",
        {"sigmoid"},
        ("sigmoid", "the cached output σ(z) was used where the pre-activation z was needed"),
    ),
    mistake(
        "ReLU'(0) = 1",
        """
def relu_backward(dout, cache):
    return dout * (cache >= 0)
""",
        {"relu"},
        ("relu", "ReLU'(0) is 0"),
    ),
    mistake(
        "ReLU backward multiplies by z",
        """
def relu_backward(dout, cache):
    return dout * np.maximum(cache, 0)
""",
        {"relu"},
        ("relu", "this is dout times z"),
    ),
]

EXERCISE7 = [
    mistake(
        "dW transposed",
        """
def linear_backward(dout, cache):
    x, W, _ = cache
    return dout @ W.T, dout.T @ x, dout.sum(axis=0)
""",
        {
            "linear_backward_by_finite_differences",
            "linear_backward_shapes_with_one_example",
            "linear_backward_matches_reference",
            "linear_backward_large_values",
        },
        ("linear_backward_by_finite_differences", "it is transposed"),
    ),
    mistake(
        "db averaged",
        """
def linear_backward(dout, cache):
    x, W, _ = cache
    return dout @ W.T, x.T @ dout, dout.mean(axis=0)
""",
        {
            "linear_backward_by_finite_differences",
        },
        ("linear_backward_by_finite_differences", "db is averaged"),
    ),
    mistake(
        "db keeps a dimension",
        """
def linear_backward(dout, cache):
    x, W, _ = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0, keepdims=True)
""",
        {
            "linear_backward_by_finite_differences",
            "linear_backward_shapes_with_one_example",
            "linear_backward_matches_reference",
            "linear_backward_large_values",
        },
        ("linear_backward_by_finite_differences", "leave out keepdims=True"),
    ),
    mistake(
        "dW divided by N",
        """
def linear_backward(dout, cache):
    x, W, _ = cache
    return dout @ W.T, x.T @ dout / x.shape[0], dout.sum(axis=0)
""",
        {
            "linear_backward_by_finite_differences",
        },
        ("linear_backward_by_finite_differences", "dW is divided by N"),
    ),
    mistake(
        "dx without the transpose",
        """
def linear_backward(dout, cache):
    x, W, _ = cache
    return dout @ W, x.T @ dout, dout.sum(axis=0)
""",
        {
            "linear_backward_by_finite_differences",
            "linear_backward_shapes_with_one_example",
            "linear_backward_matches_reference",
            "linear_backward_large_values",
        },
    ),
    mistake(
        "forward without the bias",
        """
def linear_forward(x, W, b):
    return x @ W, (x, W, b)
""",
        # Charged in linear_forward (and named as such in its hidden check); the backward, right
        # for the layer as asked, loses nothing.
        {"linear_forward"},
        ("linear_forward", "the bias b is missing"),
    ),
    mistake(
        "every gradient's sign flipped",
        """
def linear_backward(dout, cache):
    x, W, _ = cache
    return -(dout @ W.T), -(x.T @ dout), -dout.sum(axis=0)
""",
        {
            "linear_backward_by_finite_differences",
            "linear_backward_shapes_with_one_example",
            "linear_backward_matches_reference",
            "linear_backward_large_values",
        },
        ("linear_backward_by_finite_differences", "sign is flipped"),
    ),
    mistake(
        "gradients returned in another order",
        """
def linear_backward(dout, cache):
    x, W, _ = cache
    return x.T @ dout, dout @ W.T, dout.sum(axis=0)
""",
        {
            "linear_backward_by_finite_differences",
            "linear_backward_shapes_with_one_example",
            "linear_backward_matches_reference",
            "linear_backward_large_values",
        },
    ),
]

EXERCISE8 = [
    mistake(
        "MSE gradient without the 2",
        """
def mse_loss(pred, target):
    diff = pred - target
    return float(np.mean(diff**2)), diff / diff.size
""",
        {"mse_loss"},
        ("mse_loss", "half what it should be"),
    ),
    mistake(
        "MSE gradient divided by N only",
        """
def mse_loss(pred, target):
    diff = pred - target
    return float(np.mean(diff**2)), 2 * diff / pred.shape[0]
""",
        {"mse_loss"},
        ("mse_loss", "divided by N only"),
    ),
    mistake(
        "MSE summed over the outputs",
        """
def mse_loss(pred, target):
    diff = pred - target
    return float(np.mean(np.sum(diff**2, axis=1))), 2 * diff / pred.shape[0]
""",
        # The loss is charged in mse_loss; its gradient 2(pred - target)/N follows it.
        {"mse_loss"},
        ("mse_loss", "summed over the outputs"),
    ),
    mistake(
        "softmax without the shift",
        """
def softmax(scores):
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)
""",
        {"softmax"},
        ("softmax", "subtract each row's maximum"),
    ),
    mistake(
        "cross-entropy gradient without 1/N",
        """
def softmax_cross_entropy(scores, labels):
    count = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -float(np.mean(log_probs[np.arange(count), labels]))
    dscores = np.exp(log_probs)
    dscores[np.arange(count), labels] -= 1
    return loss, dscores
""",
        {
            "softmax_cross_entropy",
        },
        ("softmax_cross_entropy", "the 1/N is missing"),
    ),
    mistake(
        "cross-entropy gradient subtracts in every row",
        """
def softmax_cross_entropy(scores, labels):
    count = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -float(np.mean(log_probs[np.arange(count), labels]))
    dscores = np.exp(log_probs)
    dscores[:, labels] -= 1
    return loss, dscores / count
""",
        {
            "softmax_cross_entropy",
        },
        ("softmax_cross_entropy", "subtracts in every row"),
    ),
    mistake(
        "log of a probability that underflows",
        """
def softmax_cross_entropy(scores, labels):
    count = scores.shape[0]
    probs = softmax(scores)
    loss = -float(np.mean(np.log(probs[np.arange(count), labels])))
    dscores = probs.copy()
    dscores[np.arange(count), labels] -= 1
    return loss, dscores / count
""",
        {"cross_entropy_at_extreme_scores"},
        ("cross_entropy_at_extreme_scores", "log-softmax"),
    ),
    mistake(
        "softmax over the wrong axis, in loss and gradient alike",
        """
def softmax_cross_entropy(scores, labels):
    count = scores.shape[0]
    shifted = scores - scores.max(axis=0, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))
    loss = -float(np.mean(log_probs[np.arange(count), labels]))
    probs = np.exp(log_probs)
    onehot = np.zeros_like(scores)
    onehot[np.arange(count), labels] = 1
    dscores = probs * onehot.sum(axis=0, keepdims=True) - onehot
    return loss, dscores / count
""",
        {
            "softmax_cross_entropy",
            "softmax_cross_entropy_matches_reference",
            "cross_entropy_at_extreme_scores",
        },
    ),
]

EXERCISE9 = [
    mistake(
        "ReLU after the last layer too",
        """
def network_forward(x, params):
    count = sum(1 for key in params if key.startswith("W"))
    caches = []
    h = x
    for k in range(1, count + 1):
        z, linear_cache = linear_forward(h, params[f"W{k}"], params[f"b{k}"])
        z, relu_cache = relu_forward(z)
        caches.append((linear_cache, relu_cache))
        h = z
    return h, caches
""",
        # Charged in network_forward (and named as such in its hidden check); the backward and
        # the loss, right for the scores they are given, lose nothing.
        {"network_forward"},
        ("network_forward", "the last layer has a ReLU too"),
    ),
    mistake(
        "backward skips the ReLU",
        """
def network_backward(dscores, caches):
    grads = {}
    dh = dscores
    for k in range(len(caches), 0, -1):
        linear_cache, _ = caches[k - 1]
        dh, grads[f"W{k}"], grads[f"b{k}"] = linear_backward(dh, linear_cache)
    return grads
""",
        # Named: loss_and_gradients, which calls it, is not charged again.
        {"network_backward_by_finite_differences"},
        ("network_backward_by_finite_differences", "skips the hidden ReLUs"),
    ),
    mistake(
        "gradients keyed dW1, db1",
        """
def network_backward(dscores, caches):
    grads = {}
    dh = dscores
    for k in range(len(caches), 0, -1):
        linear_cache, relu_cache = caches[k - 1]
        if relu_cache is not None:
            dh = relu_backward(dh, relu_cache)
        dh, grads[f"dW{k}"], grads[f"db{k}"] = linear_backward(dh, linear_cache)
    return grads
""",
        {
            "network_backward_by_finite_differences",
            "loss_and_gradients",
            "backprop_matches_reference",
            "network_backward_matches_reference",
        },
        ("loss_and_gradients", "expected ['W1', 'W2', 'b1', 'b2']"),
    ),
    mistake(
        "gradient of the loss with the sign flipped",
        """
def loss_and_gradients(x, labels, params):
    scores, caches = network_forward(x, params)
    loss, dscores = softmax_cross_entropy(scores, labels)
    return loss, network_backward(-dscores, caches)
""",
        {"loss_and_gradients", "backprop_matches_reference"},
        ("loss_and_gradients", "sign is flipped"),
    ),
    mistake(
        "db averaged by hand",
        """
def network_backward(dscores, caches):
    grads = {}
    dh = dscores
    for k in range(len(caches), 0, -1):
        linear_cache, relu_cache = caches[k - 1]
        if relu_cache is not None:
            dh = relu_backward(dh, relu_cache)
        grads[f"b{k}"] = dh.mean(axis=0)
        dh, grads[f"W{k}"], _ = linear_backward(dh, linear_cache)
    return grads
""",
        {
            "network_backward_by_finite_differences",
            "loss_and_gradients",
            "backprop_matches_reference",
            "network_backward_matches_reference",
        },
    ),
    mistake(
        "only one hidden layer",
        """
def network_forward(x, params):
    z1, c1 = linear_forward(x, params["W1"], params["b1"])
    h1, r1 = relu_forward(z1)
    scores, c2 = linear_forward(h1, params["W2"], params["b2"])
    return scores, [(c1, r1), (c2, None)]
""",
        {"network_forward_matches_reference", "backprop_matches_reference"},
    ),
]

EXERCISE10 = [
    mistake(
        "update uphill",
        """
def sgd_update(params, grads, rate):
    return {key: params[key] + rate * grads[key] for key in params}
""",
        {"sgd_update"},  # named: train, which calls it, is not charged again
        ("sgd_update", "subtract rate · grad"),
    ),
    mistake(
        "loss recorded after the update",
        """
def train(x, labels, layer_sizes, rate, epochs, seed):
    params = init_network(layer_sizes, seed)
    losses = np.zeros(epochs)
    for epoch in range(epochs):
        _, grads = loss_and_gradients(x, labels, params)
        params = sgd_update(params, grads, rate)
        losses[epoch], _ = loss_and_gradients(x, labels, params)
    return params, losses
""",
        {"training_lowers_the_loss"},
        ("training_lowers_the_loss", "this is the loss after the update"),
    ),
    mistake(
        "initial weights and a made-up falling curve",
        """
def train(x, labels, layer_sizes, rate, epochs, seed):
    params = init_network(layer_sizes, seed)
    if rate == 0:
        return params, np.full(epochs, 1.1)
    return params, np.linspace(1.1, 0.1, epochs)
""",
        {"training_lowers_the_loss", "rate_zero_changes_nothing", "training_matches_reference"},
        ("training_lowers_the_loss", "returned the parameters it started from"),
    ),
    mistake(
        "seed ignored",
        """
def train(x, labels, layer_sizes, rate, epochs, seed):
    params = init_network(layer_sizes, 0)
    losses = np.zeros(epochs)
    for epoch in range(epochs):
        losses[epoch], grads = loss_and_gradients(x, labels, params)
        params = sgd_update(params, grads, rate)
    return params, losses
""",
        {"rate_zero_changes_nothing", "training_matches_reference"},
    ),
    mistake(
        "predictions as floats",
        """
def predict(x, params):
    scores, _ = network_forward(x, params)
    return np.argmax(scores, axis=1).astype(float)
""",
        {"predict_and_accuracy"},
        ("predict_and_accuracy", "classes are ints"),
    ),
    mistake(
        "prediction along the wrong axis",
        """
def predict(x, params):
    scores, _ = network_forward(x, params)
    return np.argmax(scores, axis=0)
""",
        {"predict_and_accuracy"},
    ),
]

EXERCISE11 = [
    mistake(
        "breadth-first backward",
        """
    def backward(self):
        self.grad = 1.0
        queue = [self]
        seen = {self}
        while queue:
            node = queue.pop(0)
            node._backward()
            for child in node._prev:
                if child not in seen:
                    seen.add(child)
                    queue.append(child)
""",
        {"gradients_accumulate"},
        ("gradients_accumulate", "breadth-first"),
    ),
    mistake(
        "topological order without a visited set",
        """
    def backward(self):
        order = []
        stack = [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                order.append(node)
                continue
            stack.append((node, True))
            stack.extend((child, False) for child in node._prev)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()
""",
        {"gradients_accumulate", "random_expressions_match_reference"},
        ("gradients_accumulate", "keep a set of visited nodes"),
    ),
    mistake(
        "grad overwritten instead of accumulated",
        """
    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad = out.grad
            other.grad = out.grad

        out._backward = _backward
        return out
""",
        {"gradients_accumulate", "random_expressions_match_reference"},
        ("gradients_accumulate", "use +=, not ="),
    ),
    mistake(
        "recursive topological sort",
        """
    def backward(self):
        order = []
        visited = set()

        def visit(node):
            if node not in visited:
                visited.add(node)
                for child in node._prev:
                    visit(child)
                order.append(node)

        visit(self)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()
""",
        {"deep_chain_does_not_recurse"},
        ("deep_chain_does_not_recurse", "explicit stack"),
    ),
    mistake(
        "tanh derivative from the input",
        """
    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - self.data**2) * out.grad

        out._backward = _backward
        return out
""",
        {"power_and_tanh"},  # named: the larger graphs that follow it are not charged again
        ("power_and_tanh", "1 - t²"),
    ),
    mistake(
        "power rule without lowering the exponent",
        """
    def __pow__(self, exponent):
        out = Value(self.data**exponent, (self,), f"**{exponent}")

        def _backward():
            self.grad += exponent * self.data**exponent * out.grad

        out._backward = _backward
        return out
""",
        {
            "power_and_tanh",
        },
    ),
    mistake(
        "backward without the seed gradient 1",
        """
    def backward(self):
        order = []
        visited = set()
        stack = [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                order.append(node)
                continue
            if node in visited:
                continue
            visited.add(node)
            stack.append((node, True))
            stack.extend((child, False) for child in node._prev if child not in visited)
        for node in reversed(order):
            node._backward()
""",
        {
            "add_and_multiply",
            "gradients_accumulate",
            "power_and_tanh",
            "backward_against_finite_differences",
            "deep_chain_does_not_recurse",
            "random_expressions_match_reference",
        },
    ),
]

CASES = [
    (f"exercise{number}", case)
    for number, cases in [
        (4, EXERCISE4),
        (5, EXERCISE5),
        (6, EXERCISE6),
        (7, EXERCISE7),
        (8, EXERCISE8),
        (9, EXERCISE9),
        (10, EXERCISE10),
        (11, EXERCISE11),
    ]
    for case in cases
]


@pytest.mark.parametrize(
    ("exercise_id", "case"), CASES, ids=[f"{exercise}-{case.name}" for exercise, case in CASES]
)
@pytest.mark.slow
def test_mistake_loses_exactly_its_checks(
    course, tmp_path: Path, exercise_id: str, case: Mistake
) -> None:
    assert_loses_exactly_its_checks(course, exercise_id, case, tmp_path)


@pytest.mark.parametrize(
    ("exercise_id", "least"),
    [
        ("exercise4", 5),
        ("exercise5", 5),
        ("exercise6", 8),
        ("exercise7", 8),
        ("exercise8", 8),
        ("exercise9", 5),
        ("exercise10", 5),
        ("exercise11", 5),
    ],
)
def test_each_exercise_has_enough_realistic_mistakes(exercise_id: str, least: int) -> None:
    assert sum(exercise == exercise_id for exercise, _ in CASES) >= least
