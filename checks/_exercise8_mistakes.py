"""The mistakes exercise 8's public and hidden checks both name, in the same words, so that each is
charged once: the value each gives at a check's own point, and the probes that tell an error or a
capped loss apart (a square batch, where a sum without keepdims broadcasts instead of raising; a
batch whose probabilities span e^-5 to e^-690, where an ε in the log shows). A mistake is named
where the answer is its value and no other listed mistake's; where two fit, the one an earlier
check charged in the same function is meant, and otherwise nothing is named. An error the
student's code raises is no answer: it is named, and fails every check that meets it."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks import (
    CheckFailed,
    answer_or_none,
    expect_number,
    expect_pair,
    fail,
    fail_unless_charged,
    follows,
    shows,
    with_hint,
)
from grader.student_code.errors import StudentError, StudentRaised

# ---------------------------------------------------------------- the words

MSE_SUMMED = "the loss is summed over the outputs; take the mean over every entry"
MSE_ALL_SUMMED = "the loss is summed over every entry: take the mean, the sum divided by N·M"
MSE_MEANS_SUMMED = "the loss adds up each example's mean; take the mean over every entry"
MSE_HALF_SUM = "this is ½·Σ(pred - target)², summed and halved: the loss is mean((pred - target)²)"
MSE_ABSOLUTE = "this is mean(|pred - target|), the absolute error: square the differences"
MSE_ROOT = "this is the square root of the mean squared error: the loss is mean((pred - target)²)"
MSE_HALF = (
    "this is ½·mean((pred - target)²), the one-half convention of other courses: here the loss "
    "is mean((pred - target)²), with no ½, and its gradient 2·(pred - target)/(N·M)"
)
MSE_PER_OUTPUT, MSE_PER_EXAMPLE = (
    f"the loss is one mean per {what} (np.mean along axis {axis}), an array: the loss is one "
    "number, the mean over every entry, np.mean without an axis"
    for what, axis in (("output", 0), ("example", 1))
)
MSE_NOT_DIVIDED = "divide the gradient by the number of entries, N·M"
MSE_OVER_N = "the gradient is divided by N only; the loss averages over all N·M entries"
MSE_OVER_M = "the gradient is divided by the M outputs only; the loss averages over all N·M entries"
MSE_FACTOR_2 = (
    "the gradient is half what it should be: the factor 2 from the square is missing, dpred = "
    "2·(pred - target)/(N·M)"
)
MSE_SIGN = "the sign is flipped: dpred = 2·(pred - target)/(N·M), pred minus target"

SOFTMAX_DOWN_COLUMNS = (
    "softmax",
    "the probabilities are normalised down each column (axis 0); each row is one example",
)
SOFTMAX_WHOLE = (
    "the probabilities are normalised over the whole array (a sum without axis), so no row sums "
    "to 1: sum each row, axis=1 with keepdims=True"
)
SOFTMAX_NOT_NORMALISED = (
    "the exponentials are not normalised, so no row sums to 1: divide each row by its sum, "
    "e / e.sum(axis=1, keepdims=True)"
)
SOFTMAX_INTEGERS = (
    "the probabilities are stored in an integer array (dtype int), which truncates each to 0: "
    "make the array float, np.zeros((N, C)) or np.zeros_like(scores)"
)
MAX_NO_KEEPDIMS, SUM_NO_KEEPDIMS, BOTH_NO_KEEPDIMS = (
    f"the row {what} without keepdims=True, have shape (N,), which numpy lines up with the "
    f"columns, not the rows: keep the axis, {keep}"
    for what, keep in (
        ("maxima, .max(axis=1)", ".max(axis=1, keepdims=True)"),
        ("sums, .sum(axis=1)", ".sum(axis=1, keepdims=True)"),
        ("maxima and the row sums, taken", "keepdims=True, in both"),
    )
)

CE_SUMMED = "the loss is summed over the batch; average it over the N examples"
CE_PER_EXAMPLE = "the loss is an array of each example's -log p: average them, one number"
CE_OVER_CLASSES = (
    "the loss is divided by the number of classes C too: a mean over the N·C entries of an "
    "(N, C) array; sum over the classes, then average over the N examples"
)
CE_LOSS_BY_C, CE_GRADIENT_BY_C = (
    f"the {what} is divided by the number of classes C = scores.shape[1]; divide by the number "
    "of examples N = scores.shape[0]"
    for what in ("loss", "gradient")
)
CE_LOSS_TWICE = "the loss is divided by N twice: np.mean already divides by N"
CE_MINUS = "the loss is negative: the minus sign is missing, loss = -(1/N) Σ_n log p[n, labels[n]]"
CE_LOSS_IN_LOOP, CE_GRADIENT_IN_LOOP = (
    f"the {what} is divided by N on every pass of the loop over the examples, so {earlier} are "
    "divided again and again: divide once, after the loop"
    for what, earlier in (("loss", "the first ones"), ("gradient", "earlier rows"))
)
CE_COLUMNS = "the log-probabilities are normalised down each column (axis 0): use axis=1, each row"
CE_WHOLE = (
    "the log-probabilities are normalised over the whole array (a sum without axis): each row "
    "is one example, log Σ exp along axis=1 with keepdims=True"
)
CE_ALL_CLASSES = (
    "the loss takes the log-probabilities of every class: only each example's own label counts, "
    "log_probs[np.arange(N), labels]"
)
CE_EPS_ADDED = (
    "this is -mean(log(p[y] + ε)): an ε added inside the log changes the loss, and caps it near "
    "-log ε where a probability underflows; take the log through log-softmax, shifted - "
    "log Σ exp(shifted), which needs no ε"
)
CE_EPS_CLIPPED = (
    "this is -mean(log(max(p[y], ε))): the probabilities are clipped to at least ε before the "
    "log, which caps the loss at -log ε where a probability underflows; take the log through "
    "log-softmax, shifted - log Σ exp(shifted), which needs no clipping"
)
CE_NOT_DIVIDED = "the 1/N is missing: divide the gradient by N"
CE_GRADIENT_TWICE = "the gradient is divided by N twice; divide by N once"
CE_GRADIENT_OVER_CLASSES = "the gradient is divided by the C classes too: divide by N only"
CE_EVERY_ROW = "dscores[:, labels] -= 1 subtracts in every row; use dscores[np.arange(N), labels]"
CE_ONE_EVERYWHERE = "1 is subtracted from every entry, where only each example's own label is meant"
CE_NO_ONEHOT = (
    "the one-hot of the labels is not subtracted: dscores = (softmax(scores) - onehot(labels)) "
    "/ N, 1 less at each example's own label"
)
CE_GRADIENT_SIGN = "the sign is flipped: dscores = (softmax(scores) - onehot(labels)) / N"
CE_N_FOR_C = (
    "it is right where N = C and fails where N ≠ C: the number of examples N = scores.shape[0] is "
    "used where the number of classes C = scores.shape[1] is meant (the one-hot of the labels is "
    "np.eye(C)[labels], of shape (N, C))"
)
CE_LABELS_AS_ONEHOT = (
    "labels holds class indices, N integers of shape (N,), not one-hot rows: make the one-hot "
    "with np.eye(C)[labels], or pick log_probs[np.arange(N), labels]"
)
CE_INDEX_ORDER = (
    "the indices are the wrong way round: [labels, np.arange(N)] picks rows by label; each "
    "example's own label is at [np.arange(N), labels], row n and column labels[n]"
)
CE_ARGUMENTS_SWAPPED = (
    "the arguments are read in the order (labels, scores); the signature is "
    "softmax_cross_entropy(scores, labels)"
)
# ---------------------------------------------------------------- the formulas


def log_softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def onehot(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.eye(scores.shape[1])[labels]


def picked(log_probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return log_probs[np.arange(log_probs.shape[0]), labels]


def cross_entropy_of(log_probs: np.ndarray, labels: np.ndarray) -> float:
    return -float(np.mean(picked(log_probs, labels)))


def gradient_of(log_probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return (np.exp(log_probs) - onehot(log_probs, labels)) / log_probs.shape[0]


def broadcast_log_probs(
    scores: np.ndarray, log: bool = True, shifted_only: bool = False
) -> dict[str, list[np.ndarray]]:
    """Hint -> the log-probabilities (or, log False, the probabilities, as e / e.sum(...) gives
    them: 0/0 where a row's exponentials all underflow) of a softmax whose row maximum or row
    sum is taken without keepdims (shape (N,), lined up with the columns): square batches only.
    shifted_only: without the sums of unshifted scores (at scores of ±1000 the missing shift is
    another mistake)."""
    shifts = [scores - scores.max(axis=1, keepdims=True), scores, scores - scores.max(axis=1)]
    variants: dict[str, list[np.ndarray]] = {}
    with np.errstate(all="ignore"):
        for index, shifted in enumerate(shifts):
            if shifted_only and index == 1:
                continue
            total = np.exp(shifted).sum(axis=1)
            if log:
                forms = [shifted - np.log(total)[:, None], shifted - np.log(total)[None, :]]
            else:
                forms = [np.exp(shifted) / total[:, None], np.exp(shifted) / total[None, :]]
            if index == 2:
                variants.setdefault(MAX_NO_KEEPDIMS, []).append(forms[0])
                variants.setdefault(BOTH_NO_KEEPDIMS, []).append(forms[1])
            else:
                variants.setdefault(SUM_NO_KEEPDIMS, []).append(forms[1])
    return variants


@dataclass(frozen=True)
class Weak:
    """A mistake's value where a coincidence is as likely: named only where charged before."""

    value: Any


def closest(got: Any, values: Any) -> Any:
    """Of a mistake's forms (a list), the one ``got`` shows, else the first; else its one form."""
    if isinstance(values, Weak):
        values = values.value
    if not isinstance(values, list):
        return values
    return next((value for value in values if shows(got, value)), values[0])


# ---------------------------------------------------------------- what each mistake gives


def mse_loss_mistakes(diff: np.ndarray) -> dict[str, tuple[float, np.ndarray]]:
    """Hint -> (the loss with that mistake, the gradient of that loss) for pred - target = diff."""
    n = diff.shape[0]
    squares = diff**2
    root = float(np.sqrt(np.mean(squares)))
    return {
        MSE_SUMMED: (float(np.mean(np.sum(squares, axis=1))), 2 * diff / n),
        MSE_ALL_SUMMED: (float(np.sum(squares)), 2 * diff),
        MSE_MEANS_SUMMED: (float(np.sum(np.mean(squares, axis=1))), 2 * diff / diff.shape[1]),
        MSE_HALF: (0.5 * float(np.mean(squares)), diff / diff.size),
        MSE_HALF_SUM: (0.5 * float(np.sum(squares)), diff),
        MSE_ABSOLUTE: (float(np.mean(np.abs(diff))), np.sign(diff) / diff.size),
        MSE_ROOT: (root, diff / (diff.size * root)),
    }


def mse_loss_forms(diff: np.ndarray) -> dict[str, np.ndarray]:
    return {MSE_PER_OUTPUT: np.mean(diff**2, axis=0), MSE_PER_EXAMPLE: np.mean(diff**2, axis=1)}


def ce_loss_forms(scores: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    return {CE_PER_EXAMPLE: -picked(log_softmax(scores), labels)}


def mse_gradient_mistakes(diff: np.ndarray) -> dict[str, np.ndarray]:
    right = 2 * diff / diff.size
    return {
        MSE_NOT_DIVIDED: 2 * diff,
        MSE_OVER_N: 2 * diff / diff.shape[0],
        MSE_OVER_M: 2 * diff / diff.shape[1],
        MSE_FACTOR_2: right / 2,
        MSE_SIGN: -right,
    }


def divided_in_loop(values: np.ndarray, n: int, after: bool) -> np.ndarray:
    """Rows of ``values`` divided by n on each pass of a loop: row i n - i times (n - 1 - i where
    the division comes before the row's own work)."""
    times = n - np.arange(n) - (0 if after else 1)
    return values / float(n) ** times.reshape((n,) + (1,) * (values.ndim - 1))


def ce_mistakes(
    scores: np.ndarray, labels: np.ndarray
) -> tuple[dict[str, tuple[Any, Any]], dict[str, Any]]:
    """(hint -> (the loss with that mistake, the gradient following it), hint -> the gradient
    with that mistake); a value may be a list of the mistake's forms."""
    n, classes = scores.shape
    log_probs = log_softmax(scores)
    probs = np.exp(log_probs)
    loss, right = cross_entropy_of(log_probs, labels), gradient_of(log_probs, labels)
    in_loop = [float(np.sum(divided_in_loop(-picked(log_probs, labels), n, a))) for a in (1, 0)]
    columns = log_softmax(scores.T).T
    whole = scores - scores.max() - np.log(np.sum(np.exp(scores - scores.max())))
    losses: dict[str, tuple[Any, Any]] = {
        CE_SUMMED: (n * loss, n * right),
        CE_OVER_CLASSES: (loss / classes, right / classes),
        CE_LOSS_TWICE: (loss / n, right / n),
        CE_LOSS_BY_C: (loss * n / classes, right * n / classes),
        CE_MINUS: (-loss, -right),
        CE_LOSS_IN_LOOP: (in_loop, right),
        CE_COLUMNS: (cross_entropy_of(columns, labels), gradient_of(columns, labels)),
        CE_WHOLE: (cross_entropy_of(whole, labels), gradient_of(whole, labels)),
        CE_ALL_CLASSES: ([-float(np.mean(log_probs)), -float(np.sum(log_probs)) / n], right),
    }
    every_row = probs.copy()
    every_row[:, labels] -= 1  # subtracts in every row, for each label's column
    gradients: dict[str, Any] = {
        CE_NOT_DIVIDED: n * right,
        CE_GRADIENT_TWICE: right / n,
        CE_GRADIENT_BY_C: right * n / classes,
        CE_GRADIENT_OVER_CLASSES: right / classes,
        CE_EVERY_ROW: every_row / n,
        CE_NO_ONEHOT: probs / n,
        CE_ONE_EVERYWHERE: (probs - 1) / n,
        CE_GRADIENT_SIGN: -right,
        CE_GRADIENT_IN_LOOP: [divided_in_loop(right * n, n, after) for after in (True, False)],
    }
    for hint, pairs in ce_candidates(scores, labels).items():
        values, slopes = [value for value, _ in pairs], [slope for _, slope in pairs]
        if hint == CE_LABELS_AS_ONEHOT and not np.any(labels):
            # Labels all 0 make the loss 0, which says little: named only where charged before.
            values, slopes = Weak(values), Weak(slopes)
        losses[hint] = (values, slopes)
        gradients[hint] = slopes
    return losses, gradients


def labels_as_onehot(scores: np.ndarray, labels: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """The (loss, gradient) pairs with the labels as one-hot rows, -Σ labels·log p / N and
    (p - labels) / N: labels[:, None], and labels[None, :] where it broadcasts (N = 1 or C)."""
    n, classes = scores.shape
    log_probs = log_softmax(scores)
    shapes = [labels[:, None]] + ([labels[None, :]] if n in (1, classes) else [])
    forms = []
    for shaped in shapes:
        rows = np.broadcast_to(shaped.astype(np.float64), scores.shape)
        forms.append((-float(np.sum(rows * log_probs)) / n, (np.exp(log_probs) - rows) / n))
    return forms


def index_order(scores: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """The loss and gradient indexed [labels, np.arange(N)], for N = C (elsewhere it raises)."""
    n = scores.shape[0]
    log_probs = log_softmax(scores)
    gradient = np.exp(log_probs)
    gradient[labels, np.arange(n)] -= 1
    return -float(np.mean(log_probs[labels, np.arange(n)])), gradient / n


def softmax_mistakes(scores: np.ndarray, answer: Any) -> dict[Any, Any]:
    """Hint -> what softmax(scores) gives with that mistake; answer: the student's, as returned
    (an integer array is a truncating buffer)."""
    probs = np.exp(log_softmax(scores))
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    raw = np.exp(scores - scores.max())
    mistakes: dict[Any, Any] = {
        SOFTMAX_DOWN_COLUMNS: np.exp(log_softmax(scores.T).T),
        SOFTMAX_WHOLE: [shifted / shifted.sum(), raw / raw.sum()],
        SOFTMAX_NOT_NORMALISED: [shifted, raw, np.exp(scores)],
    }
    if isinstance(answer, np.ndarray) and answer.dtype.kind in "iu":
        mistakes[SOFTMAX_INTEGERS] = np.trunc(probs)
    return mistakes


def same(got: Any, value: Any) -> bool:
    """Whether ``got`` is ``value`` to 1e-6, a nan where it has one (a mistake's 0/0 included)."""
    if not isinstance(got, np.ndarray) or np.shape(value) != got.shape:
        return False
    return bool(np.allclose(got, value, rtol=1e-6, atol=1e-9, equal_nan=True))


def softmax_following(
    student: Any, scores: np.ndarray, labels: np.ndarray, shifted_only: bool = False
) -> tuple[dict[Any, float], dict[Any, np.ndarray]]:
    """Where the student's softmax shows a named mistake at ``scores``: ((softmax, hint) -> the
    loss from those probabilities, the same key -> their gradient), for a loss that calls it.
    shifted_only: only the forms that subtract a maximum before exponentiating (at scores of
    ±1000 a softmax that does not makes another mistake, which no check charged)."""
    got = answer_or_none(student.softmax, scores)
    if not isinstance(got, np.ndarray) or got.shape != scores.shape:
        return {}, {}
    right = np.exp(log_softmax(scores))
    forms: dict[tuple[str, str], list[np.ndarray]] = {
        SOFTMAX_DOWN_COLUMNS: [np.exp(log_softmax(scores.T).T)],
    }
    for hint in (SOFTMAX_WHOLE, SOFTMAX_NOT_NORMALISED):
        forms[("softmax", hint)] = softmax_mistakes(scores, None)[hint]
    if shifted_only:  # without np.exp(scores), the last of the unnormalised forms
        forms[("softmax", SOFTMAX_NOT_NORMALISED)] = forms[("softmax", SOFTMAX_NOT_NORMALISED)][:2]
    if scores.shape[0] == scores.shape[1]:
        square = broadcast_log_probs(scores, log=False, shifted_only=shifted_only)
        for hint, variants in square.items():
            forms[("softmax", hint)] = variants
    losses: dict[Any, float] = {}
    gradients: dict[Any, np.ndarray] = {}
    for key, variants in forms.items():
        for probs in variants:
            if not np.allclose(probs, right, rtol=1e-12, atol=1e-15) and same(got, probs):
                with np.errstate(all="ignore"):
                    losses[key] = -float(np.mean(np.log(picked(probs, labels))))
                gradients[key] = (probs - onehot(scores, labels)) / scores.shape[0]
    return losses, gradients


# ---------------------------------------------------------------- naming, unless two fit


def fits(got: Any, reference: Any, value: Any) -> bool:
    """Whether ``got`` is ``value`` and ``value`` is not the right answer here."""
    right = np.asarray(reference, dtype=np.float64)
    candidate = np.asarray(value, dtype=np.float64)
    if candidate.shape == right.shape and np.allclose(candidate, right, rtol=1e-12, atol=1e-15):
        return False
    return shows(got, value)


def expect(
    expectation: Callable[..., None],
    got: Any,
    target: Any,
    call: str,
    reference: Any,
    mistakes: Mapping[Any, Any],
    following: Mapping[Any, Any] | None = None,
    **options: Any,
) -> None:
    """``expectation(got, target, call, mistakes=..., **options)`` (expect_close, expect_gradient,
    ...), a mistake named only where it alone fits ``got`` and is no Weak value. reference: the
    right answer, for telling which fit. A value may be a list of one mistake's forms.
    following: mistakes that an earlier answer of the call showed (a gradient following its
    loss), preferred where they fit. Where several fit, or a Weak one, the one charged earlier in
    this function is meant (noted, and the check goes on); where none was, nothing is named."""
    function = call.split("(")[0]
    offered: dict[Any, Any] = {}
    weak = set()
    for key, value in {**(following or {}), **mistakes}.items():
        offered.setdefault(key, closest(got, value))
        if isinstance(value, Weak):
            weak.add(key)
    fitting = [key for key, value in offered.items() if fits(got, reference, value)]
    preferred = [key for key in fitting if key in (following or {})]
    fitting = preferred or fitting
    if len(fitting) <= 1 and not weak & set(fitting):
        chosen = {key: offered[key] for key in fitting} or offered
        expectation(got, target, call, mistakes=chosen, **options)
        return
    try:
        expectation(got, target, call, mistakes={}, **options)
    except CheckFailed as failure:
        line = str(failure).split("\n")[0].rstrip(".")
        for key in fitting:
            mistake = key if isinstance(key, tuple) else (function, key)
            try:
                fail_unless_charged(with_hint(line, mistake[1]), mistake)
                return
            except CheckFailed:
                continue
        fail(with_hint(line, None))


def loss_pair(value: Any, call: str, shape: tuple[int, ...]) -> tuple[Any, Any]:
    """The answer as (loss, gradient); a pair (array of ``shape``, number) is the pair reversed:
    named, and (where an earlier check charged it) read the right way round."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        first, second = value
        if isinstance(first, np.ndarray) and first.shape == shape and as_number(second) is not None:
            function = call.split("(")[0]
            gradient = "dpred" if function == "mse_loss" else "dscores"
            hint = f"the pair is in the wrong order: return (loss, {gradient}), the loss first"
            message = f"{call} returned (an array of shape {shape}, a number)"
            fail_unless_charged(with_hint(message, hint), (function, hint))
            return second, first
    return expect_pair(value, call)


# ---------------------------------------------------------------- probes

SQUARE = np.array([[0.3, -1.2, 2.0], [1.7, 0.4, -0.8], [-0.5, 2.6, 1.1]])
SQUARE_LABELS = np.array([2, 0, 2])  # not a permutation, which would make row terms agree
# Two examples of three classes: where N for C fails, and three classes taken for granted not.
WIDE = np.array([[0.6, -1.4, 1.8], [2.1, 0.2, -0.7]])
WIDE_LABELS = np.array([2, 0])
# Probabilities of the right class from e^-5 down to e^-690, none of them underflowing.
GAPS = np.array([5.0, 12.0, 25.0, 40.0, 70.0, 150.0, 300.0, 500.0, 690.0])
CAPPED = np.stack([np.zeros_like(GAPS), -GAPS], axis=1)
CAPPED_LABELS = np.ones(len(GAPS), dtype=int)


def as_number(value: Any) -> float | None:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    real = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    return float(value) if real else None


def loss_of(answer: Any) -> tuple[float | None, Any]:
    """(loss, gradient) of a student's answer, (None, None) where it is no such pair."""
    pair = isinstance(answer, (tuple, list)) and len(answer) == 2
    return (as_number(answer[0]), answer[1]) if pair else (None, None)


def right_at(student: Any, scores: np.ndarray, labels: np.ndarray, given: Any = None) -> bool:
    """Whether softmax_cross_entropy is right for (scores, labels), given ``given`` instead."""
    loss, gradient = loss_of(
        answer_or_none(student.softmax_cross_entropy, *(given or (scores, labels)))
    )
    log_probs = log_softmax(scores)
    return bool(
        loss is not None
        and np.isclose(loss, cross_entropy_of(log_probs, labels), rtol=1e-9)
        and shows(gradient, gradient_of(log_probs, labels))
    )


def loss_number(value: Any, call: str, forms: Mapping[str, np.ndarray]) -> float:
    """``value`` as the loss, a number; an array that is one of ``forms`` (hint -> the loss per
    output or per example, not yet averaged) is that named mistake (of one entry, which may be
    the loss itself, only where charged before), and where charged before, its mean is read."""
    if isinstance(value, np.ndarray) and value.ndim >= 1:
        for hint, form in forms.items():
            if shows(value, form):
                function = call.split("(")[0]
                message = f"{call} returned an array of shape {value.shape}; expected a number"
                try:
                    fail_unless_charged(with_hint(message, hint), (function, hint))
                except CheckFailed:
                    if form.size > 1:
                        raise
                    break
                return float(np.mean(value))
    return expect_number(value, call)


def eps_curves(probability: np.ndarray) -> dict[str, Callable[[float], float]]:
    """Hint -> the loss as a function of ε (call under np.errstate: log(0) is -inf)."""
    return {
        CE_EPS_ADDED: lambda eps: -float(np.mean(np.log(probability + eps))),
        CE_EPS_CLIPPED: lambda eps: -float(np.mean(np.log(np.maximum(probability, eps)))),
    }


def solve_eps(curve: Callable[[float], float], loss: float) -> float | None:
    """The ε in 1e-330 .. 10 at which the decreasing ``curve`` gives ``loss``, if any."""
    low, high = -330.0, 1.0  # 1e-330 is 0.0
    if not curve(10.0**high) <= loss <= curve(10.0**low):
        return None
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if curve(10.0**middle) > loss else (low, middle)
    eps = 10.0**high
    return eps if abs(curve(eps) - loss) <= 1e-9 * abs(loss) + 1e-12 else None


def eps_mistakes(student: Any, scores: np.ndarray, labels: np.ndarray, loss: float) -> dict:
    """Hint -> the loss at (scores, labels) with an ε in the log, where the student's loss is
    that for one ε, and the same ε gives the student's loss on CAPPED too."""
    expected = cross_entropy_of(log_softmax(scores), labels)
    if not np.isfinite(loss) or not loss < expected:
        return {}
    probe, found = None, {}
    with np.errstate(all="ignore"):
        for hint, curve in eps_curves(np.exp(picked(log_softmax(scores), labels))).items():
            eps = solve_eps(curve, loss)
            if eps is None:
                continue
            if probe is None:
                answer = answer_or_none(student.softmax_cross_entropy, CAPPED, CAPPED_LABELS)
                probe, _ = loss_of(answer)
            if probe is None:
                return {}
            capped = eps_curves(np.exp(picked(log_softmax(CAPPED), CAPPED_LABELS)))[hint](eps)
            right = cross_entropy_of(log_softmax(CAPPED), CAPPED_LABELS)
            if np.isclose(probe, capped, rtol=1e-6) and not np.isclose(capped, right, rtol=1e-6):
                found[hint] = curve(eps)
    return found


def ce_candidates(
    scores: np.ndarray, labels: np.ndarray, shifted_only: bool = False
) -> dict[str, list[tuple[float, Any]]]:
    """Hint -> the (loss, gradient) pairs softmax_cross_entropy gives with the labels used as
    one-hot rows, and at a square batch (where these do not raise) with a maximum or sum without
    keepdims or the indices the wrong way round. shifted_only: as for broadcast_log_probs."""
    candidates = {CE_LABELS_AS_ONEHOT: labels_as_onehot(scores, labels)}
    if scores.shape[0] == scores.shape[1]:
        for hint, forms in broadcast_log_probs(scores, shifted_only=shifted_only).items():
            candidates[hint] = [
                (cross_entropy_of(form, labels), gradient_of(form, labels)) for form in forms
            ]
        candidates[CE_INDEX_ORDER] = [index_order(scores, labels)]
    return candidates


def explain_error(
    student: Any, function: str, error: StudentRaised, arguments: tuple[Any, ...]
) -> tuple[str, tuple[str, str]] | None:
    """(message, mistake) for an error that a probe explains (a maximum or sum without keepdims,
    the loss's arguments swapped, labels as one-hot rows, N for C); None where none or several."""
    line = str(error).split("\n")[0].rstrip(".")
    right = np.exp(log_softmax(SQUARE))
    own = answer_or_none(student.softmax, SQUARE)
    in_softmax = {
        hint
        for hint, forms in broadcast_log_probs(SQUARE).items()
        if any(fits(own, right, np.exp(form)) for form in forms)
    }
    found: set[tuple[str, str]] = set()
    if function == "softmax":
        found = {(function, hint) for hint in in_softmax}
    else:
        scores, labels = arguments
        if right_at(student, scores, labels, (labels, scores)):
            found.add((function, CE_ARGUMENTS_SWAPPED))
        if right_at(student, scores, labels, (scores, onehot(scores, labels))):
            found.add((function, CE_LABELS_AS_ONEHOT))
        loss, gradient = loss_of(
            answer_or_none(student.softmax_cross_entropy, SQUARE, SQUARE_LABELS)
        )
        square = log_softmax(SQUARE)
        right_loss = cross_entropy_of(square, SQUARE_LABELS)
        right_gradient = gradient_of(square, SQUARE_LABELS)
        if loss is not None:
            for hint, pairs in ce_candidates(SQUARE, SQUARE_LABELS).items():
                if any(
                    fits(loss, right_loss, value) or fits(gradient, right_gradient, slope)
                    for value, slope in pairs
                ):
                    found.add(("softmax" if hint in in_softmax else function, hint))
            if (
                not found
                and scores.shape[0] != scores.shape[1]
                and right_at(student, SQUARE, SQUARE_LABELS)
                and not right_at(student, WIDE, WIDE_LABELS)
            ):
                found.add((function, CE_N_FOR_C))
    if len(found) != 1:
        return None
    mistake = found.pop()
    return with_hint(line, follows(mistake, function)), mistake


def answer(student: Any, function: str, *arguments: Any) -> Any:
    """The student's ``function``(*arguments); an error a probe explains fails naming its mistake
    (which may be another function's, followed). It fails in every check that meets it, also
    where an earlier check charged that mistake: an error gives no answer to verify, so it is
    never excused."""
    try:
        return getattr(student, function)(*arguments)
    except StudentRaised as error:
        try:
            explained = explain_error(student, function, error, arguments)
        except StudentError:  # a probe timed out or crashed: the error as it was
            explained = None
        if explained is None:
            raise error from None
    fail(*explained)
