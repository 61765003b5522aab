"""What a numpy error was about: the sub-expression that raised and its operands' shapes.

numpy's own words for a shape mistake name neither the arrays nor the code ("matmul: Input operand
1 has a mismatch in its core dimension 0 ..."), and a line may hold several products. Python 3.11
records, for every instruction, the columns of the code it came from, so the worker can find the
exact sub-expression of the student's line that raised (``dout @ x.T`` in
``return dout @ W.T, dout @ x.T``), and evaluate its operands again in the frame that raised to
take their shapes. The grader turns the clue into words (grader.student_code.shape_words).

Only what cannot run the student's code again is evaluated: names, constants, attributes of
arrays and modules (``x.T``, ``np.newaxis``) and attributes stored on an object, subscripts of
arrays, lists, tuples and dicts, arithmetic on numbers and arrays, and calls of a few numpy
functions and array methods that compute without side effects (``np.sum``, ``a.reshape``). Any
other call is never made again: such an operand is reported without its shape. Used by
grader.worker only; it imports nothing the worker does not have already.
"""

from __future__ import annotations

import ast
import builtins
import linecache
import operator
import types
from types import FrameType, TracebackType
from typing import Any

import numpy as np

from grader.wire import CLUE_CODE_CHARS, Location, Operand, ShapeClue

# Calls that only compute from arrays, with no side effect: evaluated again to take a shape.
ARRAY_METHODS = frozenset(
    (
        "sum",
        "mean",
        "max",
        "min",
        "reshape",
        "transpose",
        "flatten",
        "ravel",
        "squeeze",
        "copy",
        "astype",
        "dot",
        "cumsum",
        "prod",
    )
)
NUMPY_FUNCTIONS = frozenset(
    (
        "sum",
        "mean",
        "max",
        "min",
        "maximum",
        "minimum",
        "exp",
        "log",
        "sqrt",
        "abs",
        "tanh",
        "sin",
        "cos",
        "reshape",
        "transpose",
        "dot",
        "matmul",
        "outer",
        "zeros",
        "ones",
        "zeros_like",
        "ones_like",
        "full_like",
        "array",
        "asarray",
        "squeeze",
        "expand_dims",
        "where",
        "argmax",
        "sign",
        "square",
        "clip",
        "exp2",
        "log1p",
    )
)
_BINARY = {
    ast.MatMult: operator.matmul,
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Pow: operator.pow,
}
_OPERATORS = {
    ast.MatMult: "@",
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Pow: "**",
}


def _frames(error: BaseException, filename: str) -> list[TracebackType]:
    """The traceback's entries in the submission, outermost first."""
    entries = []
    entry = error.__traceback__
    while entry is not None:
        if entry.tb_frame.f_code.co_filename == filename:
            entries.append(entry)
        entry = entry.tb_next
    return entries


def called_from(error: BaseException, filename: str) -> Location | None:
    """Where the submission's outermost function called the one that raised, when they differ
    (a given helper called with arrays of the wrong shapes): its line and code."""
    entries = _frames(error, filename)
    if len(entries) < 2 or entries[0].tb_frame.f_code is entries[-1].tb_frame.f_code:
        return None
    line = entries[0].tb_lineno
    code = linecache.getline(filename, line).strip()
    return Location(line, code[:CLUE_CODE_CHARS])


def shape_clue(error: BaseException, filename: str) -> ShapeClue | None:
    """For a ValueError raised by an operation on arrays in the submission: the operation, its
    code and its operands' shapes; None if the line or its operation cannot be told."""
    if not isinstance(error, ValueError):
        return None
    entries = _frames(error, filename)
    if not entries:
        return None
    try:
        return _clue(entries[-1])
    except Exception:  # a clue is a courtesy: never let finding one fail the reply
        return None


def _clue(entry: TracebackType) -> ShapeClue | None:
    frame = entry.tb_frame
    positions = list(frame.f_code.co_positions())
    index = entry.tb_lasti // 2
    if not 0 <= index < len(positions):
        return None
    line, end_line, start, end = positions[index]
    if line is None or line != end_line or start is None or end is None:
        return None
    # The columns count UTF-8 bytes.
    text = linecache.getline(frame.f_code.co_filename, line).encode()[start:end].decode()
    node = _parse(text)
    if node is None:
        return None
    found = _operation(node)
    if found is None:
        return None
    operation, operands = found
    described = [
        Operand(ast.unparse(operand)[:CLUE_CODE_CHARS], _shape(operand, frame))
        for operand in operands[:4]
    ]
    if not any(operand.shape is not None for operand in described):
        return None
    return ShapeClue(text.strip()[:CLUE_CODE_CHARS], operation[:CLUE_CODE_CHARS], described)


def _parse(text: str) -> ast.AST | None:
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        pass
    try:
        statement = ast.parse(text.strip()).body
    except SyntaxError:
        return None
    return statement[0] if len(statement) == 1 else None


