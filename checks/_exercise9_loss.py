"""The mistakes of exercise 9's loss_and_gradients, named in the same words by the public and
the hidden checks (each loads this module with ``shared(__file__, "_exercise9_loss")``), so that
each is charged once, in the first check that meets it.

What loss_and_gradients gets from the student's own network_forward and network_backward is
checked as theirs (``Parts``): where one of them shows a named mistake of
checks/_exercise9_mistakes.py and loss_and_gradients gives exactly what that mistake gives, as
computed here, that is their mistake, charged where it was made. An error loss_and_gradients
raises is never excused: it fails in every check that meets it, its hint saying which
function's mistake it follows. A factor of the batch size N is confirmed on a batch of N + 1.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

import numpy as np

from grader.checks import fail, fail_unless_charged, follows, shared, shows, with_hint
from grader.student_code.errors import StudentError, StudentRaised

network = shared(__file__, "_exercise9_mistakes")  # the network's and the backward's mistakes

Mistake = tuple[str, str]

# ---------------------------------------------------------------- the words

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
    and the named mistake either shows there: what a loss_and_gradients calling them follows.
    by_hand: the gradients that mistake gives here as computed by hand, under the keys it keys
    them (a mistake of the backward on a right forward's caches), or None where they are not
    known here (a forward's mistake, or caches at fault: what a backward makes of them)."""

    def __init__(self, student: Any, x: np.ndarray, labels: np.ndarray, params: dict) -> None:
        self.mistake: Mistake | None = None
        self.forward_right = False
        self.error: tuple[int | None, str] | None = None
        self.loss: float | None = None
        self.grads: Any = None
        self.by_hand: dict | None = None
        try:
            answer = student.network_forward(x, params)
        except StudentRaised as error:
            self.error = network.error_kind(error)
            named = network.forward_error_mistake(student, x, params, error)
            self.mistake = named[0] if named else None
            return
        except StudentError:
            return
        if not isinstance(answer, (tuple, list)) or len(answer) != 2:
            return
        scores, caches = answer
        right = network.forward_by_hand(x, params)
        forward_right = self.forward_right = shows(scores, right)
        if not forward_right:
            self.mistake = network.scores_mistake(scores, x, params)
        try:
            scores = np.asarray(scores, dtype=np.float64)
            self.loss, dscores = cross_entropy(scores, labels)
        except (TypeError, ValueError, IndexError):
            return
        raised = False
        try:
            self.grads = student.network_backward(dscores, caches)
        except StudentRaised as error:
            self.error, raised = network.error_kind(error), True
        except StudentError:
            return
        if not forward_right:
            return
        if network.caches_at_fault(student, x, params, dscores, caches):
            self.mistake = (
                network.square_forward_mistake(student, x, params) or network.CACHES_MISMATCH
            )
            return
        if raised:
            self.mistake = network.backward_error_mistake(student, x, params)
        else:
            fit = network.confirmed(
                student, network.backward_fit(self.grads, x, params, dscores), x, params
            )
            self.mistake = fit[0] if fit is not None else None
            if fit is not None:
                self.by_hand = fit[1] or keyed_by_hand(self.grads, fit[0], x, params, dscores)

    def gives(self, loss: Any, grads: Any, params: dict) -> bool:
        """Whether (loss, grads) is what these parts give, gradients keyed like params (or as the
        backward's named mistake of the keys keys them)."""
        if self.loss is None or not isinstance(grads, dict) or not isinstance(self.grads, dict):
            return False
        keyed = (
            network.key_order(params)
            if self.mistake not in network.KEY_MISTAKES
            else network.key_order(self.grads)
        )
        if network.key_order(grads) != keyed or network.key_order(self.grads) != keyed:
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
    named mistake: that mistake again. Excused where charged before (True: nothing more to
    check) only where every gradient is what that mistake gives as computed by hand; a forward
    that the checks follow (a ReLU on the last layer, none on the hidden ones) is left to the
    check's own comparisons (False), against what that forward gives; any other fails, named
    (what it gives is not known here, so nothing would be verified)."""
    if parts.mistake is None or not parts.gives(loss, grads, params):
        return False
    if parts.mistake in (network.LAST_LAYER_RELU, network.NO_HIDDEN_RELU):
        return False
    message = f"{call} gives what network_forward and network_backward give here"
    hint = with_hint(message, follows(parts.mistake, call))
    by_hand = parts.by_hand
    if by_hand is None or not all(
        key in grads and shows(grads[key], value) for key, value in by_hand.items()
    ):
        fail(hint)
    fail_unless_charged(hint, parts.mistake)
    return True


def keyed_by_hand(
    grads: Any, mistake: Mistake, x: np.ndarray, params: dict, dscores: np.ndarray
) -> dict | None:
    """``grads``, whose keys show ``mistake`` (a mistake of the keys alone), where under the keys
    meant every gradient is the right one, computed by hand; None otherwise."""
    right = network.backward_by_hand(x, params, dscores)
    if right is None or not isinstance(grads, dict):
        return None
    meant = network.remapped(grads, mistake, params)
    if len(meant) != len(grads) or not all(
        key in right and shows(value, right[key]) for key, value in meant.items()
    ):
        return None
    return dict(grads)


def forward_loss_failure(parts: Parts, loss: float, right: float, call: str) -> None:
    """Fail where the loss is the one of the student's forward showing a named mistake whose
    gradients no check can follow (where they lack layers): named, though not charged again."""
    mistake = parts.follows_forward(loss, right)
    if mistake is None or mistake in (network.LAST_LAYER_RELU, network.NO_HIDDEN_RELU):
        return
    message = f"{call} loss: expected {right:.10g}, got {loss:.10g}"
    fail(with_hint(message, follows(mistake, call)))


def loss_error(
    student: Any, x: np.ndarray, labels: np.ndarray, params: dict, error: StudentRaised
) -> NoReturn:
    """loss_and_gradients raised ``error``: the check fails, in every check that meets it (an
    error gives no answer to check, and is never excused as charged before). Where it is the
    error of the student's own network_forward or network_backward showing a named mistake, the
    hint says it follows that mistake; where the same error comes from network_forward or
    network_backward given their arguments in the wrong order, that is named; else the error
    as it is."""
    call = "loss_and_gradients"
    kind = network.error_kind(error)
    parts = Parts(student, x, labels, params)
    if parts.mistake is not None and parts.error == kind:
        message = network.first_line(str(error))
        fail(with_hint(message, follows(parts.mistake, call)), parts.mistake)
    for mistake, swapped in ((FORWARD_ARGUMENTS, True), (BACKWARD_ARGUMENTS, False)):
        other = replay(student, x, labels, params, swapped)
        if other is not None and same_error(str(error), str(other)):
            fail(with_hint(network.first_line(str(error)), mistake[1]), mistake)
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
    if not isinstance(grads, dict) or network.key_order(grads) != network.key_order(params):
        return False
    scores = network.forward_by_hand(x, params)
    assert scores is not None
    right_loss, dscores = cross_entropy(scores, labels)
    right = network.backward_by_hand(x, params, dscores)
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
    answer = network.answer_or_none_on_any_error(
        student.loss_and_gradients, more_x, more_labels, params
    )
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return False
    loss, grads = answer
    count = more_x.shape[0]
    scores = network.forward_by_hand(more_x, params)
    assert scores is not None
    right_loss, dscores = cross_entropy(scores, more_labels)
    if mistake == LOSS_SUMMED:
        return shows(loss, count * right_loss)
    right = network.backward_by_hand(more_x, params, dscores)
    assert right is not None
    factor = count if mistake == NO_ONE_OVER_N else 1 / count
    return (
        isinstance(grads, dict)
        and network.key_order(grads) == network.key_order(params)
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
    for mistake, scores in network.forward_mistakes(x, params).items():
        if (
            mistake in (network.LAST_LAYER_RELU, network.NO_HIDDEN_RELU)
            and parts.mistake == mistake
        ):
            found[mistake] = cross_entropy(scores, labels)[0]
    right = network.forward_by_hand(x, params)
    assert right is not None
    if parts.forward_right:
        found[LOSS_OF_RELU] = cross_entropy(network.relu(right), labels)[0]
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
    if not isinstance(grads, dict) or network.key_order(grads) != network.key_order(params):
        return {}
    if penalty_fit(loss, grads, x, labels, params):
        return {PENALTY: grads}
    scores = network.forward_by_hand(x, params)
    assert scores is not None
    right = network.backward_by_hand(x, params, cross_entropy(scores, labels)[1])
    from_scores = network.backward_by_hand(x, params, scores)
    assert right is not None and from_scores is not None
    count = x.shape[0]
    rectified = network.backward_by_hand(x, params, cross_entropy(network.relu(scores), labels)[1])
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs = shifted / shifted.sum(axis=1, keepdims=True)
    candidates = {
        LOSS_OF_RELU: rectified,
        NO_ONE_HOT: network.backward_by_hand(x, params, probs / count),
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
