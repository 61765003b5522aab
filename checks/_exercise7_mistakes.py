"""The mistakes of exercise 7's linear layer, in the words the public and the hidden checks share.

Each mistake is recognised by the value it gives: at the check's own point where it gives one,
and, where it raises there (a product of shapes that do not fit), at two square points of this
module's (N = D = M), where every product goes through and each formula gives its own value. A
mistake is named only where one formula fits, at both square points; where the code gives no
answer there either, a matrix product's error names it by its operands' shapes.

The backward pass is judged on the cache (x, W, b) the check builds itself, unless the student's
forward gave an equivalent one (or one the check cannot look into, such as a namedtuple kept in
the worker): a wrong cache is the forward's mistake, charged once, in the forward's check, as is
a missing bias. The backward's own mistakes are charged once each, by their kind (a weight
decay's, whatever its factor), and a later check that meets one goes on with its other
comparisons; one whose value needs no work, a constant such as db = 1, is charged in every check
that meets it. One example's contribution is named only where it is that example's again with
the batch's rows rolled by one (a max over the batch is not). An error the backward raises fails
every check that meets it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import permutations
from typing import Any

import numpy as np

from grader.check_messages import describe, difference, with_hint
from grader.checks import (
    CheckFailed,
    Handle,
    answer_or_none,
    expect_array,
    expect_matches_reference,
    fail,
    fail_unless_charged,
    follows,
    shows,
)
from grader.hints import FLOAT32, hint_for, matches
from grader.student_code.errors import StudentRaised

NO_BIAS = ("linear_forward", "the bias b is missing")
FORWARD = "linear_forward"
BACKWARD = "linear_backward"
# A weight decay's hint shows its factor c, read off the answer; the mistake it names, charged
# once, is the kind, whatever the factor (it may differ from one point to the next).
DECAY = (
    "dW has an extra term {c}·W, the gradient of an L2 penalty (weight decay): the layer's dW is "
    "x.T @ dout alone; regularisation belongs to the loss"
)
DB_WITHOUT_DOUT = (
    "db is 1 for every bias (or N, summed over the batch): ∂out/∂b = 1 without the upstream "
    "gradient; the chain rule multiplies it by dout, so db = dout summed over the batch, "
    "dout.sum(axis=0)"
)

# ---------------------------------------------------------------- the forward pass

BIAS_COLUMN = (
    "the bias is added as a column, b[n] to row n (b[:, None] or b.reshape(-1, 1)): b of shape "
    "(M,) broadcasts over the rows as it is, out = x @ W + b"
)
# The forward's products that raise where N, D and M differ, by their operands.
FORWARD_PRODUCTS = {
    ("@", "x", "W.T"): "this is x @ W.T + b: W is stored as (D, M) already, so out = x @ W + b "
    "needs no transpose",
    ("@", "W", "x"): "this is W @ x + b, the product in the wrong order: the batch x, (N, D), "
    "comes first, out = x @ W + b",
    ("@", "W.T", "x"): "this is W.T @ x + b, the formula for examples in columns: here the "
    "examples are x's rows, out = x @ W + b",
}
CACHE_AS_GIVEN = (
    "the cache is the tuple (x, W, b) the docstring gives, in that order, and linear_backward "
    "receives it as it is"
)
NO_CACHE = (
    "return the pair out, cache with cache = (x, W, b): linear_backward takes that cache as its "
    "second argument"
)


def square_layers() -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Two square layers (x, W, b, dout) with N = D = M, 3 and 4: random, so no two of the
    formulas a mistake gives agree there."""
    rng = np.random.default_rng(20261203)
    sizes = [[(k, k), (k, k), (k,), (k, k)] for k in (3, 4)]
    return [tuple(rng.normal(size=size) for size in layer) for layer in sizes]  # type: ignore[misc]


def out_like_x(x: np.ndarray, W: np.ndarray, raised: bool) -> str:
    (n, d), m = x.shape, W.shape[1]
    what = "the array written into has" if raised else "out has"
    return (
        f"{what} x's shape (N, D) = ({n}, {d}), where out is (N, M) = ({n}, {m}): an array to "
        "fill in is made as np.zeros((x.shape[0], W.shape[1])), not like x"
    )


