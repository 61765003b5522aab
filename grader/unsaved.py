"""Whether the code a notebook's kernel ran is the code saved in the file that will be graded.

The kernel's side is IPython's input history of this session (every cell run, in the order it
ran); the file's side is its code cells (or a script's text). Each side is reduced to the last
definition of each function, class and lambda (grader.definitions.last_functions), and a name
defined on both sides with different code means the two differ: an edit not saved, or a saved
edit whose cell was not run again. Constants are not compared: a notebook sets ``h`` again and
again as it tries things. Either way the grade of the file would not be the code
the student sees working, so check() says to save and run the cells instead of grading.
"""

from __future__ import annotations

import os
from pathlib import Path

from grader.definitions import last_functions
from grader.submission import code_cells

MOST_NAMES_SHOWN = 3


def kernel_cells() -> list[str]:
    """The source of every cell this IPython session ran, in order; [] outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return []
    shell = get_ipython()
    history = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None)
    if not isinstance(history, list):
        return []
    return [cell for cell in history if isinstance(cell, str) and cell.strip()]


def kernel_notebook() -> Path | None:
    """The notebook this kernel runs, where Jupyter or VS Code says: ipykernel's ``__session__``
    (Jupyter Server's JPY_SESSION_NAME), VS Code's ``__vsc_ipynb_file__``; None if unknown."""
    names: list[object] = [os.environ.get("JPY_SESSION_NAME")]
    try:
        from IPython import get_ipython

        namespace = getattr(get_ipython(), "user_ns", None) or {}
        names = [namespace.get("__vsc_ipynb_file__"), namespace.get("__session__"), *names]
    except ImportError:
        pass
    for name in names:
        if not isinstance(name, str) or not name.endswith(".ipynb"):
            continue
        for candidate in (Path(name), Path.cwd() / Path(name).name):
            if candidate.is_absolute() and candidate.is_file():
                return candidate.resolve()
    return None


def kernel_file(ran: list[str], files: list[Path]) -> Path | None:
    """Which of ``files`` (several exercises' files) this kernel's notebook is: the one Jupyter
    names, else the one holding, word for word, the most cells the kernel ran that no other file
    holds (the check cell names its exercise); None if none does."""
    named = kernel_notebook()
    if named is not None:
        return next((path for path in files if path.resolve() == named), None)
    cells = {
        path: {cell.strip() for cell in code_cells(path) or [] if cell.strip()} for path in files
    }
    ran_cells = {cell.strip() for cell in ran}
    unique: dict[Path, int] = {}
    for path, own in cells.items():
        others = set().union(*(cells[other] for other in files if other != path))
        unique[path] = len((own & ran_cells) - others)
    best = max(unique, key=unique.__getitem__, default=None)
    return best if best is not None and unique[best] > 0 else None


def differing_names(ran: list[str], saved: list[str]) -> list[str]:
    """The functions, classes and lambdas whose last definition in the cells that ran differs
    from the saved code's."""
    kernel = last_functions(ran)
    file = last_functions(saved)
    return [name for name in file if name in kernel and kernel[name] != file[name]]


def unsaved_line(ran: list[str], path: Path) -> str | None:
    """One line saying ``path`` differs from what the kernel ran, and what to do; else None."""
    saved = code_cells(path)
    if not ran or saved is None:
        return None
    names = differing_names(ran, saved)
    if not names:
        return None
    shown = ", ".join(f"`{name}`" for name in names[:MOST_NAMES_SHOWN])
    more = f" and {len(names) - MOST_NAMES_SHOWN} more" if len(names) > MOST_NAMES_SHOWN else ""
    return (
        f"the saved {path.name} differs from what your kernel ran ({shown}{more}): save the "
        "notebook (Ctrl+S), run all its cells (Run > Run All Cells), then check again"
    )
