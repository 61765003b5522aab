"""Exercise 10: training.

Training repeats three steps until the loss is low: a forward pass to get the loss, a backward pass
to get the gradient of the loss for every parameter, and a gradient-descent update that moves every
parameter a small step against its gradient:

    W_k <- W_k - rate · ∂L/∂W_k,     b_k <- b_k - rate · ∂L/∂b_k

The update here is not in place: sgd_update returns new arrays in a new dict and leaves the
parameters and gradients it was given unchanged, so a caller can keep the old ones.

The network and its gradients are given below (the answers to exercises 5 to 9).
"""

import numpy as np


def init_network(layer_sizes, seed):
    """Given: Weights drawn from a seeded generator, biases zero.

    Inputs:
    - layer_sizes: the number of neurons per layer, input layer first, e.g. [5, 4, 3]
    - seed: an int; the same seed gives the same weights

    Returns:
    - params: a dict with, for each layer k = 1 .. len(layer_sizes) - 1,
      "Wk": an array of shape (layer_sizes[k-1], layer_sizes[k]) and "bk": zeros of shape
      (layer_sizes[k],). Draw them with rng = np.random.default_rng(seed), layer by layer in
      order, each W as rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_out)) where n_in is
      the size of the layer feeding it.

    Example: init_network([5, 4, 3], seed=0) has keys W1 (5, 4), b1 (4,), W2 (4, 3), b2 (3,)
    """
    rng = np.random.default_rng(seed)
    params = {}
    for k in range(1, len(layer_sizes)):
        n_in, n_out = layer_sizes[k - 1], layer_sizes[k]
        params[f"W{k}"] = rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_out))
        params[f"b{k}"] = np.zeros(n_out)
    return params


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
    """Given: The forward pass through every layer, keeping what each layer's backward pass needs.

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
    """Given: The backward pass: from ∂L/∂scores, the gradient of every weight and bias.

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
    """Given: The network's softmax cross-entropy loss, and the gradient of every parameter.

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


def sgd_update(params, grads, rate):
    """One gradient-descent step for every parameter, returning new parameters.

    Inputs:
    - params: {"W1": ..., "b1": ..., ...}; it must not be changed
    - grads: gradients keyed like params, each shaped like its parameter; it must not be changed
    - rate: the learning rate, a float

    Returns:
    - a new dict with the same keys: params[key] - rate * grads[key] for every key

    Example: sgd_update({"b1": np.ones(2)}, {"b1": np.ones(2)}, 0.5) gives {"b1": array([0.5, 0.5])}
    """
    return {key: params[key] - rate * grads[key] for key in params}


def train(x, labels, layer_sizes, rate, epochs, seed):
    """Train a network on (x, labels) by full-batch gradient descent.

    Inputs:
    - x: input data of shape (N, layer_sizes[0])
    - labels: the right class of each example, ints in 0 .. layer_sizes[-1] - 1, shape (N,)
    - layer_sizes: neurons per layer, input first, e.g. [5, 8, 3]
    - rate: the learning rate, a float
    - epochs: how many updates to make, an int >= 0
    - seed: for init_network; the same seed gives the same result

    Returns a tuple of:
    - params: the trained parameters, a dict as init_network returns
    - losses: an array of shape (epochs,): the loss before each update

    Start from init_network(layer_sizes, seed); each epoch, compute the loss and gradients on the
    whole data set, record the loss, then update with sgd_update.

    Example: with rate 0 the parameters stay those of init_network and every loss is the same
    """
    params = init_network(layer_sizes, seed)
    losses = np.zeros(epochs)
    for epoch in range(epochs):
        losses[epoch], grads = loss_and_gradients(x, labels, params)
        params = sgd_update(params, grads, rate)
    return params, losses


def predict(x, params):
    """The class the network scores highest for each example.

    Inputs:
    - x: input data of shape (N, n_0)
    - params: {"W1": ..., "b1": ..., ...}

    Returns:
    - an int array of shape (N,): the index of each row's largest score

    Example: a network whose output layer is all zero except b_L = [0, 1, 0] predicts class 1
    """
    scores, _ = network_forward(x, params)
    return np.argmax(scores, axis=1)


def accuracy(x, labels, params):
    """The fraction of examples whose predicted class is the right one.

    Inputs:
    - x: input data of shape (N, n_0)
    - labels: the right classes, shape (N,)
    - params: {"W1": ..., "b1": ..., ...}

    Returns:
    - a float between 0 and 1

    Example: predictions [0, 1, 1] against labels [0, 1, 2] give 2/3
    """
    return float(np.mean(predict(x, params) == labels))