def output_of(answer: Any) -> np.ndarray | None:
    """The output in a forward's answer, as float64, or None."""
    if isinstance(answer, (tuple, list)) and len(answer) == 2:
        answer = answer[0]
    if not isinstance(answer, np.ndarray) or answer.dtype.kind not in "biuf":
        return None
    return answer.astype(np.float64)


def only_fit(fits: list[set[str]]) -> str | None:
    """The one hint that fits at every square point, or None (none, or several)."""
    common = set.intersection(*fits) if fits else set()
    return next(iter(common)) if len(common) == 1 else None


def forward_error_hint(student: Any, error: StudentRaised, x: np.ndarray, W: np.ndarray) -> str:
    """The hint for linear_forward raising at (x, W, b), read off its answers at the square
    points ('' for none)."""
    message = str(error)
    if "ValueError" not in message:
        return ""
    n, d = x.shape
    fits: list[set[str]] = []
    for xs, Ws, bs, _ in square_layers():
        got = output_of(answer_or_none(student.linear_forward, xs, Ws, bs))
        if got is None:  # no answer at the square points: the error's own shapes may tell
            return FORWARD_PRODUCTS.get(named_product(message, n, d, W.shape[1]), "")
        arrays = {"x": xs, "W": Ws, "W.T": Ws.T}
        candidates = {
            hint: arrays[a] @ arrays[b] + bs for (_, a, b), hint in FORWARD_PRODUCTS.items()
        }
        candidates[BIAS_COLUMN] = xs @ Ws + bs[:, None]
        fit = {hint for hint, value in candidates.items() if matches(got, value)}
        if matches(got, xs @ Ws + bs):
            shapes = [f"into shape ({d},)", f"into shape ({n},{d})", f"with shape ({n},{d})"]
            if "broadcast" in message and any(shape in message for shape in shapes):
                fit = {out_like_x(x, W, raised=True)}
        fits.append(fit)
    return only_fit(fits) or ""


def explained(error: StudentRaised, hint: str) -> StudentRaised:
    """The student's error with ``hint`` after it, or as it was where there is none. A numpy
    error's second line, the rule it broke, stays: the hint follows it on that line."""
    if not hint:
        return error
    what, _, rule = str(error).partition("\n")
    if not rule:
        return StudentRaised(with_hint(what.rstrip("."), hint), error.line)
    return StudentRaised(f"{what}\n{rule.rstrip('.')}. Hint: {hint.rstrip('.')}.", error.line)


def forward_pair(student: Any, x: np.ndarray, W: np.ndarray, b: np.ndarray, call: str) -> Any:
    """linear_forward(x, W, b) as the pair (out, cache); an error or a missing cache named."""
    try:
        answer = student.linear_forward(x, W, b)
    except StudentRaised as error:
        raise explained(error, forward_error_hint(student, error, x, W)) from None
    if isinstance(answer, (tuple, list)) and len(answer) == 2:
        return answer[0], answer[1]
    hint = None
    if isinstance(answer, np.ndarray) and answer.ndim == 2:
        hint = NO_CACHE
    elif isinstance(answer, (tuple, list)) and len(answer) == 4 and is_cache(answer[1:], x, W, b):
        hint = "the cache is one item: return out, (x, W, b), a pair"
    fail(with_hint(f"{call} returned {describe(answer)}; expected the pair (out, cache)", hint))


