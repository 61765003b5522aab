"""Exercise 6's named mistakes, which its public and hidden checks both name, in the same words.

Each mistake is a hint (what is wrong and what to do) and the value that mistake gives at a check's
own points, computed here with numpy, or what an error the student's code raised says; never read
from the student's code. The check files load it with ``shared(__file__, "_exercise6_mistakes")``.
"""

from typing import Any

import numpy as np

from grader.checks import (
    describe,
    expect_array,
    fail,
    shows,
    with_hint,
)
from grader.student_code.errors import StudentRaised

UPSTREAM_MISSING = "the upstream gradient dout is missing"
BOOLEANS = (
    "it returns booleans, a comparison, not dz: dz is dout * (z > 0), with the parentheses "
    "(dout * z > 0 compares last, after the product)"
)
TANH_CACHES_Z = (
    "tanh_forward",
    "tanh_forward's cache holds z, but tanh_backward reads t = tanh(z) from it: return "
    "out, out (the output is the cache)",
)
# What each backward computes, for hints that say what to write.
DERIVATIVE = {"sigmoid": "σ'(z) = s·(1 - s)", "tanh": "tanh'(z) = 1 - t²", "relu": "(z > 0)"}
ENTRY_BY_ENTRY = {
    "sigmoid_forward": "np.where(z >= 0, ..., ...) picks a branch entry by entry",
    "sigmoid_backward": "dout * s * (1 - s) works entry by entry",
    "tanh_forward": "np.tanh(z) works entry by entry",
    "tanh_backward": "dout * (1 - t**2) works entry by entry",
    "relu_forward": "np.maximum(0, z) takes the maximum entry by entry",
    "relu_backward": "dout * (z > 0) masks entry by entry",
}
# A square point where a matrix product in a backward does not raise: what it gives names it.
SQUARE_Z = np.array([[0.7, -1.3, 2.1], [-0.4, 1.6, -2.2], [0.9, 0.3, -0.8]])
SQUARE_DOUT = np.array([[1.2, 0.6, 1.9], [0.8, 1.5, 0.7], [1.1, 0.9, 1.4]])


def sigmoid(z):
    """σ computed another way than the exercise asks: exp(-log(1 + e^-z)), stable everywhere."""
    return np.exp(-np.logaddexp(0, -z))


def relu(z):
    return np.maximum(z, 0)


def slope_below_zero(got: np.ndarray, z: np.ndarray, scale: np.ndarray) -> float | None:
    """The one factor a with got = a·scale wherever z < 0 (a leaky ReLU's slope), if there is one
    and it is not 0: read off the student's answer, then held to every such entry."""
    negative = (z < 0) & (scale != 0)
    if got.shape != z.shape or not negative.any():
        return None
    ratios = got[negative] / scale[negative]
    slope = float(ratios.flat[0])
    if slope == 0 or not np.allclose(ratios, slope, rtol=1e-9, atol=0):
        return None
    return slope


def clip_bound(got: np.ndarray, z: np.ndarray) -> float | None:
    """c where got at the most negative z is σ(-c) for a c short of |z| (z clipped to [-c, c]
    before the formula), else None."""
    if got.shape != z.shape or z.size == 0:
        return None
    lowest = int(np.argmin(z))
    value = float(got.flat[lowest])
    if not 0 < value < 0.5:
        return None
    bound = float(np.log1p(-value) - np.log(value))  # σ(-c) = value
    return bound if bound < -float(z.flat[lowest]) * (1 - 1e-9) else None


def clipped(message: str, got: np.ndarray, z: np.ndarray) -> str:
    """``message`` with the hint that z was clipped, where got is σ(np.clip(z, -c, c)) for a c
    short of the largest |z|: σ(-500) is as good as 0 next to 1, so hint_for's tolerance, made
    for the whole answer, cannot tell it from σ(-1000); here each entry is held to 1e-6 of its
    own size."""
    bound = clip_bound(got, z)
    if bound is None or not np.allclose(got, sigmoid(np.clip(z, -bound, bound)), rtol=1e-6, atol=0):
        return message
    shown = f"{round(bound, 6):g}"
    return with_hint(
        message.split("\n")[0].rstrip("."),
        f"this is σ(np.clip(z, -{shown}, {shown})): clipping changes σ wherever |z| > {shown}; "
        "leave z as it is and compute σ with e^-|z|, which never overflows",
    )


