"""A notebook cell's lines made Python: IPython's own syntax commented out, line numbers kept.

A cell is split where Python splits lines (``\\n``, ``\\r\\n``, ``\\r``), not where
``str.splitlines`` does: a pasted U+2028 in a comment is not a line break to the tokenizer. A
line starting with ``%`` or ``!`` is a magic or a shell command only where a statement starts; in
the middle of a bracket (``... % x)``, ``!= b``) it is Python and stays. ``t = %timeit f(x)`` and
``files = !ls`` are IPython too, and ``np.cos?`` asks for help. Inside a block such a line becomes
``pass``. A cell starting with ``%%`` is a cell magic: its body is Python only for a few
(``%%time``), so a body that does not parse is not Python (``%%bash``, ``%%html``).
"""

from __future__ import annotations

import ast
import re

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_HELP = re.compile(r"^\s*(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")
# `t = %timeit -o f(x)`, `files = !ls`: neither % nor ! can start a Python expression.
_MAGIC_ASSIGNMENT = re.compile(r"^\s*[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[%!]")


def split_lines(source: str) -> list[str]:
    """The lines of ``source`` as Python's tokenizer sees them, without a last empty one."""
    lines = _LINE_BREAK.split(source)
    return lines[:-1] if lines and lines[-1] == "" else lines


def _parses(lines: list[str]) -> bool:
    try:
        ast.parse("\n".join(lines))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _commented(line: str) -> str:
    return "# " + line


def python_lines(source: str) -> tuple[list[str], bool]:
    """The cell's lines with IPython's syntax commented out, and whether it is Python at all
    (False for a cell magic whose body does not parse, such as ``%%bash``)."""
    lines = split_lines(source)
    first = next((index for index, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        body = [*lines[:first], _commented(lines[first]), *lines[first + 1 :]]
        return body, _parses(body)
    result: list[str] = []
    for line in lines:
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        ipython = (
            stripped.startswith(("%", "!")) or _HELP.match(line) or _MAGIC_ASSIGNMENT.match(line)
        )
        # Parsed only for such a line (rare): whether a statement may start there. Inside a
        # block (`if "google.colab" in sys.modules:` then `!pip install ...`) it becomes `pass`,
        # so that the block stays Python.
        if ipython and not indent and (not result or _parses(result)):
            result.append(_commented(line))
        elif ipython and indent and _parses([*result, indent + "pass"]):
            result.append(f"{indent}pass  # {stripped}")
        else:
            result.append(line)
    return result, True
