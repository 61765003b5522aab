"""Correct code never loses a point, whatever its style.

Each case swaps functions of the reference solution for a correct version written as real
students write them: loops instead of vector code, einsum, an in-place change the docstring
allows, math on Python floats where the exercise takes numbers, another formula for the same
value. Each must score full marks. And a backward pass that follows its forward pass's named
mistake loses only the forward's points: the mistake is charged once, where it is made.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.course import Course
from tests.helpers import failed, grade_text, message_of, solution_text, with_function

# exercise -> {style: the functions written that way}
VARIANTS: dict[str, dict[str, str]] = {
    "exercise1": {
        "math on Python floats": """
def difference_quotient(f, x, dx):
    if isinstance(x, float):
        return (float(f(x + dx)) - float(f(x))) / dx
    return (f(x + dx) - f(x)) / dx

def numerical_derivative(f, x, h=1e-5):
    if isinstance(x, float):
        return (float(f(x + h)) - float(f(x - h))) / (2.0 * h)
    return (f(x + h) - f(x - h)) / (2 * h)

def two_x_squared(x):
    if isinstance(x, float):
        return 2.0 * math.pow(x, 2)
    return 2 * x * x

def two_x_squared_derivative(x):
    if isinstance(x, float):
        return 4.0 * x
    return np.multiply(x, 4.0)

def three_x(x):
    return x + x + x

def three_x_derivative(x):
    if isinstance(x, float):
        return 3.0
    return np.full(np.shape(x), 3.0)
""",
        "loops over the entries": """
def two_x_squared_derivative(x):
    if np.ndim(x) == 0:
        return 4 * x
    out = np.empty(np.shape(x))
    for index in np.ndindex(out.shape):
        out[index] = 4 * x[index]
    return out

def three_x_derivative(x):
    if np.ndim(x) == 0:
        return 3.0
    out = np.empty(np.shape(x))
    for index in np.ndindex(out.shape):
        out[index] = 3.0
    return out
""",
    },
    "exercise3": {
        "math on Python floats": """
def cos_of_square_minus_one(x):
    if isinstance(x, float):
        return math.cos(x * x - 1.0)
    return np.cos(x * x - 1.0)

def cos_of_square_minus_one_derivative(x):
    if isinstance(x, float):
        return -math.sin(x * x - 1.0) * 2.0 * x
    inner = x**2 - 1
    return -2 * x * np.sin(inner)
""",
        "compose by a loop over the reversed chain rule": """
def chain_rule(f_prime, g, g_prime, x):
    inner = g(x)
    outer_slope = f_prime(inner)
    inner_slope = g_prime(x)
    return outer_slope * inner_slope

def compose(pairs):
    def chained(x):
        values = [x]
        for function, _ in pairs:
            values.append(function(values[-1]))
        derivative = 1.0
        for (_, function_prime), value in zip(pairs, values):
            derivative = function_prime(value) * derivative
        return values[-1], derivative
    return chained
""",
    },
    "exercise6": {
        "in place: dx = dout; dx[cache <= 0] = 0": """
def relu_backward(dout, cache):
    dx = dout
    dx[cache <= 0] = 0
    return dx
""",
        "loops over the entries with math": """
def sigmoid_forward(z):
    out = np.empty_like(z, dtype=np.float64)
    for index in np.ndindex(z.shape):
        value = float(z[index])
        if value >= 0:
            out[index] = 1.0 / (1.0 + math.exp(-value))
        else:
            small = math.exp(value)
            out[index] = small / (1.0 + small)
    return out, z

def sigmoid_backward(dout, cache):
    dz = np.empty_like(dout, dtype=np.float64)
    for index in np.ndindex(dout.shape):
        value = float(cache[index])
        small = math.exp(-abs(value))
        s = 1.0 / (1.0 + small) if value >= 0 else small / (1.0 + small)
        dz[index] = dout[index] * s * (1.0 - s)
    return dz

def tanh_forward(z):
    out = np.empty_like(z, dtype=np.float64)
    for index in np.ndindex(z.shape):
        out[index] = math.tanh(z[index])
    return out, out.copy()

def tanh_backward(dout, cache):
    dz = np.zeros_like(dout)
    for index in np.ndindex(dout.shape):
        dz[index] = dout[index] * (1.0 - cache[index] * cache[index])
    return dz

