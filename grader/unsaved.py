"""Whether the code a notebook's kernel ran is the code saved in the file that will be graded.

The kernel's side is IPython's input history of this session (every cell run, in the order it
ran); the file's side is its code cells (or a script's text). Each side is reduced to the last
definition of each name the notebook rule keeps (grader.notebook_code.last_definitions), and a
name defined on both sides with different code means the two differ: an edit not saved, or a
saved edit whose cell was not run again. Either way the grade of the file would not be the code
the student sees working, so check() says to save and run the cells instead of grading.
"""

from __future__ import annotations

from pathlib import Path

from grader.notebook_code import last_definitions
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


def differing_names(ran: list[str], saved: list[str], among_many: bool = False) -> list[str]:
    """The names whose last definition in the cells that ran differs from the saved code's.

    among_many: the saved code is one of several exercises' files, most of which this kernel
    never ran: it is compared only if the kernel defined at least half of its names, so that a
    helper named like another exercise's function does not count as that exercise unsaved.
    """
    kernel = last_definitions(ran)
    file = last_definitions(saved)
    shared = [name for name in file if name in kernel]
    if among_many and 2 * len(shared) < len(file):
        return []
    return [name for name in shared if kernel[name] != file[name]]


def unsaved_line(ran: list[str], path: Path, among_many: bool = False) -> str | None:
    """One line saying ``path`` differs from what the kernel ran, and what to do; else None."""
    saved = code_cells(path)
    if not ran or saved is None:
        return None
    names = differing_names(ran, saved, among_many)
    if not names:
        return None
    shown = ", ".join(f"`{name}`" for name in names[:MOST_NAMES_SHOWN])
    more = f" and {len(names) - MOST_NAMES_SHOWN} more" if len(names) > MOST_NAMES_SHOWN else ""
    return (
        f"the saved {path.name} differs from what your kernel ran ({shown}{more}): save the "
        "notebook (Ctrl+S) and run its cells, then run this cell again"
    )
