"""Checking from a notebook: ``from grader import check`` then ``check("exercise3")`` in a cell.

``check(target)`` runs ``grade TARGET --format json`` as a separate process and returns a
NotebookReport of what it printed: the same grading, the same file choice and the same scores as
`grade` in a terminal. The kernel is the student's own process, where their code has already run
(and may have patched numpy or this package), so neither the grading nor the student's code runs
in it: the grading process starts the limited worker as `grade` always does.

What ran is what is graded: `grade` grades the saved file, and before it does, check() compares
the definitions the kernel ran (IPython's input history, last definition winning) with those of
the file it would grade (grader.unsaved). Where they differ, nothing is graded and the report
says, in one line, to save the notebook and run its cells. Grading the kernel's history instead
would give a score `grade`, CI and the instructor's batch never reproduce.

``check("all")`` (or ``check_all()``) grades every exercise; ``check("submit")`` (or
``export()``) writes the hand-in file as `grade submit` does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from grader.notebook_report import NotebookReport, exercise_result
from grader.unsaved import kernel_cells, kernel_file, unsaved_line

# Long enough for `grade all` on the slowest course; the grading itself enforces each
# exercise's limits, so this only catches a grader that cannot start.
GRADING_TIMEOUT_SECONDS = 900


def _grade_command(target: str, course: str | os.PathLike[str] | None) -> list[str]:
    command = [sys.executable, "-m", "grader", target]
    if course is not None:
        command += ["--course", str(course)]
    return command


def _run(command: list[str]) -> subprocess.CompletedProcess[str] | str:
    """The finished `grade` process, or why it could not run (one line)."""
    try:
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=GRADING_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"grading took over {GRADING_TIMEOUT_SECONDS} s and was stopped"
    except OSError as error:
        return f"the grader could not be started ({error.strerror})"


def _failure_line(done: subprocess.CompletedProcess[str]) -> str:
    """What `grade` said when it could not grade: its one line, without the ``grade:``."""
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    last = lines[-1] if lines else f"the grader stopped with exit status {done.returncode}"
    return last.removeprefix("grade: ")


def check(target: str = "all", *, course: str | os.PathLike[str] | None = None) -> NotebookReport:
    """Grade ``target`` (an exercise id, "all", or "submit") as `grade TARGET` does.

    course: the course's course.yaml or its folder; default: the nearest one at or above the
    kernel's folder (the notebook's). Never raises for what the student did: a problem is the
    report's one line.
    """
    target = str(target)
    if target == "submit":
        return _submit(course)
    done = _run([*_grade_command(target, course), "--format", "json"])
    if isinstance(done, str):
        return NotebookReport(target, problem=done)
    if done.returncode not in (0, 1):
        return NotebookReport(target, problem=_failure_line(done))
    try:
        data: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        return NotebookReport(target, problem="the grader's report could not be read")
    items = data.get("exercises", [data])
    results = [exercise_result(item) for item in items]
    cells = kernel_cells()
    files = _with_notebooks(
        {Path(result.file): result.exercise for result in results if result.file}
    )
    # Only the file of this kernel's notebook is compared, as exercises share function names
    # (exercise 9 builds on exercise 7's linear layer); for one exercise, its file if unknown.
    own = kernel_file(cells, list(files))
    if own is None and len(results) == 1 and results[0].file:
        own = Path(results[0].file)
    line = unsaved_line(cells, own) if own is not None else None
    stale = {files[own]: line} if own is not None and line else {}
    for result in results:
        if own is not None and result.file and Path(result.file) == own:
            # The notebook the student is in was graded: which file `grade` chose, and how to
            # choose the other on its command line, is not news here.
            result.notes = [
                note for note in result.notes if not note.startswith(f"graded {own.name}, not ")
            ]
    return NotebookReport(target, results=results, stale=stale)


def _with_notebooks(files: dict[Path, str]) -> dict[Path, str]:
    """``files`` (path -> exercise id) with each script's notebook beside it, if there is one:
    `grade` may grade the .py of an exercise whose saved notebook is still the stub, while the
    kernel ran the student's work."""
    found = dict(files)
    for path, exercise in files.items():
        notebook = path.with_suffix(".ipynb")
        if path.suffix != ".ipynb" and notebook.is_file():
            found.setdefault(notebook, exercise)
    return found


def check_all(*, course: str | os.PathLike[str] | None = None) -> NotebookReport:
    """Grade every exercise: ``check("all")``."""
    return check("all", course=course)


def export(*, course: str | os.PathLike[str] | None = None) -> NotebookReport:
    """Write the file to hand in: ``check("submit")``, as `grade submit` does."""
    return check("submit", course=course)


def _handed_in_files(course: str | os.PathLike[str] | None) -> list[Path]:
    """The file of each exercise `grade submit` would hand in, as `grade` locates it (reading
    course.yaml only: no student code runs here); [] where the course cannot be read, for
    `grade submit` to say why."""
    from grader.course import course_at
    from grader.errors import UsageError
    from grader.submission import locate

    try:
        loaded = course_at(Path(course) if course is not None else None)
    except UsageError:
        return []
    found = []
    for exercise in loaded.exercises:
        try:
            found.append(locate(exercise, None).path)
        except UsageError:
            continue
    return found


def _submit(course: str | os.PathLike[str] | None) -> NotebookReport:
    """`grade submit`, refused while the kernel ran code its notebook does not hold saved."""
    cells = kernel_cells()
    own = kernel_file(cells, list(_with_notebooks(dict.fromkeys(_handed_in_files(course), ""))))
    line = unsaved_line(cells, own) if own is not None else None
    if line:
        return NotebookReport("submit", problem=f"not handed in: {line}")
    done = _run(_grade_command("submit", course))
    if isinstance(done, str):
        return NotebookReport("submit", problem=done)
    if done.returncode != 0:
        return NotebookReport("submit", problem=_failure_line(done))
    said = [line for line in done.stderr.splitlines() if line.startswith(("warning:", "note:"))]
    return NotebookReport("submit", text="\n".join([done.stdout.strip(), *said]))
