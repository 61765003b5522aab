"""Public checks for exercise 6, activations: values from the formulas, exact results at ±1000,
ReLU'(0) = 0, and every backward pass against central differences of the activation the docstring
defines, computed here (the student's forward is called only for the cache, at the check's own
points).

A wrong answer is named where it is the value a known mistake gives at the check's own points
(``forward_mistakes``, ``backward_mistakes``), and an error where what raised says what it is
(``explained``), all from checks/_exercise6_mistakes.py: the hidden checks name the same mistakes
in the same words."""

import numpy as np

from grader.checks import (
    CheckFailed,
    check,
    describe,
    expect_array,
    expect_close,
    expect_derivative,
    fail,
    shared,
    with_hint,
)
from grader.student_code.errors import StudentRaised

common = shared(__file__, "_exercise6_mistakes")  # the mistakes both check files name


def forward_values(student, name, z):
    """The student's forward output only, as an array shaped like z."""
    kind = name.removesuffix("_forward")
    call = f"{name}(z of shape {z.shape})"
    out, _ = common.pair_or_fail(common.answer_of(student, name, z), call, z, kind)
    return common.shape_or_fail(out, call, z, kind)


def expect_backward(student, kind, activation, z, dout):
    """{kind}_backward(dout, cache) is dout times the derivative of ``activation``, the function
    the docstring defines; the student's forward is called at z only, for the cache."""
    forward, backward = f"{kind}_forward", f"{kind}_backward"
    call = f"{forward}(z={describe(z)})"
    _, cache = common.pair_or_fail(common.answer_of(student, forward, z), call, z, kind)
    call = f"{backward}(dout={describe(dout)}, cache from {forward}(z={describe(z)}))"
    try:
        answer = getattr(student, backward)(dout, cache)
    except StudentRaised as error:
        hint = common.backward_error_hint(student, kind, error, cache)
        raise common.explained(error, hint) from None
    booleans = isinstance(answer, np.ndarray) and answer.dtype == bool
    got = common.shape_or_fail(answer, call, z, kind)
    # Entry by entry, dz is the derivative of activation(z)·dout.
    expect_derivative(
        got,
        lambda points: activation(points) * dout,
        z,
        call,
        mistakes=common.backward_mistakes(kind, z, dout, got, cache, booleans),
    )


@check(points=2)
def test_sigmoid(student, rng):
    """sigmoid: σ(z) exactly, even at ±1000, and dz = dout·σ(z)(1 - σ(z))."""
    z = rng.uniform(-4, 4, size=(3, 4))
    call = "sigmoid_forward(z of shape (3, 4))"
    got = forward_values(student, "sigmoid_forward", z)
    expect_close(
        got,
        common.sigmoid(z),
        call,
        rtol=1e-12,
        mistakes=common.forward_mistakes("sigmoid", z, got),
    )
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
    try:
        expect_close(got, common.sigmoid(extreme), call, rtol=1e-12, atol=1e-300)
    except CheckFailed as failure:
        raise CheckFailed(common.clipped(str(failure), got, extreme), failure.mistake) from None
    dout = rng.uniform(0.5, 2, size=(3, 4))
    expect_backward(student, "sigmoid", common.sigmoid, z, dout)


@check(points=2)
def test_tanh(student, rng):
    """tanh: the values, and dz = dout·(1 - t²) from the cached t = tanh(z)."""
    z = rng.uniform(-3, 3, size=(4, 3))
    call = "tanh_forward(z of shape (4, 3))"
    got = forward_values(student, "tanh_forward", z)
    expect_close(
        got, np.tanh(z), call, rtol=1e-12, mistakes=common.forward_mistakes("tanh", z, got)
    )
    dout = rng.uniform(0.5, 2, size=(4, 3))
    expect_backward(student, "tanh", np.tanh, z, dout)


@check(points=3)
def test_relu(student, rng):
    """ReLU: max(0, z), and dz = dout where z > 0, 0 elsewhere, ReLU'(0) = 0 included."""
    magnitudes = rng.uniform(0.1, 3, size=(3, 5))
    z = magnitudes * rng.choice([-1.0, 1.0], size=(3, 5))  # at least 0.1 from the kink
    call = "relu_forward(z of shape (3, 5))"
    got = forward_values(student, "relu_forward", z)
    expect_close(
        got, common.relu(z), call, rtol=0, mistakes=common.forward_mistakes("relu", z, got)
    )
    dout = rng.uniform(0.5, 2, size=(3, 5))
    expect_backward(student, "relu", common.relu, z, dout)
    z = np.array([-1.0, 0.0, 2.0])
    _, cache = common.pair_or_fail(
        common.answer_of(student, "relu_forward", z), "relu_forward(z=[-1, 0, 2])", z, "relu"
    )
    call = "relu_backward(dout=[1, 1, 1], cache from relu_forward(z=[-1, 0, 2]))"
    got = expect_array(common.answer_of(student, "relu_backward", np.ones(3), cache), call, (3,))
    expect_close(got, [0.0, 0.0, 1.0], call, rtol=0, mistakes=common.at_zero_mistakes(got))
