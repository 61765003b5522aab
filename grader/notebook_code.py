"""What grading runs of a notebook: its code cells joined into one module, under a rule a student
can predict.

The rule (``RULE``, printed once in a report that left something out): grading keeps the imports,
the definitions (``def``, ``class``), and assignments of lambdas and of expressions built from
names and literals (``TWO = 2 * 1.0``, ``inner = lambda x: x**2 - 1``, ``SHAPE = (3, 4)``,
``CONFIG["lr"] = 0.1``), in cell order, so the last definition of a name wins as it does in the
kernel. An assignment is kept only if every name it reads is defined by what was kept before it
(or is a builtin): ``err = ys - 1.0`` after a left-out ``ys = f(xs)`` is a try-out too. It leaves
out what could be slow or noisy: top-level calls (a try-out, a training run, a plot), loops,
``if``, ``with`` and ``try`` blocks, and cells that are not Python (a ``%%bash`` cell, a cell with
a syntax error, which the kernel did not run either). IPython's ``%`` and ``!`` lines are never
run (grader.ipython_lines). ``run_all_cells`` keeps everything.

A cell is named by its position counting every cell, Markdown included (Jupyter shows execution
counts, not positions), and by its first line: "cell 7 (`def chain_rule(f, g, x):`), line 3". A
NameError or a missing function that a left-out line would have defined names that line, why it
was left out and what to do (``left_out_hint``).
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass

from grader.ipython_lines import python_lines, split_lines

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
# The errors a left-out line can explain: a name it would have set, a function it would have
# defined (grader.worker's words for a missing function).
_MISSING = re.compile(
    r"name '([A-Za-z_][A-Za-z0-9_]*)' is not defined|has no function named ([A-Za-z_][A-Za-z0-9_]*)"
)
_TOP_LEVEL_DEF = re.compile(r"^(?:async\s+def|def|class)\s+([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)
_BUILTINS = frozenset(dir(builtins))


@dataclass(frozen=True)
class LeftOut:
    """One top-level statement (or a whole cell) of a notebook that grading does not run.

    cell: its cell's position among all cells (1-based); line: its first line in the cell;
    code: that line, at most 80 characters; names: the names it would have defined;
    why: why it is left out, for the student ("a top-level call", "a loop", "a block", "it uses
    `ys`, which is left out", "a syntax error: ..."); fix: what to do to have it graded.
    """

    cell: int
    line: int
    code: str
    names: tuple[str, ...]
    why: str = "a top-level call"
    fix: str = "set it from names and literals, or inside the function that uses it"

    def shown(self) -> str:
        whole_cell = self.why.startswith(("a syntax error", "a cell magic"))
        return f"cell {self.cell}, line {self.line}: `{self.code}`" + (
            f" ({self.why})" if whole_cell else ""
        )


@dataclass(frozen=True)
class NotebookCode:
    """The module grading runs for one notebook.

    text: Python source, one line per line of the code cells (left-out statements blank);
    cell_of_line: line of ``text`` -> (cell position, line in that cell);
    cell_heads: cell position -> its first non-blank line as the student wrote it (at most 40
    characters);
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
    defined: set[str] = set(_BUILTINS)  # what the kept code has defined so far
    for position, source in cells:
        cell_lines, is_python = python_lines(source)
        heads[position] = _head(source)
        if not run_all_cells:
            left_out.extend(_leave_out(position, source, cell_lines, is_python, defined))
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
    """For a NameError or a missing function ``message`` whose name only a left-out line
    defines: which line, why it was left out, and how to have it graded; else None."""
    match = _MISSING.search(message)
    if match is None:
        return None
    name = match[1] or match[2]
    defining = [item for item in left_out if name in item.names]
    if not defining:
        return None
    last = defining[-1]
    return (
        f"`{name}` is {'defined' if match[2] else 'set'} in cell {last.cell}, line {last.line} "
        f"(`{last.code}`), which grading "
        f"leaves out ({last.why}); {last.fix}"
    )


def _head(source: str) -> str:
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    return first if len(first) <= 40 else first[:37] + "..."


def _reads(node: ast.AST) -> tuple[set[str], bool]:
    """The names an expression reads, and whether it is plain: names, literals and operators
    only, no call, no comprehension (a loop), no await or yield. A lambda is plain when its
    defaults are (they run when it is made); its body runs only when called, so it is not
    read."""
    if isinstance(node, ast.Lambda):
        names: set[str] = set()
        plain = True
        for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d)]:
            read, ok = _reads(default)
            names |= read
            plain = plain and ok
        return names, plain
    if not isinstance(node, _PLAIN):
        return set(), False
    names = {node.id} if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) else set()
    plain = True
    for child in ast.iter_child_nodes(node):
        read, ok = _reads(child)
        names |= read
        plain = plain and ok
    return names, plain


def _target_names(target: ast.expr) -> tuple[set[str], set[str]] | None:
    """(names set, names read) by an assignment target; None for one that is not a name, a
    tuple of them, or an item or attribute of a name (``CONFIG["lr"]``, ``net.rate``)."""
    if isinstance(target, ast.Name):
        return {target.id}, set()
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    if isinstance(target, ast.Tuple | ast.List):
        set_names: set[str] = set()
        read: set[str] = set()
        for item in target.elts:
            inner = _target_names(item)
            if inner is None:
                return None
            set_names |= inner[0]
            read |= inner[1]
        return set_names, read
    if isinstance(target, ast.Subscript | ast.Attribute) and isinstance(target.value, ast.Name):
        read, plain = _reads(target.slice) if isinstance(target, ast.Subscript) else (set(), True)
        return (set(), {target.value.id} | read) if plain else None
    return None