def output_array(out: Any, call: str, x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The forward's output as an (N, M) array; a shape that names its mistake said so."""
    shape = (x.shape[0], W.shape[1])
    if isinstance(out, np.ndarray) and out.dtype.kind in "biuf" and out.shape != shape:
        hint = None
        if out.shape == x.shape:
            hint = out_like_x(x, W, raised=False)
        elif out.shape == (b.size, b.size) and shows(out, x @ W + b[:, None]):
            hint = BIAS_COLUMN  # b[:, None] broadcast against one row: (M, M)
        if hint is not None:
            fail(
                with_hint(
                    f"{call} returned an array of shape {out.shape}; expected shape {shape}", hint
                )
            )
    return expect_array(out, call, shape)


def forward_mistakes(x: np.ndarray, W: np.ndarray, got: np.ndarray, expected: Any) -> dict:
    """Hint -> what linear_forward gives with that mistake at (x, W, b); got: the student's
    output, named float32's where it is the expected one to about 7 digits and no more (float32
    products plus a float64 b are float64 numbers, which grader.hints does not take for
    float32's)."""
    scale = float(np.max(np.abs(expected))) or 1.0
    error = float(np.max(np.abs(got - expected)))
    lost = {FLOAT32: got} if 1e-10 * scale < error <= 2e-6 * scale else {}
    return {NO_BIAS: x @ W, **lost}


# ---------------------------------------------------------------- the cache


def same(item: Any, value: np.ndarray) -> bool:
    """Whether a cached item is ``value``, axes of size 1 aside (b kept as a (1, M) row)."""
    array = as_array(item)
    if array is None or array.squeeze().shape != value.squeeze().shape:
        return False
    return bool(np.array_equal(array.squeeze(), value.squeeze()))


def is_cache(cache: Any, x: np.ndarray, W: np.ndarray, b: np.ndarray) -> bool:
    return (
        isinstance(cache, (tuple, list))
        and len(cache) == 3
        and all(same(item, value) for item, value in zip(cache, (x, W, b), strict=True))
    )


def judged(cache: Any) -> bool:
    """Whether the check judges this cache: a tuple or list, or anything that is no container
    (a dict or an object kept in the worker, such as a namedtuple, it leaves to the backward)."""
    return not isinstance(cache, (dict, Handle))


def cache_hint(cache: Any, x: np.ndarray, W: np.ndarray, b: np.ndarray) -> str:
    """The hint for a wrong cache (not (x, W, b)): what it holds, where that tells."""
    if not isinstance(cache, (tuple, list)):
        return NO_CACHE if cache is None else CACHE_AS_GIVEN
    names = []
    for item in cache:
        found = [name for name, value in (("x", x), ("W", W), ("b", b)) if same(item, value)]
        name = found[0] if len(found) == 1 else "out" if shows(item, x @ W + b) else None
        if name is None:
            return CACHE_AS_GIVEN
        names.append(name)
    held = ", ".join(names)
    if "out" in names and "x" not in names:
        return (
            "the cache holds the output out where the input x belongs: cache = (x, W, b), for "
            "dW = x.T @ dout needs the input"
        )
    if sorted(names) == ["W", "b", "x"]:
        return (
            f"the cache holds ({held}): keep the order (x, W, b) the docstring gives, which "
            "linear_backward unpacks as x, W, b = cache"
        )
    if len(set(names)) == len(names) < 3:
        return f"the cache holds only ({held}): it is (x, W, b), all three, as the docstring says"
    return CACHE_AS_GIVEN


def expect_cache(cache: Any, x: np.ndarray, W: np.ndarray, b: np.ndarray, call: str) -> None:
    """The forward's cache is (x, W, b), as the docstring fixes it; a wrong one is the forward's
    mistake, named where it tells (charged once)."""
    if not judged(cache) or is_cache(cache, x, W, b):
        return
    hint = cache_hint(cache, x, W, b)
    message = with_hint(f"{call}: the cache is {describe(cache)}; expected (x, W, b)", hint)
    fail_unless_charged(message, (FORWARD, hint))


# ---------------------------------------------------------------- the backward pass


def true_gradients(
    x: np.ndarray, W: np.ndarray, dout: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


def as_array(value: Any) -> np.ndarray | None:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def right(grads: Any, x: np.ndarray, W: np.ndarray, dout: np.ndarray) -> bool:
    """Whether an answer of linear_backward is (dx, dW, db) at this point, to rounding."""
    if not isinstance(grads, (tuple, list)) or len(grads) != 3:
        return False
    wanted = true_gradients(x, W, dout)
    return all(
        got is not None and matches(got, want)
        for got, want in zip(map(as_array, grads), wanted, strict=True)
    )


def cache_for(student: Any, x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[Any, Any, Any]:
    """(the cache the backward is judged on, the student's forward output, the student's own
    cache where it was replaced as wrong). The student's cache where it is (x, W, b) or one the
    check does not judge; else (x, W, b), built here."""
    answer = answer_or_none(student.linear_forward, x, W, b)
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return (x, W, b), None, None
    out, cache = answer
    if not judged(cache) or is_cache(cache, x, W, b):
        return cache, out, None
    return (x, W, b), out, cache


CACHE_ORDERS = [order for order in permutations("xWb") if order != ("x", "W", "b")] + [
    ("x", "W"),
    ("W", "x"),
]


def cache_error_hint(student: Any, x: np.ndarray, W: np.ndarray, b: np.ndarray, dout: Any) -> str:
    """The hint where linear_backward gives the right gradients from the cache in another order
    (or of two items): it reads the cache so ('' for none)."""
    values = {"x": x, "W": W, "b": b}
    for order in CACHE_ORDERS:
        cache = tuple(values[name] for name in order)
        if right(answer_or_none(student.linear_backward, dout, cache), x, W, dout):
            if len(order) == 2:
                return (
                    f"linear_backward takes the cache as two items ({', '.join(order)}); the "
                    "cache is (x, W, b), three, as linear_forward returns it: x, W, b = cache"
                )
            return (
                f"linear_backward takes the cache as ({', '.join(order)}); the cache is (x, W, "
                "b), as linear_forward returns it: x first, then W, then b"
            )
    return ""


# Per gradient, the products a backward pass gets wrong: (operation, left, right) -> what it
# is and what to write. The operands are named as the error's shapes tell them apart.
PRODUCTS = {
    "dx": {
        ("@", "dout", "W"): "this is dout @ W, W without its transpose; dx = dout @ W.T",
        ("@", "W.T", "dout"): "this is W.T @ dout, the formula for examples in columns; here the "
        "examples are rows, dx = dout @ W.T",
        ("@", "W", "dout"): "this is W @ dout, the product in the wrong order; dx = dout @ W.T",
    },
    "dW": {
        ("@", "dout", "x.T"): "this is dout @ x.T, the product in the wrong order; dW = x.T @ dout",
        ("@", "x", "dout"): "this is x @ dout, x without its transpose; dW = x.T @ dout",
        ("*", "x.T", "dout"): "this is x.T * dout, an elementwise product where the matrix "
        "product belongs; dW = x.T @ dout",
        ("*", "x", "dout"): "this is x * dout, an elementwise product where the matrix product "
        "belongs; dW = x.T @ dout",
        ("@", "x[n]", "dout[n]"): "x[n] @ dout[n] of two 1-D rows is their dot product, one "
        "number (.T does nothing to a 1-D array), where each example adds the outer product "
        "np.outer(x[n], dout[n])",
        ("*", "x[n]", "dout[n]"): "x[n] * dout[n] multiplies two 1-D rows entry by entry, "
        "where each example adds the outer product np.outer(x[n], dout[n]), shaped (D, M)",
    },
}


def product_value(product: Any, x: np.ndarray, W: np.ndarray, dout: np.ndarray) -> np.ndarray:
    """What a product of PRODUCTS gives at a square point, where every one of them goes through
    (x[n] @ dout[n], one number, added to each entry of dW for every n)."""
    operation, left, right = product
    if left == "x[n]":  # each example's x[n] @ dout[n] (a number) or x[n] * dout[n] (a row)
        return np.broadcast_to(np.sum(x * dout, axis=None if operation == "@" else 0), W.shape)
    arrays = {"x": x, "x.T": x.T, "W": W, "W.T": W.T, "dout": dout}
    a, b = arrays[left], arrays[right]
    return a @ b if operation == "@" else a * b


def shape_hint(name: str, product: Any, shapes: dict[str, tuple[int, ...]]) -> str:
    array = {"dx": "x", "dW": "W"}[name]
    return f"{name} must have {array}'s shape {shapes[name]}: {PRODUCTS[name][product]}"


def square_error_hint(student: Any, shapes: dict[str, tuple[int, ...]]) -> str | None:
    """The hint for a backward that raised, read off its gradients at the square points: each
    gradient that one mistake's product gives at both ('' for none; None where the backward
    gives no answer there)."""
    fits: dict[str, list[set[Any]]] = {"dx": [], "dW": []}
    for xs, Ws, bs, douts in square_layers():
        cache, _, _ = cache_for(student, xs, Ws, bs)
        grads = answer_or_none(student.linear_backward, douts, cache)
        if not isinstance(grads, (tuple, list)) or len(grads) != 3:
            return None
        truth = dict(zip(("dx", "dW"), true_gradients(xs, Ws, douts), strict=False))
        for name, products in PRODUCTS.items():
            got = as_array(grads[0 if name == "dx" else 1])
            if got is None or matches(got, truth[name]):
                fits[name].append(set())
                continue
            fits[name].append(
                {key for key in products if matches(got, product_value(key, xs, Ws, douts))}
            )
    hints = []
    for name, fit in fits.items():
        product = only_fit(fit)
        if product is not None:
            hints.append(shape_hint(name, product, shapes))
    return "; ".join(hints)


# '`dout @ x.T` multiplies dout (4, 3) by x.T (5, 4): the last size ...', an error's first line.
PRODUCT_ERROR = re.compile(
    r"` multiplies .*?\((\d+(?:, \d+)*),?\) by .*?\((\d+(?:, \d+)*),?\): the last size"
)


def operands(message: str) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """The shapes of the two operands of the matrix product a numpy error reports, or None."""
    found = PRODUCT_ERROR.search(message.split("\n")[0])
    if found is None:
        return None
    left, right = (tuple(int(size) for size in group.split(", ")) for group in found.groups())
    return left, right


def named_operand(shape: tuple[int, ...], n: int, d: int, m: int) -> str | None:
    """The array of the backward pass that has ``shape`` at a point with distinct N, D, M."""
    shapes = [(n, d), (d, n), (d, m), (m, d), (n, m), (m, n), (d,), (m,)]
    names = ["x", "x.T", "W", "W.T", "dout", "dout.T", "x[n]", "dout[n]"]
    return dict(zip(shapes, names, strict=True)).get(shape)


def named_product(message: str, n: int, d: int, m: int) -> tuple[str, Any, Any] | None:
    """The matrix product a numpy error reports, its operands named by their shapes (where N, D
    and M differ, each shape is one array's); None where it tells none."""
    found = operands(message)
    if found is None or len({n, d, m}) < 3:
        return None
    return ("@", named_operand(found[0], n, d, m), named_operand(found[1], n, d, m))


def operand_error_hint(message: str, shapes: dict[str, tuple[int, ...]]) -> str:
    """The hint for a backward whose error names a product of PRODUCTS by its operands' shapes;
    '' for none."""
    (n, d), m = shapes["dx"], shapes["dW"][1]
    product = named_product(message, n, d, m)
    for name, products in PRODUCTS.items():
        if product in products:
            return shape_hint(name, product, shapes)
    return ""


def backward_error_hint(
    student: Any, error: StudentRaised, x: np.ndarray, W: np.ndarray, b: np.ndarray, dout: Any
) -> str:
    if "ValueError" not in str(error):
        return ""
    shapes = {"dx": x.shape, "dW": W.shape}
    hint = cache_error_hint(student, x, W, b, dout)
    if hint:
        return hint
    hint = square_error_hint(student, shapes)
    if hint is None:  # no answer at the square points: the error's own shapes may tell
        return operand_error_hint(str(error), shapes)
    return hint


def backward_answer(
    student: Any, x: np.ndarray, W: np.ndarray, b: np.ndarray, dout: np.ndarray, call: str
) -> tuple[Any, Any]:
    """(linear_backward's answer on the cache the check judges it on, the student's forward
    output there). An error is named where its mistake tells; a backward that is right only
    from its own forward's wrong cache follows that forward's mistake (charged there)."""
    cache, out, replaced = cache_for(student, x, W, b)
    error = None
    try:
        grads = student.linear_backward(dout, cache)
    except StudentRaised as raised:
        error, grads = raised, None
    if replaced is not None and not right(grads, x, W, dout):
        hint = cache_hint(replaced, x, W, b)
        own = answer_or_none(student.linear_backward, dout, replaced)
        if right(own, x, W, dout):
            message = f"{call} gives the right gradients only from linear_forward's own cache"
            mistake = (FORWARD, hint)
            fail_unless_charged(with_hint(message, follows(mistake, call)), mistake)
            error, grads = None, own
    if error is not None:
        raise explained(error, backward_error_hint(student, error, x, W, b, dout)) from None
    return grads, out


def expect_in_order(grads: Any, call: str, shapes: dict[str, tuple[int, ...]]) -> None:
    """Fail, naming the order, when the gradients come in another order than (dx, dW, db) (their
    shapes tell which is which)."""
    got = [np.shape(grad) if isinstance(grad, np.ndarray) else None for grad in grads]
    names = {shape: name for name, shape in shapes.items()}
    if len(names) == 3 and got != list(names) and sorted(map(str, got)) == sorted(map(str, names)):
        order = ", ".join(names[shape] for shape in got if shape is not None)
        hint = "return the tuple in the order (dx, dW, db)"
        fail(with_hint(f"{call} returned arrays shaped as ({order})", hint))


def expect_db_shape(db: Any, call: str, dout: np.ndarray) -> None:
    """Fail, naming the axis, where db is summed over another axis than the batch's, over all
    of them, or not at all."""
    n, m = dout.shape
    got = as_array(db)
    if got is None or got.shape == (m,):
        return
    hint = None
    if got.shape == (n,) and n != m:
        hint = "db sums dout over the batch, its first axis: np.sum(dout, axis=0)"
        reason = f"db has shape {got.shape}, one entry per example"
    elif got.ndim == 0 and matches(got, np.sum(dout)) and m > 1:
        hint = (
            "db is one number, the sum of all of dout: sum over the batch's axis only, "
            "np.sum(dout, axis=0), one entry per bias"
        )
        reason = f"db is the number {describe(float(got))}"
    elif got.shape == (n, m) and n > 1 and matches(got, dout):
        hint = "db is dout itself, one row per example: sum it over the batch, axis 0"
        reason = f"db has dout's shape {got.shape}"
    if hint is not None:
        fail(with_hint(f"{call}: {reason}; expected b's shape ({m},)", hint))


def gradient_arrays(grads: Any, call: str, x: np.ndarray, W: np.ndarray, dout: np.ndarray) -> Any:
    """(dx, dW, db) as float64 arrays of x's, W's and b's shapes; the order and db's axis named."""
    if not isinstance(grads, (tuple, list)) or len(grads) != 3:
        fail(f"{call} returned {describe(grads)}; expected the tuple (dx, dW, db)")
    shapes = {"dx": x.shape, "dW": W.shape, "db": (dout.shape[1],)}
    expect_in_order(grads, call, shapes)
    expect_db_shape(grads[2], call, dout)
    return [
        expect_array(grad, f"{call}: {name}", shape)
        for grad, (name, shape) in zip(grads, shapes.items(), strict=True)
    ]


def unambiguous(mistakes: dict[Any, Any]) -> dict[Any, Any]:
    """The mistakes whose value no other one gives: where two formulas agree, neither is named."""
    values = {key: as_array(value) for key, value in mistakes.items()}
    return {
        key: mistakes[key]
        for key, value in values.items()
        if value is not None
        and not any(matches(value, other) for name, other in mistakes.items() if name != key)
    }


def decay_factor(got: np.ndarray, x: np.ndarray, W: np.ndarray, dout: np.ndarray) -> float | None:
    """c where got = x.T @ dout + c·W for one c ≠ 0 (an L2 penalty's gradient added), read off
    the answer and held to every entry; else None."""
    if got.shape != W.shape or W.size < 2:
        return None
    extra = got - x.T @ dout
    c = float(np.sum(extra * W) / np.sum(W * W))
    scale = float(np.max(np.abs(x.T @ dout))) or 1.0
    if np.allclose(extra, 0, atol=1e-7 * scale):
        return None
    return c if np.allclose(extra, c * W, rtol=1e-6, atol=1e-9 * scale) else None


def one_example(
    got: np.ndarray, values: np.ndarray, again: Callable[[], Any] | None = None
) -> np.ndarray | None:
    """values[k], one example's contribution, where ``got`` is it for exactly one k (N > 1),
    and picked as that example's: again() gives the student's answer (and the contributions)
    with the batch's rows rolled by one, where the same k must fit again. A reduction over the
    batch, such as max or min, picks the same values from the rolled batch, which k no longer
    holds; without again(), the answer's k is not confirmed and nothing is named."""
    fits = [k for k, value in enumerate(values) if matches(got, value)]
    if len(fits) != 1 or len(values) < 2 or again is None:
        return None
    rolled = again()
    if rolled is None:
        return None
    answer, contributions = rolled
    k = fits[0]
    if answer is None or not matches(answer, contributions[k]):
        return None
    if any(matches(answer, value) for j, value in enumerate(contributions) if j != k):
        return None
    return values[k]


def rolled_batch(x: np.ndarray, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x, dout) with the batch's rows rolled by one: example n moves to row n + 1."""
    return np.roll(x, 1, axis=0), np.roll(dout, 1, axis=0)


def rolled_answers(
    student: Any, x: np.ndarray, W: np.ndarray, b: np.ndarray, dout: np.ndarray
) -> Callable[[str], Any]:
    """name (dW or db) -> (the student's gradient at the batch rolled by one row, that batch's
    contributions per example), or None where the backward gives no such answer; the backward
    is called once, the first time it is asked for."""
    answers: list[Any] = []

    def answer(name: str) -> Any:
        xr, doutr = rolled_batch(x, dout)
        if not answers:
            cache, _, _ = cache_for(student, xr, W, b)
            answers.append(answer_or_none(student.linear_backward, doutr, cache))
        grads = answers[0]
        if not isinstance(grads, (tuple, list)) or len(grads) != 3:
            return None
        got = as_array(grads[1 if name == "dW" else 2])
        values = np.einsum("nd,nm->ndm", xr, doutr) if name == "dW" else doutr
        return got, values

    return answer


def gradient_mistakes(
    name: str,
    x: np.ndarray,
    W: np.ndarray,
    dout: np.ndarray,
    got: np.ndarray,
    rolled: Callable[[str], Any] | None = None,
) -> dict[Any, Any]:
    """Hint -> the value linear_backward's ``name`` (dx, dW or db) gives with that mistake at
    (x, W, b, dout); got: the student's answer, from which a weight decay's factor, or the one
    example counted, is read (then held to every entry). rolled: rolled_answers at this point,
    which confirms the one example counted (no one example is named without it)."""
    upstream = f"the upstream gradient dout is missing: by the chain rule, {name} = "
    mistakes: dict[Any, Any] = {}
    if name == "dx":
        mistakes = {
            "dx is dout @ dW.T, dW where W belongs: where dW = W made them one array (not a "
            "copy), writing dW overwrote the cached W; dx = dout @ W.T": dout @ (x.T @ dout).T,
            upstream + "dout @ W.T": np.ones_like(dout) @ W.T,
            "dx is divided by N, the batch size: each example's row of dx is its own gradient, "
            "dout @ W.T, never averaged": dout @ W.T / dout.shape[0],
            "dx is right for the first example and 0 for every other: fill each example's "
            "row (does a loop end after its first pass, with a return inside it?)": np.where(
                np.arange(len(dout))[:, None] == 0, dout @ W.T, 0.0
            ),
        }
    elif name == "dW":
        mistakes = {
            "dW is divided by N, the batch size; the batch's contributions are summed": (x.T @ dout)
            / dout.shape[0],
            "dW is dx.T @ dout, dx where x belongs: where dx = x made them one array (not a "
            "copy), writing dx overwrote the cached x; dW = x.T @ dout": (dout @ W.T).T @ dout,
            upstream + "x.T @ dout": x.T @ np.ones_like(dout),
        }
        single = one_example(
            got, np.einsum("nd,nm->ndm", x, dout), rolled and (lambda: rolled("dW"))
        )
        if single is not None:
            mistakes[
                "dW is one example's np.outer(x[n], dout[n]) where the sum over every example "
                "belongs: add each example's (dW += in a loop), or x.T @ dout"
            ] = single
        c = decay_factor(got, x, W, dout)
        if c is not None:
            mistakes[DECAY.format(c=f"{c:.3g}")] = x.T @ dout + c * W
    else:
        m = dout.shape[1]
        mistakes = {
            "db is averaged over the batch; sum it over the N examples": dout.mean(axis=0),
        }
        # 1 or N for every bias: one mistake, one hint, so that it is charged once wherever it
        # shows (for one example, N is 1).
        ones = next(
            (v for v in (np.ones(m), np.full(m, float(len(dout)))) if matches(got, v)), None
        )
        if ones is not None:
            mistakes[DB_WITHOUT_DOUT] = ones
        single = one_example(got, dout, rolled and (lambda: rolled("db")))
        if single is not None:
            mistakes[
                "db is one example's dout[n] where the sum over every example belongs: db = "
                "dout.sum(axis=0)"
            ] = single
    return unambiguous(mistakes)


# Mistakes whose value needs no work: a constant, whatever the inputs' values (db = 1 for every
# bias). Naming one tells the student what is wrong; excusing it in a later check would give
# that check's points for an answer it never verified, so each check that meets one fails.
NO_WORK = frozenset({DB_WITHOUT_DOUT})


def kind(hint: str) -> str:
    """The mistake a hint names, as it is charged: the hint itself, or for a hint that shows a
    number read off the answer (a weight decay's factor), its fixed kind."""
    prefix, _, suffix = DECAY.partition("{c}")
    if hint.startswith(prefix) and hint.endswith(suffix):
        return DECAY
    return hint


@contextmanager
def charged_by_kind() -> Iterator[None]:
    """Within the block, a failure that names a backward's mistake charges it by its kind():
    where an earlier check charged that kind, the failure is a note, as fail_unless_charged
    makes it (the failing comparison was the block's last)."""
    try:
        yield
    except CheckFailed as failure:
        mistake = failure.mistake
        if mistake is None or not isinstance(mistake[1], str) or kind(mistake[1]) == mistake[1]:
            raise
        fail_unless_charged(str(failure), (mistake[0], kind(mistake[1])))


def expect_named(
    got: np.ndarray,
    expected: Any,
    call: str,
    mistakes: dict[Any, Any],
    compare: Callable[..., None] = expect_matches_reference,
) -> None:
    """compare(got, expected, call, mistakes=mistakes): a mistake of the backward's own (a text
    key) is named in the same words as in every backward check and, like a forward's mistake the
    answer follows (a (function, hint) key), charged once, by its kind(): a later check that
    meets it notes it and goes on. A mistake of NO_WORK is charged in every check that meets it:
    its value is no answer to verify."""
    want = np.asarray(expected, dtype=np.float64)
    largest = float(np.max(np.abs(want))) if want.size else 0.0
    wrong = ~(np.abs(got - want) <= 1e-7 * np.abs(want) + 1e-9 * largest + 1e-12)
    own = {key: value for key, value in mistakes.items() if isinstance(key, str)}
    hint = hint_for(got, want, own) if wrong.any() else None
    if hint in own:
        message = with_hint(difference(call, got, want, wrong), hint)
        if hint in NO_WORK:
            fail(message, (BACKWARD, hint))
        fail_unless_charged(message, (BACKWARD, kind(hint)))
        return
    with charged_by_kind():
        compare(got, want, call, mistakes=mistakes)
