"""Exercise 9: backpropagation through the whole network.

The network of exercise 5, with ReLU in its hidden layers, ends in a softmax cross-entropy loss.
Backpropagation runs the layers of exercises 6 to 8 backwards: the gradient of the loss with
respect to the scores goes into the output layer's backward pass, whose dx goes into the ReLU before
it, whose dz goes into the linear layer before that, and so on down to the first layer. On the way,
each linear layer's backward pass gives the gradients of its W and b.

    forward:   h_0 = x,  z_k = h_{k-1} @ W_k + b_k,  h_k = ReLU(z_k)  (k < L),  scores = z_L
    backward:  dscores -> (dh_{L-1}, dW_L, db_L) -> dz_{L-1} -> (dh_{L-2}, dW_{L-1}, db_{L-1}) ...

The layers are given below (they are the answers to exercises 6 to 8), so this file stands alone.
Parameters are a dict {"W1": (n_0, n_1), "b1": (n_1,), "W2": ..., ...} as in exercise 5.
"""

import numpy as np


def linear_forward(x, W, b):
    """Given: out = x @ W + b, and the cache the backward pass needs.

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
    """Given: The gradients of the linear layer's inputs, from the upstream gradient.

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


def relu_forward(z):
    """Given: ReLU(z) = max(0, z), entry by entry.

    Inputs:
    - z: an array of any shape

    Returns a tuple of:
    - out: max(0, z), shaped like z
    - cache: z itself

    Example: relu_forward(np.array([-1.0, 2.0]))[0] gives array([0., 2.])
    """
    return np.maximum(0, z), z


def relu_backward(dout, cache):
    """Given: The gradient through ReLU: dout where z > 0, and 0 elsewhere (ReLU'(0) = 0).

    Inputs:
    - dout: the upstream gradient, shaped like z
    - cache: what relu_forward returned as its cache (z)

    Returns:
    - dz, shaped like z

    Example: relu_backward(np.ones(3), np.array([-1.0, 0.0, 2.0])) gives array([0., 0., 1.])
    """
    return dout * (cache > 0)


def softmax_cross_entropy(scores, labels):
    """Given: Softmax cross-entropy over the batch and its gradient, finite for scores of ±1000.

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


def network_forward(x, params):
    """The forward pass through every layer, keeping what each layer's backward pass needs.

    Inputs:
    - x: input data of shape (N, n_0)
    - params: {"W1": ..., "b1": ..., ...} with L layers; hidden layers use ReLU, the last none

    Returns a tuple of:
    - scores: the output layer's values, shape (N, n_L)
    - caches: whatever network_backward needs, for example a list with, per layer, the linear
      layer's cache and (except the last layer) the ReLU's cache

    Example: with params = init_network([5, 4, 3], 0) from exercise 5 and x of shape (2, 5),
    the scores have shape (2, 3)
    """
    count = sum(1 for key in params if key.startswith("W"))
    caches = []
    h = x
    for k in range(1, count + 1):
        z, linear_cache = linear_forward(h, params[f"W{k}"], params[f"b{k}"])
        relu_cache = None
        if k < count:
            z, relu_cache = relu_forward(z)
        caches.append((linear_cache, relu_cache))
        h = z
    return h, caches


def network_backward(dscores, caches):
    """The backward pass: from ∂L/∂scores, the gradient of every weight and bias.

    Inputs:
    - dscores: the gradient of the loss with respect to the scores, shape (N, n_L)
    - caches: as network_forward returned them

    Returns:
    - grads: a dict with the same keys as params, each gradient shaped like its parameter:
      {"W1": (n_0, n_1), "b1": (n_1,), ...}

    Example: with dscores of zeros, every gradient is zero
    """
    grads = {}
    dh = dscores
    for k in range(len(caches), 0, -1):
        linear_cache, relu_cache = caches[k - 1]
        if relu_cache is not None:
            dh = relu_backward(dh, relu_cache)
        dh, grads[f"W{k}"], grads[f"b{k}"] = linear_backward(dh, linear_cache)
    return grads


def loss_and_gradients(x, labels, params):
    """The network's softmax cross-entropy loss, and the gradient of every parameter.

    Inputs:
    - x: input data of shape (N, n_0)
    - labels: the right class of each example, ints in 0 .. n_L - 1, shape (N,)
    - params: {"W1": ..., "b1": ..., ...}

    Returns a tuple of:
    - loss: a float
    - grads: a dict keyed like params, each gradient shaped like its parameter

    Example: for a network whose last layer's weights and biases are all zero, the loss is
    log(n_L) whatever x is
    """
    scores, caches = network_forward(x, params)
    loss, dscores = softmax_cross_entropy(scores, labels)
    return loss, network_backward(dscores, caches)
