"""The signature the course gives a function, read from its reference solution: shown when a
submission's own cannot take the checks' calls ("the course's is chain_rule(f_prime, g,
g_prime, x)"). The solution is the instructor's file, read with ast, never run here."""

from __future__ import annotations

import ast
import functools
from pathlib import Path


@functools.lru_cache(maxsize=64)
def _signatures(path: Path) -> dict[str, str]:
    """Name -> "name(parameters)" for every function and method of the file at ``path`` whose
    name occurs once in it (a method name two classes share is left out)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return {}
    found: dict[str, str | None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            text = f"{node.name}({ast.unparse(node.args)})"
            found[node.name] = text if node.name not in found else None
    return {name: text for name, text in found.items() if text is not None}


def course_signature(solution: Path | None, function: str) -> str | None:
    """``function``'s signature in the course's reference ``solution``, or None where there is
    no solution (a student release) or no single function of that name."""
    if solution is None:
        return None
    return _signatures(solution).get(function)


def with_course_signature(message: str, solution: Path | None) -> str:
    """A wrong-signature message ("chain_rule(f_prime, g, x) cannot be called this way: ..."),
    with the course's own signature as its hint where the solution has it and it differs."""
    name, _, rest = message.partition("(")
    expected = course_signature(solution, name) if name.isidentifier() and rest else None
    if expected is None or message.startswith(expected + " "):
        return message
    return f"{message}.\nHint: the course's is {expected}: keep its parameters, in that order."
