"""Finding the file to grade and reading its code, from a .py file or a notebook.

`locate` decides which file is graded (or raises SubmissionNotFound: exit 2). `read_source` reads it
into a Source, or returns a SubmissionProblem when the file is there but holds no usable code (not
UTF-8, binary, too large, a broken notebook): that is graded as 0 with the problem as the message.
"""

from __future__ import annotations

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


def locate(exercise: Exercise, given: Path | None) -> Path:
    """The file to grade: ``given`` (a file, or a folder holding the exercise's file) or the
    exercise's student file."""
    if given is None:
        return _existing_variant(exercise.student_file.parent, exercise)
    if given.is_dir():
        return _existing_variant(given, exercise)
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
    return given


def _existing_variant(folder: Path, exercise: Exercise) -> Path:
    """exercise1_derivatives.py or .ipynb in ``folder``: exactly one of them must exist."""
    stem = Path(exercise.file_name).stem
    candidates = [folder / (stem + suffix) for suffix in SUFFIXES]
    found = [candidate for candidate in candidates if candidate.is_file()]
    if len(found) == 1:
        return found[0]
    if found:
        raise UsageError(
            f"{folder} holds both {stem}.py and {stem}.ipynb; pass the one to grade "
            f"with --submission {folder / (stem + '.py')}"
        )
    raise SubmissionNotFound(
        f"{folder / exercise.file_name} not found: "
        f"{exercise.id} grades {exercise.file_name} (or {stem}.ipynb); "
        "pass another file or folder with --submission"
    )


def read_source(path: Path) -> Source | SubmissionProblem:
    """The code in ``path``, or the reason it has none the worker could run."""
    shown = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_SUBMISSION_BYTES:
            return SubmissionProblem(
                shown,
                f"{path.name} is {size / 1e6:.1f} MB; a submission "
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
        return _notebook_source(path, text)
    return Source(path=shown, filename=path.name, text=text)


def _notebook_source(path: Path, text: str) -> Source | SubmissionProblem:
    """The notebook's code cells joined into one module, with IPython magics commented out."""
    try:
        json.loads(text)
    except ValueError as error:
        return SubmissionProblem(
            str(path), f"{path.name} is not a notebook: not valid JSON ({error})"
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
    for number, source in enumerate(sources, start=1):
        for line_in_cell, line in enumerate(source.splitlines(), start=1):
            if line.lstrip().startswith(("%", "!")):  # IPython syntax: not Python
                line = "# " + line
            lines.append(line)
            cell_of_line[len(lines)] = (number, line_in_cell)
        lines.append("")
    return Source(
        path=str(path), filename=path.name, text="\n".join(lines) + "\n", cell_of_line=cell_of_line
    )