def forward_mistakes(kind: str, z: np.ndarray, got: np.ndarray) -> dict[str, Any]:
    """Hint -> what {kind}_forward(z) gives with that mistake. got: the student's answer, from
    which a leaky ReLU's slope is read (then held to every entry)."""
    with np.errstate(all="ignore"):
        if kind == "sigmoid":
            return {
                "this is σ(-z) = 1 - σ(z), σ with the sign of z flipped: σ(z) = 1 / (1 + e^-z), "
                "computed as 1 / (1 + e^-|z|) for z >= 0 and e^-|z| / (1 + e^-|z|) for z < 0": (
                    sigmoid(-z)
                ),
                "for z < 0 this is σ(-z) = 1 / (1 + e^z), above 1/2: for z < 0, σ(z) = "
                "e^z / (1 + e^z), that is e^-|z| / (1 + e^-|z|)": sigmoid(np.abs(z)),
                "for z >= 0 this is σ(-z) = e^-z / (1 + e^-z), below 1/2: for z >= 0, σ(z) = "
                "1 / (1 + e^-z)": sigmoid(-np.abs(z)),
                "this is 1 + e^-z: 1 / 1 + np.exp(-z) divides 1 by 1 first; put the "
                "denominator in parentheses, 1 / (1 + np.exp(-z))": 1 + np.exp(-z),
                "this is e^z, the 1 + of σ(z) = 1 / (1 + e^-z) is missing": np.exp(z),
            }
        if kind == "tanh":
            return {
                "this is sinh(z) = (e^z - e^-z) / 2: tanh(z) = (e^z - e^-z) / (e^z + e^-z), "
                "np.tanh(z)": np.sinh(z),
                "this is tanh(z/2) = 2σ(z) - 1: tanh(z) = 2σ(2z) - 1, np.tanh(z)": np.tanh(z / 2),
            }
    mistakes = {}
    slope = slope_below_zero(got, z, z)
    if slope is not None and 0 < slope < 1:
        mistakes[
            f"for z < 0 this is {slope:g}·z, a leaky ReLU: ReLU(z) is 0 for negative z, "
            "np.maximum(0, z)"
        ] = np.where(z > 0, z, slope * z)
    mistakes["this is |z|: ReLU(z) is 0 for negative z, np.maximum(0, z)"] = np.abs(z)
    return mistakes


