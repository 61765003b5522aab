"""The finite-difference tolerance passes correct derivatives and catches realistic bugs."""

from __future__ import annotations

import numpy as np
import pytest

from grader import finite_diff


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def softmax_loss(logits: np.ndarray) -> float:
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(logits)), np.arange(len(logits)) % 3].mean())


def softmax_loss_gradient(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    probs[np.arange(len(logits)), np.arange(len(logits)) % 3] -= 1
    return probs / len(logits)


@pytest.mark.parametrize("seed", range(200))
def test_correct_sigmoid_derivative_always_passes(seed: int) -> None:
    z = np.random.default_rng(seed).uniform(-3, 3, size=(4, 5))
    numeric, scale = finite_diff.elementwise_derivative(sigmoid, z)
    analytic = sigmoid(z) * (1 - sigmoid(z))
    assert finite_diff.within_tolerance(analytic, numeric, scale).all()


def test_sigmoid_derivative_written_with_the_input_fails() -> None:
    z = np.random.default_rng(0).uniform(-3, 3, size=(4, 5))
    numeric, scale = finite_diff.elementwise_derivative(sigmoid, z)
    assert not finite_diff.within_tolerance(sigmoid(z) * (1 - z), numeric, scale).any()


@pytest.mark.parametrize("seed", range(50))
def test_correct_softmax_gradient_passes_with_large_logits(seed: int) -> None:
    logits = np.random.default_rng(seed).normal(scale=30, size=(4, 3))
    numeric, scale = finite_diff.gradient(softmax_loss, logits)
    assert finite_diff.within_tolerance(softmax_loss_gradient(logits), numeric, scale).all()


@pytest.mark.parametrize("factor", [2.0, 0.5, -1.0])
def test_scaled_softmax_gradient_fails(factor: float) -> None:
    logits = np.random.default_rng(1).normal(size=(4, 3))
    numeric, scale = finite_diff.gradient(softmax_loss, logits)
    wrong = factor * softmax_loss_gradient(logits)
    assert not finite_diff.within_tolerance(wrong, numeric, scale).all()


def test_zero_derivative_has_an_absolute_floor() -> None:
    """d/dx cos(x² - 1) at x = 1 is exactly 0; its central difference is not."""
    numeric, scale = finite_diff.elementwise_derivative(lambda x: np.cos(x**2 - 1), np.ones(1))
    assert finite_diff.within_tolerance(np.zeros(1), numeric, scale).all()
    assert not finite_diff.within_tolerance(np.full(1, 1e-4), numeric, scale).all()


def test_gradient_leaves_its_input_alone() -> None:
    x = np.arange(6.0).reshape(2, 3)
    before = x.copy()
    finite_diff.gradient(lambda v: float(np.sum(v**3)), x)
    assert np.array_equal(x, before)
