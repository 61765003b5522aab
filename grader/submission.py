"""Finding the file to grade and reading its code, from a .py file or a notebook.

`locate` decides which file is graded (or raises SubmissionNotFound: exit 2). `read_source` reads it
into a Source, or returns a SubmissionProblem when the file is there but holds no usable code (not
UTF-8, binary, too large, a broken notebook, a FIFO or a device): that is graded as 0 with the
problem as the message.

A submission's files are read only through `read_capped`: a path is looked at (lstat, stat) before
it is opened, and only a regular file is opened, without blocking, and read up to a size. A FIFO
named like an exercise would block a plain ``open`` forever, and ``/dev/zero`` would fill memory.
"""

from __future__ import annotations

import ast
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from grader.course import Exercise
from grader.errors import SubmissionNotFound, UsageError

if TYPE_CHECKING:
    from grader.notebook_code import LeftOut, NotebookCode

MAX_SUBMISSION_BYTES = 5 * 1024 * 1024
SUFFIXES = (".py", ".ipynb")
READ_CHUNK = 1 << 20

_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}
_SPECIAL = frozenset({stat.S_IFIFO, stat.S_IFSOCK, stat.S_IFCHR, stat.S_IFBLK})


class NotAFile(Exception):
    """A path that is not a regular file nor a symbolic link to one. ``str()`` says what it is:
    "a FIFO", "a symbolic link to a character device", "a folder", "a symbolic link that leads
    nowhere". ``special``: a FIFO, socket or device, or a link to one, which no submission holds
    by accident."""

    def __init__(self, kind: str, special: bool) -> None:
        super().__init__(kind)
        self.special = special


def file_kind(path: Path) -> NotAFile | None:
    """None if ``path`` is a regular file or a symbolic link to one, else what it is. Only
    ``lstat`` and ``stat``: nothing is opened. OSError if nothing is there (or it cannot be
    looked at), ValueError for a name holding a NUL."""
    mode = os.lstat(path).st_mode
    link = stat.S_ISLNK(mode)
    if link:
        try:
            mode = os.stat(path).st_mode
        except OSError:  # dangling, or a loop of links
            return NotAFile("a symbolic link that leads nowhere", special=False)
    if stat.S_ISREG(mode):
        return None
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    return NotAFile(f"a symbolic link to {kind}" if link else kind, stat.S_IFMT(mode) in _SPECIAL)


def open_regular(path: Path) -> int:
    """A descriptor open for reading on the regular file at ``path`` (symbolic links followed),
    NotAFile if it is none. The path is looked at before it is opened and the descriptor again
    after (fstat); it is opened with O_NONBLOCK and O_NOFOLLOW on the path the links lead to, so
    a FIFO, a device or a socket is never opened, or never blocks if it was swapped in between."""
    refused = file_kind(path)
    if refused is not None:
        raise refused
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    descriptor = os.open(os.path.realpath(path), flags)
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise NotAFile(_KINDS.get(stat.S_IFMT(mode), "not a regular file"), special=True)
    return descriptor


def read_capped(path: Path, limit: int) -> bytes:
    """At most ``limit`` bytes of the regular file at ``path`` (symbolic links followed), opened
    by open_regular: a FIFO, a device or a socket is refused with NotAFile, never read. Ask for
    ``limit + 1`` to tell whether there is more. OSError as opening or reading raise it."""
    descriptor = open_regular(path)
    try:
        chunks = []
        left = limit
        while left > 0:
            chunk = os.read(descriptor, min(left, READ_CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


@dataclass(frozen=True)
class Source:
    """The code of one submission, ready to send to a worker.

    path: the file as the user named it; filename: the name used in tracebacks and messages;
    text: Python source; notebook: for a notebook, where each line of ``text`` is in it and what
    the notebook rule left out (grader.notebook_code).
    """

    path: str
    filename: str
    text: str
    notebook: NotebookCode | None = None

    @property
    def left_out(self) -> tuple[LeftOut, ...]:
        """The notebook code left out of grading, worth telling the student."""
        return self.notebook.left_out if self.notebook else ()

    def place(self, line: int) -> str:
        """'line 12', or 'cell 7 (`def chain_rule(f, g, x):`), line 3' for a notebook."""
        if self.notebook is None:
            return f"line {line}"
        from grader.notebook_code import place  # only for notebooks: a script never needs it

        in_cell = place(self.notebook, line)
        return in_cell or f"line {line}"


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
    # os.path.realpath, not Path.resolve: a loop of links is no error here (read_capped says so).
    if Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root)):
        return None
    return (
        f"{shown_name(str(path.relative_to(root)))} is a symbolic link to a file outside what "
        "was handed in; hand in the file itself"
    )


def not_gradable(path: Path, root: Path) -> str | None:
    """Why the file at ``path`` in the submission at ``root`` cannot be graded, without opening
    it: a FIFO, a socket, a device, a folder, or a link to one or to nothing; a link out of
    ``root`` (see leads_out). One line for the student; None for a file that may be read."""
    shown = shown_name(str(path.relative_to(root)))
    try:
        refused = file_kind(path)
    except (OSError, ValueError) as error:
        return f"{shown} cannot be read ({_why(error)}); hand in the file itself"
    if refused is not None:
        return f"{shown} is {refused}, not a file; hand in the file itself"
    return leads_out(path, root)