def _assignment(node: ast.stmt) -> tuple[list[ast.expr], ast.expr | None] | None:
    if isinstance(node, ast.Assign):
        return node.targets, node.value
    if isinstance(node, ast.AnnAssign | ast.AugAssign):
        return [node.target], node.value
    return None


def _bound_by_import(node: ast.Import | ast.ImportFrom) -> set[str] | None:
    """The names an import binds; None for ``from x import *`` (any name, then)."""
    if any(alias.name == "*" for alias in node.names):
        return None
    return {
        alias.asname or (alias.name.split(".")[0] if isinstance(node, ast.Import) else alias.name)
        for alias in node.names
    }


def _keep(node: ast.stmt, defined: set[str]) -> str | None:
    """None if the rule runs this top-level statement (adding what it defines to ``defined``),
    else why it is left out."""
    if is_notebook_api(node):
        return "the check cell"
    if isinstance(node, ast.Import | ast.ImportFrom):
        bound = _bound_by_import(node)
        defined |= bound if bound is not None else set()
        if bound is None:
            defined.add("*")  # after a star import any name may be defined
        return None
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        defined.add(node.name)
        return None
    assignment = _assignment(node)
    if assignment is None:
        return _what(node)
    targets, value = assignment
    if value is None:
        return "an annotation alone"
    read, plain = _reads(value)
    set_names: set[str] = set()
    for target in targets:
        names = _target_names(target)
        if names is None:
            return "a top-level call"
        set_names |= names[0]
        read |= names[1]
    if isinstance(node, ast.AugAssign):
        read |= set_names
    if not plain:
        return "a top-level call"
    missing = sorted(read - defined) if "*" not in defined else []
    if missing:
        return f"it uses `{missing[0]}`, which is left out"
    defined |= set_names
    return None


def is_kept(node: ast.stmt, defined: set[str] | None = None) -> bool:
    """Whether the rule runs this top-level statement, after code that defined ``defined``
    (default: any name)."""
    return _keep(node, set(defined) if defined is not None else {"*"}) is None


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
    """Left out without a word: a bare string or name (a cell showing a value), an annotation
    alone, an ``if __name__ == "__main__":``, and the check cell."""
    if isinstance(node, ast.Expr) and isinstance(
        node.value, ast.Constant | ast.Name | ast.Attribute
    ):
        return True
    if isinstance(node, ast.AnnAssign) and node.value is None:
        return True
    if is_notebook_api(node):
        return True
    return isinstance(node, ast.If) and "__name__" in ast.unparse(node.test)


def _what(node: ast.stmt) -> str:
    if isinstance(node, ast.For | ast.AsyncFor | ast.While):
        return "a loop"
    if isinstance(node, ast.If | ast.With | ast.AsyncWith | ast.Try | ast.TryStar | ast.Match):
        return "a block"
    return "a top-level call"


def _defined_names(node: ast.stmt) -> tuple[str, ...]:
    """The names a statement would define at top level (for the hint), blocks included."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return (node.name,)
    if isinstance(node, ast.Import | ast.ImportFrom):
        return tuple(sorted(_bound_by_import(node) or ()))
    targets: list[ast.expr] = []
    assignment = _assignment(node)
    if assignment is not None:
        targets = assignment[0]
    elif isinstance(node, ast.For | ast.AsyncFor):
        targets = [node.target]
    elif isinstance(node, ast.With | ast.AsyncWith):
        targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
    names = [name for target in targets for name in sorted((_target_names(target) or ({},))[0])]
    blocks: list[list[ast.stmt]] = []
    for field in ("body", "orelse", "finalbody"):
        value = getattr(node, field, None)
        if isinstance(value, list) and not isinstance(node, ast.FunctionDef | ast.ClassDef):
            blocks.append(value)
    for handler in getattr(node, "handlers", []):
        blocks.append(handler.body)
    for block in blocks:  # a definition inside a block is defined when it runs
        for child in block:
            names.extend(_defined_names(child))
    return tuple(names)


def _leave_out(
    position: int, source: str, cell_lines: list[str], is_python: bool, defined: set[str]
) -> list[LeftOut]:
    """Blank the cell's top-level statements the rule leaves out, keeping line numbers; the
    ones worth reporting. A cell that is not Python, or does not parse, is left out whole, as
    the kernel could not run it either."""
    text = "\n".join(cell_lines)
    try:
        tree = ast.parse(text) if is_python else None
        problem = "a cell magic, not Python"
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        tree = None
        where = (
            f" at line {error.lineno}" if isinstance(error, SyntaxError) and error.lineno else ""
        )
        message = error.msg if isinstance(error, SyntaxError) else type(error).__name__
        problem = f"a syntax error{where}: {message}"
    if tree is None:
        first = next((index for index, line in enumerate(cell_lines) if line.strip()), None)
        for index in range(len(cell_lines)):
            cell_lines[index] = ""
        if first is None:
            return []
        fix = (
            "fix it and run the cell"
            if problem.startswith("a syntax")
            else "move it to a cell of its own"
        )
        names = tuple(_TOP_LEVEL_DEF.findall(text))
        code = split_lines(source)[first].strip()[:80]  # as the student wrote it
        return [LeftOut(position, first + 1, code, names, problem, fix)]
    reported = []
    for node in tree.body:
        why = _keep(node, defined)
        if why is None:
            continue
        if not _is_quiet(node):
            code = cell_lines[node.lineno - 1].strip()[:80]
            reported.append(LeftOut(position, node.lineno, code, _defined_names(node), why))
        assert node.end_lineno is not None
        for index in range(node.lineno - 1, node.end_lineno):
            cell_lines[index] = ""
    return reported
