"""Public checks for exercise 6, activations: values from the formulas, exact results at ±1000,
ReLU'(0) = 0, and every backward pass against central differences of the activation the docstring
defines, computed here (the student's forward is called only for the cache, at the check's own
points)."""

import numpy as np

from grader.checks import (
    check,
    describe,
    expect_array,
    expect_close,
    expect_derivative,
    expect_pair,
    fail,
    with_hint,
)


def sigmoid(z):
    """σ computed another way than the exercise asks: exp(-log(1 + e^-z)), stable everywhere."""
    return np.exp(-np.logaddexp(0, -z))


def forward_values(student, name, z):
    """The student's forward output only, as an array shaped like z."""
    out, _ = expect_pair(getattr(student, name)(z), f"{name}(z of shape {z.shape})")
    return expect_array(out, f"{name}(z of shape {z.shape})", z.shape)


def relu(z):
    return np.maximum(z, 0)


def expect_backward(student, kind, activation, z, dout, mistakes):
    """{kind}_backward(dout, cache) is dout times the derivative of ``activation``, the function
    the docstring defines; the student's forward is called at z only, for the cache."""
    forward, backward = f"{kind}_forward", f"{kind}_backward"
    call = f"{forward}(z={describe(z)})"
    _, cache = expect_pair(getattr(student, forward)(z), call)
    call = f"{backward}(dout={describe(dout)}, cache from {forward}(z={describe(z)}))"
    got = expect_array(getattr(student, backward)(dout, cache), call, z.shape)
    # Entry by entry, dz is the derivative of activation(z)·dout.
    expect_derivative(got, lambda points: activation(points) * dout, z, call, mistakes=mistakes)


@check(points=2)
def test_sigmoid(student, rng):
    """sigmoid: σ(z) exactly, even at ±1000, and dz = dout·σ(z)(1 - σ(z))."""
    z = rng.uniform(-4, 4, size=(3, 4))
    call = "sigmoid_forward(z of shape (3, 4))"
    expect_close(forward_values(student, "sigmoid_forward", z), sigmoid(z), call, rtol=1e-12)
    extreme = np.array([-1000.0, -750.0, -40.0, 40.0, 750.0, 1000.0])
    call = f"sigmoid_forward(z={describe(extreme)})"
    with np.errstate(all="ignore"):
        got = forward_values(student, "sigmoid_forward", extreme)
    if not np.all(np.isfinite(got)):
        fail(
            with_hint(
                f"{call} gave {describe(got)}; σ is between 0 and 1 for every z",
                "e^-z overflows for very negative z: use e^-|z|",
            )
        )
    expect_close(got, sigmoid(extreme), call, rtol=1e-12, atol=1e-300)
    dout = rng.uniform(0.5, 2, size=(3, 4))
    s = sigmoid(z)
    expect_backward(
        student,
        "sigmoid",
        sigmoid,
        z,
        dout,
        {
            "this is s·(1 - z): σ'(z) = s·(1 - s), with s = σ(z) in both places": dout
            * s
            * (1 - z),
            "this is z·(1 - z): the derivative needs σ(z), not z": dout * z * (1 - z),
            "the upstream gradient dout is missing": s * (1 - s),
            "the cached output σ(z) was used where the pre-activation z was needed (σ applied "
            "twice)": dout * sigmoid(s) * (1 - sigmoid(s)),
        },
    )


@check(points=2)
def test_tanh(student, rng):
    """tanh: the values, and dz = dout·(1 - t²) from the cached t = tanh(z)."""
    z = rng.uniform(-3, 3, size=(4, 3))
    call = "tanh_forward(z of shape (4, 3))"
    expect_close(forward_values(student, "tanh_forward", z), np.tanh(z), call, rtol=1e-12)
    t = np.tanh(z)
    dout = rng.uniform(0.5, 2, size=(4, 3))
    expect_backward(
        student,
        "tanh",
        np.tanh,
        z,
        dout,
        {
            "this is 1 - tanh(t)²: the cache already holds t = tanh(z), use 1 - t²": dout
            * (1 - np.tanh(t) ** 2),
            "the derivative is 1 - t², with t squared": dout * (1 - t),
            "the upstream gradient dout is missing": 1 - t**2,
        },
    )


@check(points=3)
def test_relu(student, rng):
    """ReLU: max(0, z), and dz = dout where z > 0, 0 elsewhere, ReLU'(0) = 0 included."""
    magnitudes = rng.uniform(0.1, 3, size=(3, 5))
    z = magnitudes * rng.choice([-1.0, 1.0], size=(3, 5))  # at least 0.1 from the kink
    call = "relu_forward(z of shape (3, 5))"
    expect_close(forward_values(student, "relu_forward", z), relu(z), call, rtol=0)
    dout = rng.uniform(0.5, 2, size=(3, 5))
    expect_backward(
        student,
        "relu",
        relu,
        z,
        dout,
        {
            "the gradient flows where z < 0; it should flow where z > 0": dout * (z < 0),
            "this is dout times z; ReLU's derivative is 1 where z > 0 and 0 elsewhere": dout
            * np.maximum(z, 0),
        },
    )
    z = np.array([-1.0, 0.0, 2.0])
    _, cache = expect_pair(student.relu_forward(z), "relu_forward(z=[-1, 0, 2])")
    call = "relu_backward(dout=[1, 1, 1], cache from relu_forward(z=[-1, 0, 2]))"
    got = expect_array(student.relu_backward(np.ones(3), cache), call, (3,))
    expect_close(
        got,
        [0.0, 0.0, 1.0],
        call,
        rtol=0,
        mistakes={"ReLU'(0) is 0 in this course: use z > 0, not z >= 0": [0, 1, 1]},
    )
