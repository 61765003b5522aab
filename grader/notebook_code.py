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
import re
from dataclasses import dataclass

from grader.ipython_lines import python_lines, split_lines
from grader.notebook_rule import Rule, Verdict

RULE = (
    "from a notebook, grading runs the imports, definitions (def, class, lambda) and assignments "
    "of names and literals, cell by cell (the last definition of a name wins), and leaves out "
    "top-level calls, loops and plots"
)
# The errors a left-out line can explain: a name it would have set, a function it would have
# defined (grader.worker's words for a missing function).
_MISSING = re.compile(
    r"name '([A-Za-z_][A-Za-z0-9_]*)' is not defined|has no function named ([A-Za-z_][A-Za-z0-9_]*)"
)
# What a cell that does not parse would have defined, read from its text: its functions, classes,
# imports and assignments at the start of a line.
_TOP_LEVEL_NAMES = re.compile(
    r"^(?:(?:async\s+def|def|class)\s+(\w+)|import\s+[\w.]+\s+as\s+(\w+)|import\s+(\w+)"
    r"|(\w+)\s*=(?!=))",
    re.MULTILINE,
)


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
    parsed = [_Cell(position, source, *python_lines(source)) for position, source in cells]
    left_out: list[LeftOut] = []
    if not run_all_cells:
        for cell, verdicts in zip(parsed, _verdicts(parsed), strict=True):
            left_out.extend(cell.leave_out(verdicts))
    # `from __future__` may open any cell in Jupyter, but only the module: it goes first, on a
    # line of its own, and its place in the cell is blanked.
    futures = [line for cell in parsed for line in cell.take_futures()]
    lines: list[str] = [" ".join(futures)] if futures else []
    cell_of_line: dict[int, tuple[int, int]] = {}
    for cell in parsed:
        for line_in_cell, line in enumerate(cell.lines, start=1):
            lines.append(line)
            cell_of_line[len(lines)] = (cell.position, line_in_cell)
        lines.append("")
    heads = {cell.position: _head(cell.source) for cell in parsed}
    return NotebookCode("\n".join(lines) + "\n", cell_of_line, heads, tuple(left_out))


MOST_PASSES = 8  # of the rule over the cells; a longer chain of poisoned names is pathological


def _verdicts(cells: list[_Cell]) -> list[list[tuple[ast.stmt, Verdict]] | None]:
    """The rule's verdict on every top-level statement, cell by cell (None for a cell that is not
    Python). Judged again until no more names are ``poisoned``: a name whose last setting is left
    out is not kept at all, nor what uses it. The set only grows, so this ends. Each pass follows
    one more link of a chain (`b = a` kept, then `a` poisoned, then `b`); past MOST_PASSES, every
    name some left-out line sets is poisoned at once and one last pass is taken, so a chain
    longer than that (not seen in a student's notebook) may keep an earlier value further down.
    The note lists every left-out line either way."""
    poisoned: frozenset[str] = frozenset()
    for passes in range(MOST_PASSES + 1):
        rule = Rule(poisoned)
        verdicts = [cell.judged(rule) for cell in cells]
        last: dict[str, bool] = {}
        imported: set[str] = set()
        ever_left: set[str] = set()
        for node, verdict in (item for found in verdicts if found for item in found):
            for name in verdict.names:
                last[name] = verdict.why is None
                if verdict.why is not None:
                    ever_left.add(name)
            if isinstance(node, ast.Import | ast.ImportFrom):
                imported |= set(verdict.names)
        again = poisoned | {name for name, kept in last.items() if not kept} - imported
        if again == poisoned:
            return verdicts
        poisoned = frozenset(again | (ever_left - imported if passes == MOST_PASSES - 1 else set()))
    return verdicts


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
    function = match[2] is not None
    made_by_a_call = function and last.why == "a top-level call"
    fix = "write it with `def` at the top level of a cell" if made_by_a_call else last.fix
    return (
        f"`{name}` is {'defined' if function else 'set'} in cell {last.cell}, line {last.line} "
        f"(`{last.code}`), which grading leaves out ({last.why}); {fix}"
    )


def _head(source: str) -> str:
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    return first if len(first) <= 40 else first[:37] + "..."


