"""Finding the file to grade and reading its code, from a .py file or a notebook.

`locate` decides which file is graded (or raises SubmissionNotFound: exit 2). `read_source` reads it
into a Source, or returns a SubmissionProblem when the file is there but holds no usable code (not
UTF-8, binary, too large, a broken notebook): that is graded as 0 with the problem as the message.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

from grader.course import Exercise
from grader.errors import SubmissionNotFound, UsageError

MAX_SUBMISSION_BYTES = 5 * 1024 * 1024
SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class Source:
    """The code of one submission, ready to send to a worker.

    path: the file as the user named it; filename: the name used in tracebacks and messages;
    text: Python source; cell_of_line: for notebooks, line number -> (cell number, line in cell).
    """

    path: str
    filename: str
    text: str
    cell_of_line: dict[int, tuple[int, int]] | None = None
    skipped: tuple[str, ...] = ()  # notebook code left out of grading, as "cell 4, line 1: `...`"

    def place(self, line: int) -> str:
        """'line 12', or 'cell 3, line 2' for a notebook."""
        if self.cell_of_line and line in self.cell_of_line:
            cell, cell_line = self.cell_of_line[line]
            return f"cell {cell}, line {cell_line}"
        return f"line {line}"


@dataclass(frozen=True)
class SubmissionProblem:
    """A submission file that exists but cannot be run; ``message`` says why, for the student."""

    path: str
    message: str


@dataclass(frozen=True)
class Located:
    """The file to grade, and why that one when the choice was not obvious."""

    path: Path
    note: str | None = None


def locate(
    exercise: Exercise, given: Path | None, how_to_choose: str = "choose with --submission"
) -> Located:
    """The file to grade: ``given`` (a file, or a folder holding the exercise's file) or the
    exercise's student file. ``how_to_choose`` ends the note when both a .py and a notebook
    were there: how the user picks the other one."""
    if given is None:
        return _worked_in(exercise.student_file.parent, exercise, how_to_choose)
    if given.is_dir():
        return _worked_in(given, exercise, how_to_choose)
    if not given.exists():
        raise SubmissionNotFound(
            f"{given}: no such file or folder; pass the file to grade or "
            f"a folder holding {exercise.file_name}"
        )
    if given.suffix not in SUFFIXES:
        raise UsageError(
            f"{given}: cannot grade a {given.suffix or 'suffix-less'} file; pass a "
            ".py file or a .ipynb notebook"
        )
    return Located(given)


def leads_out(path: Path, root: Path) -> str | None:
    """Why ``path`` cannot be graded as part of the submission in ``root``, if it is, or lies
    behind, a symbolic link out of ``root``: on a grading machine it could name the answer key
    (``exercise3_chain_rule.py -> /autograder/source/solutions/...``). None if it stays inside."""
    if path.resolve().is_relative_to(root.resolve()):
        return None
    return (
        f"{path.relative_to(root)} is a symbolic link to a file outside what was handed in; "
        "hand in the file itself"
    )


def _worked_in(folder: Path, exercise: Exercise, how_to_choose: str) -> Located:
    """exercise1_derivatives.py or .ipynb in ``folder``; if both, the one the student worked in:
    fewer functions left unfinished, else the one saved last, else the .py."""
    stem = Path(exercise.file_name).stem
    found = [
        folder / (stem + suffix) for suffix in SUFFIXES if (folder / (stem + suffix)).is_file()
    ]
    if not found:
        raise SubmissionNotFound(
            f"{folder / exercise.file_name} not found: "
            f"{exercise.id} grades {exercise.file_name} (or {stem}.ipynb); "
            "pass another file or folder with --submission"
        )
    if len(found) == 1:
        return Located(found[0])
    script, notebook = found
    codes = {path: _code_of(path) for path in found}
    if codes[script] is not None and _program(codes[script]) == _program(codes[notebook]):
        return Located(script)  # the same program twice: nothing to choose
    left = {
        path: codes[path].count("raise NotImplementedError") if codes[path] else 10**6
        for path in found
    }
    if left[script] != left[notebook]:
        chosen = min(found, key=left.__getitem__)
        why = (
            f"{left[chosen]} of its functions are unfinished, against "
            f"{left[notebook if chosen == script else script]}"
        )
    elif abs(script.stat().st_mtime - notebook.stat().st_mtime) > 1:
        chosen = max(found, key=lambda path: path.stat().st_mtime)
        why = "it was saved last"
    else:
        chosen, why = script, "neither is further along"
    other = notebook if chosen == script else script
    return Located(chosen, f"graded {chosen.name}, not {other.name}: {why} ({how_to_choose})")


def _code_of(path: Path) -> str | None:
    """The Python code of a .py file or of a notebook's code cells; None if unreadable."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix != ".ipynb":
            return text
        cells = json.loads(text).get("cells", [])
        return "\n".join(
            "".join(cell.get("source", ""))
            for cell in cells
            if isinstance(cell, dict) and cell.get("cell_type") == "code"
        )
    except (OSError, ValueError, AttributeError, TypeError):
        return None


def _program(code: str | None) -> str | None:
    """The statements of ``code``, without bare strings (a notebook's docstring is Markdown)."""
    if code is None:
        return None
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    body = [
        node
        for node in tree.body
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ]
    return ast.dump(ast.Module(body=body, type_ignores=[]))


def read_source(path: Path, run_all_cells: bool = False) -> Source | SubmissionProblem:
    """The code in ``path``, or the reason it has none the worker could run.

    run_all_cells: for a notebook, run every statement of its code cells, not only imports,
    definitions and constant assignments.
    """
    shown = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_SUBMISSION_BYTES:
            return SubmissionProblem(
                shown,
                f"{path.name} is {size / 2**20:.1f} MB; a submission "
                f"is at most {MAX_SUBMISSION_BYTES // 2**20} MB",
            )
        data = path.read_bytes()
    except OSError as error:
        return SubmissionProblem(shown, f"{path.name} cannot be read: {error.strerror}")
    if b"\0" in data:
        return SubmissionProblem(shown, f"{path.name} is a binary file, not Python code")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return SubmissionProblem(
            shown,
            f"{path.name} is not UTF-8 text (byte "
            f"0x{data[error.start]:02x} at offset {error.start}); "
            "save it with UTF-8 encoding",
        )
    if path.suffix == ".ipynb":
        return _notebook_source(path, text, run_all_cells)
    return Source(path=shown, filename=path.name, text=text)


def _notebook_source(path: Path, text: str, run_all_cells: bool) -> Source | SubmissionProblem:
    """The notebook's code cells joined into one module, IPython magics commented out and, unless
    ``run_all_cells``, only imports, definitions and constant assignments kept."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        return SubmissionProblem(
            str(path), f"{path.name} is not a notebook: not valid JSON ({error})"
        )
    if not isinstance(data, dict):
        return SubmissionProblem(
            str(path),
            f"{path.name} is not a notebook: its JSON is a {type(data).__name__}, not an "
            "object with cells",
        )
    if not isinstance(data.get("nbformat"), int):
        return SubmissionProblem(
            str(path), f"{path.name} is not a notebook: it has no nbformat version number"
        )
    import nbformat  # only for notebooks: it costs ~80 ms to import

    try:
        notebook = nbformat.reads(text, as_version=4)
        cells = [cell for cell in notebook.cells if cell.get("cell_type") == "code"]
        sources = [cell.get("source", "") for cell in cells]
        if not all(isinstance(source, str) for source in sources):
            raise ValueError("a code cell's source is not text")
    except Exception as error:  # nbformat raises many types for malformed notebooks
        return SubmissionProblem(
            str(path), f"{path.name} is not a valid notebook ({type(error).__name__}: {error})"
        )
    lines: list[str] = []
    cell_of_line: dict[int, tuple[int, int]] = {}
    skipped: list[str] = []
    for number, source in enumerate(sources, start=1):
        # IPython syntax is not Python: comment it out, keeping the line numbers.
        cell_lines = [
            "# " + line if line.lstrip().startswith(("%", "!")) else line
            for line in source.splitlines()
        ]
        if not run_all_cells:
            for line_in_cell, code in _leave_out_running_code(cell_lines):
                skipped.append(f"cell {number}, line {line_in_cell}: `{code}`")
        for line_in_cell, line in enumerate(cell_lines, start=1):
            lines.append(line)
            cell_of_line[len(lines)] = (number, line_in_cell)
        lines.append("")
    return Source(
        path=str(path),
        filename=path.name,
        text="\n".join(lines) + "\n",
        cell_of_line=cell_of_line,
        skipped=tuple(skipped),
    )


def _is_graded_statement(node: ast.stmt) -> bool:
    """Imports, definitions, and assignments of constants: what grading runs from a notebook."""
    if isinstance(
        node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    ):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        try:
            ast.literal_eval(node.value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return False
        return True
    return False


def _is_quiet_statement(node: ast.stmt) -> bool:
    """Statements left out without a word: a bare string, or an `if __name__ == "__main__":`."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return True
    return isinstance(node, ast.If) and "__name__" in ast.unparse(node.test)


def _leave_out_running_code(cell_lines: list[str]) -> list[tuple[int, str]]:
    """Blank the cell's top-level statements that would run code (a training loop, a plot),
    keeping line numbers; return (line, first line of code) of each one worth reporting.

    A cell that does not parse is kept whole, so loading reports its syntax error.
    """
    try:
        tree = ast.parse("\n".join(cell_lines))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    reported = []
    for node in tree.body:
        if _is_graded_statement(node):
            continue
        if not _is_quiet_statement(node):
            reported.append((node.lineno, cell_lines[node.lineno - 1].strip()[:80]))
        assert node.end_lineno is not None
        for index in range(node.lineno - 1, node.end_lineno):
            cell_lines[index] = ""
    return reported
