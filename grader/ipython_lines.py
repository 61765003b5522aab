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

import re

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_HELP = re.compile(r"^\s*(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")
# `t = %timeit -o f(x)`, `files = !ls`: neither % nor ! can start a Python expression.
_MAGIC_ASSIGNMENT = re.compile(r"^\s*[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[%!]")


def split_lines(source: str) -> list[str]:
    """The lines of ``source`` as Python's tokenizer sees them, without a last empty one."""
    lines = _LINE_BREAK.split(source)
    return lines[:-1] if lines and lines[-1] == "" else lines


# Cell magics that run their body as Python in the notebook's namespace; any other cell magic
# (%%bash, %%writefile, %%html, %%timeit, whose assignments stay inside its timing function)
# defines nothing in the kernel.
_PYTHON_CELL_MAGICS = frozenset({"time", "capture"})


class _Scanner:
    """Where statements start, line by line, without parsing: the depth of open brackets, an
    open triple-quoted string, a backslash continuation. Linear in the cell's length, where
    parsing the lines before each magic line again would not be."""

    def __init__(self) -> None:
        self.depth = 0
        self.quote: str | None = None
        self.continued = False

    def at_statement_start(self) -> bool:
        return self.depth == 0 and self.quote is None and not self.continued

    def read(self, line: str) -> None:
        """Take in one more line of the cell (as it will be graded)."""
        index, length = 0, len(line)
        while index < length:
            char = line[index]
            if self.quote is not None:
                if char == "\\":
                    index += 2
                elif line.startswith(self.quote, index):
                    index += len(self.quote)
                    self.quote = None
                else:
                    index += 1
                continue
            if char == "#":
                break
            if char in "'\"":
                self.quote = char * 3 if line.startswith(char * 3, index) else char
                index += len(self.quote)
                continue
            if char in "([{":
                self.depth += 1
            elif char in ")]}":
                self.depth = max(0, self.depth - 1)
            index += 1
        if self.quote in ("'", '"'):
            self.quote = None  # a one-line string ends with its line (or is a syntax error)
        self.continued = self.quote is None and line.rstrip().endswith("\\")


def _commented(line: str) -> str:
    return "# " + line


def python_lines(source: str) -> tuple[list[str], bool]:
    """The cell's lines with IPython's syntax commented out, and whether it is Python at all
    (False for a cell magic other than ``%%time`` and ``%%capture``, such as ``%%bash``)."""
    lines = split_lines(source)
    first = next((index for index, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = lines[first].lstrip()[2:].split(maxsplit=1)
        body = [*lines[:first], _commented(lines[first]), *lines[first + 1 :]]
        return body, bool(magic) and magic[0] in _PYTHON_CELL_MAGICS
    result: list[str] = []
    scanner = _Scanner()
    for line in lines:
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        ipython = (
            stripped.startswith(("%", "!")) or _HELP.match(line) or _MAGIC_ASSIGNMENT.match(line)
        )
        # Inside a block (`if "google.colab" in sys.modules:` then `!pip install ...`) such a
        # line becomes `pass`, so that the block stays Python.
        if ipython and scanner.at_statement_start():
            line = f"{indent}pass  # {stripped}" if indent else _commented(line)
        result.append(line)
        scanner.read(line)
    return result, True
