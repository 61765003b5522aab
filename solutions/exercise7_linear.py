"""Exercise 7: the linear layer, forward and backward.

A linear (fully connected, affine) layer maps a batch x of shape (N, D) to out = x @ W + b of shape
(N, M), with W of shape (D, M) and b of shape (M,). Its backward pass takes dout = ∂L/∂out, shaped
(N, M), and returns the gradient for each input, shaped like that input:

    dx = dout @ Wᵀ          (N, D)
    dW = xᵀ @ dout          (D, M)   every example's contribution, summed
    db = Σ_n dout[n]        (M,)     summed over the batch, not averaged
"""

import numpy as np


def linear_forward(x, W, b):
    """out = x @ W + b, and the cache the backward pass needs.

    Inputs:
    - x: input data of shape (N, D)
    - W: weights of shape (D, M)
    - b: biases of shape (M,)

    Returns a tuple of:
    - out: an array of shape (N, M)
    - cache: (x, W, b)

    Example: linear_forward(np.ones((2, 3)), np.ones((3, 4)), np.zeros(4))[0] is 3s, shape (2, 4)
    """
    return x @ W + b, (x, W, b)


def linear_backward(dout, cache):
    """The gradients of the linear layer's inputs, from the upstream gradient.

    Inputs:
    - dout: the upstream gradient ∂L/∂out, shape (N, M)
    - cache: (x, W, b) as linear_forward returned it

    Returns a tuple of:
    - dx: gradient with respect to x, shape (N, D)
    - dW: gradient with respect to W, shape (D, M)
    - db: gradient with respect to b, shape (M,)

    Example: with x = np.ones((2, 3)) and dout = np.ones((2, 4)), db is array([2., 2., 2., 2.])
    """
    x, W, _ = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)
