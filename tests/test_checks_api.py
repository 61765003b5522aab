"""The assertions check authors use: what they accept, and the messages and hints they give."""

from __future__ import annotations

import numpy as np
import pytest

from grader.check_outcome import CheckRecord, recording
from grader.checks import (
    CheckFailed,
    check,
    describe,
    expect_array,
    expect_close,
    expect_derivative,
    expect_gradient,
    expect_number,
    expect_same_again,
)


def message(function, *args, **kwargs) -> str:
    with pytest.raises(CheckFailed) as caught:
        function(*args, **kwargs)
    return str(caught.value)


def test_close_values_pass() -> None:
    expect_close(1.0 + 1e-12, 1.0, "f(1)")
    expect_close(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-10]), "f(x)")


@pytest.mark.parametrize(
    ("got", "hint"),
    [
        (-12.0, "the sign is flipped"),
        (24.0, "the result is twice what it should be (a factor of 2 too many)"),
        (6.0, "the result is half what it should be (a factor of 2 missing)"),
    ],
)
def test_generic_hints_for_arrays(got: float, hint: str) -> None:
    expected = np.array([12.0, -3.0])
    text = message(expect_close, expected * got / 12.0, expected, "g'(x)")
    assert text.endswith(f"\nHint: {hint}.")


def test_one_number_gets_no_generic_hint_a_coincidence_could_give() -> None:
    assert message(expect_close, 24.0, 12.0, "g'(3)") == "g'(3): expected 12, got 24."
    assert message(expect_close, -12.0, 12.0, "g'(3)") == "g'(3): expected 12, got -12."


def test_specific_hint_comes_first() -> None:
    text = message(expect_close, 24.0, 12.0, "d(3)", mistakes={"you divided by h": 24.0})
    assert text.endswith("Hint: you divided by h.")


def test_array_message_names_the_worst_entry_and_transposition() -> None:
    expected = np.arange(6.0).reshape(2, 3) - 2.5
    text = message(expect_close, expected.T.copy(), expected, "dW")
    assert "returned an array of shape (3, 2); expected shape (2, 3)" in text
    square = np.array([[1.0, 2.0], [3.0, 4.0]])
    text = message(expect_close, square.T, square, "dW")
    assert text == (
        "dW: 2 of 4 entries differ; worst at [0, 1]: expected 2, got 3.\n"
        "Hint: the result is transposed."
    )


def test_wrong_entries_in_one_row_or_one_column_are_said_to_be() -> None:
    expected = np.arange(12.0).reshape(3, 4) + 1
    one_row = expected.copy()
    one_row[2, 1:3] = 0.0
    assert "2 of 12 entries differ, all in row 2; worst at [2, 2]" in message(
        expect_close, one_row, expected, "dW"
    )
    one_column = expected.copy()
    one_column[:, 3] *= 1.5
    assert "3 of 12 entries differ, all in column 3;" in message(
        expect_close, one_column, expected, "dW"
    )
    scattered = expected.copy()
    scattered[0, 0] = scattered[2, 3] = 0.0
    assert "2 of 12 entries differ; worst" in message(expect_close, scattered, expected, "dW")
    single = expected.copy()
    single[1, 1] = 0.0
    assert "1 of 12 entries differ; worst" in message(expect_close, single, expected, "dW")


def test_number_must_be_a_number() -> None:
    assert expect_number(np.float64(2.5), "f()") == 2.5
    assert expect_number(np.array(3.0), "f()") == 3.0
    assert "None (is a `return` missing?)" in message(expect_number, None, "f()")
    assert "the bool True" in message(expect_number, True, "f()")
    assert "'3'" in message(expect_number, "3", "f()")


def test_array_must_have_the_shape() -> None:
    assert expect_array(np.zeros(3, dtype=np.int64), "f()", (3,)).dtype == np.float64
    assert "expected shape (3,)" in message(expect_array, np.zeros(4), "f()", (3,))
    assert "a list of 3 items" in message(expect_array, [1, 2, 3], "f()", (3,))


def test_derivative_against_central_differences() -> None:
    x = np.linspace(-2, 2, 5)
    expect_derivative(3 * x**2, lambda v: v**3, x, "d(x³)")
    text = message(expect_derivative, 3 * x, lambda v: v**3, x, "d(x³)")
    assert "entries differ" in text and "central difference" in text


def test_describe() -> None:
    assert describe(np.array([1.0, -2.0])) == "[1, -2]"
    assert describe(np.zeros((3, 4))) == "an array of shape (3, 4)"
    assert describe(2.0) == "2"


