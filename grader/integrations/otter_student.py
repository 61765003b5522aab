"""The students' part of `grade export otter`: what DEST/<exercise>/student/ holds.

otter-grader's students get a notebook and the tests they may run themselves, nothing more. Here
that is:

- the exercise's notebook made an otter notebook (``student_notebook``): otter's init cell at the
  top (``grader = otter.Notebook(tests_dir="tests")``), and in place of the closing "Check your
  work" section, which tells the student to run `grade` in a terminal (or to call the grader's
  own ``check``), a note and a ``grader.check("<exercise>")`` cell. The cells are found by what
  they hold, not by where they stand, so both forms of the closing section are replaced;
- a course.yaml with the public checks only (``public_course_yaml``): no ``solution_file`` and
  no ``hidden_checks``, the hidden checks' points as ``hidden_points``, as in the student
  release (grader.integrations.student_release);
- the shared check modules the public checks load (``public_shared_modules``).

grader.integrations.otter puts these together with the grader package and an otter test file
of the public checks.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import yaml

from grader.course import Course, Exercise
from grader.integrations.packaging import public_entry

STUDENT = "student"  # the folder inside DEST/<exercise>/ that students receive
TESTS = "tests"  # otter's tests folder, beside the notebook
OTTER = "otter-grader>=6.0"  # what runs ``grader.check`` in the student's notebook

# A Markdown cell that opens the closing section: its first line is a "Check your work" heading.
_CHECK_HEADING = re.compile(r"\A\s*#{1,6}\s*check your work\b", re.IGNORECASE)
# `grade exercise3` or `check("exercise3")` named in the notebook's other Markdown cells.
_NAMED_CHECK = r"`(?:grade {id}|(?<![.\w])check\(\s*[\"']{id}[\"']\s*\))`"


def public_course_yaml(course: Course, exercise: Exercise) -> str:
    """A course.yaml of ``exercise`` with its public checks only: the course as the student's
    otter tests read it (no solution, no hidden check; their points as ``hidden_points``)."""
    entry = public_entry(course, exercise)
    document: dict[str, object] = {
        "title": course.title,
        "seed": course.seed,
        "exercises": [entry],
    }
    heading = (
        "# The course as otter's student tests read it: the public checks only. The hidden\n"
        "# checks (hidden_points) are graded after you hand in.\n"
    )
    return heading + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def _shared_names(path: Path) -> set[str] | None:
    """The shared modules the check file ``path`` loads with ``shared(__file__, "_name")``, or
    None when a name is not written out (a variable) and cannot be read from the source."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        called = function.id if isinstance(function, ast.Name) else None
        if isinstance(function, ast.Attribute):
            called = function.attr
        if called != "shared":
            continue
        if len(node.args) < 2:
            return None
        name = node.args[1]
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
            return None
        names.add(name.value)
    return names


def public_shared_modules(exercise: Exercise) -> tuple[Path, ...]:
    """The shared modules (checks/_*.py) that ``exercise``'s public checks load, and those these
    load in turn; all the modules beside them if a name cannot be read from the source."""
    folder = exercise.checks.parent
    beside = {path.name: path for path in exercise.shared_check_modules if path.parent == folder}
    found: dict[str, Path] = {}
    waiting = [exercise.checks]
    while waiting:
        names = _shared_names(waiting.pop())
        if names is None:
            return tuple(sorted(beside.values()))
        for name in sorted(names):
            path = beside.get(f"{name}.py")
            if path is not None and path.name not in found:
                found[path.name] = path
                waiting.append(path)
    return tuple(sorted(found.values()))


