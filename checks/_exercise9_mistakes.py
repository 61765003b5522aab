"""The mistakes of exercise 9 that the public and the hidden checks both name, in the same words,
so that each is charged once, in the check of the function that makes it.

Each mistake is recognised by the value it gives at the check's own point, computed here by hand
from the network's parameters (``forward_by_hand``, ``backward_by_hand``), never by the text of
the code; a shape error is named by what the same code gives on a network whose layers all have
the same size, where it runs. A name is given only where one mistake fits and the right answer
does not, and a factor of the batch size N is confirmed on another N. Where network_backward is
wrong on the caches of a forward whose scores are right, and right on caches kept as the
docstring's example keeps them, the caches are network_forward's mistake. What
loss_and_gradients gets from the student's own network_forward and network_backward is checked
as theirs: where one of them shows a named mistake and loss_and_gradients gives exactly what
they give (or raises what they raise), that is their mistake, charged where it was made.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from grader.checks import fail, fail_unless_charged, follows, shows, with_hint
from grader.student_code.errors import StudentError, StudentRaised

Mistake = tuple[str, str]

# ---------------------------------------------------------------- the words

LAST_LAYER_RELU = (
    "network_forward",
    "the last layer has a ReLU too; the scores come straight from the last linear layer",
)
NO_HIDDEN_RELU = (
    "network_forward",
    "the hidden layers have no ReLU: each hidden layer's output is its activation, the result "
    "of relu_forward(z_k), and that, not z_k, goes into the next layer",
)
RELU_ON_LAST_ONLY = (
    "network_forward",
    "the ReLU is on the last layer and not on the hidden ones: it goes after every layer but "
    "the last (k < L), and the scores come straight from the last linear layer",
)
RELU_BEFORE_LINEAR = (
    "network_forward",
    "the ReLU was applied to each layer's input, before its linear layer: it comes after, "
    "h_k = ReLU(z_k), and x goes into the first layer as it is",
)
EVERY_LAYER_GETS_X = (
    "network_forward",
    "every layer was given the input x: each layer's input is the output of the previous layer, "
    "h_{k-1} (h_0 = x), so pass h along from one layer to the next",
)
TRUNCATED = (
    "network_forward",
    "not all the layers ran: the scores come from the last layer, W{L}; loop over every layer, "
    "for k in range(1, L + 1) with L = len(params) // 2",
)
LAYERS_FROM_ZERO = (
    "network_forward",
    "the layers are numbered from 1: params holds W1, b1, ..., WL, bL and no W0; loop for k in "
    "range(1, L + 1)",
)
PAST_LAST_LAYER = (
    "network_forward",
    "the loop goes past the last layer: the number of layers is len(params) // 2, since params "
    "holds a W and a b for each layer",
)
CACHES_MISMATCH = (
    "network_forward",
    "the caches are not what network_backward reads: given caches kept as the docstring's "
    "example keeps them, per layer (x, W, b) and the ReLU's z (None for the last layer), in "
    "order, it gives the right gradients; keep each layer's cache with that layer",
)
NO_RELU_GATE = (
    "network_backward",
    "the gradient skips the hidden ReLUs: pass it through relu_backward with each hidden "
    "layer's ReLU cache before that layer's linear_backward",
)
RELU_OF_GRADIENT = (
    "network_backward",
    "the gradient itself was rectified, as np.maximum(0, dh): a ReLU's backward keeps dh where "
    "the forward's z > 0, the pre-activation in its cache: relu_backward(dh, relu_cache)",
)
LAST_RELU_BACKWARD = (
    "network_backward",
    "the gradient was masked at the last layer too, which has no ReLU: dscores goes straight "
    "into the last layer's linear_backward, and only the hidden layers go through relu_backward",
)
MASK_FROM_INPUT = (
    "network_backward",
    "the ReLU mask was taken from the layer's input h_{k-1}, the x of its linear cache: "
    "relu_backward needs the ReLU's own cache, the z_k that relu_forward returned",
)
MASK_AFTER_LINEAR = (
    "network_backward",
    "each hidden layer's ReLU mask was applied after its linear_backward, to the gradient of "
    "the layer below: the order is relu_backward first, then linear_backward",
)
FORWARD_ORDER = (
    "network_backward",
    "the layers were walked first to last: backpropagation starts at the last layer with "
    "dscores and goes backwards, in reverse order, for k in range(L, 0, -1)",
)
UPSTREAM_NOT_PASSED = (
    "network_backward",
    "the dx that each linear_backward returns is dropped, and the layer below gets dscores "
    "again: that dx is the upstream gradient of the layer below, and must be passed down to it",
)
DIVIDED_AGAIN = (
    "network_backward",
    "every gradient is divided by N, the batch size, once too often: dscores already holds the "
    "1/N of the mean loss, so pass it down as it is",
)
MISSING_GRADS = (
    "network_backward",
    "the gradients of some layers are missing: every layer, down to layer 1, gets the "
    "gradients of its W and b (for k in range(L, 0, -1))",
)
KEYS_FROM_ZERO = (
    "network_backward",
    "the gradients are keyed from 0 (W0, b0, ...): the layers are numbered from 1, like the "
    "keys of params (W1, b1, ...)",
)
W_B_SWAPPED = (
    "network_backward",
    "the W and b gradients are swapped, each stored under the other's key: linear_backward "
    "returns (dx, dW, db) in that order",
)
KEYS_REVERSED = (
    "network_backward",
    "the gradients are keyed in reverse, the last layer's under W1: layer k's gradients go "
    "under W{k} and b{k}, as its parameters are keyed in params",
)
FORWARD_ARGUMENTS = (
    "loss_and_gradients",
    "network_forward was given its arguments in the wrong order: the array x where the dict "
    "params belongs, and params where x belongs; call network_forward(x, params)",
)
BACKWARD_ARGUMENTS = (
    "loss_and_gradients",
    "network_backward was given its arguments in the wrong order: the caches where the array "
    "dscores belongs, and dscores where the caches belong; call network_backward(dscores, "
    "caches)",
)
PAIR_ORDER = (
    "loss_and_gradients",
    "the pair is in the wrong order: return (loss, grads), the loss first",
)
LOSS_SUMMED = (
    "loss_and_gradients",
    "the loss is summed over the batch: it is the mean over the N examples, -(1/N) Σ log p",
)
PENALTY = (
    "loss_and_gradients",
    "this adds an L2 penalty on the weights (weight decay, regularisation): the loss asked for "
    "is the cross-entropy alone, and its gradients have no extra term in W",
)
FROM_SCORES = (
    "loss_and_gradients",
    "network_backward was given the scores: it takes their gradient, the dscores that "
    "softmax_cross_entropy returns (the gradient of the loss)",
)
LOSS_OF_RELU = (
    "loss_and_gradients",
    "the scores went through a ReLU before the loss: the loss takes the scores of "
    "network_forward as they are, straight from the last linear layer",
)
NO_ONE_HOT = (
    "loss_and_gradients",
    "the one-hot of the labels is missing: dscores is (softmax - onehot) / N, with 1 taken off "
    "at each example's right class, as softmax_cross_entropy returns it",
)
NO_ONE_OVER_N = (
    "loss_and_gradients",
    "the 1/N is missing: dscores is (softmax - onehot) / N, as softmax_cross_entropy returns it",
)
AVERAGED_AGAIN = (
    "loss_and_gradients",
    "the gradients are divided by N once too often: the dscores of softmax_cross_entropy "
    "already holds the 1/N",
)

# ---------------------------------------------------------------- the network by hand


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0)


def count_layers(params: dict) -> int:
    return sum(1 for key in params if key.startswith("W"))


def network(rng: np.random.Generator, sizes: list[int]) -> dict[str, np.ndarray]:
    params = {}
    for k in range(1, len(sizes)):
        params[f"W{k}"] = rng.normal(scale=1 / np.sqrt(sizes[k - 1]), size=sizes[k - 1 : k + 1])
        params[f"b{k}"] = 0.1 * rng.normal(size=sizes[k])
    return params


def forward_by_hand(x: np.ndarray, params: dict, mistake: str = "") -> np.ndarray | None:
    """The scores of the network the docstring defines, or as ``mistake`` computes them ("last
    relu", "no relu", "relu before", "every x"); None where that mistake cannot run here."""
    count = count_layers(params)
    h = x
    try:
        for k in range(1, count + 1):
            if (mistake == "relu before" and k < count) or mistake == "relu before all":
                h = relu(h)
            z = (x if mistake == "every x" else h) @ params[f"W{k}"] + params[f"b{k}"]
            rectified = mistake == "last relu" or (
                k < count and mistake not in ("no relu", "relu before", "relu before all")
            )
            if mistake == "last only":
                rectified = k == count
            h = relu(z) if rectified else z
    except ValueError:
        return None
    return h


def truncated(x: np.ndarray, params: dict, layers: int, last_relu: bool) -> np.ndarray:
    """The output of the first ``layers`` layers only, ReLU after each but the last of them,
    and after that one too where ``last_relu``."""
    h = x
    for k in range(1, layers + 1):
        h = h @ params[f"W{k}"] + params[f"b{k}"]
        if k < layers or last_relu:
            h = relu(h)
    return h


FORWARD_VARIANTS: dict[str, Mistake] = {
    "last relu": LAST_LAYER_RELU,
    "no relu": NO_HIDDEN_RELU,
    "last only": RELU_ON_LAST_ONLY,
    "relu before": RELU_BEFORE_LINEAR,
    "relu before all": RELU_BEFORE_LINEAR,
    "every x": EVERY_LAYER_GETS_X,
}


def forward_mistakes(x: np.ndarray, params: dict, got: Any = None) -> dict[Mistake, np.ndarray]:
    """Each named forward mistake -> the scores it gives here (those that run here; of a
    mistake made two ways, the way ``got`` shows, if either)."""
    found: dict[Mistake, np.ndarray] = {}
    for variant, mistake in FORWARD_VARIANTS.items():
        scores = forward_by_hand(x, params, variant)
        if scores is not None and (mistake not in found or shows(got, scores)):
            found[mistake] = scores
    return found


def truncations(x: np.ndarray, params: dict) -> list[np.ndarray]:
    count = count_layers(params)
    return [
        truncated(x, params, layers, last_relu)
        for layers in range(1, count)
        for last_relu in (True, False)
    ]


def scores_mistake(scores: Any, x: np.ndarray, params: dict) -> Mistake | None:
    """The one named forward mistake whose scores ``scores`` are (and the right ones are not)."""
    right = forward_by_hand(x, params)
    fits = {
        mistake
        for mistake, value in forward_mistakes(x, params, scores).items()
        if shows(scores, value) and not shows(right, value)
    }
    if any(shows(scores, value) for value in truncations(x, params)):
        fits.add(TRUNCATED)
    return fits.pop() if len(fits) == 1 else None


def truncated_scores(scores: Any, x: np.ndarray, params: dict, call: str) -> bool:
    """Whether ``scores``, of another shape than the scores, are the output of the first layers
    only: then that is named and charged (True: charged before, nothing more to check here)."""
    right = forward_by_hand(x, params)
    assert right is not None
    if not isinstance(scores, np.ndarray) or np.shape(scores) == right.shape:
        return False
    count = count_layers(params)
    for layers in range(count - 1, 0, -1):
        if any(shows(scores, truncated(x, params, layers, last)) for last in (True, False)):
            message = (
                f"{call} returned an array of shape {scores.shape}; expected shape "
                f"{right.shape}: it is the output of layers 1 to {layers} of {count}"
            )
            fail_unless_charged(with_hint(message, TRUNCATED[1]), TRUNCATED)
            return True
    return False


def caches_by_hand(x: np.ndarray, params: dict) -> list:
    """The caches as the docstring's example keeps them: per layer, (x, W, b) and the ReLU's z
    (None for the last layer)."""
    count = count_layers(params)
    caches, h = [], x
    for k in range(1, count + 1):
        z = h @ params[f"W{k}"] + params[f"b{k}"]
        caches.append(((h, params[f"W{k}"], params[f"b{k}"]), z if k < count else None))
        h = relu(z) if k < count else z
    return caches


def backward_by_hand(
    x: np.ndarray, params: dict, dscores: np.ndarray, variant: str = ""
) -> dict[str, np.ndarray] | None:
    """The gradients of sum(scores · dscores), or as the backward ``variant`` of
    BACKWARD_VARIANTS computes them; None where that variant cannot run on these shapes."""
    count = count_layers(params)
    caches = caches_by_hand(x, params)
    scores = forward_by_hand(x, params)
    grads: dict[str, np.ndarray] = {}

    def step(k: int, upstream: np.ndarray, key: int) -> np.ndarray:
        (h, W, _), _ = caches[k - 1]
        grads[f"W{key}"], grads[f"b{key}"] = h.T @ upstream, upstream.sum(axis=0)
        return upstream @ W.T

    def gate(k: int, upstream: np.ndarray) -> np.ndarray:
        z = caches[k - 1][1]
        if variant == "ungated" or z is None:
            return upstream
        if variant == "from input":
            return upstream * (caches[k - 1][0][0] > 0)
        return relu(upstream) if variant == "rectified" else upstream * (z > 0)

    try:
        dh = dscores * (scores > 0) if variant == "last masked" else dscores
        if variant.startswith("forward order"):
            for k in range(1, count + 1):
                key = count + 1 - k if variant.endswith("reversed") else k
                dh = step(k, gate(k, dh), key)
            return grads
        for k in range(count, 0, -1):
            if variant == "mask after":
                dh = gate(k, step(k, dh, k))
            elif variant == "dscores each":
                step(k, gate(k, dscores), k)
            elif variant == "dx dropped":
                dh = gate(k, dh)
                step(k, dh, k)
            else:
                dh = step(k, gate(k, dh), k)
    except ValueError:
        return None
    if variant == "divided":
        return {key: value / dscores.shape[0] for key, value in grads.items()}
    if variant == "swapped":
        return {f"{'b' if key[0] == 'W' else 'W'}{key[1:]}": value for key, value in grads.items()}
    if variant == "keys reversed":
        return {f"{key[0]}{count + 1 - int(key[1:])}": value for key, value in grads.items()}
    return grads


BACKWARD_VARIANTS: dict[str, Mistake] = {
    "ungated": NO_RELU_GATE,
    "rectified": RELU_OF_GRADIENT,
    "last masked": LAST_RELU_BACKWARD,
    "from input": MASK_FROM_INPUT,
    "mask after": MASK_AFTER_LINEAR,
    "forward order": FORWARD_ORDER,
    "forward order, keys reversed": FORWARD_ORDER,
    "dscores each": UPSTREAM_NOT_PASSED,
    "dx dropped": UPSTREAM_NOT_PASSED,
    "divided": DIVIDED_AGAIN,
    "swapped": W_B_SWAPPED,
    "keys reversed": KEYS_REVERSED,
}


def keys_mistake(keys: Any, params: dict) -> Mistake | None:
    """The named mistake a gradient dict keyed ``keys`` shows, where its keys say it alone."""
    keys, expected = set(keys), set(params)
    if keys == expected:
        return None
    count = count_layers(params)
    if keys == {f"{name}{k}" for name in "Wb" for k in range(count)}:
        return KEYS_FROM_ZERO
    missing = expected - keys
    whole = all(f"{'b' if key[0] == 'W' else 'W'}{key[1:]}" in missing for key in missing)
    if keys and keys < expected and whole:  # whole layers missing, W and b alike
        return MISSING_GRADS
    return None


def backward_fit(
    grads: Any, x: np.ndarray, params: dict, dscores: np.ndarray
) -> tuple[Mistake, dict[str, np.ndarray] | None] | None:
    """(the one named backward mistake ``grads`` shows at this point, the gradients it gives
    here, None for a mistake of the keys alone), or None where none or several fit."""
    if not isinstance(grads, dict):
        return None
    by_keys = keys_mistake(grads, params)
    if by_keys is not None:
        return by_keys, None
    if sorted(grads) != sorted(params):
        return None
    right = backward_by_hand(x, params, dscores)
    assert right is not None
    fits: dict[Mistake, dict[str, np.ndarray]] = {}
    for variant, mistake in BACKWARD_VARIANTS.items():
        value = backward_by_hand(x, params, dscores, variant)
        if value is None or sorted(value) != sorted(params):
            continue
        if all(shows(grads[key], value[key]) for key in params) and not all(
            shows(right[key], value[key]) for key in params
        ):
            fits.setdefault(mistake, value)
    return next(iter(fits.items())) if len(fits) == 1 else None


# ---------------------------------------------------------------- errors


def first_line(message: str) -> str:
    return message.split("\nHint:")[0].rstrip(".")


def error_kind(error: StudentRaised) -> tuple[int | None, str]:
    """Where an error happened and what it was, to tell one error from another."""
    kind = re.search(r"raised (\w+)", str(error))
    return error.line, kind.group(1) if kind else ""


def square_point(
    x: np.ndarray, params: dict, least: int = 1
) -> tuple[np.ndarray, dict, np.ndarray]:
    """A network as deep as ``params`` (``least`` layers at least) whose layers all have x's
    width, an input of one row more than x, and an upstream gradient: there code that mixes the
    layers' sizes up runs and gives a value, and a factor of the batch size N is another one."""
    rng = np.random.default_rng(9)
    count, width = x.shape[0] + 1, x.shape[1]
    square = network(rng, [width] * (max(count_layers(params), least) + 1))
    return rng.normal(size=(count, width)), square, rng.normal(size=(count, width))


def confirmed(student: Any, fit: Any, x: np.ndarray, params: dict) -> Any:
    """``fit``, a backward mistake seen at the check's point, where the square network (of
    another batch size) shows it too; None otherwise. A mistake of the keys needs no second
    point: the keys say it."""
    if fit is None or fit[0] in KEY_MISTAKES:
        return fit
    return fit if backward_error_mistake(student, x, params) == fit[0] else None


def forward_error_mistake(
    student: Any, x: np.ndarray, params: dict, error: StudentRaised
) -> tuple[Mistake, str] | None:
    """(the named mistake, its hint) that network_forward's ``error`` at (x, params) shows."""
    message = str(error)
    count = count_layers(params)
    missing = re.search(r"KeyError: '([Wb])(\d+)'", message)
    if missing and int(missing.group(2)) == 0:
        return LAYERS_FROM_ZERO, f"these params hold W1 to W{count}"
    if missing and int(missing.group(2)) == count + 1:
        return PAST_LAST_LAYER, f"these params hold {count} layers, W1 to W{count}"
    if "ValueError" not in message:
        return None
    point, square, _ = square_point(x, params)
    answer = answer_or_none(student.network_forward, point, square)
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return None
    mistake = scores_mistake(answer[0], point, square)
    if mistake not in (EVERY_LAYER_GETS_X, RELU_BEFORE_LINEAR):
        return None
    return mistake, "where all the layers have one size, it runs and gives what the hint names"


def answer_or_none(function: Callable[..., Any], *args: Any) -> Any:
    try:
        return function(*args)
    except StudentError:
        return None


def backward_error_mistake(student: Any, x: np.ndarray, params: dict) -> Mistake | None:
    """The named backward mistake that network_backward, raising at (x, params), shows on the
    square network, where its own forward is right (two hidden layers at least: with one, a
    mask applied after its layer's linear_backward is no mask at all)."""
    point, square, upstream = square_point(x, params, least=3)
    answer = answer_or_none(student.network_forward, point, square)
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return None
    if not shows(answer[0], forward_by_hand(point, square)):
        return None
    if caches_at_fault(student, point, square, upstream, answer[1]):
        return None  # the forward's caches, not the backward
    grads = answer_or_none(student.network_backward, upstream, answer[1])
    fit = backward_fit(grads, point, square, upstream)
    return fit[0] if fit is not None else None


def square_forward_mistake(student: Any, x: np.ndarray, params: dict) -> Mistake | None:
    """The named mistake network_forward shows on the square network: where its caches are at
    fault though its scores at (x, params) happen to be right (one example, two classes)."""
    point, square, _ = square_point(x, params)
    answer = answer_or_none(student.network_forward, point, square)
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return None
    return scores_mistake(answer[0], point, square)


def caches_at_fault(
    student: Any, x: np.ndarray, params: dict, dscores: np.ndarray, caches: Any
) -> bool:
    """Whether network_backward is wrong (or raises) on these caches of the student's forward,
    whose scores are right, and right on caches kept as the docstring's example keeps them."""
    right = backward_by_hand(x, params, dscores)
    assert right is not None

    def is_right(grads: Any) -> bool:
        return (
            isinstance(grads, dict)
            and sorted(grads) == sorted(right)
            and all(shows(grads[key], right[key]) for key in right)
        )

    if is_right(answer_or_none(student.network_backward, dscores, caches)):
        return False
    return is_right(answer_or_none(student.network_backward, dscores, caches_by_hand(x, params)))


def own_caches_usable(student: Any, x: np.ndarray, params: dict, caches: Any, call: str) -> bool:
    """Whether the caches of the student's forward (its scores right) serve its backward; where
    they are at fault, that is network_forward's mistake, named and charged (False: check the
    backward on caches kept as the docstring's example keeps them)."""
    dscores = np.random.default_rng(5).normal(
        size=(x.shape[0], params[f"b{count_layers(params)}"].size)
    )
    if not caches_at_fault(student, x, params, dscores, caches):
        return True
    message = (
        f"{call}: network_backward gives the right gradients on caches kept as the docstring's "
        "example keeps them, and not on the caches network_forward returns"
    )
    fail_unless_charged(with_hint(message, CACHES_MISMATCH[1]), CACHES_MISMATCH)
    return False


def forward_answer(student: Any, x: np.ndarray, params: dict, call: str) -> Any:
    """The student's network_forward(x, params); an error it raises named, and charged as
    network_forward's, where it shows a named mistake."""
    try:
        return student.network_forward(x, params)
    except StudentRaised as error:
        named = forward_error_mistake(student, x, params, error)
        if named is None:
            raise
        mistake, detail = named
        lines = first_line(str(error)).split("\n")
        message = "\n".join([f"{lines[0]}; {detail}", *lines[1:]])
        fail_unless_charged(with_hint(message, mistake[1]), mistake)
        return None


def backward_answer(
    student: Any, x: np.ndarray, params: dict, dscores: np.ndarray, caches: Any
) -> Any:
    """The student's network_backward(dscores, caches), caches from its own right forward; an
    error named and charged where the square network shows a named mistake."""
    try:
        return student.network_backward(dscores, caches)
    except StudentRaised as error:
        mistake = backward_error_mistake(student, x, params)
        if mistake is None:
            raise
        lines = first_line(str(error)).split("\n")
        detail = "where all the layers have one size, it runs and gives what the hint names"
        message = "\n".join([f"{lines[0]}; {detail}", *lines[1:]])
        fail_unless_charged(with_hint(message, mistake[1]), mistake)
        return None


# ---------------------------------------------------------------- the loss


def cross_entropy(scores: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """(the mean softmax cross-entropy, its gradient), by hand."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    count = scores.shape[0]
    gradient = np.exp(log_probs)
    gradient[np.arange(count), labels] -= 1
    return -float(np.mean(log_probs[np.arange(count), labels])), gradient / count


class Parts:
    """What the student's own network_forward and network_backward give at (x, labels, params),
    and the named mistake either shows there: what a loss_and_gradients calling them follows."""

    def __init__(self, student: Any, x: np.ndarray, labels: np.ndarray, params: dict) -> None:
        self.mistake: Mistake | None = None
        self.forward_right = False
        self.error: tuple[int | None, str] | None = None
        self.loss: float | None = None
        self.grads: Any = None
        try:
            answer = student.network_forward(x, params)
        except StudentRaised as error:
            self.error = error_kind(error)
            named = forward_error_mistake(student, x, params, error)
            self.mistake = named[0] if named else None
            return
        except StudentError:
            return
        if not isinstance(answer, (tuple, list)) or len(answer) != 2:
            return
        scores, caches = answer
        right = forward_by_hand(x, params)
        forward_right = self.forward_right = shows(scores, right)
        if not forward_right:
            self.mistake = scores_mistake(scores, x, params)
        try:
            scores = np.asarray(scores, dtype=np.float64)
            self.loss, dscores = cross_entropy(scores, labels)
        except (TypeError, ValueError, IndexError):
            return
        raised = False
        try:
            self.grads = student.network_backward(dscores, caches)
        except StudentRaised as error:
            self.error, raised = error_kind(error), True
        except StudentError:
            return
        if not forward_right:
            return
        if caches_at_fault(student, x, params, dscores, caches):
            self.mistake = square_forward_mistake(student, x, params) or CACHES_MISMATCH
            return
        if raised:
            self.mistake = backward_error_mistake(student, x, params)
        else:
            fit = confirmed(student, backward_fit(self.grads, x, params, dscores), x, params)
            self.mistake = fit[0] if fit is not None else None

    def gives(self, loss: Any, grads: Any, params: dict) -> bool:
        """Whether (loss, grads) is what these parts give, gradients keyed like params (or as the
        backward's named mistake of the keys keys them)."""
        if self.loss is None or not isinstance(grads, dict) or not isinstance(self.grads, dict):
            return False
        keyed = sorted(params) if self.mistake not in KEY_MISTAKES else sorted(self.grads)
        if sorted(grads) != keyed or sorted(self.grads) != keyed:
            return False
        return shows(loss, self.loss) and all(shows(grads[key], self.grads[key]) for key in keyed)

    def follows_forward(self, loss: float, right: float) -> Mistake | None:
        """The forward's named mistake this loss follows (it is not the right one)."""
        if self.mistake is None or self.mistake[0] != "network_forward" or self.loss is None:
            return None
        if shows(loss, self.loss) and not shows(loss, right):
            return self.mistake
        return None


def follow_parts(parts: Parts, loss: Any, grads: Any, params: dict, call: str) -> bool:
    """Where loss_and_gradients gives what the student's own parts give and one of them shows a
    named mistake: that mistake again, charged where it was made (True: nothing more to check)."""
    if parts.mistake is None or not parts.gives(loss, grads, params):
        return False
    message = f"{call} gives what network_forward and network_backward give here"
    fail_unless_charged(with_hint(message, follows(parts.mistake, call)), parts.mistake)
    return True


def forward_loss_failure(parts: Parts, loss: float, right: float, call: str) -> None:
    """Fail where the loss is the one of the student's forward showing a named mistake whose
    gradients no check can follow (where they lack layers): named, though not charged again."""
    mistake = parts.follows_forward(loss, right)
    if mistake is None or mistake in (LAST_LAYER_RELU, NO_HIDDEN_RELU):
        return
    message = f"{call} loss: expected {right:.10g}, got {loss:.10g}"
    fail(with_hint(message, follows(mistake, call)))


def loss_error(
    student: Any, x: np.ndarray, labels: np.ndarray, params: dict, error: StudentRaised
) -> None:
    """loss_and_gradients raised ``error``: where it is the error of the student's own
    network_forward or network_backward showing a named mistake, that mistake, charged where it
    was made; where the same error comes from network_forward or network_backward given their
    arguments in the wrong order, that is named; else the error as it is."""
    call = "loss_and_gradients"
    kind = error_kind(error)
    parts = Parts(student, x, labels, params)
    if parts.mistake is not None and parts.error == kind:
        fail_unless_charged(
            with_hint(first_line(str(error)), follows(parts.mistake, call)), parts.mistake
        )
        return
    for mistake, swapped in ((FORWARD_ARGUMENTS, True), (BACKWARD_ARGUMENTS, False)):
        other = replay(student, x, labels, params, swapped)
        if other is not None and same_error(str(error), str(other)):
            fail_unless_charged(with_hint(first_line(str(error)), mistake[1]), mistake)
            return
    raise error


def replay(
    student: Any, x: np.ndarray, labels: np.ndarray, params: dict, forward_swapped: bool
) -> StudentRaised | None:
    """The error loss_and_gradients' steps raise, made here one by one with the student's own
    functions, network_forward's arguments swapped (else network_backward's); None if none."""
    try:
        answer = (
            student.network_forward(params, x)
            if forward_swapped
            else student.network_forward(x, params)
        )
        if not isinstance(answer, (tuple, list)) or len(answer) != 2:
            return None
        scores, caches = answer
        loss = student.softmax_cross_entropy(scores, labels)
        if not isinstance(loss, (tuple, list)) or len(loss) != 2:
            return None
        if forward_swapped:
            student.network_backward(loss[1], caches)
        else:
            student.network_backward(caches, loss[1])
    except StudentRaised as other:
        return other
    except StudentError:
        return None
    return None


def same_error(loss_message: str, other_message: str) -> bool:
    """Whether two messages tell the same exception (its text, the line it was raised at)."""

    def core(message: str) -> tuple[str, str]:
        text = re.search(r"raised (\w+: [^(\n]*)", message)
        line = re.search(r"\(line (\d+)", message)
        return (text.group(1).strip() if text else "", line.group(1) if line else "")

    return core(loss_message) == core(other_message) and core(loss_message)[0] != ""


def penalty_fit(loss: float, grads: Any, x: np.ndarray, labels: np.ndarray, params: dict) -> bool:
    """Whether (loss, grads) is the cross-entropy plus a penalty c·Σ W² on the weights: every
    dW off by one factor a > 0 of W, the b gradients right, and the loss larger."""
    if not isinstance(grads, dict) or sorted(grads) != sorted(params):
        return False
    scores = forward_by_hand(x, params)
    assert scores is not None
    right_loss, dscores = cross_entropy(scores, labels)
    right = backward_by_hand(x, params, dscores)
    assert right is not None
    if not loss > right_loss + 1e-12:
        return False
    factors = []
    for key in params:
        got = np.asarray(grads[key], dtype=np.float64)
        if got.shape != params[key].shape:
            return False
        if key.startswith("b"):
            if not shows(got, right[key]):
                return False
            continue
        weights = params[key]
        factor = float(np.sum((got - right[key]) * weights) / np.sum(weights**2))
        if not factor > 0 or not shows(got, right[key] + factor * weights):
            return False
        factors.append(factor)
    return bool(factors) and np.allclose(factors, factors[0], rtol=1e-6)


def one_more_row(x: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A batch of N + 1 examples: a mistake by a factor of N shows another factor there."""
    return np.vstack([x, 0.5 * x[:1] + 0.25]), np.concatenate([labels, labels[:1]])


def by_batch_size(
    student: Any, x: np.ndarray, labels: np.ndarray, params: dict, mistake: Mistake
) -> bool:
    """Whether loss_and_gradients shows ``mistake``, a factor of the batch size N, on a batch of
    N + 1 too."""
    more_x, more_labels = one_more_row(x, labels)
    answer = answer_or_none(student.loss_and_gradients, more_x, more_labels, params)
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return False
    loss, grads = answer
    count = more_x.shape[0]
    scores = forward_by_hand(more_x, params)
    assert scores is not None
    right_loss, dscores = cross_entropy(scores, more_labels)
    if mistake == LOSS_SUMMED:
        return shows(loss, count * right_loss)
    right = backward_by_hand(more_x, params, dscores)
    assert right is not None
    factor = count if mistake == NO_ONE_OVER_N else 1 / count
    return (
        isinstance(grads, dict)
        and sorted(grads) == sorted(params)
        and all(shows(grads[key], factor * right[key]) for key in params)
    )


def loss_mistakes(
    student: Any,
    x: np.ndarray,
    labels: np.ndarray,
    params: dict,
    answer: tuple[Any, float],
    parts: Parts,
) -> dict[Mistake, float]:
    """Each named mistake of the loss -> the loss it gives here: a forward's mistake where the
    student's network_forward shows it, a factor of N where a batch of N + 1 confirms it."""
    grads, loss = answer
    found: dict[Mistake, float] = {}
    for mistake, scores in forward_mistakes(x, params).items():
        if mistake in (LAST_LAYER_RELU, NO_HIDDEN_RELU) and parts.mistake == mistake:
            found[mistake] = cross_entropy(scores, labels)[0]
    right = forward_by_hand(x, params)
    assert right is not None
    if parts.forward_right:
        found[LOSS_OF_RELU] = cross_entropy(relu(right), labels)[0]
    summed = x.shape[0] * cross_entropy(right, labels)[0]
    if shows(loss, summed) and by_batch_size(student, x, labels, params, LOSS_SUMMED):
        found[LOSS_SUMMED] = summed
    if penalty_fit(loss, grads, x, labels, params):
        found[PENALTY] = loss
    return found


def loss_gradient_fit(
    student: Any, loss: float, grads: Any, x: np.ndarray, labels: np.ndarray, params: dict
) -> dict[Mistake, dict[str, np.ndarray]]:
    """The one named mistake of loss_and_gradients' gradients that every gradient in ``grads``
    shows -> the gradients it gives (a factor of N where a batch of N + 1 confirms it); {}
    where none or several fit."""
    if not isinstance(grads, dict) or sorted(grads) != sorted(params):
        return {}
    if penalty_fit(loss, grads, x, labels, params):
        return {PENALTY: grads}
    scores = forward_by_hand(x, params)
    assert scores is not None
    right = backward_by_hand(x, params, cross_entropy(scores, labels)[1])
    from_scores = backward_by_hand(x, params, scores)
    assert right is not None and from_scores is not None
    count = x.shape[0]
    rectified = backward_by_hand(x, params, cross_entropy(relu(scores), labels)[1])
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs = shifted / shifted.sum(axis=1, keepdims=True)
    candidates = {
        LOSS_OF_RELU: rectified,
        NO_ONE_HOT: backward_by_hand(x, params, probs / count),
        NO_ONE_OVER_N: {key: count * value for key, value in right.items()},
        AVERAGED_AGAIN: {key: value / count for key, value in right.items()},
        FROM_SCORES: from_scores,
    }
    fits = {
        mistake: values
        for mistake, values in candidates.items()
        if all(shows(grads[key], values[key]) for key in params)
        and not all(shows(right[key], values[key]) for key in params)
    }
    if len(fits) != 1:
        return {}
    mistake = next(iter(fits))
    if mistake in (NO_ONE_OVER_N, AVERAGED_AGAIN) and not by_batch_size(
        student, x, labels, params, mistake
    ):
        return {}
    return fits


def pair_of(value: Any, call: str) -> tuple[Any, Any]:
    """loss_and_gradients' answer as (loss, grads); the pair in the wrong order named (and
    read the right way round where that was charged before)."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        first, second = value
        number = isinstance(second, (int, float, np.number)) and not isinstance(second, bool)
        scalar = isinstance(second, np.ndarray) and second.ndim == 0
        if isinstance(first, dict) and (number or scalar):
            message = f"{call} returned the pair (a dict, {type(second).__name__}) "
            fail_unless_charged(
                with_hint(message + "where (loss, grads) was expected", PAIR_ORDER[1]), PAIR_ORDER
            )
            return second, first
        return first, second
    fail(f"{call} returned {type(value).__name__}; expected the pair (loss, grads)")


def keys_failure(grads: Any, params: dict, parts: Parts | None, call: str) -> None:
    """Fail where grads is not a dict keyed like params, naming what its keys show (from
    loss_and_gradients, the mistake of network_backward where that gives the same keys)."""
    if not isinstance(grads, dict):
        fail(
            f"{call} returned {type(grads).__name__}; expected a dict of gradients keyed like "
            f"params: {sorted(params)}"
        )
    if sorted(grads) == sorted(params):
        return
    message = f"{call} returned the keys {sorted(grads)}; expected {sorted(params)}"
    mistake = keys_mistake(grads, params)
    if mistake is None:
        fail(message)
    if parts is None:
        fail(with_hint(message, mistake[1]), mistake)
    if parts.mistake == TRUNCATED:  # the forward's caches lack layers
        fail(with_hint(message, follows(parts.mistake, call)))
    if not parts.forward_right:
        fail(message)
    fail(with_hint(message, follows(mistake, call) if parts.mistake == mistake else mistake[1]))


def remapped(grads: dict, mistake: Mistake, params: dict) -> dict:
    """The student's gradients under the keys meant, for a mistake of the keys alone."""
    count = count_layers(params)
    if mistake == KEYS_FROM_ZERO:
        return {f"{key[0]}{int(key[1:]) + 1}": value for key, value in grads.items()}
    if mistake == W_B_SWAPPED:
        return {f"{'b' if key[0] == 'W' else 'W'}{key[1:]}": v for key, v in grads.items()}
    if mistake == KEYS_REVERSED:
        return {f"{key[0]}{count + 1 - int(key[1:])}": value for key, value in grads.items()}
    return grads


KEY_MISTAKES = (KEYS_FROM_ZERO, MISSING_GRADS, W_B_SWAPPED, KEYS_REVERSED)


def check_keys(
    student: Any, grads: Any, x: np.ndarray, params: dict, dscores: np.ndarray, call: str
) -> tuple[dict, dict[Mistake, dict[str, np.ndarray]], Mistake | None]:
    """network_backward's grads as a dict keyed like params, the backward mistake they show
    here (of a right forward's caches) -> the gradients it gives, and the mistake of the keys
    they show: that one named and charged, and where it was charged before, the grads read
    under the keys meant (the missing ones left out)."""
    if not isinstance(grads, dict):
        keys_failure(grads, params, None, call)
    fit = confirmed(student, backward_fit(grads, x, params, dscores), x, params)
    if fit is None or fit[0] not in KEY_MISTAKES:
        keys_failure(grads, params, None, call)
        return grads, {fit[0]: fit[1]} if fit is not None and fit[1] is not None else {}, None
    mistake = fit[0]
    if sorted(grads) != sorted(params):
        message = f"{call} returned the keys {sorted(grads)}; expected {sorted(params)}"
    else:
        shapes = ", ".join(f"{key} {np.shape(grads[key])}" for key in sorted(grads))
        message = f"{call} returned gradients of the shapes {shapes}"
    fail_unless_charged(with_hint(message, mistake[1]), mistake)
    return remapped(grads, mistake, params), {}, mistake
