"""Hidden checks for exercise 6, activations: per activation, the reference on more shapes (the
reference catches a mistake made the same way in forward and backward), the same answer when
called again, and z = ±1000. Each activation scores on its own: one activation's mistakes cost
only its own checks."""

import numpy as np

from grader.checks import (
    check,
    expect_array,
    expect_matches_reference,
    expect_pair,
    expect_same_again,
    fail,
    warn_if_inputs_changed,
)

SHAPES = [(3, 4), (1, 5), (2, 3, 4)]
# Large and moderate inputs of both signs. Not 0: ReLU'(0) is the public ReLU check's, and
# charged there only.
EXTREME = np.array([[-1000.0, -500.0, -20.0, 20.0, 500.0, 1000.0]])


def expect_like_reference(student, solution, kind, z, dout):
    """{kind}_forward and {kind}_backward at z agree with the reference, twice over."""
    forward, backward = getattr(student, f"{kind}_forward"), getattr(student, f"{kind}_backward")
    call = f"{kind}_forward(z of shape {z.shape})"
    if z.shape == EXTREME.shape and np.array_equal(z, EXTREME):
        call = f"{kind}_forward(z={z[0].tolist()})"
    with np.errstate(all="ignore"):
        out, cache = expect_pair(forward(z), call)
    warn_if_inputs_changed(student, call)
    out = expect_array(out, call, z.shape)
    expected_out, expected_cache = getattr(solution, f"{kind}_forward")(z)
    if not np.all(np.isfinite(out)):
        fail(f"{call} is not finite: {out.tolist()}")
    expect_matches_reference(out, expected_out, call)
    if out.dtype != np.float64:
        fail(
            f"{call} returned dtype {out.dtype}; keep float64 for float64 input (float32 keeps "
            "only about 7 digits)"
        )
    back_call = f"{kind}_backward(dout of shape {z.shape}, cache)"
    with np.errstate(all="ignore"):
        got = backward(dout, cache)
    warn_if_inputs_changed(student, back_call)
    got = expect_array(got, back_call, z.shape)
    expected = getattr(solution, f"{kind}_backward")(dout, expected_cache)
    if not np.all(np.isfinite(got)):
        fail(f"{back_call} is not finite: {got.tolist()}")
    expect_matches_reference(got, expected, back_call)
    with np.errstate(all="ignore"):
        again, cache = expect_pair(forward(z), call)
        expect_same_again(out, again, expected_out, call)
        expect_same_again(got, backward(dout, cache), expected, back_call)


def expect_activation(student, solution, rng, kind):
    for shape in SHAPES:
        z = rng.uniform(-4, 4, size=shape)
        expect_like_reference(student, solution, kind, z, rng.normal(size=shape))
    expect_like_reference(student, solution, kind, EXTREME, np.ones_like(EXTREME))


@check(points=1)
def test_sigmoid_matches_reference(student, solution, rng):
    """sigmoid forward and backward agree with the reference on several shapes and at ±1000."""
    expect_activation(student, solution, rng, "sigmoid")


@check(points=1)
def test_tanh_matches_reference(student, solution, rng):
    """tanh forward and backward agree with the reference on several shapes and at ±1000."""
    expect_activation(student, solution, rng, "tanh")


@check(points=1)
def test_relu_matches_reference(student, solution, rng):
    """ReLU forward and backward agree with the reference on several shapes and at ±1000."""
    expect_activation(student, solution, rng, "relu")
