"""The mistakes of exercise 9's network_forward and network_backward, named in the same words by
the public and the hidden checks (each loads this module with
``shared(__file__, "_exercise9_mistakes")``), so that each is charged once, in the check of the
function that makes it; loss_and_gradients' are in checks/_exercise9_loss.py.

Each mistake is recognised by the value it gives at the check's own point, computed here by hand
from the network's parameters (``forward_by_hand``, ``backward_by_hand``), never by the text of
the code; a shape error is named by what the same code gives on a network whose layers all have
the same size, where it runs. A name is given only where one mistake fits and the right answer
does not, and a factor of the batch size N is confirmed on another N. Where network_backward is
wrong on the caches of a forward whose scores are right, and right on caches kept as the
docstring's example keeps them, the caches are network_forward's mistake. An error the student's
code raises is never excused: it fails in every check that meets it, named where it shows a
named mistake. Keys of the student's gradients are sorted as text (``key_order``): a dict may
hold keys of any type.
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

# ---------------------------------------------------------------- the network by hand


def key_order(mapping: Any) -> list:
    """The keys of ``mapping`` in order: text in its own order, first, then any other keys (a
    student's dict may hold 0 beside "W1") by their text, so that no comparison of keys of
    different types raises."""
    return sorted(mapping, key=lambda key: (not isinstance(key, str), str(key)))


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
    if key_order(grads) != key_order(params):
        return None
    right = backward_by_hand(x, params, dscores)
    assert right is not None
    fits: dict[Mistake, dict[str, np.ndarray]] = {}
    for variant, mistake in BACKWARD_VARIANTS.items():
        value = backward_by_hand(x, params, dscores, variant)
        if value is None or key_order(value) != key_order(params):
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
    answer = answer_or_none_on_any_error(student.network_forward, point, square)
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return None
    mistake = scores_mistake(answer[0], point, square)
    if mistake not in (EVERY_LAYER_GETS_X, RELU_BEFORE_LINEAR):
        return None
    return mistake, "where all the layers have one size, it runs and gives what the hint names"


def answer_or_none_on_any_error(function: Callable[..., Any], *args: Any) -> Any:
    """The student's ``function(*args)``, or None where the call gives no answer for any reason
    (it raises, times out, crashes, is missing or unfinished): for a probe at another point than
    the check's, whose failure leaves the check's own answer to be judged as it is."""
    try:
        return function(*args)
    except StudentError:
        return None


def backward_error_mistake(student: Any, x: np.ndarray, params: dict) -> Mistake | None:
    """The named backward mistake that network_backward, raising at (x, params), shows on the
    square network, where its own forward is right (two hidden layers at least: with one, a
    mask applied after its layer's linear_backward is no mask at all)."""
    point, square, upstream = square_point(x, params, least=3)
    answer = answer_or_none_on_any_error(student.network_forward, point, square)
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return None
    if not shows(answer[0], forward_by_hand(point, square)):
        return None
    if caches_at_fault(student, point, square, upstream, answer[1]):
        return None  # the forward's caches, not the backward
    grads = answer_or_none_on_any_error(student.network_backward, upstream, answer[1])
    fit = backward_fit(grads, point, square, upstream)
    return fit[0] if fit is not None else None


def square_forward_mistake(student: Any, x: np.ndarray, params: dict) -> Mistake | None:
    """The named mistake network_forward shows on the square network: where its caches are at
    fault though its scores at (x, params) happen to be right (one example, two classes)."""
    point, square, _ = square_point(x, params)
    answer = answer_or_none_on_any_error(student.network_forward, point, square)
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
            and key_order(grads) == key_order(right)
            and all(shows(grads[key], right[key]) for key in right)
        )

    if is_right(answer_or_none_on_any_error(student.network_backward, dscores, caches)):
        return False
    return is_right(
        answer_or_none_on_any_error(student.network_backward, dscores, caches_by_hand(x, params))
    )


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
    """The student's network_forward(x, params); an error it raises fails the check, named as
    network_forward's mistake where it shows one: in every check that meets it, since an error
    gives no answer to check (never excused as charged before)."""
    try:
        return student.network_forward(x, params)
    except StudentRaised as error:
        named = forward_error_mistake(student, x, params, error)
        if named is None:
            raise
        mistake, detail = named
        lines = first_line(str(error)).split("\n")
        message = "\n".join([f"{lines[0]}; {detail}", *lines[1:]])
        fail(with_hint(message, mistake[1]), mistake)


def backward_answer(
    student: Any, x: np.ndarray, params: dict, dscores: np.ndarray, caches: Any
) -> Any:
    """The student's network_backward(dscores, caches), caches from its own right forward; an
    error it raises fails the check, named where the square network shows a named mistake (in
    every check that meets it: an error is never excused as charged before)."""
    try:
        return student.network_backward(dscores, caches)
    except StudentRaised as error:
        mistake = backward_error_mistake(student, x, params)
        if mistake is None:
            raise
        lines = first_line(str(error)).split("\n")
        detail = "where all the layers have one size, it runs and gives what the hint names"
        message = "\n".join([f"{lines[0]}; {detail}", *lines[1:]])
        fail(with_hint(message, mistake[1]), mistake)


def keys_failure(grads: Any, params: dict, parts: Any, call: str) -> None:
    """Fail where grads is not a dict keyed like params, naming what its keys show (from
    loss_and_gradients, the mistake of network_backward where that gives the same keys)."""
    if not isinstance(grads, dict):
        fail(
            f"{call} returned {type(grads).__name__}; expected a dict of gradients keyed like "
            f"params: {key_order(params)}"
        )
    if key_order(grads) == key_order(params):
        return
    message = f"{call} returned the keys {key_order(grads)}; expected {key_order(params)}"
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
    if key_order(grads) != key_order(params):
        message = f"{call} returned the keys {key_order(grads)}; expected {key_order(params)}"
    else:
        shapes = ", ".join(f"{key} {np.shape(grads[key])}" for key in key_order(grads))
        message = f"{call} returned gradients of the shapes {shapes}"
    fail_unless_charged(with_hint(message, mistake[1]), mistake)
    return remapped(grads, mistake, params), {}, mistake
