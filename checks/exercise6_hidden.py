"""Hidden checks for exercise 6, activations: the reference on more shapes (the reference catches a
mistake made the same way in forward and backward), hygiene, and extreme inputs."""

import numpy as np

from grader.checks import (
    check,
    expect_array,
    expect_matches_reference,
    expect_pair,
    fail,
    warn_if_inputs_changed,
)

KINDS = ("sigmoid", "tanh", "relu")
SHAPES = [(1, 5), (3, 4), (2, 3, 4)]


@check(points=2)
def test_activations_match_reference(student, solution, rng):
    """Forward and backward agree with the reference for every activation and several shapes."""
    for kind in KINDS:
        for shape in SHAPES:
            z = rng.uniform(-4, 4, size=shape)
            dout = rng.normal(size=shape)
            call = f"{kind}_forward(z of shape {shape})"
            out, cache = expect_pair(getattr(student, f"{kind}_forward")(z), call)
            expected_out, expected_cache = getattr(solution, f"{kind}_forward")(z)
            expect_matches_reference(expect_array(out, call, shape), expected_out, call)
            call = f"{kind}_backward(dout of shape {shape}, cache)"
            got = expect_array(getattr(student, f"{kind}_backward")(dout, cache), call, shape)
            expected = getattr(solution, f"{kind}_backward")(dout, expected_cache)
            expect_matches_reference(got, expected, call)


@check(points=1)
def test_activation_hygiene(student, rng):
    """Inputs are left unchanged, the same call gives the same result, zero dout gives zero dz."""
    for kind in KINDS:
        z = rng.uniform(-3, 3, size=(3, 4))
        call = f"{kind}_forward(z of shape (3, 4))"
        first, cache = expect_pair(getattr(student, f"{kind}_forward")(z), call)
        warn_if_inputs_changed(student, call)
        if isinstance(first, np.ndarray) and first.dtype != np.float64:
            fail(
                f"{call} returned dtype {first.dtype}; keep float64 for float64 input "
                "(finite differences need its precision)"
            )
        second, _ = expect_pair(getattr(student, f"{kind}_forward")(z), call)
        if not np.array_equal(expect_array(first, call, z.shape), second):
            fail(f"{call} gave a different result the second time")
        dout = rng.normal(size=(3, 4))
        call = f"{kind}_backward(dout of shape (3, 4), cache)"
        getattr(student, f"{kind}_backward")(dout, cache)
        warn_if_inputs_changed(student, call)
        call = f"{kind}_backward(zeros of shape (3, 4), cache)"
        zero = expect_array(
            getattr(student, f"{kind}_backward")(np.zeros((3, 4)), cache), call, (3, 4)
        )
        if np.any(zero != 0):
            fail(f"{call} is not zero; the gradient is dout times the local derivative")


@check(points=1)
def test_extreme_inputs_stay_finite(student, solution):
    """At z = ±1000 every forward and backward is finite and agrees with the reference."""
    z = np.array([[-1000.0, -500.0, -20.0, 0.0, 20.0, 500.0, 1000.0]])
    dout = np.ones_like(z)
    for kind in KINDS:
        call = f"{kind}_forward(z={z[0].tolist()})"
        with np.errstate(all="ignore"):
            out, cache = expect_pair(getattr(student, f"{kind}_forward")(z), call)
            out = expect_array(out, call, z.shape)
            expected_out, expected_cache = getattr(solution, f"{kind}_forward")(z)
            call_back = f"{kind}_backward(ones, cache from {call})"
            back = expect_array(
                getattr(student, f"{kind}_backward")(dout, cache), call_back, z.shape
            )
        for name, value in ((call, out), (call_back, back)):
            if not np.all(np.isfinite(value)):
                fail(f"{name} is not finite: {value.tolist()}")
        expect_matches_reference(out, expected_out, call)
        expect_matches_reference(
            back, getattr(solution, f"{kind}_backward")(dout, expected_cache), call_back
        )
