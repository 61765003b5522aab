"""A numpy shape error in words: what the operation was given, and the rule it breaks.

The worker sends the operation that raised and its operands' shapes (grader.wire.ShapeClue,
found by grader.shape_clues); this says, in one line, what was wrong ("`dout @ x.T` multiplies
dout (4, 3) by x.T (5, 4): the last size of the left (3) must equal the first size of the right
(5)") and, in another, the rule the shapes break and what to compare them with. Only facts are
stated, never a guess at the fix: the same shapes come from a product in the wrong order, the
wrong array, or a product meant entry by entry, and only the student knows which was meant.
"""

from __future__ import annotations

import re

import numpy as np

from grader.wire import Operand, ShapeClue

PRODUCTS = {"@", "@=", "np.dot", "np.matmul", "numpy.dot", "numpy.matmul", "dot", "matmul"}
ELEMENTWISE = {"+", "-", "*", "/", "//", "**", "+=", "-=", "*=", "/="}
ELEMENTWISE_FUNCTIONS = {"np.add", "np.subtract", "np.multiply", "np.divide", "np.maximum"}
ENTRY_BY_ENTRY = ELEMENTWISE | ELEMENTWISE_FUNCTIONS


def shape(sizes: list[int]) -> str:
    """(4, 3), or (3,) for one axis, or 'a number' for none."""
    if not sizes:
        return "a number"
    return f"({sizes[0]},)" if len(sizes) == 1 else f"({', '.join(map(str, sizes))})"


def says_it_all(clue: ShapeClue) -> bool:
    """Whether the words replace numpy's own message (a product or an entry-by-entry
    operation, whose shapes tell everything), rather than follow it (a reshape: numpy's message
    has the shape asked for)."""
    return clue.operation in PRODUCTS or clue.operation in ENTRY_BY_ENTRY


def explain(clue: ShapeClue) -> tuple[str, str] | None:
    """(what is wrong, what to do) for the clue, or None when its shapes explain nothing."""
    known = [operand for operand in clue.operands if operand.shape is not None]
    if clue.operation in PRODUCTS and len(clue.operands) >= 2 and len(known) >= 2:
        return _product(clue, clue.operands[0], clue.operands[1])
    if clue.operation in ENTRY_BY_ENTRY and len(known) >= 2:
        return _elementwise(clue, known[0], known[1])
    if clue.operation == "reshape" and clue.operands and clue.operands[0].shape is not None:
        array = clue.operands[0]
        assert array.shape is not None
        size = 1
        for length in array.shape:
            size *= length
        return (
            f"`{clue.expression}`: {array.code} has shape {shape(array.shape)}, {size} entries",
            "a reshape keeps the number of entries; ask for a shape whose sizes multiply to "
            f"{size}",
        )
    if known:
        shapes = ", ".join(f"{operand.code} {shape(operand.shape or [])}" for operand in known)
        return f"`{clue.expression}` was given {shapes}", (
            "compare these shapes with the ones the docstring gives"
        )
    return None


def _product(clue: ShapeClue, left: Operand, right: Operand) -> tuple[str, str] | None:
    a, b = left.shape, right.shape
    if a is None or b is None or len(a) == 0 or len(b) == 0:
        return None
    inner_left = a[-1]
    inner_right = b[0] if len(b) == 1 else b[-2]
    if inner_left == inner_right:
        return None  # the sizes agree: the error is about something else
    what = (
        f"`{clue.expression}` multiplies {left.code} {shape(a)} by {right.code} {shape(b)}: "
        f"the last size of the left ({inner_left}) must equal the "
        f"{'size' if len(b) == 1 else 'first size'} of the right ({inner_right})"
    )
    todo = (
        "(n, k) @ (k, m) gives (n, m): compare these shapes with the ones the docstring gives, "
        "to see which array is not the one meant here"
    )
    return what, todo


def _elementwise(clue: ShapeClue, left: Operand, right: Operand) -> tuple[str, str] | None:
    a, b = left.shape or [], right.shape or []
    try:
        np.broadcast_shapes(tuple(a), tuple(b))
        return None  # they broadcast: the error is about something else
    except ValueError:
        pass
    what = (
        f"`{clue.expression}` combines {left.code} {shape(a)} with {right.code} {shape(b)}, "
        "shapes numpy cannot broadcast"
    )
    todo = (
        "numpy pairs the sizes from the last axis back, and each pair must be equal or one "
        "of them 1: compare these shapes with the ones the docstring gives"
    )
    for reduced, whole in ((right, a), (left, b)):
        if _drops_the_last_axis(reduced, whole):
            kept = shape([*(reduced.shape or []), 1])
            todo = (
                f"{reduced.code} reduced the last axis away, so its {shape(reduced.shape or [])} "
                f"lines up with the last axis of {shape(whole)}: keepdims=True keeps it as "
                f"{kept}, one entry per row, which broadcasts"
            )
    return what, todo


# A sum, max, min or mean over the last of two axes, written as a method or a numpy function.
_LAST_AXIS_REDUCTION = re.compile(
    r"^(np\.)?\S*?\b(sum|max|min|mean|amax|amin)\(.*\baxis\s*=\s*(1|-1)\s*\)$"
)


def _drops_the_last_axis(reduced: Operand, whole: list[int]) -> bool:
    """Whether ``reduced`` is a reduction over the last axis (its code says so: ``axis=1`` or
    ``axis=-1``, no keepdims) of an array shaped ``whole``, (n, c) to (n,)."""
    sizes = reduced.shape
    return (
        sizes is not None
        and len(whole) == 2
        and sizes == whole[:-1]
        and "keepdims" not in reduced.code
        and _LAST_AXIS_REDUCTION.match(reduced.code.replace(" ", "")) is not None
    )