def _grader_check_lines(source: str) -> set[int] | None:
    """The lines (from 1) of the top-level statements of a code cell that check the work:
    ``import grader``, ``from grader import check``, ``check(...)``, ``grader.check(...)`` (the
    grader's, or otter's made again here); None if the cell is not Python or has none."""
    if source.lstrip().startswith("%%"):
        return None  # a cell magic: not Python
    # Line magics and shell lines (``%matplotlib``, ``!pip``) blanked, the numbering kept.
    python = "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )
    try:
        tree = ast.parse(python)
    except SyntaxError:
        return None
    lines: set[int] = set()
    for statement in tree.body:
        uses = False
        if isinstance(statement, ast.Import):
            uses = any(alias.name.split(".")[0] == "grader" for alias in statement.names)
        elif isinstance(statement, ast.ImportFrom):
            uses = (statement.module or "").split(".")[0] == "grader"
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            function = statement.value.func
            uses = (isinstance(function, ast.Name) and function.id == "check") or (
                isinstance(function, ast.Attribute)
                and function.attr == "check"
                and isinstance(function.value, ast.Name)
                and function.value.id == "grader"
            )
        if uses:
            end = statement.end_lineno or statement.lineno
            lines.update(range(statement.lineno, end + 1))
    return lines or None


def _without_grader_check(source: str) -> str | None:
    """A code cell's source without its grader's-check statements; None if nothing is left but
    blank lines and comments (the cell goes), the source itself if it has none."""
    lines = _grader_check_lines(source)
    if lines is None:
        return source
    kept = [line for number, line in enumerate(source.splitlines(), 1) if number not in lines]
    if all(not line.strip() or line.lstrip().startswith("#") for line in kept):
        return None
    return "\n".join(kept).strip("\n")


def _closing_cells(exercise_id: str, hidden_points: float) -> list[nbformat.NotebookNode]:
    note = (
        "## Check your work\n\n"
        f'Run the cell below. `grader.check("{exercise_id}")` runs the public checks of this '
        "exercise with otter, against the functions as this notebook defines them now: run "
        "every cell above it first (Run All). It says which checks passed and, for each one "
        "that did not, what is wrong."
    )
    if hidden_points > 0:
        note += (
            f" Hidden checks, worth {hidden_points:g} more points, test more inputs when your "
            "notebook is graded."
        )
    cells = [
        nbformat.v4.new_markdown_cell(note),
        nbformat.v4.new_code_cell(f'grader.check("{exercise_id}")'),
    ]
    for cell, name in zip(cells, ("otter-check-note", "otter-check"), strict=True):
        cell["id"] = name
    return cells


def _init_cell() -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(
        f'# Initialize Otter\nimport otter\n\ngrader = otter.Notebook(tests_dir="{TESTS}")'
    )
    cell["id"] = "otter-init"
    return cell


def student_notebook(notebook: bytes, exercise_id: str, hidden_points: float) -> bytes:
    """The course's notebook ``notebook`` as otter's students receive it: otter's init cell
    first, and ``grader.check("<exercise_id>")`` where its "Check your work" section was (at
    the end if it has none). That section's Markdown cells and any code that uses the grader's
    own check are removed; other Markdown naming `grade <exercise_id>` names the otter check."""
    book = nbformat.reads(notebook.decode("utf-8"), as_version=4)
    named = re.compile(_NAMED_CHECK.format(id=re.escape(exercise_id)))
    check = f'`grader.check("{exercise_id}")` (under "Check your work")'
    cells: list[nbformat.NotebookNode] = []
    closing: int | None = None
    for cell in book.cells:
        if cell.cell_type == "markdown" and _CHECK_HEADING.match(cell.source):
            closing = len(cells) if closing is None else closing
            continue
        if cell.cell_type == "code":
            source = _without_grader_check(cell.source)
            if source is None:
                closing = len(cells) if closing is None else closing
                continue
            cell.source = source
        elif cell.cell_type == "markdown":
            cell.source = named.sub(lambda _: check, cell.source)
        cells.append(cell)
    at = len(cells) if closing is None else closing
    cells[at:at] = _closing_cells(exercise_id, hidden_points)
    book.cells = [_init_cell(), *cells]
    if book.nbformat_minor < 5:  # cell ids came with nbformat 4.5: give the old cells theirs
        book.nbformat_minor = 5
        for index, cell in enumerate(book.cells):
            cell.setdefault("id", f"cell-{index}")
    nbformat.validate(book)
    return (nbformat.writes(book) + "\n").encode("utf-8")