def _operation(node: ast.AST) -> tuple[str, list[ast.expr]] | None:
    """The operation ``node`` performs and its operands: ``a @ b``, ``a += b``, ``np.dot(a, b)``,
    ``x.reshape(3, 4)`` (the array it is called on first)."""
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)], [node.left, node.right]
    if isinstance(node, ast.AugAssign) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)] + "=", [node.target, node.value]
    if isinstance(node, ast.Call):
        function = ast.unparse(node.func)
        arguments = [arg for arg in node.args if not isinstance(arg, ast.Starred)]
        if isinstance(node.func, ast.Attribute) and not _is_module_path(node.func.value):
            return node.func.attr, [node.func.value, *arguments]
        return function, arguments
    return None


def _is_module_path(node: ast.expr) -> bool:
    """``np`` or ``np.linalg``: a function of a module, not a method of an array."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id in ("np", "numpy", "math")


def _shape(operand: ast.expr, frame: FrameType) -> list[int] | None:
    """The operand's shape, evaluated again in ``frame`` where that runs none of the student's
    code (grader.shape_clues' docstring), if it is an array or a number; else None."""
    # An augmented assignment's target is parsed as written to: parse its code again to read it.
    operand = ast.parse(ast.unparse(operand), mode="eval").body
    try:
        with np.errstate(all="ignore"):
            value = _value(operand, frame)
    except Exception:
        return None
    if _is_array(value) and value.ndim <= 32:
        return [int(size) for size in value.shape]
    if _is_plain(value) and isinstance(value, (int, float, np.number)) and type(value) is not bool:
        return []
    return None


class _Unsafe(Exception):
    """Evaluating this node again could run the student's code."""


# Exact types only: a subclass (of ndarray, of float) may bring operators of the student's own.
_PLAIN_TYPES = frozenset((int, float, complex, bool, str, type(None), np.ndarray))


def _is_array(value: Any) -> bool:
    return type(value) is np.ndarray


def _is_plain(value: Any) -> bool:
    """A number, a string or an array whose operators are numpy's or Python's own."""
    kind = type(value)
    return kind in _PLAIN_TYPES or (isinstance(value, np.generic) and kind.__module__ == "numpy")


def _value(node: ast.expr, frame: FrameType) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        for scope in (frame.f_locals, frame.f_globals, vars(builtins)):
            if node.id in scope:
                return scope[node.id]
        raise _Unsafe(node.id)
    if isinstance(node, ast.Tuple):
        return tuple(_value(item, frame) for item in node.elts)
    if isinstance(node, ast.Attribute):
        owner = _value(node.value, frame)
        if _is_array(owner) or type(owner) is types.ModuleType:
            return getattr(owner, node.attr)
        stored = getattr(owner, "__dict__", None)  # an attribute stored, not computed
        if type(stored) is dict and node.attr in stored:
            return stored[node.attr]
        raise _Unsafe(node.attr)
    if isinstance(node, ast.Subscript):
        container = _value(node.value, frame)
        if type(container) not in (list, tuple, dict) and not _is_array(container):
            raise _Unsafe("subscript")
        return container[_index(node.slice, frame)]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_plain(_value(node.operand, frame))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _plain(_value(node.left, frame)), _plain(_value(node.right, frame))
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.Call):
        return _call(node, frame)
    raise _Unsafe(type(node).__name__)


def _index(node: ast.expr, frame: FrameType) -> Any:
    if isinstance(node, ast.Slice):
        return slice(
            *(
                None if part is None else _value(part, frame)
                for part in (node.lower, node.upper, node.step)
            )
        )
    if isinstance(node, ast.Tuple):
        return tuple(_index(item, frame) for item in node.elts)
    return _plain(_value(node, frame))


def _plain(value: Any) -> Any:
    """``value`` if it is a number or an array, whose operators are numpy's or Python's own."""
    if _is_plain(value) or (type(value) in (list, tuple) and len(value) < 64):
        return value
    raise _Unsafe("an object of the student's")


def _call(node: ast.Call, frame: FrameType) -> Any:
    if any(keyword.arg in (None, "out") for keyword in node.keywords):
        raise _Unsafe("out=")
    function = node.func
    if not isinstance(function, ast.Attribute):
        raise _Unsafe("call")
    owner = _value(function.value, frame)
    if _is_array(owner) and function.attr in ARRAY_METHODS:
        target = getattr(owner, function.attr)
    elif owner is np and function.attr in NUMPY_FUNCTIONS:
        target = getattr(np, function.attr)
    else:
        raise _Unsafe(function.attr)
    arguments = [_plain(_value(argument, frame)) for argument in node.args]
    keywords = {str(keyword.arg): _plain(_value(keyword.value, frame)) for keyword in node.keywords}
    return target(*arguments, **keywords)