def relu_forward(z):
    out = z.copy()
    for index in np.ndindex(z.shape):
        if out[index] < 0:
            out[index] = 0.0
    return out, z

def relu_backward(dout, cache):
    dz = dout.copy()
    for index in np.ndindex(dout.shape):
        if not cache[index] > 0:
            dz[index] = 0.0
    return dz
""",
        "other formulas for the same values": """
def sigmoid_forward(z):
    return np.exp(-np.logaddexp(0.0, -z)), z

def sigmoid_backward(dout, cache):
    small = np.exp(-np.abs(cache))
    return dout * small / (1 + small) ** 2

def tanh_forward(z):
    t = np.tanh(z)
    return t, {"t": t}

def tanh_backward(dout, cache):
    t = cache["t"]
    return dout * (1 - t) * (1 + t)

def relu_forward(z):
    return np.where(z > 0, z, 0.0), z > 0

def relu_backward(dout, cache):
    return np.where(cache, dout, 0.0)
""",
    },
    "exercise7": {
        "a namedtuple for the pair": """
def linear_forward(x, W, b):
    from collections import namedtuple

    Forward = namedtuple("Forward", "out cache")
    return Forward(x @ W + b, (x, W, b))
""",
        "einsum": """
def linear_forward(x, W, b):
    return np.einsum("nd,dm->nm", x, W) + b[None, :], (x, W, b)

def linear_backward(dout, cache):
    x, W, _ = cache
    return (
        np.einsum("nm,dm->nd", dout, W),
        np.einsum("nd,nm->dm", x, dout),
        np.einsum("nm->m", dout),
    )
""",
        "loops over the batch": """
def linear_forward(x, W, b):
    out = np.zeros((x.shape[0], W.shape[1]))
    for n in range(x.shape[0]):
        out[n] = x[n] @ W + b
    return out, (x, W, b)

def linear_backward(dout, cache):
    x, W, b = cache
    dx = np.zeros_like(x)
    dW = np.zeros_like(W)
    db = np.zeros_like(b)
    for n in range(x.shape[0]):
        dx[n] = W @ dout[n]
        dW += np.outer(x[n], dout[n])
        db += dout[n]
    return dx, dW, db
""",
    },
    "exercise8": {
        "loops over the examples with math": """
def mse_loss(pred, target):
    total = 0.0
    grad = np.zeros_like(pred)
    count = pred.size
    for index in np.ndindex(pred.shape):
        diff = float(pred[index] - target[index])
        total += diff * diff
        grad[index] = 2.0 * diff / count
    return total / count, grad

def softmax(scores):
    probs = np.zeros_like(scores)
    for n in range(scores.shape[0]):
        row = scores[n] - np.max(scores[n])
        probs[n] = np.exp(row) / np.sum(np.exp(row))
    return probs

def softmax_cross_entropy(scores, labels):
    count = scores.shape[0]
    loss = 0.0
    dscores = np.zeros_like(scores)
    for n in range(count):
        row = scores[n] - scores[n].max()
        log_total = math.log(sum(math.exp(value) for value in row))
        loss -= (row[labels[n]] - log_total) / count
        dscores[n] = np.exp(row - log_total) / count
        dscores[n, labels[n]] -= 1.0 / count
    return loss, dscores
""",
        "in place on the scores, and a one-hot matrix": """
def softmax_cross_entropy(scores, labels):
    count = scores.shape[0]
    scores -= scores.max(axis=1, keepdims=True)
    log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    onehot = np.eye(scores.shape[1])[labels]
    loss = -np.sum(onehot * log_probs) / count
    return loss, (np.exp(log_probs) - onehot) / count
""",
    },
    "exercise9": {
        "einsum and a loop": """
def network_forward(x, params):
    caches = []
    h = x
    k = 1
    while f"W{k}" in params:
        z = np.einsum("nd,dm->nm", h, params[f"W{k}"]) + params[f"b{k}"]
        last = f"W{k + 1}" not in params
        caches.append({"h": h, "W": params[f"W{k}"], "z": None if last else z})
        h = z if last else np.maximum(z, 0)
        k += 1
    return h, caches

def network_backward(dscores, caches):
    grads = {}
    dh = dscores
    for k in reversed(range(1, len(caches) + 1)):
        cache = caches[k - 1]
        dz = dh if cache["z"] is None else dh * (cache["z"] > 0)
        grads[f"W{k}"] = np.einsum("nd,nm->dm", cache["h"], dz)
        grads[f"b{k}"] = np.einsum("nm->m", dz)
        dh = np.einsum("nm,dm->nd", dz, cache["W"])
    return grads
