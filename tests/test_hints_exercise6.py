"""Exercise 6's hints: a wrong activation is named by the value its mistake gives at the check's
own points, or by what raised, and the hidden checks name it in the same words."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.course import Course
from tests.helpers import (
    assert_both_check_files_share,
    failed,
    grade_text,
    message_of,
    solution_text,
    with_function,
)


def test_the_hidden_checks_share_the_public_mistakes_word_for_word() -> None:
    assert_both_check_files_share(
        "exercise6",
        {
            "forward_mistakes",
            "backward_mistakes",
            "explained",
            "backward_error_hint",
            "pair_or_fail",
            "shape_or_fail",
        },
    )


# One submission per row, one mistake per activation: each check names its own.
CASES = [
    (
        """
def sigmoid_forward(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, e / (1 + e), 1 / (1 + e)), z

def tanh_backward(dout, cache):
    return dout * 1 - cache**2

def relu_forward(z):
    return np.where(z > 0, z, 0.01 * z), z
""",
        {
            "sigmoid": "this is σ(-z)",
            "sigmoid_matches_reference": "this is σ(-z)",
            "tanh": "in parentheses",
            "tanh_matches_reference": "in parentheses",
            "relu": "a leaky ReLU",
        },
    ),
    (
        """
def sigmoid_forward(z):
    return 1 / (1 + np.exp(-np.clip(z, -500, 500))), z

def tanh_forward(z):
    out = (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))
    return out, out

def relu_backward(dout, cache):
    return dout * np.heaviside(cache, 0.5)
""",
        {
            "sigmoid": "np.clip(z, -500, 500)",
            "tanh_matches_reference": "overflows float64",
            "relu": "not 0.5",
        },
    ),
    (
        """
def sigmoid_backward(dout, cache):
    s = sigmoid_forward(cache)
    return dout * s * (1 - s)

def tanh_backward(dout, cache):
    return np.dot(dout, 1 - cache**2)

def relu_forward(z):
    return max(0, z), z
""",
        {
            "sigmoid": "unpack it",
            "tanh": "a matrix product",
            "relu": "np.maximum(0, z)",
            "relu_matches_reference": "np.maximum(0, z)",
        },
    ),
    (
        """
def sigmoid_backward(dout, cache):
    s, _ = sigmoid_forward(cache)
    return dout * (1 - s**2)

def tanh_forward(z):
    return np.tanh(z), z

def relu_backward(dout, cache):
    return dout * cache > 0
""",
        {
            "sigmoid": "tanh's derivative",
            "sigmoid_matches_reference": "tanh's derivative",
            "tanh": "cache holds z",
            "tanh_matches_reference": "cache holds z",
            "relu": "booleans",
            "relu_matches_reference": "booleans",
        },
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("code", "says"), CASES)
def test_a_mistake_is_named_in_its_checks(
    course: Course, tmp_path: Path, code: str, says: dict[str, str]
) -> None:
    text = with_function(solution_text(course, "exercise6"), code)
    result = grade_text(course, "exercise6", text, tmp_path)
    for check_id, words in says.items():
        if check_id.endswith("_matches_reference") and check_id not in failed(result):
            # The hidden check met the mistake its public check charged: noted, not charged.
            assert any(words in note and "charged in" in note for note in result.notes)
        else:
            assert words in message_of(result, check_id), (check_id, message_of(result, check_id))
