"""What grading runs of a notebook: its code cells joined into one module, under a rule a student
can predict.

The rule (``RULE``, printed once in a report that left something out): grading keeps the imports,
the definitions (``def``, ``class``), and assignments to names of lambdas and of expressions built
from names and literals (``TWO = 2 * 1.0``, ``inner = lambda x: x**2 - 1``, ``SHAPE = (3, 4)``), in
cell order, so the last definition of a name wins as it does in the kernel. It leaves out what
could be slow or noisy: top-level calls (a try-out, a training run, a plot), loops, ``if`` and
``with`` blocks. IPython's ``%`` and ``!`` lines are never run. ``run_all_cells`` keeps everything.

Cells are numbered as Jupyter shows them: the position counting every cell, Markdown included,
and each is named with its first line, so "cell 7 (`def chain_rule(f, g, x):`), line 3" can be
found by eye. A NameError for a name that a left-out line would have defined names that line and
how to keep it (``left_out_hint``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

RULE = (
    "from a notebook, grading runs the imports, definitions (def, class, lambda) and assignments "
    "of names and literals, cell by cell (the last definition of a name wins), and leaves out "
    "top-level calls, loops and plots"
)
# A top-level call of the notebook API (`check("exercise3")`) and its import: left out quietly,
# as the check cell is part of every notebook and grading it from the worker would be circular.
_GRADER_CALLS = frozenset({"check", "check_all", "export"})
# Expression nodes an assignment kept by the rule may hold: names, literals and operators on
# them. A Call, a comprehension (a loop), an await or a yield runs code, so it is left out.
_PLAIN = (
    ast.Constant,
    ast.Name,
    ast.Attribute,
    ast.Subscript,
    ast.Slice,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Tuple,
    ast.List,
    ast.Set,
    ast.Dict,
    ast.Starred,
    ast.JoinedStr,
    ast.FormattedValue,
    ast.expr_context,
    ast.operator,
    ast.unaryop,
    ast.boolop,
    ast.cmpop,
)
_NOT_DEFINED = re.compile(r"name '([A-Za-z_][A-Za-z0-9_]*)' is not defined")


@dataclass(frozen=True)
class LeftOut:
    """One top-level statement of a notebook that grading does not run.

    cell: its cell's position among all cells (1-based); line: its first line in the cell;
    code: that line, at most 80 characters; names: the names it would have defined;
    what: what it is, for the student ("a top-level call", "a loop", "a block").
    """

    cell: int
    line: int
    code: str
    names: tuple[str, ...]
    what: str = "a top-level call"

    def shown(self) -> str:
        return f"cell {self.cell}, line {self.line}: `{self.code}`"


@dataclass(frozen=True)
class NotebookCode:
    """The module grading runs for one notebook.

    text: Python source, one line per line of the code cells (left-out statements blank);
    cell_of_line: line of ``text`` -> (cell position, line in that cell);
    cell_heads: cell position -> its first non-blank line (at most 40 characters);
    left_out: what the rule left out and is worth telling, in cell order.
    """

    text: str
    cell_of_line: dict[int, tuple[int, int]]
    cell_heads: dict[int, str]
    left_out: tuple[LeftOut, ...]


def notebook_code(cells: list[tuple[int, str]], run_all_cells: bool = False) -> NotebookCode:
    """The module for the code cells ``cells``, each (position among all cells, source)."""
    lines: list[str] = []
    cell_of_line: dict[int, tuple[int, int]] = {}
    heads: dict[int, str] = {}
    left_out: list[LeftOut] = []
    for position, source in cells:
        # IPython syntax is not Python: comment it out, keeping the line numbers.
        cell_lines = [
            "# " + line if line.lstrip().startswith(("%", "!")) else line
            for line in source.splitlines()
        ]
        heads[position] = _head(cell_lines)
        if not run_all_cells:
            left_out.extend(_leave_out(position, cell_lines))
        for line_in_cell, line in enumerate(cell_lines, start=1):
            lines.append(line)
            cell_of_line[len(lines)] = (position, line_in_cell)
        lines.append("")
    return NotebookCode("\n".join(lines) + "\n", cell_of_line, heads, tuple(left_out))


def place(code: NotebookCode, line: int) -> str | None:
    """'cell 7 (`def chain_rule(f, g, x):`), line 3' for ``line`` of the module, or None."""
    if line not in code.cell_of_line:
        return None
    cell, cell_line = code.cell_of_line[line]
    head = code.cell_heads.get(cell, "")
    return f"cell {cell}{f' (`{head}`)' if head else ''}, line {cell_line}"


def left_out_note(left_out: tuple[LeftOut, ...]) -> str:
    """The report's one note on the rule and what it left out (at most five shown)."""
    shown = "; ".join(item.shown() for item in left_out[:5])
    more = f"; and {len(left_out) - 5} more" if len(left_out) > 5 else ""
    return f"{RULE[0].upper()}{RULE[1:]}. Not run: {shown}{more} (--run-all-cells runs everything)"


def rule_told_once(notes_per_exercise: list[list[str]]) -> list[list[str]]:
    """The notes of several exercises' gradings with the rule's words kept in the first note
    that has them only: a report states the rule once."""
    told = False
    opening = f"{RULE[0].upper()}{RULE[1:]}. Not run: "
    shown: list[list[str]] = []
    for notes in notes_per_exercise:
        kept = []
        for note in notes:
            if note.startswith(opening):
                if told:
                    note = "Not run from your notebook: " + note.removeprefix(opening)
                told = True
            kept.append(note)
        shown.append(kept)
    return shown