def backward_mistakes(
    kind: str, z: np.ndarray, dout: np.ndarray, got: np.ndarray, cache: Any, booleans: bool
) -> dict[Any, Any]:
    """Hint (or (function, hint)) -> what {kind}_backward(dout, cache from {kind}_forward(z))
    gives with that mistake. got: the student's answer as float64 (a leaky slope is read off
    it); cache: the one the student's forward gave; booleans: the answer was a boolean array."""
    if kind == "sigmoid":
        s = sigmoid(z)
        return {
            "this is s·(1 - z): σ'(z) = s·(1 - s), with s = σ(z) in both places": dout
            * s
            * (1 - z),
            "this is z·(1 - z): the derivative needs σ(z), not z": dout * z * (1 - z),
            UPSTREAM_MISSING: s * (1 - s),
            "the cached output σ(z) was used where the pre-activation z was needed (σ applied "
            "twice)": dout * sigmoid(s) * (1 - sigmoid(s)),
            "this is dout·(1 - s²), tanh's derivative: σ'(z) = s·(1 - s)": dout * (1 - s**2),
            "this is dout·s, σ itself: σ'(z) = s·(1 - s)": dout * s,
            "this is dout·(1 - s): σ'(z) = s·(1 - s), the factor s is missing": dout * (1 - s),
            "this is dout·s - s: dout * s * 1 - s multiplies first; put 1 - s in parentheses, "
            "dout * s * (1 - s)": dout * s - s,
            "this is z·σ'(dout): the arguments are read in the order (cache, dout); the "
            "signature is sigmoid_backward(dout, cache)": z * sigmoid(dout) * (1 - sigmoid(dout)),
        }
    if kind == "tanh":
        t = np.tanh(z)
        mistakes: dict[Any, Any] = {
            "this is 1 - tanh(t)²: the cache already holds t = tanh(z), use 1 - t²": dout
            * (1 - np.tanh(t) ** 2),
            "the derivative is 1 - t², with t squared": dout * (1 - t),
            UPSTREAM_MISSING: 1 - t**2,
            "this is (1 - t)²: the square is on t alone, 1 - t**2": dout * (1 - t) ** 2,
            "this is dout - t²: dout * 1 - t**2 multiplies first; put 1 - t² in parentheses, "
            "dout * (1 - t**2)": dout - t**2,
            "this is t·(1 - t), the sigmoid's form: tanh'(z) = 1 - t²": dout * t * (1 - t),
            "this is t·(1 - dout²): the arguments are read in the order (cache, dout); the "
            "signature is tanh_backward(dout, cache)": t * (1 - dout**2),
        }
        if shows(cache, z) and not shows(cache, t):
            mistakes = {TANH_CACHES_Z: dout * (1 - z**2), **mistakes}
        return mistakes
    mistakes = {}
    if booleans:
        # One hint for both, so that the mistake is charged once wherever it shows: where dout is
        # positive, (z > 0) and (dout * z > 0) are the same booleans.
        shown = next((mask for mask in (z > 0, dout * z > 0) if np.array_equal(got, mask)), None)
        if shown is not None:
            mistakes[BOOLEANS] = shown
    mistakes.update(
        {
            "the gradient flows where z < 0; it should flow where z > 0": dout * (z < 0),
            "this is dout times z; ReLU's derivative is 1 where z > 0 and 0 elsewhere": dout
            * np.maximum(z, 0),
            UPSTREAM_MISSING: (z > 0).astype(np.float64),
            "this is dout·sign(z), -dout where z < 0: ReLU'(z) is 0 where z is negative, "
            "dout * (z > 0)": dout * np.sign(z),
        }
    )
    if np.all(dout > 0):  # then z·(dout > 0) is z itself
        mistakes[
            "it returns the cache z itself: relu_backward(dout, cache) takes dout first and "
            "returns dout * (z > 0)"
        ] = z
    else:
        mistakes[
            "this is z where dout > 0: the arguments are read in the order (cache, dout); the "
            "signature is relu_backward(dout, cache)"
        ] = z * (dout > 0)
    slope = slope_below_zero(got, z, dout)
    if slope is not None and 0 < slope < 1:
        mistakes[
            f"where z < 0 this is {slope:g}·dout, a leaky ReLU's slope: ReLU'(z) is 0 for "
            "negative z, dout * (z > 0)"
        ] = dout * np.where(z > 0, 1.0, slope)
    return mistakes


def at_zero_mistakes(got: np.ndarray) -> dict[str, Any]:
    """relu_backward(1, z=[-1, 0, 2]): ReLU'(0) taken as 1, or as another number (1/2)."""
    mistakes: dict[str, Any] = {"ReLU'(0) is 0 in this course: use z > 0, not z >= 0": [0, 1, 1]}
    if got.shape == (3,) and got[0] == 0 and got[2] == 1 and got[1] not in (0, 1):
        mistakes[
            f"ReLU'(0) is 0 in this course, not {got[1]:g}: use dout * (z > 0) (np.heaviside(z, "
            "0) if you like)"
        ] = [0, got[1], 1]
    return mistakes


def infinite_hint(kind: str) -> str:
    """What to do where {kind}'s forward or backward is not finite at |z| = 1000."""
    what = {
        "sigmoid": "compute σ from e^-|z|, which never overflows, and σ'(z) as s·(1 - s) from it",
        "tanh": "np.tanh(z) never overflows, and tanh'(z) = 1 - t² needs only t",
    }.get(kind, "leave exponentials out: max(0, z) needs none")
    return (
        "e^|z| overflows float64 for |z| above about 709 (e^1000 is inf, and inf / inf is nan): "
        + what
    )


