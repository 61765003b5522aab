"""Hidden checks for exercise 6, activations: per activation, the reference on more shapes (the
reference catches a mistake made the same way in forward and backward), the same answer when
called again, and z = ±1000. Each activation scores on its own: one activation's mistakes cost
only its own checks.

The public checks' mistakes are named here in the same words (both load them from
checks/_exercise6_mistakes.py), and charged once: a mistake a public check charged is noted here
and the check goes on, so the rest of it still counts."""

import numpy as np

from grader.checks import (
    check,
    describe,
    expect_matches_reference,
    expect_same_again,
    fail,
    shared,
    warn_if_inputs_changed,
    with_hint,
)
from grader.student_code.errors import StudentRaised

SHAPES = [(3, 4), (1, 5), (2, 3, 4)]
# Large and moderate inputs of both signs. Not 0: ReLU'(0) is the public ReLU check's, and
# charged there only.
EXTREME = np.array([[-1000.0, -500.0, -20.0, 20.0, 500.0, 1000.0]])

common = shared(__file__, "_exercise6_mistakes")  # the mistakes both check files name


# ---------------------------------------------------------------- the hidden checks' own


def expect_like_reference(student, solution, kind, z, dout):
    """{kind}_forward and {kind}_backward at z agree with the reference, twice over."""
    forward, backward = getattr(student, f"{kind}_forward"), getattr(student, f"{kind}_backward")
    call = f"{kind}_forward(z of shape {z.shape})"
    if z.shape == EXTREME.shape and np.array_equal(z, EXTREME):
        call = f"{kind}_forward(z={z[0].tolist()})"
    with np.errstate(all="ignore"):
        out, cache = common.pair_or_fail(
            common.answer_of(student, f"{kind}_forward", z), call, z, kind
        )
    warn_if_inputs_changed(student, call)
    out = common.shape_or_fail(out, call, z, kind)
    expected_out, expected_cache = getattr(solution, f"{kind}_forward")(z)
    if not np.all(np.isfinite(out)):
        fail(with_hint(f"{call} is not finite: {out.tolist()}", common.infinite_hint(kind)))
    expect_matches_reference(
        out, expected_out, call, mistakes=common.forward_mistakes(kind, z, out)
    )
    if out.dtype != np.float64:
        fail(
            f"{call} returned dtype {out.dtype}; keep float64 for float64 input (float32 keeps "
            "only about 7 digits)"
        )
    back_call = f"{kind}_backward(dout of shape {z.shape}, cache)"
    try:
        with np.errstate(all="ignore"):
            answer = backward(dout, cache)
    except StudentRaised as error:
        raise common.explained(
            error, common.backward_error_hint(student, kind, error, cache)
        ) from None
    warn_if_inputs_changed(student, back_call)
    booleans = isinstance(answer, np.ndarray) and answer.dtype == bool
    got = common.shape_or_fail(answer, back_call, z, kind)
    expected = getattr(solution, f"{kind}_backward")(dout, expected_cache)
    if not np.all(np.isfinite(got)):
        fail(with_hint(f"{back_call} is not finite: {got.tolist()}", common.infinite_hint(kind)))
    expect_matches_reference(
        got,
        expected,
        back_call,
        mistakes=common.backward_mistakes(kind, z, dout, got, cache, booleans),
    )
    with np.errstate(all="ignore"):
        again, cache = expect_pair_again(forward(z), call)
        expect_same_again(out, again, expected_out, call)
        expect_same_again(got, backward(dout, cache), expected, back_call)


def expect_pair_again(value, call):
    """The second call's (out, cache): a pair, as the first was."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        fail(f"{call} returned {describe(value)} the second time; expected the pair (out, cache)")
    return value[0], value[1]


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
