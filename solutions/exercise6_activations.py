"""Exercise 6: activations, forward and backward.

An activation is applied entry by entry, so its backward pass is the chain rule entry by entry: the
gradient arriving from above (dout) times the activation's own derivative at that entry.

Every forward returns (out, cache); the cache holds what the backward needs. Every backward takes
(dout, cache) and returns dz, shaped like z. The derivatives:

    sigmoid: σ(z) = 1 / (1 + e^-z),   σ'(z) = σ(z)·(1 - σ(z))
    tanh:    t = tanh(z),             tanh'(z) = 1 - t²
    ReLU:    max(0, z),               ReLU'(z) = 1 where z > 0, else 0 (also at z = 0)
"""

import numpy as np


def sigmoid_forward(z):
    """σ(z) = 1 / (1 + e^-z), entry by entry, finite and exact even for z = ±1000.

    Inputs:
    - z: an array of any shape

    Returns a tuple of:
    - out: σ(z), shaped like z
    - cache: z itself (the backward recomputes σ from it)

    For large negative z, e^-z overflows; compute with e^-|z|, which never does:
    σ(z) = 1 / (1 + e^-z) for z >= 0 and e^z / (1 + e^z) for z < 0.

    Example: sigmoid_forward(np.array([0.0]))[0] gives array([0.5])
    """
    exp = np.exp(-np.abs(z))
    out = np.where(z >= 0, 1 / (1 + exp), exp / (1 + exp))
    return out, z


def sigmoid_backward(dout, cache):
    """The gradient through the sigmoid: dout · σ(z)·(1 - σ(z)).

    Inputs:
    - dout: the upstream gradient, shaped like z
    - cache: what sigmoid_forward returned as its cache (z)

    Returns:
    - dz, shaped like z

    Example: sigmoid_backward(np.ones(1), sigmoid_forward(np.zeros(1))[1]) gives array([0.25])
    """
    out, _ = sigmoid_forward(cache)
    return dout * out * (1 - out)


def tanh_forward(z):
    """tanh(z), entry by entry.

    Inputs:
    - z: an array of any shape

    Returns a tuple of:
    - out: tanh(z), shaped like z
    - cache: out (the backward needs only the output: tanh'(z) = 1 - tanh(z)²)

    Example: tanh_forward(np.zeros(2))[0] gives array([0., 0.])
    """
    out = np.tanh(z)
    return out, out


def tanh_backward(dout, cache):
    """The gradient through tanh: dout · (1 - t²), with t = tanh(z) from the cache.

    Inputs:
    - dout: the upstream gradient, shaped like z
    - cache: what tanh_forward returned as its cache (t = tanh(z))

    Returns:
    - dz, shaped like z

    Example: tanh_backward(np.ones(1), tanh_forward(np.zeros(1))[1]) gives array([1.])
    """
    return dout * (1 - cache**2)


def relu_forward(z):
    """ReLU(z) = max(0, z), entry by entry.

    Inputs:
    - z: an array of any shape

    Returns a tuple of:
    - out: max(0, z), shaped like z
    - cache: z itself

    Example: relu_forward(np.array([-1.0, 2.0]))[0] gives array([0., 2.])
    """
    return np.maximum(0, z), z


def relu_backward(dout, cache):
    """The gradient through ReLU: dout where z > 0, and 0 elsewhere (ReLU'(0) = 0).

    Inputs:
    - dout: the upstream gradient, shaped like z
    - cache: what relu_forward returned as its cache (z)

    Returns:
    - dz, shaped like z

    Example: relu_backward(np.ones(3), np.array([-1.0, 0.0, 2.0])) gives array([0., 0., 1.])
    """
    return dout * (cache > 0)
