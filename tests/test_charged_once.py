"""What only the worker reports costs no points, and each named mistake is charged once.

An argument changed in place is reported by the worker, where the student's code runs: it becomes
a note for the student, never a lost point, whether the docstring allows the change (ReLU's
backward zeroing ``dout``) or asks for the input to be left alone (``sgd_update``). A check that
meets a named mistake an earlier check already charged goes on past it and keeps its points if
nothing else in it fails; an answer it never checked is not excused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.checks import expect_close
from grader.course import Course
from grader.runner import Check, run_check
from tests.helpers import failed, grade_text, solution_text, with_function, with_method

IN_PLACE_BUT_RIGHT = [
    (
        "exercise6",
        """
def relu_backward(dout, cache):
    dx = dout
    dx[cache <= 0] = 0
    return dx
""",
        "relu_backward(dout of shape (3, 4), cache) changed its argument dout in place",
        "a caller using dout afterwards sees the change",
    ),
    (
        "exercise8",
        """
def softmax_cross_entropy(scores, labels):
    count = scores.shape[0]
    scores -= scores.max(axis=1, keepdims=True)
    log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    loss = -float(np.mean(log_probs[np.arange(count), labels]))
    dscores = np.exp(log_probs)
    dscores[np.arange(count), labels] -= 1
    return loss, dscores / count
""",
        "changed its argument scores in place",
        "a caller using scores afterwards sees the change",
    ),
    (
        "exercise1",
        """
def numerical_derivative(f, x, h=1e-5):
    x += h
    above = f(x)
    x -= 2 * h
    below = f(x)
    x += h
    return (above - below) / (2 * h)
""",
        "changed its argument x in place",
        "no points lost",
    ),
    (
        "exercise10",
        """
def sgd_update(params, grads, rate):
    for key in params:
        params[key] -= rate * grads[key]
    return params
""",
        "sgd_update(params, grads, rate=0.3) changed its argument params[",
        "leave it as the docstring asks: work on a copy",
    ),
]


@pytest.mark.parametrize(
    ("exercise_id", "code", "said", "advice"),
    IN_PLACE_BUT_RIGHT,
    ids=[f"{case[0]}: {case[1].split('(')[0].split()[-1]}" for case in IN_PLACE_BUT_RIGHT],
)
def test_an_argument_changed_in_place_is_a_note_not_a_lost_point(
    course: Course, tmp_path: Path, exercise_id: str, code: str, said: str, advice: str
) -> None:
    source = with_function(solution_text(course, exercise_id), code)
    result = grade_text(course, exercise_id, source, tmp_path)
    assert result.score == result.max_score, [c.message for c in result.checks if c.message]
    [note] = [text for text in result.notes if "in place" in text]  # one per function, argument
    assert said in note and advice in note
    assert "entry [" in note


def test_the_right_answer_changes_nothing_and_says_nothing(course: Course, tmp_path: Path) -> None:
    result = grade_text(course, "exercise6", solution_text(course, "exercise6"), tmp_path)
    assert result.score == result.max_score
    assert not [text for text in result.notes if "in place" in text]


# ---------------------------------------------------------------- charged once

SLIP = "the slip"


def checking(values: dict[str, float], also: float = 1.0):  # type: ignore[no-untyped-def]
    """A check function: ``values`` are the student's answers to f (right: 1) and g (right: 2)
    with the named mistake SLIP (either gives 3); ``also``, checked last, answers h (right: 1)."""

    def function(student: object, rng: object) -> None:
        for name, right in (("f", 1.0), ("g", 2.0)):
            if name in values:
                expect_close(values[name], right, f"{name}(x)", mistakes={SLIP: 3.0})
        expect_close(also, 1.0, "h(x)")

    return function


def run(function, charged: dict, notes: dict):  # type: ignore[no-untyped-def]
    item = Check("c", "a check", 2.0, False, function, ("student", "rng"))
    return run_check(item, None, np.random.default_rng(0), None, charged, notes)  # type: ignore[arg-type]


def test_a_named_mistake_met_again_keeps_the_later_checks_points() -> None:
    charged: dict = {}
    notes: dict = {}
    first = run(checking({"f": 3.0}), charged, notes)
    assert first.status == "failed" and first.score == 0 and "the slip" in first.message
    later = run(checking({"f": 3.0}), charged, notes)
    assert later.status == "passed" and later.score == 2.0
    [said] = notes.values()
    assert "the mistake charged in “a check”: not again here" in said


def test_a_repeat_does_not_excuse_what_the_check_checks_after_it() -> None:
    charged: dict = {}
    run(checking({"f": 3.0}), charged, {})
    later = run(checking({"f": 3.0}, also=5.0), charged, {})  # f's slip again, and h wrong
    assert later.status == "failed" and later.score == 0 and "h(x)" in later.message


def test_the_same_hint_in_another_function_is_another_mistake() -> None:
    charged: dict = {}
    run(checking({"f": 3.0}), charged, {})
    other = run(checking({"g": 3.0}), charged, {})
    assert other.status == "failed" and other.score == 0


def test_an_unnamed_wrong_answer_is_charged_every_time() -> None:
    charged: dict = {}
    assert run(checking({"f": 7.0}), charged, {}).score == 0
    assert run(checking({"f": 7.0}), charged, {}).score == 0
    assert charged == {}


# ---------------------------------------------------------------- one mistake, one charge

# (exercise, the mistake, the code swapped into the solution, the checks it fails, the score, a
# text the note of a later check that met it again contains, or None). Each mistake costs the
# points of its own function's check and no more: a function that calls the mistaken one (or a
# hidden check of the same function) meets a named mistake again and notes it, and a correct
# function keeps its points.
ONE_MISTAKE = [
    (
        "exercise1",
        "one-sided numerical_derivative",
        "def numerical_derivative(f, x, h=1e-5):\n    return (f(x + h) - f(x)) / h\n",
        {"numerical_derivative_is_central"},
        8.0,
        "one-sided difference",
    ),
    (
        "exercise1",
        "numerical_derivative divided by h",
        "def numerical_derivative(f, x, h=1e-5):\n    return (f(x + h) - f(x - h)) / h\n",
        {"numerical_derivative_is_central"},
        8.0,
        "divided by h instead of 2h",
    ),
    (
        "exercise2",
        "one-sided numerical_gradient, which steepest_ascent_direction calls",
        """
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x, dtype=np.float64)
        step[index] = h
        grad[index] = (f(x + step) - f(x)) / h
    return grad