def left_out_hint(message: str, left_out: tuple[LeftOut, ...]) -> str | None:
    """For a NameError ``message`` whose name only a left-out line defines: which line, and how
    to have it graded; else None."""
    match = _NOT_DEFINED.search(message)
    if match is None:
        return None
    name = match[1]
    defining = [item for item in left_out if name in item.names]
    if not defining:
        return None
    last = defining[-1]
    return (
        f"`{name}` is set in cell {last.cell}, line {last.line} (`{last.code}`), {last.what} "
        "grading leaves out; set it from names and literals, or inside the function"
    )


def unfinished_functions(sources: list[str]) -> int:
    """How many functions of ``sources`` (a script, or a notebook's cells in order) still raise
    NotImplementedError in their last definition: a later cell's redefinition replaces a stub."""
    last: dict[str, bool] = {}
    unparsed = 0
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            unparsed += source.count("raise NotImplementedError")
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                last[node.name] = "raise NotImplementedError" in ast.unparse(node)
    return unparsed + sum(last.values())


def last_definitions(sources: list[str]) -> dict[str, str]:
    """Each name the rule defines in ``sources`` (a script, or code cells in the order they
    ran), and its last definition as ``ast.dump`` text: two definitions are the same code when
    their texts are equal, whatever lines they are on."""
    found: dict[str, str] = {}
    for source in sources:
        lines = [
            "# " + line if line.lstrip().startswith(("%", "!")) else line
            for line in source.splitlines()
        ]
        try:
            tree = ast.parse("\n".join(lines))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            if not is_kept(node) or isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for name in _defined_names(node):
                found[name] = ast.dump(node)
    return found


def _head(cell_lines: list[str]) -> str:
    first = next((line.strip() for line in cell_lines if line.strip()), "")
    return first if len(first) <= 40 else first[:37] + "..."


def _is_plain(node: ast.expr) -> bool:
    """A lambda, or an expression of names and literals only (no call, no comprehension)."""
    if isinstance(node, ast.Lambda):
        return True
    for child in ast.walk(node):
        if isinstance(child, ast.Lambda):
            continue  # its body runs only when called
        if not isinstance(child, _PLAIN):
            return False
    return True


def _names(targets: list[ast.expr]) -> tuple[str, ...] | None:
    """The names assigned to, or None if a target is not a plain name (``d["a"] = 1``,
    ``obj.x = 1`` change another object, which runs code)."""
    names: list[str] = []
    for target in targets:
        if isinstance(target, ast.Name):
            names.append(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            inner = _names(
                [item.value if isinstance(item, ast.Starred) else item for item in target.elts]
            )
            if inner is None:
                return None
            names.extend(inner)
        else:
            return None
    return tuple(names)


def _defined_names(node: ast.stmt) -> tuple[str, ...]:
    """The names a statement would define at top level (for the NameError hint)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return (node.name,)
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
        targets = [node.target]
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
    names = list(_names(targets) or ())
    if isinstance(node, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
        for child in node.body:  # a definition inside a block is defined when it runs
            names.extend(_defined_names(child))
    return tuple(names)


def is_kept(node: ast.stmt) -> bool:
    """Whether the rule runs this top-level statement of a notebook."""
    if is_notebook_api(node):
        return False
    if isinstance(
        node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    ):
        return True
    if isinstance(node, ast.Assign):
        return _names(node.targets) is not None and _is_plain(node.value)
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        return (
            node.value is not None and _names([node.target]) is not None and _is_plain(node.value)
        )
    return False


def is_notebook_api(node: ast.stmt) -> bool:
    """``from grader import check`` or a top-level ``check("exercise3")``: the check cell."""
    if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "grader":
        return True
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id in _GRADER_CALLS
    )


def _is_quiet(node: ast.stmt) -> bool:
    """Left out without a word: a bare string or name (a cell showing a value), an
    ``if __name__ == "__main__":``, and the check cell."""
    if isinstance(node, ast.Expr) and isinstance(
        node.value, (ast.Constant, ast.Name, ast.Attribute)
    ):
        return True
    if is_notebook_api(node):
        return True
    return isinstance(node, ast.If) and "__name__" in ast.unparse(node.test)


def _what(node: ast.stmt) -> str:
    if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
        return "a loop"
    if isinstance(node, (ast.If, ast.With, ast.AsyncWith, ast.Try, ast.Match)):
        return "a block"
    return "a top-level call"


def _leave_out(position: int, cell_lines: list[str]) -> list[LeftOut]:
    """Blank the cell's top-level statements the rule leaves out, keeping line numbers; the
    ones worth reporting. A cell that does not parse is kept whole, so loading reports its
    syntax error."""
    try:
        tree = ast.parse("\n".join(cell_lines))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    reported = []
    for node in tree.body:
        if is_kept(node):
            continue
        if not _is_quiet(node):
            code = cell_lines[node.lineno - 1].strip()[:80]
            reported.append(LeftOut(position, node.lineno, code, _defined_names(node), _what(node)))
        assert node.end_lineno is not None
        for index in range(node.lineno - 1, node.end_lineno):
            cell_lines[index] = ""
    return reported