class _Cell:
    """One code cell: its lines made Python (grader.ipython_lines) and their tree, or why it is
    not Python (a cell magic, a syntax error)."""

    def __init__(self, position: int, source: str, lines: list[str], is_python: bool) -> None:
        self.position, self.source, self.lines = position, source, lines
        self.tree: ast.Module | None = None
        self.problem = "a cell magic, not Python"
        if not is_python:
            return
        try:
            tree = ast.parse("\n".join(lines))
            # What only the compiler refuses (`continue` outside a loop, `return` at top level)
            # fails the cell in the kernel too, not the notebook.
            compile(tree, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
            self.tree = tree
        except SyntaxError as error:
            where = f" at line {error.lineno}" if error.lineno else ""
            self.problem = f"a syntax error{where}: {error.msg}"
        except (ValueError, RecursionError, MemoryError) as error:
            self.problem = f"a cell Python cannot read ({type(error).__name__})"

    def judged(self, rule: Rule) -> list[tuple[ast.stmt, Verdict]] | None:
        """The rule's verdict on each top-level statement; None if the cell is not Python (or
        too deeply nested for the rule to read)."""
        if self.tree is None:
            return None
        try:
            return [(node, rule.judge(node)) for node in self.tree.body]
        except RecursionError:
            self.tree, self.problem = None, "a cell Python cannot read (RecursionError)"
            return None

    def take_futures(self) -> list[str]:
        """The cell's `from __future__` imports, blanked from the cell."""
        futures: list[str] = []
        body = self.tree.body if self.tree else []
        for node in reversed(body):  # right to left: a line's earlier columns stay where they are
            if isinstance(node, ast.ImportFrom) and node.module == "__future__" and node.end_lineno:
                futures.insert(0, ast.unparse(node) + ";")
                self._blank(node.lineno, node.end_lineno, node, body)
        return futures

    def _blank(self, first: int, last: int, node: ast.stmt, body: list[ast.stmt]) -> None:
        """Blank lines ``first`` to ``last`` (1-based) of ``node``. A statement sharing its
        first or last line (``import numpy as np; np.random.seed(0)``) keeps its part of that
        line, and ``node``'s part becomes ``pass``."""
        others = [other for other in body if other is not node and other.end_lineno]
        shares_first = any(o.lineno <= first <= o.end_lineno for o in others)  # type: ignore[operator]
        shares_last = any(o.lineno <= last <= o.end_lineno for o in others)  # type: ignore[operator]
        if not (shares_first or shares_last) or node.end_col_offset is None:
            for index in range(first - 1, last):
                self.lines[index] = ""
            return
        head = self.lines[first - 1].encode()[: node.col_offset].decode(errors="replace")
        tail = self.lines[last - 1].encode()[node.end_col_offset :].decode(errors="replace")
        if first == last:
            self.lines[first - 1] = f"{head}pass{tail}"
            return
        self.lines[first - 1] = f"{head}pass" if shares_first else ""
        for index in range(first, last - 1):
            self.lines[index] = ""
        self.lines[last - 1] = tail.lstrip().removeprefix(";").lstrip() if shares_last else ""

    def leave_out(self, verdicts: list[tuple[ast.stmt, Verdict]] | None) -> list[LeftOut]:
        """Blank what the rule leaves out of this cell, keeping line numbers; what is worth
        reporting. A cell that is not Python is left out whole, as the kernel did not run it."""
        if verdicts is None:
            text = "\n".join(self.lines)
            self.lines = [""] * len(self.lines)
            first = next(
                (i for i, line in enumerate(split_lines(self.source)) if line.strip()), None
            )
            if first is None:
                return []
            fix = (
                "fix it and run the cell"
                if self.problem.startswith("a syntax")
                else "split it into smaller expressions"
                if self.problem.startswith("a cell Python cannot read")
                else "put it in a cell without the magic"
            )
            names = tuple(
                name for found in _TOP_LEVEL_NAMES.findall(text) for name in found if name
            )
            code = split_lines(self.source)[first].strip()[:80]  # as the student wrote it
            return [LeftOut(self.position, first + 1, code, names, self.problem, fix)]
        reported, blanked = [], []
        for node, verdict in verdicts:
            if verdict.why is None:
                continue
            # A definition starts at its first decorator.
            first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
            if not verdict.quiet:
                code = self.lines[first - 1].strip()[:80]
                if first == node.lineno and node.end_col_offset is not None:
                    # its own part of the line, where it shares the line with another statement
                    line = self.lines[first - 1].encode()
                    end = node.end_col_offset if node.end_lineno == node.lineno else len(line)
                    code = line[node.col_offset : end].decode(errors="replace").strip()[:80]
                reported.append(
                    LeftOut(self.position, first, code, verdict.names, verdict.why, verdict.fix)
                )
            blanked.append((first, node))
        body = [node for node, _ in verdicts]
        for first, node in reversed(blanked):  # right to left, as columns count from the left
            assert node.end_lineno is not None
            self._blank(first, node.end_lineno, node, body)
        return reported
