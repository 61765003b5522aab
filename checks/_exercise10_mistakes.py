"""Exercise 10's named training mistakes, which its public and hidden checks both name, in the
same words, each charged once as a mistake of ``train`` (or of ``sgd_update``).

The public checks recognise a mistake from train's first epochs on their own data set; the hidden
checks from what train returns after many epochs on another one, against what train with that
mistake returns there (``mistaken_trainings``), computed with the reference's own functions.
The check files load this module with ``shared(__file__, "_exercise10_mistakes")``.
"""

from collections.abc import Callable
from typing import Any

import numpy as np

from grader.checks import answer_or_none, fail_unless_charged, shows, with_hint

UPHILL = "the step goes uphill: subtract rate · grad"
SGD_UPHILL = ("sgd_update", UPHILL)
INIT_IN_LOOP = (
    "every epoch starts again from init_network's parameters (each loss is the first one, and "
    "the result is one step from the start): call init_network once, before the loop"
)
GRADS_ONCE = (
    "every epoch steps with the gradient of the starting parameters (the gradients are computed "
    "once, before the loop): recompute them at the current parameters in each epoch"
)
INDEX_SHIFTED = (
    "losses[0] holds the loss after the first update and the last entry the first loss: each "
    "loss is stored one slot early; store epoch k's loss in losses[k]"
)
PER_EXAMPLE = (
    "epochs=1 made one update per example, each on one row: an epoch is one full-batch "
    "update, loss_and_gradients on the whole data set and one sgd_update"
)
SHUFFLED_X = (
    "train shuffled the rows of x in place (the step is that of the shuffled x) but not the "
    "labels, so they no longer match: leave the order of x alone (full batch)"
)
AFTER_THE_UPDATE = "this is the loss after the update"
RECORD_BEFORE = "record the loss that loss_and_gradients gives before each update"
STARTED_FROM = (
    "returned the parameters it started from (those of epochs=0); each epoch updates them: "
    "params = sgd_update(params, grads, rate)"
)

Params = dict[str, np.ndarray]
LossAndGradients = Callable[[np.ndarray, np.ndarray, Params], tuple[float, Params]]


def train_mistake(hint: str) -> tuple[str, str]:
    """The named mistake (function, hint) a hint of train's is charged as, in every check."""
    return ("train", hint)


def uphill_mistake(student: Any) -> Any:
    """Whose mistake an uphill update is: sgd_update's, where the student's sgd_update steps
    uphill (at a point of this check's own), else train's own."""
    params, grads = {"b1": np.array([1.0, -2.0])}, {"b1": np.array([0.5, 0.25])}
    new = answer_or_none(student.sgd_update, params, grads, 0.1)
    if isinstance(new, dict) and "b1" in new and shows(new["b1"], params["b1"] + 0.1 * grads["b1"]):
        return SGD_UPHILL
    return UPHILL


def miscounted_losses(losses: Any, call: str, epochs: int) -> bool:
    """Fail, naming the mistake, where train's ``losses`` are a list or 1-d array of another
    length than ``epochs`` that a hint fits; True where that mistake was charged by an earlier
    check (noted here: nothing more to see in these losses), else False."""
    if not isinstance(losses, (np.ndarray, list)) or np.ndim(losses) != 1:
        return False
    hint = losses_count_hint(len(losses), epochs) if len(losses) != epochs else None
    if hint is None:
        return False
    fail_unless_charged(
        with_hint(f"{call} returned {len(losses)} losses for epochs={epochs}", hint),
        train_mistake(hint),
    )
    return True


def losses_count_hint(count: int, epochs: int) -> str | None:
    """The hint for a train that recorded ``count`` losses for ``epochs`` epochs, if one fits."""
    if count == epochs - 1:
        hint = "one loss too few (one fewer than epochs): for epoch in range(epochs)"
    elif count == epochs + 1:
        hint = "one loss too many (one more than epochs): for epoch in range(epochs)"
    elif count < epochs:
        hint = (
            f"{epochs - count} fewer than epochs: train makes all epochs updates, with no "
            "stop before the last, and records the loss before each"
        )
    else:
        return None
    return hint + ", one loss recorded per epoch"


def _step(params: Params, grads: Params, rate: float) -> Params:
    return {key: params[key] - rate * grads[key] for key in params}


def mistaken_trainings(
    loss_and_gradients: LossAndGradients,
    start: Params,
    x: np.ndarray,
    labels: np.ndarray,
    rate: float,
    epochs: int,
) -> dict[str, list[tuple[Params, np.ndarray]]]:
    """Each named mistake of train -> the (parameters, losses of shape (epochs,)) train returns
    with it, one pair per way of writing it, from ``start`` (init_network's parameters) on
    (x, labels). loss_and_gradients: the grader's or the reference's (never the student's)."""
    right_losses = np.zeros(epochs)
    trail = [start]
    for epoch in range(epochs):
        right_losses[epoch], grads = loss_and_gradients(x, labels, trail[-1])
        trail.append(_step(trail[-1], grads, rate))
    right = trail[-1]
    first_loss, first_grads = loss_and_gradients(x, labels, start)
    after = np.array([loss_and_gradients(x, labels, params)[0] for params in trail[1:]])
    stale = {key: start[key] - epochs * rate * first_grads[key] for key in start}
    # The loss at each point of the stale steps, for a loop that recomputes the loss only.
    stale_losses = np.array(
        [
            loss_and_gradients(x, labels, _step(start, first_grads, k * rate))[0]
            for k in range(epochs)
        ]
    )
    # Each with the losses it records too: train's losses are checked with its parameters, so a
    # curve that is made up is never excused by a mistake charged elsewhere.
    return {
        INIT_IN_LOOP: [(_step(start, first_grads, rate), np.full(epochs, first_loss))],
        GRADS_ONCE: [(stale, np.full(epochs, first_loss)), (stale, stale_losses)],
        AFTER_THE_UPDATE: [(right, after)],
        INDEX_SHIFTED: [(right, np.append(right_losses[1:], first_loss))],
        # Not STARTED_FROM: a train that returns init_network's parameters never trains, and a
        # check of its training is not excused by a charge of the same (test_unearned_points).
    }


def named_training(
    params: Params,
    losses: np.ndarray,
    expected_params: Params,
    expected_losses: np.ndarray,
    mistaken: Callable[[], dict[str, list[tuple[Params, np.ndarray]]]],
) -> str | None:
    """The one mistake of ``mistaken()`` (as mistaken_trainings gives them, computed only for a
    wrong answer) whose parameters and losses the student's train returned; None where the
    answer is right, or none or several fit."""

    def same(got: Params, other: Params) -> bool:
        return all(shows(got[key], value) for key, value in other.items())

    if shows(losses, expected_losses) and same(params, expected_params):
        return None
    fits = [
        hint
        for hint, ways in mistaken().items()
        if any(
            # A mistake that gives the right answer here cannot be told from it here.
            not (same(their_params, expected_params) and shows(their_losses, expected_losses))
            and same(params, their_params)
            and shows(losses, their_losses)
            for their_params, their_losses in ways
        )
    ]
    return fits[0] if len(fits) == 1 else None