""",
        {"numerical_gradient"},
        8.0,
        "this follows the mistake in numerical_gradient: you took a one-sided difference",
    ),
    (
        "exercise3",
        "chain_rule without the inner derivative, which the hidden check meets again",
        "def chain_rule(f_prime, g, g_prime, x):\n    return f_prime(g(x))\n",
        {"chain_rule_on_lesson_example"},
        8.0,
        "the inner derivative g'(x) is missing",
    ),
    (
        "exercise6",
        "σ(-z) in sigmoid_forward, which the hidden check meets again",
        """
def sigmoid_forward(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, e / (1 + e), 1 / (1 + e)), z
""",
        {"sigmoid"},
        8.0,
        "this is σ(-z)",
    ),
    (
        "exercise10",
        "train recording the loss after each update, which the hidden check meets again",
        """
def train(x, labels, layer_sizes, rate, epochs, seed):
    params = init_network(layer_sizes, seed)
    losses = []
    for epoch in range(epochs):
        _, grads = loss_and_gradients(x, labels, params)
        params = sgd_update(params, grads, rate)
        losses.append(loss_and_gradients(x, labels, params)[0])
    return params, np.array(losses)
""",
        {"training_lowers_the_loss"},
        6.0,
        "this is the loss after the update",
    ),
    (
        "exercise10",
        "train looping over range(1, epochs), which later checks meet again",
        """
def train(x, labels, layer_sizes, rate, epochs, seed):
    params = init_network(layer_sizes, seed)
    losses = []
    for epoch in range(1, epochs):
        loss, grads = loss_and_gradients(x, labels, params)
        losses.append(loss)
        params = sgd_update(params, grads, rate)
    return params, np.array(losses)
""",
        {"training_lowers_the_loss"},
        6.0,
        "one loss too few",
    ),
    (
        "exercise4",
        "gradient_step without the rate, which every path and stop follows",
        "def gradient_step(x, grad, rate):\n    return x - grad\n",
        {"gradient_step"},
        7.0,
        "this follows the mistake in gradient_step: the rate is left out",
    ),
    (
        "exercise11",
        "a·b passing out.grad back unchanged, which every later graph meets again",
        """
    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out
""",
        {"add_and_multiply"},
        5.0,
        "a·b passes out.grad back unchanged",
    ),
    (
        "exercise2",
        "bowl = x² + y",
        "def bowl(x, y):\n    return x**2 + y\n",
        {"plane_and_bowl"},
        9.5,
        None,
    ),
    (
        "exercise2",
        "plane = 2x + 3y",
        "def plane(x, y):\n    return 2 * x + 3 * y\n",
        {"plane_and_bowl"},
        9.5,
        None,
    ),
    (
        "exercise4",
        "gradient_step uphill, which the paths call",
        "def gradient_step(x, grad, rate):\n    return x + rate * grad\n",
        {"gradient_step"},
        7.0,
        "this follows the mistake in gradient_step: you stepped uphill",
    ),
    (
        "exercise5",
        "feedforward activates the output layer",
        """