def shown_name(text: str) -> str:
    """``text`` as it can be stored and shown: a name read from the disk that is not UTF-8 holds
    its bytes as lone surrogates (os.fsdecode), which no UTF-8 file or database takes; they are
    written as escapes instead, ``stud\\xff``, as ``os.fsencode(name).decode("utf-8",
    "backslashreplace")`` would."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(_escaped(character) for character in text)
    return text


def _escaped(character: str) -> str:
    code = ord(character)
    if 0xDC80 <= code <= 0xDCFF:  # a byte os.fsdecode could not decode
        return f"\\x{code - 0xDC00:02x}"
    if 0xD800 <= code <= 0xDFFF:
        return f"\\u{code:04x}"
    return character


def _why(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error)


def _functions(count: int) -> str:
    """'no function is', '1 of its functions is', '4 of its functions are'."""
    if count == 0:
        return "no function is"
    return f"{count} of its functions {'is' if count == 1 else 'are'}"


def _worked_in(folder: Path, exercise: Exercise, how_to_choose: str) -> Located:
    """exercise1_derivatives.py or .ipynb in ``folder``; if both, the one the student worked in:
    fewer functions left unfinished, else the one saved last, else the .py."""
    stem = Path(exercise.file_name).stem
    found = [folder / (stem + suffix) for suffix in SUFFIXES if handed_in(folder / (stem + suffix))]
    if not found:
        raise SubmissionNotFound(
            f"{folder / exercise.file_name} not found: "
            f"{exercise.id} grades {exercise.file_name} (or {stem}.ipynb); "
            "pass another file or folder with --submission"
        )
    if len(found) == 1:
        return Located(found[0])
    script, notebook = found
    from grader import definitions  # only when there are both files to choose from

    codes = {path: code_cells(path) for path in found}
    if codes[script] is not None and _program(codes[script]) == _program(codes[notebook]):
        return Located(script)  # the same program twice: nothing to choose
    left = {
        path: len(definitions.unfinished_names(code)) if code is not None else 10**6
        for path, code in codes.items()
    }
    if left[script] != left[notebook]:
        chosen = min(found, key=left.__getitem__)
        other_left = left[notebook if chosen == script else script]
        why = f"{_functions(left[chosen])} unfinished, against " + (
            "a file that cannot be read" if other_left == 10**6 else str(other_left)
        )
    elif abs(_saved(script) - _saved(notebook)) > 1:
        chosen = max(found, key=_saved)
        why = "it was saved last"
    else:
        chosen, why = script, "neither is further along"
    other = notebook if chosen == script else script
    return Located(chosen, f"graded {chosen.name}, not {other.name}: {why} ({how_to_choose})")


def handed_in(path: Path) -> bool:
    """Whether there is something at ``path`` other than a folder: a file, or a FIFO, a device or
    a link, which are found so that grading can say what they are instead of "not found"."""
    try:
        mode = os.lstat(path).st_mode
    except (OSError, ValueError):
        return False
    if stat.S_ISLNK(mode):
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return True  # a link to nothing is found, to be refused with why
    return not stat.S_ISDIR(mode)


def _saved(path: Path) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def code_cells(path: Path) -> list[str] | None:
    """The Python code of a .py file (one text) or of a notebook's code cells (one per cell, in
    order); None if unreadable."""
    try:
        text = read_capped(path, MAX_SUBMISSION_BYTES).decode("utf-8", errors="replace")
        if path.suffix != ".ipynb":
            return [text]
        cells = json.loads(text).get("cells", [])
        return [
            "".join(cell.get("source", ""))
            for cell in cells
            if isinstance(cell, dict) and cell.get("cell_type") == "code"
        ]
    except (OSError, ValueError, AttributeError, TypeError, NotAFile, RecursionError):
        return None


def _program(code: list[str] | None) -> str | None:
    """The statements of ``code``, without bare strings (a notebook's docstring is Markdown) and
    the notebook's check cell."""
    from grader import notebook_rule  # only when there are both files to choose from

    if code is None:
        return None
    try:
        tree = ast.parse("\n".join(code))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    body = [
        node
        for node in tree.body
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        and not notebook_rule.is_notebook_api(node)
    ]
    return ast.dump(ast.Module(body=body, type_ignores=[]))


def read_source(path: Path, run_all_cells: bool = False) -> Source | SubmissionProblem:
    """The code in ``path``, or the reason it has none the worker could run.

    run_all_cells: for a notebook, run every statement of its code cells, not only imports,
    definitions and constant assignments.
    """
    shown = str(path)
    try:
        data = read_capped(path, MAX_SUBMISSION_BYTES + 1)
    except NotAFile as refused:
        return SubmissionProblem(
            shown, f"{path.name} is {refused}, not a file; hand in the file itself"
        )
    except (OSError, ValueError) as error:
        return SubmissionProblem(shown, f"{path.name} cannot be read: {_why(error)}")
    if len(data) > MAX_SUBMISSION_BYTES:
        try:
            size = max(os.stat(path).st_size, len(data))
        except OSError:
            size = len(data)
        return SubmissionProblem(
            shown,
            f"{path.name} is {size / 2**20:.1f} MB; a submission "
            f"is at most {MAX_SUBMISSION_BYTES // 2**20} MB",
        )
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
        # Numbered among all cells, Markdown included, as Jupyter shows them.
        cells = [
            (position, cell.get("source", ""))
            for position, cell in enumerate(notebook.cells, start=1)
            if cell.get("cell_type") == "code"
        ]
        if not all(isinstance(source, str) for _, source in cells):
            raise ValueError("a code cell's source is not text")
    except Exception as error:  # nbformat raises many types for malformed notebooks
        return SubmissionProblem(
            str(path), f"{path.name} is not a valid notebook ({type(error).__name__}: {error})"
        )
    from grader.notebook_code import notebook_code  # only for notebooks

    code = notebook_code(cells, run_all_cells)
    return Source(
        path=str(path),
        filename=path.name,
        text=code.text,
        notebook=code,
    )