def pair_or_fail(value: Any, call: str, z: np.ndarray, kind: str) -> tuple[Any, Any]:
    """{kind}_forward's answer as the pair (out, cache); fails, naming the missing cache where
    the answer is one array shaped like z."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return value[0], value[1]
    hint = None
    if isinstance(value, np.ndarray) and value.shape == z.shape:
        hint = f"return the pair out, cache: {kind}_backward takes the cache as its second argument"
    fail(with_hint(f"{call} returned {describe(value)}; expected the pair (out, cache)", hint))


def shape_or_fail(value: Any, call: str, z: np.ndarray, kind: str) -> np.ndarray:
    """expect_array(value, call, z.shape), naming np.max(z, axis) for ReLU where that is what
    came back."""
    if kind == "relu" and isinstance(value, np.ndarray) and value.shape != z.shape and z.ndim:
        candidates = {f"np.max(z, axis={axis})": np.max(z, axis=axis) for axis in range(z.ndim)}
        candidates["np.max(z)"] = np.max(z)
        for name, candidate in candidates.items():
            if np.shape(candidate) == value.shape and shows(value, candidate):
                fail(
                    with_hint(
                        f"{call} returned an array of shape {value.shape}; expected shape "
                        f"{z.shape}",
                        f"this is {name}, the largest entries of z: ReLU is np.maximum(0, z), "
                        "the larger of 0 and each entry",
                    )
                )
    return expect_array(value, call, z.shape)


def explained(error: StudentRaised, hint: str | None) -> StudentRaised:
    """The student's error with ``hint`` as its second line (in place of any other), or as it
    was where there is none."""
    if hint is None:
        return error
    return StudentRaised(with_hint(str(error).split("\n")[0].rstrip("."), hint), error.line)


def error_hint(function: str, message: str) -> str | None:
    """The hint for an error of ``function`` that its message names: an array used as one
    number, or as one True or False."""
    if "truth value of an array" in message:
        return (
            "a comparison of the whole array was used as one True or False (in an if, and/or, "
            f"or Python's max): {ENTRY_BY_ENTRY[function]}"
        )
    if "arrays can be converted to Python scalars" in message:
        return (
            "a function for one number (math.exp, math.tanh, float) was given an array: "
            "numpy's np.exp and np.tanh work entry by entry"
        )
    return None


def backward_error_hint(student: Any, kind: str, error: StudentRaised, cache: Any) -> str | None:
    """The hint for an error of {kind}_backward: a tuple used as a number (the forward's pair not
    unpacked), or a matrix product where the chain rule is entry by entry (seen at a square
    point, where the product does not raise and gives its own value)."""
    function = f"{kind}_backward"
    message = str(error)
    hint = error_hint(function, message)
    if hint is not None:
        return hint
    if "TypeError" in message and "'tuple'" in message and isinstance(cache, np.ndarray):
        return (
            f"a tuple was used as a number: {kind}_forward returns the pair (out, cache); "
            f"unpack it, s, _ = {kind}_forward(cache)"
        )
    if "ValueError" not in message:
        return None
    try:
        answer = getattr(student, f"{kind}_forward")(SQUARE_Z)
        if not isinstance(answer, (tuple, list)) or len(answer) != 2:
            return None
        square = getattr(student, function)(SQUARE_DOUT, answer[1])
    except StudentRaised:
        return None
    local = {"sigmoid": sigmoid(SQUARE_Z) * (1 - sigmoid(SQUARE_Z))}.get(kind)
    if local is None:
        local = 1 - np.tanh(SQUARE_Z) ** 2 if kind == "tanh" else (SQUARE_Z > 0) * 1.0
    product = SQUARE_DOUT @ local, local @ SQUARE_DOUT
    if isinstance(square, np.ndarray) and any(shows(square, value) for value in product):
        return (
            f"this is a matrix product of dout and {DERIVATIVE[kind]} (np.dot or @): the chain "
            "rule through an activation is entry by entry, dout * the derivative"
        )
    return None


def answer_of(student: Any, function: str, *args: Any) -> Any:
    """The student's ``function``(*args), an error it raised named where its message says what."""
    try:
        return getattr(student, function)(*args)
    except StudentRaised as error:
        raise explained(error, error_hint(function, str(error))) from None
