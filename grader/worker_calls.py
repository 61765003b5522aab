"""How the worker takes apart a call of the student's code, and tells what happened in it.

Binding arguments to a function's signature (the answer kept per shape of call: a check calls
the same function many times), finding the argument arrays to watch for in-place changes and
naming them as the student's code does, and putting an exception or a syntax error into one short
line. Used by grader.worker only, so it imports what the worker does and no more; like the
worker, it keeps its own references to what it needs, taken before student code runs.
"""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Iterator
from typing import Any

import numpy as np

from grader.wire import Location, Unfinished

MAX_MESSAGE_CHARS = 2_000

_signatures: dict[int, tuple[Any, inspect.Signature | None]] = {}  # id -> (target, signature)
# (id, positional count, keyword names) -> (target, why those arguments do not bind, or "")
_bindings: dict[tuple[Any, ...], tuple[Any, str]] = {}


def is_plain(value: Any) -> bool:
    """A number or a numeric array: what a formula takes and gives (grader.formula)."""
    kind = type(value)
    if kind is float or kind is int:
        return True
    if kind is np.ndarray or isinstance(value, np.generic):
        return value.dtype.kind in "biuf" and value.dtype.fields is None
    return False


def plain_only(value: Any) -> dict[str, Any]:
    raise TypeError(f"a formula's {type(value).__name__} is not plain data")


def signature_of(target: Any) -> inspect.Signature | None:
    """``target``'s signature (None for builtins without one), computed once per target."""
    cached = _signatures.get(id(target))
    if cached is not None and cached[0] is target:
        return cached[1]
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        signature = None
    _signatures[id(target)] = (target, signature)  # the target is kept: its id stays its own
    return signature


def binding_problem(
    target: Any, signature: inspect.Signature | None, args: list[Any], kwargs: dict[str, Any]
) -> str:
    """Why ``target`` cannot take these arguments, or "" if it can (or has no signature).

    Whether arguments bind depends only on how many are positional and which are named, so
    the answer is kept for each such shape of call: a check calls the same function many times.
    """
    if signature is None:
        return ""
    shape = (id(target), len(args), *kwargs)
    known = _bindings.get(shape)
    if known is not None and known[0] is target:
        return known[1]
    try:
        signature.bind(*args, **kwargs)
        problem = ""
    except TypeError as error:
        name = getattr(target, "__name__", "the function")
        problem = (
            f"{name}{signature} cannot be called this way: {error} ({_call_shape(args, kwargs)})"
        )
    if len(_bindings) < 10_000:
        _bindings[shape] = (target, problem)  # the target is kept: its id stays its own
    return problem


def _call_shape(args: list[Any], kwargs: dict[str, Any]) -> str:
    """How the check called: 'the check passes 4 arguments', '... 1 argument and h='."""
    count = f"{len(args)} argument{'' if len(args) == 1 else 's'}"
    named = ", ".join(f"{key}=" for key in list(kwargs)[:6])
    return f"the check passes {count}{' and ' + named if named else ''}"


def argument_name(signature: inspect.Signature | None, path: list[Any]) -> str:
    """The argument at ``path`` (["args", 1, "W1"]) as the student's code names it: x['W1']."""
    root, first, *rest = path
    name = str(first)
    if root == "args":
        positional = [
            parameter.name
            for parameter in (signature.parameters.values() if signature else ())
            if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
        ]
        name = positional[first] if first < len(positional) else f"argument {first + 1}"
    return name + "".join(f"[{step!r}]" for step in rest)


def arrays_in(args: Any, kwargs: Any) -> Iterator[tuple[list[Any], np.ndarray]]:
    """(path, array) for every array in the arguments, so in-place changes can be reported."""
    stack: list[tuple[list[Any], Any, int]] = [(["args"], args, 0), (["kwargs"], kwargs, 0)]
    while stack:
        path, value, depth = stack.pop()
        if type(value) is np.ndarray:
            yield path, value
        elif depth < 8 and type(value) in (list, tuple):
            stack.extend(([*path, i], item, depth + 1) for i, item in enumerate(value))
        elif depth < 8 and type(value) is dict:
            stack.extend(
                ([*path, key], item, depth + 1)
                for key, item in value.items()
                if type(key) in (str, int)
            )


def exception_text(error: BaseException) -> str:
    try:
        text = str(error)
    except BaseException:
        text = ""
    name = type(error).__name__
    # On one line: a line break in it would start what looks like a line of the grader's own.
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return short(f"{name}: {text}" if text else name)


def short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + "…"


def valid_text(node: Any) -> Any:
    """``node`` with every string made encodable: a lone surrogate shown as its escape."""
    if isinstance(node, str):
        return node.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(node, list):
        return [valid_text(item) for item in node]
    if isinstance(node, dict):
        return {key: valid_text(value) for key, value in node.items()}
    return node


def type_name(value: Any) -> str:
    name = type(value).__qualname__
    return name if isinstance(name, str) else "object"


def syntax_error_location(error: SyntaxError) -> Location | None:
    if not error.lineno:
        return None
    return Location(error.lineno, short((error.text or "").strip()))


def location(error: BaseException, filename: str) -> Location | None:
    """The deepest frame of the submission (``filename``) in the error's traceback, if any."""
    if error.__traceback__ is None:
        return None
    frames = [
        frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename == filename
    ]
    line = frames[-1].lineno if frames else None
    if line is None:
        return None
    return Location(line, short((frames[-1].line or "").strip()))


def unfinished_function(error: BaseException, filename: str, module: Any) -> Unfinished | None:
    """The submission's function (or method) that raised NotImplementedError: its name, line
    and docstring summary; ``module`` is the submission's."""
    code, line = None, 0
    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == filename:
            code, line = trace.tb_frame.f_code, trace.tb_lineno
        trace = trace.tb_next
    if code is None:
        return None
    # Value.__mul__ on Python 3.11+, where code objects know their qualified name.
    name = getattr(code, "co_qualname", code.co_name)
    function: Any = module
    for part in name.split("."):
        function = getattr(function, part, None) if part != "<locals>" else None
    doc = getattr(function, "__doc__", None)
    summary = doc.strip().splitlines()[0] if isinstance(doc, str) and doc.strip() else ""
    return Unfinished(short(name), line, short(summary))