def feedforward(x, params, activation):
    return np.tanh(feedforward_layers(x, params, activation)[-1])
""",
        {"feedforward", "feedforward_matches_reference"},
        7.0,
        "the output layer has no activation",
    ),
    (
        "exercise5",
        "layer_forward without the bias, which feedforward_layers calls",
        """
def layer_forward(h, W, b, activation):
    z = h @ W
    return z if activation is None else activation(z)
""",
        {"layer_forward"},
        7.0,
        "this follows the mistake in layer_forward: the bias is missing",
    ),
    (
        "exercise8",
        "softmax down the columns, reused for the cross-entropy's gradient",
        """
def softmax(scores):
    shifted = scores - scores.max(axis=0, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=0, keepdims=True)


def softmax_cross_entropy(scores, labels):
    count = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -float(np.mean(log_probs[np.arange(count), labels]))
    dscores = softmax(scores)
    dscores[np.arange(count), labels] -= 1
    return loss, dscores / count
""",
        {"softmax"},
        9.0,
        "this follows the mistake in softmax: the probabilities are normalised down each column",
    ),
    (
        "exercise9",
        "network_backward skips the hidden ReLUs, and loss_and_gradients calls it",
        """
def network_backward(dscores, caches):
    grads = {}
    dh = dscores
    for k in range(len(caches), 0, -1):
        linear_cache, relu_cache = caches[k - 1]
        dh, grads[f"W{k}"], grads[f"b{k}"] = linear_backward(dh, linear_cache)
    return grads
""",
        {"network_backward_by_finite_differences"},
        8.0,
        "this follows the mistake in network_backward: the gradient skips the hidden ReLUs",
    ),
    (
        "exercise9",
        "network_forward without the hidden ReLUs, its caches saying so",
        """
def network_forward(x, params):
    count = sum(1 for key in params if key.startswith("W"))
    caches = []
    h = x
    for k in range(1, count + 1):
        z, linear_cache = linear_forward(h, params[f"W{k}"], params[f"b{k}"])
        caches.append((linear_cache, None))
        h = z
    return h, caches
""",
        {"network_forward"},
        8.0,
        "this follows the mistake in network_forward: the hidden layers have no ReLU",
    ),
    (
        "exercise10",
        "sgd_update uphill, which train calls",
        """
def sgd_update(params, grads, rate):
    return {key: params[key] + rate * grads[key] for key in params}
""",
        {"sgd_update"},
        6.0,
        "this follows the mistake in sgd_update: the step goes uphill",
    ),
    (
        "exercise10",
        "accuracy gives the count, not the fraction",
        """
def accuracy(x, labels, params):
    return float(np.sum(predict(x, params) == labels))
""",
        {"predict_and_accuracy"},
        7.0,
        None,
    ),
    (
        "exercise11",
        "tanh's local derivative from the input",
        """
    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - self.data**2) * out.grad

        out._backward = _backward
        return out
""",
        {"power_and_tanh"},
        5.0,
        "this follows the mistake in Value.tanh: tanh'(z) = 1 - t²",
    ),
    (
        "exercise11",
        "pow's local derivative n·x",
        """
    def __pow__(self, exponent):
        out = Value(self.data**exponent, (self,), f"**{exponent}")

        def _backward():
            self.grad += exponent * self.data * out.grad

        out._backward = _backward
        return out
""",
        {"power_and_tanh"},
        5.0,
        "this follows the mistake in Value.__pow__",
    ),
]


@pytest.mark.parametrize(
    ("exercise_id", "what", "code", "fails", "score", "noted"),
    ONE_MISTAKE,
    ids=[f"{case[0]}: {case[1]}" for case in ONE_MISTAKE],
)
def test_one_mistake_costs_the_points_of_its_own_check_once(
    course: Course,
    tmp_path: Path,
    exercise_id: str,
    what: str,
    code: str,
    fails: set[str],
    score: float,
    noted: str | None,
) -> None:
    source = solution_text(course, exercise_id)
    swapped = (
        with_method(source, code) if code.startswith("\n    def ") else with_function(source, code)
    )
    result = grade_text(course, exercise_id, swapped, tmp_path)
    messages = {check.id: check.message for check in result.checks if check.status != "passed"}
    assert failed(result) == fails, messages
    assert result.score == score
    if noted is not None:
        again = [text for text in result.notes if "not again here" in text]
        assert any(noted in text for text in again), again
