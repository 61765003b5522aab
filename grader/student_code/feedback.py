"""Every sentence about the student's code that the student reads, from what the worker said.

A worker names a failure by its kind and parts (grader.wire): the exception, the line of the
submission it came from, the unfinished function. These functions turn them into one line for
the student, with the place in the student's own terms ("line 12", "cell 3 (`def f(x):`), line
2") and, where the code used what the grading numpy removed, what changed (grader.numpy_changes).
"""

from __future__ import annotations

import re
import time
from typing import Any

import numpy as np

from grader import numpy_changes
from grader.limits import Limits
from grader.sandbox.pipes import WorkerError, WorkerExited, WorkerOverBudget, WorkerTimedOut
from grader.student_code.errors import (
    FROM_FAILURE,
    NotImplementedYet,
    StudentError,
    StudentRaised,
    WorkerCrashed,
)
from grader.student_code.shape_words import explain, says_it_all
from grader.submission import Source
from grader.wire import Loaded, Location, Raised

# The worker's exception for a grader function that raised when the student's code called it
# (grader.worker): its name is the grader's, not one for the student to read.
CALLBACK_FAILED = "GraderCallbackError"
_RENAMED = re.compile(r"; did you rename it to [^?]*\?")  # grader.worker's guess at a missing name


def place(where: Location | None, source: Source) -> str:
    """'(line 12: `y = x @ W`)', '(cell 3, line 2: `...`)' in a notebook, or '' if unknown."""
    if where is None:
        return ""
    code = f": `{where.code[:500]}`" if where.code else ""
    return f"({source.place(where.line)}{code})"


def with_numpy_change(message: str) -> str:
    """``message``, and what the grading numpy changed if that is why the code failed."""
    removed = numpy_changes.explain(message)
    return f"{message}. {removed}" if removed else message


def load_failure(reply: Loaded, source: Source) -> str:
    """Why the submission could not be loaded, completing "your file could not be loaded: "."""
    where = place(reply.where, source)
    text = reply.message[:2000] or "it could not be loaded"
    return _with_left_out(with_numpy_change(f"{text} {where}" if where else text), source)


def _with_left_out(message: str, source: Source) -> str:
    """``message``, and for a NameError of a name only a left-out notebook line defines, a
    hint naming that line and how to have it graded (grader.notebook_code)."""
    if not source.left_out:
        return message
    from grader.notebook_code import left_out_hint  # only for notebooks

    hint = left_out_hint(message, source.left_out)
    if hint is None:
        return message
    # The function is there, in a cell grading left out: not renamed.
    return f"{_RENAMED.sub('', message)}\nHint: {hint}"


def failure(reply: Raised, label: str, source: Source, limits: Limits) -> StudentError:
    """The error a Raised reply to the call ``label`` stands for, with its message."""
    if reply.label is not None:  # a deferred operation's failure: name that operation
        label = reply.label[:100]
    message = reply.message[:2000]
    error_type = FROM_FAILURE[reply.kind]
    if error_type is NotImplementedYet:
        line = reply.unfinished.line if reply.unfinished else None
        return NotImplementedYet(_not_implemented(reply, label, source), line)
    if error_type is StudentRaised:
        clue = reply.clue
        explained = explain(clue) if clue is not None else None
        if clue is not None and explained is not None and reply.where is not None:
            what, todo = explained
            error = reply.type if says_it_all(clue) else message
            return StudentRaised(
                f"{label} raised {error} ({source.place(reply.where.line)}"
                f"{_called_from(reply, source)}): {what}\n{todo}",
                reply.where.line,
            )
        where = place(reply.where, source)
        if reply.type == CALLBACK_FAILED:  # the grader's function given as an argument raised
            inner = message.partition(": ")[2] or message
            return StudentRaised(
                f"{label}: the function it was given could not take what your code passed it "
                f"({inner}){' ' + where if where else ''}",
                reply.where.line if reply.where else None,
            )
        if reply.called_from is not None and where:
            where = f"{where[:-1]}{_called_from(reply, source)})"
        memory = (
            f"; your code may use at most {limits.memory_mb} MB"
            if reply.type == "MemoryError"
            else ""
        )
        return StudentRaised(
            _with_left_out(
                with_numpy_change(
                    f"{label} raised {message}{' ' + where if where else ''}{memory}"
                ),
                source,
            ),
            reply.where.line if reply.where else None,
        )
    if error_type is WorkerCrashed:
        return WorkerCrashed(f"{label} {message}")
    return error_type(_with_left_out(message, source))


def _called_from(reply: Raised, source: Source) -> str:
    """', called from line 88: `...`' when the error was in a function the submission's own
    function called (a given helper handed the wrong arrays), else ''."""
    called = reply.called_from
    if called is None:
        return ""
    return f", called from {source.place(called.line)}: `{called.code[:200]}`"


def _not_implemented(reply: Raised, label: str, source: Source) -> str:
    unfinished = reply.unfinished
    function = unfinished.function[:100] if unfinished else label
    summary = unfinished.summary[:300] if unfinished else ""
    where = (
        f" ({source.filename}, {source.place(unfinished.line)})"
        if unfinished
        else f" in {source.filename}"
    )
    opening = (
        f"{function} is not implemented yet"
        if function == label
        else f"{label} calls {function}, which is not implemented yet"
    )
    task = f" (its docstring: “{summary}”)" if summary else ""
    return f"{opening}{task}. Replace `raise NotImplementedError`{where} with your code."


def worker_problem(
    error: WorkerError, during: str, limits: Limits, deadline: float, source: Source
) -> str:
    """What happened to the worker ``during`` something ("while running relu_forward").

    deadline: the grading's end (time.monotonic seconds): a timeout past it is the grading's.
    source: the submission, to place the line a timed-out call was running.
    """
    if isinstance(error, WorkerOverBudget):
        return f"your code's process {error.what} {during}; the grader stopped it. {error.advice}"
    if isinstance(error, WorkerTimedOut):
        if time.monotonic() >= deadline:
            return (
                f"the grading ran out of its {limits.wall_seconds:g} s {during}; "
                "look for a loop that never ends"
            )
        running = place(error.where, source)
        return (
            f"no answer within {limits.call_seconds:g} s {during}"
            f"{'; it was running ' + running[1:-1] if running else ''}; "
            "look for a loop that never ends or a very slow computation"
        )
    if isinstance(error, WorkerExited):
        return f"your code stopped the process {during}: {error}"
    return f"your code's process sent bytes the grader cannot read {during}: {error}"


def replay_disagrees(label: str, name: str, argument: Any, answer: Any) -> str:
    """A formula's answer the worker claimed that the grader's own function does not give."""
    return (
        f"{label}: your code got {short(answer)} from the grader's function {name} "
        f"at {short(argument)}, which it does not give; leave the functions you are "
        "given, and numpy, as they are"
    )


def short(value: Any) -> str:
    """A value as the student's messages show it: 80 characters at most."""
    text = np.array2string(value, threshold=6) if isinstance(value, np.ndarray) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
