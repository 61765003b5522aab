"""Hidden checks for exercise 5, the feedforward network: the reference on deeper networks, other
activations and batch sizes, and the same result from the same call twice. feedforward and
feedforward_layers score apart; an answer that follows a named mistake of a function it calls
(as the public checks name it, charged there once) is not charged again, nor is a mistake the
public checks charged in the same function."""

from typing import Any

import numpy as np

from grader.checks import (
    check,
    describe,
    expect_array,
    expect_matches_reference,
    fail,
    fail_unless_charged,
    shared,
    with_hint,
)
from grader.student_code.errors import StudentRaised
from grader.student_code.objects import changed_arguments

# The mistakes and their words, shared with the public checks: the same mistake, charged once.
mistakes = shared(__file__, "_exercise5_mistakes")
OUTPUT_ACTIVATED = mistakes.OUTPUT_ACTIVATED
layers_by_hand = mistakes.layers_by_hand


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


NETWORKS = [([5, 8, 6, 4, 2], 7, np.tanh), ([5, 3, 1], 1, sigmoid), ([5, 9, 9, 3], 3, np.tanh)]


def network(solution, rng, sizes):
    params = solution.init_network(sizes, int(rng.integers(1000)))
    return {key: value + 0.2 * rng.normal(size=value.shape) for key, value in params.items()}


def answer(
    function: Any,
    call: str,
    student: Any,
    x: np.ndarray,
    params: dict[str, np.ndarray],
    activation: Any,
) -> Any:
    """The student's ``function``(x, params, activation), an error named where it shows a named
    mistake (as the public checks name it)."""
    try:
        return function(x, params, activation)
    except StudentRaised as error:
        hint = mistakes.layers_error_hint(student, error, params, call)
        raise mistakes.explained(error, hint) from None


@check(points=0.5)
def test_feedforward_matches_reference(student, solution, rng):
    """feedforward agrees with the reference on deeper networks, batch sizes 1 to 7, and twice."""
    for sizes, batch, activation in NETWORKS:
        params = network(solution, rng, sizes)
        x = rng.normal(size=(batch, 5))
        call = f"feedforward(x ({batch}, 5), params of a {sizes} network)"
        expected = solution.feedforward(x, params, activation)
        got = answer(student.feedforward, call, student, x, params, activation)
        own = mistakes.output_mistakes(changed_arguments(student), x, params, activation)
        if mistakes.whole_list(got, expected):
            message = (
                f"{call} returned {describe(got)}; expected an array of shape {expected.shape}"
            )
            fail_unless_charged(
                with_hint(message, mistakes.WHOLE_LIST), ("feedforward", mistakes.WHOLE_LIST)
            )
            got = got[-1]
        following = mistakes.followed_by_feedforward(student, x, params, activation)
        activated = layers_by_hand(x, params, activation, OUTPUT_ACTIVATED)[-1]
        if mistakes.following_shape(got, call, expected.shape, following):
            continue
        mistakes.wrong_entry(got, x, call, expected.shape)
        if mistakes.stops_short(got, layers_by_hand(x, params, activation), call, following):
            continue
        first = expect_array(got, call, expected.shape)
        expect_matches_reference(
            first, expected, call, mistakes={**following, OUTPUT_ACTIVATED: activated, **own}
        )
        second = student.feedforward(x, params, activation)
        if isinstance(second, (list, tuple)) and mistakes.whole_list(second, expected):
            second = second[-1]
        if not np.array_equal(first, second):
            fail(f"{call} gave a different result the second time; it must not keep state")


@check(points=0.5)
def test_feedforward_layers_matches_reference(student, solution, rng):
    """feedforward_layers agrees with the reference on deeper networks and batch sizes 1 to 7."""
    mistake = mistakes.layer_forward_mistake(student)
    for sizes, batch, activation in NETWORKS:
        params = network(solution, rng, sizes)
        x = rng.normal(size=(batch, 5))
        call = f"feedforward_layers for a {sizes} network"
        layers = answer(student.feedforward_layers, call, student, x, params, activation)
        reference = solution.feedforward_layers(x, params, activation)
        if not isinstance(layers, (list, tuple)) or len(layers) != len(reference):
            hint, named = mistakes.short_list_hint(student, layers, x, params, activation, call)
            message = f"{call} returned {describe(layers)}; expected {len(reference)} arrays"
            if named is None:
                fail(with_hint(message, hint))
            fail_unless_charged(with_hint(message, hint), named)
            if hint != mistakes.X_MISSING:
                continue  # its entries are those of the layers it stops at, checked
            layers = [x, *layers]
        following = {OUTPUT_ACTIVATED: layers_by_hand(x, params, activation, OUTPUT_ACTIVATED)}
        if mistake is not None:
            following = {mistake: layers_by_hand(x, params, activation, mistake), **following}
        following.update(mistakes.list_mistakes(layers, x, params, activation))
        for index, (layer, want) in enumerate(zip(layers, reference, strict=True)):
            name = f"feedforward_layers(...)[{index}] for a {sizes} network"
            expect_matches_reference(
                expect_array(layer, name, want.shape),
                want,
                name,
                mistakes={key: values[index] for key, values in following.items()},
            )


@check(points=1)
def test_init_network_matches_reference(student, solution, rng):
    """init_network agrees with the reference for other sizes and seeds."""
    for sizes in ([5, 1], [5, 20, 10, 3]):
        seed = int(rng.integers(2**31))
        call = f"init_network({sizes}, seed={seed})"
        got = student.init_network(sizes, seed)
        expected = solution.init_network(sizes, seed)
        if not isinstance(got, dict) or sorted(got, key=str) != sorted(expected):
            fail(f"{call} returned {describe(got)}; expected keys {sorted(expected)}")
        for key, value in expected.items():
            expect_matches_reference(
                expect_array(got[key], f"{call}[{key!r}]", value.shape), value, f"{call}[{key!r}]"
            )
