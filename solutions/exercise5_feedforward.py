"""Exercise 5: the feedforward network of the lesson.

A feedforward network passes data one way: from the input layer, through the hidden layers, to the
output layer. The lesson's network takes a vector of 5 numbers, so its input layer has 5 neurons.
Each layer k multiplies by its weights W_k, adds its bias b_k and, except the output layer, applies
an activation:

    h_0 = x,    h_k = activation(h_{k-1} @ W_k + b_k),    output = h_{L-1} @ W_L + b_L

Batches are rows: x has shape (N, 5) for N examples, W_k has shape (n_{k-1}, n_k), b_k shape (n_k,).
The parameters live in a dict: {"W1": ..., "b1": ..., "W2": ..., "b2": ..., ...}.
"""

import numpy as np


def init_network(layer_sizes, seed):
    """Weights drawn from a seeded generator, biases zero.

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


def count_layers(params):
    """How many layers with weights the network has: the number of "Wk" keys.

    Inputs:
    - params: a dict as init_network returns

    Returns:
    - L, an int

    Example: count_layers(init_network([5, 4, 3], 0)) == 2
    """
    return sum(1 for key in params if key.startswith("W"))


def layer_forward(h, W, b, activation):
    """One layer: activation(h @ W + b).

    Inputs:
    - h: the previous layer's output, an array of shape (N, n_in)
    - W: weights of shape (n_in, n_out); b: bias of shape (n_out,)
    - activation: a function applied entry by entry, or None for no activation

    Returns:
    - the layer's output, an array of shape (N, n_out)

    Example: layer_forward(np.ones((1, 2)), np.ones((2, 3)), np.zeros(3), None) gives
    array([[2., 2., 2.]])
    """
    z = h @ W + b
    return z if activation is None else activation(z)


def feedforward_layers(x, params, activation):
    """The forward pass, layer by layer: the output of every layer, input first.

    Inputs:
    - x: input data of shape (N, n_0)
    - params: a dict as init_network returns, with L layers
    - activation: the hidden layers' activation, a function applied entry by entry; the output
      layer has none

    Returns:
    - a list of L + 1 arrays: [x, h_1, ..., h_{L-1}, output], h_k of shape (N, n_k)

    Example: with params = init_network([5, 4, 3], 0) and x of shape (2, 5),
    feedforward_layers(x, params, np.tanh) gives arrays of shapes (2, 5), (2, 4), (2, 3)
    """
    layers = [x]
    count = count_layers(params)
    for k in range(1, count + 1):
        hidden_activation = activation if k < count else None
        layers.append(
            layer_forward(layers[-1], params[f"W{k}"], params[f"b{k}"], hidden_activation)
        )
    return layers


def feedforward(x, params, activation):
    """The network's output for a batch: the last entry of feedforward_layers.

    Inputs:
    - x: input data of shape (N, n_0)
    - params: a dict as init_network returns
    - activation: the hidden layers' activation, a function applied entry by entry

    Returns:
    - the output layer's values, an array of shape (N, n_L)

    Example: feedforward(np.zeros((1, 5)), init_network([5, 4, 3], 0), np.tanh) is zeros of shape
    (1, 3), since every bias starts at zero and tanh(0) = 0
    """
    return feedforward_layers(x, params, activation)[-1]
