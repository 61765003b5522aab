"""Which file of a handed-in folder is graded for an exercise: one rule for `grade --submission
FOLDER`, the Gradescope autograder and `grade batch`.

The policy, in order:

1. In the folder, the exercise's file: ``exercise3_chain_rule.py`` or ``.ipynb``, and if both are
   there the one the student worked in (grader.submission.locate says how it chooses).
2. A file that is, or lies behind, a symbolic link out of the submission's root is refused: on a
   grading machine the link could name the answer key (grader.submission.leads_out). Callers that
   read the file themselves before a worker does (`grade batch` hashes it) also refuse here what
   is no regular file, a FIFO or a device (grader.submission.not_gradable); the others leave that
   to grader.submission.read_source, which grades it 0 and says what it is.
3. No file, or a refused one: the exercise is not submitted. `pick` says why in one line; the
   caller decides what that costs (`grade EXERCISE` stops with exit 2, the others score it 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.course import Exercise
from grader.errors import UsageError
from grader.submission import Located, leads_out, locate, not_gradable


@dataclass(frozen=True)
class NotSubmitted:
    """Nothing to grade for the exercise. ``reason``: one line saying why; ``refused``: the file
    that was there but is not graded (a link out of the submission), None if there was none."""

    reason: str
    refused: Path | None = None


def pick(
    exercise: Exercise,
    folder: Path,
    root: Path | None = None,
    *,
    how_to_choose: str = "choose with --submission",
    not_found: str | None = None,
    only_regular_files: bool = False,
    otherwise: Callable[[], Located | None] | None = None,
) -> Located | NotSubmitted:
    """The file to grade for ``exercise`` in ``folder``, or why there is none (the module's
    policy).

    root: what was handed in, which the file must not link out of (default: ``folder``);
    how_to_choose: ends the note when both a .py and a notebook were there;
    not_found: the reason given when there is no file (default: where it was looked for);
    only_regular_files: also refuse a FIFO, a socket, a device, or a link to one or to nothing;
    otherwise: the file to grade when the exercise's own is not there (None: not submitted);
    it is refused on the same terms.
    """
    root = folder if root is None else root
    try:
        found = locate(exercise, folder, how_to_choose)
    except UsageError as missing:
        fallback = otherwise() if otherwise is not None else None
        if fallback is None:
            return NotSubmitted(not_found or str(missing))
        found = fallback
    why = (not_gradable if only_regular_files else leads_out)(found.path, root)
    return found if why is None else NotSubmitted(why, found.path)