def test_check_needs_positive_points() -> None:
    with pytest.raises(ValueError):
        check(points=0)


def test_derivative_blames_a_function_that_returns_no_number() -> None:
    def two_x_squared(x):
        return None

    text = message(expect_derivative, np.zeros(3), two_x_squared, np.ones(3), "d(2x²)")
    assert text.startswith("two_x_squared([1.00001, 1.00001, 1.00001]) returned None")
    assert "returned None (is a `return` missing?)" in text


# ---------------------------------------------------------------- another function's mistake

NO_BIAS = ("forward", "the bias is missing")


def test_a_mistake_of_another_function_is_named_as_that_function_s() -> None:
    with pytest.raises(CheckFailed) as caught:
        expect_close(0.0, 2.0, "backward(dout)", mistakes={NO_BIAS: 0.0, "halved": 1.0})
    assert caught.value.mistake == NO_BIAS
    assert str(caught.value).endswith(
        "Hint: this follows the mistake in forward: the bias is missing."
    )
    with pytest.raises(CheckFailed) as caught:
        expect_close(1.0, 2.0, "backward(dout)", mistakes={NO_BIAS: 0.0, "halved": 1.0})
    assert caught.value.mistake == ("backward", "halved")


def test_a_gradient_of_a_mistaken_forward_is_that_mistake_and_charged_once() -> None:
    x, weights, b = np.arange(6.0).reshape(2, 3), np.ones((3, 2)), np.array([0.5, -1.0])

    def loss(v):
        return float(np.sum(x @ weights + v))

    def loss_without_bias(v):
        return float(np.sum(x @ weights))

    forwards = {NO_BIAS: loss_without_bias}
    expect_gradient(np.full(2, 2.0), loss, b, "backward: db", mistaken_forwards=forwards)
    with pytest.raises(CheckFailed) as caught:  # not charged before: it fails, with its hint
        expect_gradient(np.zeros(2), loss, b, "backward: db", mistaken_forwards=forwards)
    assert caught.value.mistake == NO_BIAS and "this follows the mistake in forward" in str(
        caught.value
    )
    record = CheckRecord(charged={NO_BIAS: "forward is right"})
    with recording(record):  # charged by an earlier check: a note (one per check), no failure
        expect_gradient(np.zeros(2), loss, b, "backward: db", mistaken_forwards=forwards)
        expect_gradient(np.zeros(2), loss, -b, "backward: db", mistaken_forwards=forwards)
        with pytest.raises(CheckFailed):  # what follows no mistake still fails
            expect_gradient(np.ones(2), loss, b, "backward: db", mistaken_forwards=forwards)
    assert len(record.repeats) == 1 and "forward is right" in record.repeats[0]


def test_a_derivative_of_a_mistaken_forward_is_that_mistake() -> None:
    x = np.linspace(-2, 2, 5)
    squared = {("f", "x² where x³ was asked"): lambda v: v**2}
    with pytest.raises(CheckFailed) as caught:
        expect_derivative(2 * x, lambda v: v**3, x, "f_prime(x)", mistaken_forwards=squared)
    assert caught.value.mistake == ("f", "x² where x³ was asked")


def test_the_same_call_again_must_give_the_same_answer() -> None:
    expect_same_again(np.ones(3), np.ones(3), np.ones(3), "f(x)")
    expect_same_again(np.ones(3), np.ones(3) + 1e-12, np.ones(3), "f(x)")  # rounding only
    text = message(expect_same_again, np.ones(3), np.zeros(3), np.ones(3), "f(x)")
    assert text.startswith("the same call a second time: f(x): 3 of 3 entries differ")
    assert text.endswith("keep nothing from one call to the next.")
    assert "expected an array" in message(expect_same_again, np.ones(3), None, np.ones(3), "f(x)")


def test_two_numbers_a_change_in_place_shows_are_written_apart() -> None:
    from grader.check_messages import distinct

    assert distinct(2.1253301, 2.1253309) == ("2.1253301", "2.1253309")
    assert distinct(1.0, 2.0) == ("1", "2")
    was, now = distinct(0.1, 0.1 + 2**-55)
    assert was != now


def test_an_integer_too_large_for_a_float_is_a_wrong_answer_not_a_broken_check() -> None:
    text = message(expect_number, 10**400, "count_layers(params)")
    assert text.startswith("count_layers(params) returned an integer too large for a float")