""",
        "loss and gradients worked out inline": """
def loss_and_gradients(x, labels, params):
    count = len(params) // 2
    hs, zs = [x], []
    for k in range(1, count + 1):
        zs.append(hs[-1] @ params[f"W{k}"] + params[f"b{k}"])
        hs.append(np.maximum(zs[-1], 0) if k < count else zs[-1])
    scores = hs[-1]
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = x.shape[0]
    loss = -np.mean(log_probs[np.arange(n), labels])
    dz = np.exp(log_probs)
    dz[np.arange(n), labels] -= 1
    dz /= n
    grads = {}
    for k in range(count, 0, -1):
        grads[f"W{k}"] = hs[k - 1].T @ dz
        grads[f"b{k}"] = dz.sum(axis=0)
        if k > 1:
            dz = (dz @ params[f"W{k}"].T) * (zs[k - 2] > 0)
    return float(loss), grads
""",
    },
}

CASES = [(exercise, style) for exercise, styles in VARIANTS.items() for style in styles]


def variant(course: Course, exercise_id: str, code: str) -> str:
    return "import math\n\nimport numpy as np\n\n" + with_function(
        solution_text(course, exercise_id), code
    )


@pytest.mark.parametrize(
    ("exercise_id", "style"), CASES, ids=[f"{exercise}-{style}" for exercise, style in CASES]
)
def test_correct_code_in_any_style_scores_full_marks(
    course: Course, tmp_path: Path, exercise_id: str, style: str
) -> None:
    code = VARIANTS[exercise_id][style]
    result = grade_text(course, exercise_id, variant(course, exercise_id, code), tmp_path)
    assert [check.message for check in result.checks if check.status != "passed"] == []
    assert result.score == result.max_score


# exercise, the forward's check, the forward with its named mistake and the backward following it
FOLLOWING = {
    "a linear layer without its bias, and db = 0": (
        "exercise7",
        "linear_forward",
        """
def linear_forward(x, W, b):
    return x @ W, (x, W, b)

def linear_backward(dout, cache):
    x, W, b = cache
    return dout @ W.T, x.T @ dout, np.zeros_like(b)
""",
        "the bias b is missing",
    ),
    "a linear layer without its bias, and the backward as asked": (
        "exercise7",
        "linear_forward",
        """
def linear_forward(x, W, b):
    return x @ W, (x, W, b)
""",
        "the bias b is missing",
    ),
    "a ReLU after the last layer, and the backward through it": (
        "exercise9",
        "network_forward",
        """
def network_forward(x, params):
    count = sum(1 for key in params if key.startswith("W"))
    caches = []
    h = x
    for k in range(1, count + 1):
        z, linear_cache = linear_forward(h, params[f"W{k}"], params[f"b{k}"])
        h, relu_cache = relu_forward(z)
        caches.append((linear_cache, relu_cache))
    return h, caches
""",
        "the last layer has a ReLU too",
    ),
    "an MSE summed over the outputs, and its gradient": (
        "exercise8",
        "mse_loss",
        """
def mse_loss(pred, target):
    diff = pred - target
    return float(np.mean(np.sum(diff**2, axis=1))), 2 * diff / pred.shape[0]
""",
        "the loss is summed over the outputs",
    ),
    "a cross-entropy summed over the batch, and its gradient": (
        "exercise8",
        "softmax_cross_entropy",
        """
def softmax_cross_entropy(scores, labels):
    count = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    dscores = np.exp(log_probs)
    dscores[np.arange(count), labels] -= 1
    return -float(np.sum(log_probs[np.arange(count), labels])), dscores
""",
        "the loss is summed over the batch",
    ),
}


@pytest.mark.parametrize("case", list(FOLLOWING))
def test_a_backward_following_the_forward_s_named_mistake_loses_only_the_forward_s_points(
    course: Course, tmp_path: Path, case: str
) -> None:
    exercise_id, forward_check, code, hint = FOLLOWING[case]
    result = grade_text(course, exercise_id, variant(course, exercise_id, code), tmp_path)
    assert failed(result) == {forward_check}
    lost = next(check.max_score for check in result.checks if check.id == forward_check)
    assert result.score == result.max_score - lost
    assert hint in message_of(result, forward_check)
