"""Exercise 8: losses, and their gradients.

A loss turns the network's output into one number to make smaller. Each function returns the loss
and its gradient with respect to the network's output, ready for the backward pass. Losses here
average over the batch, so the 1/N lives in the gradient.

Mean squared error, for regression, averages over every entry of the (N, M) output:

    L = mean((pred - target)²),        ∂L/∂pred = 2·(pred - target) / (N·M)

Softmax cross-entropy, for classification into C classes, turns each row of scores into
probabilities p = softmax(scores) and takes the negative log-probability of the right class y:

    L = -(1/N) Σ_n log p[n, y_n],      ∂L/∂scores = (p - onehot(y)) / N
"""

import numpy as np


def mse_loss(pred, target):
    """Mean squared error over all entries, and its gradient.

    Inputs:
    - pred: predictions, an array of shape (N, M)
    - target: the true values, shape (N, M)

    Returns a tuple of:
    - loss: a float, mean((pred - target)²)
    - dpred: ∂loss/∂pred, shape (N, M)

    Example: mse_loss(np.array([[1.0, 3.0]]), np.array([[0.0, 1.0]])) gives (2.5, array([[1., 2.]]))
    """
    diff = pred - target
    return float(np.mean(diff**2)), 2 * diff / diff.size


def softmax(scores):
    """Each row of scores turned into probabilities, without overflow for scores of ±1000.

    Inputs:
    - scores: an array of shape (N, C)

    Returns:
    - probabilities of shape (N, C); each row is positive and sums to 1

    Subtract each row's maximum before exponentiating: it changes nothing mathematically and keeps
    every exponent at most 0.

    Example: softmax(np.array([[0.0, 0.0]])) gives array([[0.5, 0.5]])
    """
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def softmax_cross_entropy(scores, labels):
    """Softmax cross-entropy over the batch and its gradient, finite for scores of ±1000.

    Inputs:
    - scores: an array of shape (N, C)
    - labels: the right class of each example, ints in 0 .. C-1, shape (N,)

    Returns a tuple of:
    - loss: a float, -(1/N) Σ_n log softmax(scores)[n, labels[n]]
    - dscores: ∂loss/∂scores, shape (N, C): (softmax(scores) - onehot(labels)) / N

    Take the log of the probabilities through log-softmax, shifted - log Σ exp(shifted), rather
    than np.log(softmax(...)), which gives log(0) = -inf when a probability underflows.

    Example: softmax_cross_entropy(np.zeros((2, 2)), np.array([0, 1])) gives (log 2, [[-0.25,
    0.25], [0.25, -0.25]])
    """
    count = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -float(np.mean(log_probs[np.arange(count), labels]))
    dscores = np.exp(log_probs)
    dscores[np.arange(count), labels] -= 1
    return loss, dscores / count
