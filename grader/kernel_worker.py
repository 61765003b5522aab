"""The course's checks inside otter-grader: run in the student's own kernel, against its globals.

otter-grader runs a notebook in a Jupyter kernel, then calls each test case of the exported test
files (grader.integrations.otter) with the kernel's global variables. ``run_check`` runs one of the
course's checks there. The checks reach the student's functions exactly as they do in `grade`:
through grader.student_code and the worker protocol (plain data, handles, callbacks, formulas, calls
sent ahead, arrays changed in place reported). Only the worker is not a process: the worker code
(grader.worker) serves the kernel's globals from a thread of the kernel, over pipes.
So scores match `grade`'s, but none of its protection holds: the checks share the kernel with the
student's code, which ran there first and could have patched numpy or the grader. A student
function that never returns fails its check after the call limit, and its thread is interrupted
with an exception (which a loop that catches every exception survives).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
import time
import types
from pathlib import Path
from typing import Any, NoReturn

from grader.course import load_course
from grader.framing import Frame
from grader.limits import Limits
from grader.sandbox.pipes import WorkerPipes
from grader.submission import Source
from grader.wire import Exit, Load, Loaded, Ready
from grader.worker import Channel, Worker

# The named mistakes charged so far in this kernel, per (course.yaml, exercise): otter runs an
# exercise's test cases in the course's order, one call each, and a mistake is charged once in a
# grading (grader.runner), so a later case meeting it again keeps its points as in `grade`. A case
# at or before the last one run starts a new pass: (index of the last case run, what it charged).
_charged_in_kernel: dict[tuple[str, str], tuple[int, dict[tuple[str, str], str]]] = {}

# A thread waiting on its pipe ends as soon as they close; one still running after this is busy
# in the student's code (a loop that never returns) and is stopped.
STOP_SECONDS = 0.5


class _PipeClosed(Exception):
    """The grader's end of the pipes is closed: the thread has nothing more to serve."""


class _ThreadChannel(Channel):
    """Frames over pipes, for a worker thread: at their end the thread stops, not the process."""

    def closed(self) -> NoReturn:
        raise _PipeClosed()


class _KernelWorker(Worker):
    """The worker, serving a namespace that already holds the student's code (the kernel's
    globals) instead of loading a file; an ``exit`` ends the thread, not the kernel."""

    def __init__(self, channel: Channel, namespace: dict[str, Any]) -> None:
        super().__init__(channel)
        self._namespace = namespace

    def _load(self, message: Load) -> Loaded:
        module = types.ModuleType("submission")
        module.__dict__.update(self._namespace)
        self._module = module
        return Loaded(ok=True)

    def _handle(self, frame: Frame) -> None:
        if isinstance(frame.head, Exit):
            raise _PipeClosed()
        super()._handle(frame)


def _serve(read_fd: int, write_fd: int, namespace: dict[str, Any]) -> None:
    """The thread: say "ready", then serve until the grader closes its end or stops it."""
    try:
        try:
            channel = _ThreadChannel(read_fd, write_fd)
            channel.send(Ready())  # the kernel's thread: no layer
            _KernelWorker(channel, namespace).serve()
        finally:
            for fd in (read_fd, write_fd):
                with contextlib.suppress(OSError):
                    os.close(fd)
    except BaseException:  # the pipes closed, or the grader stopped the thread: its work is done
        pass


def _stop(thread: threading.Thread) -> None:
    """Raise _PipeClosed in ``thread`` at its next bytecode: a student function that never
    returns is interrupted (unless it catches every exception, or waits inside C code)."""
    if thread.ident is not None and thread.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread.ident), ctypes.py_object(_PipeClosed)
        )


class KernelThreadWorker(WorkerPipes):
    """A worker that is a daemon thread of this process serving ``namespace``."""

    def __init__(self, limits: Limits, namespace: dict[str, Any]) -> None:
        self._namespace = namespace
        super().__init__(limits)

    def _start_worker(self, fds: tuple[int, int, int]) -> None:
        request_read, reply_write, _ = fds  # printed output goes where the kernel's goes
        self._thread = threading.Thread(
            target=_serve,
            args=(os.dup(request_read), os.dup(reply_write), self._namespace),
            name="course-check-worker",
            daemon=True,
        )
        self._thread.start()

    def kill(self) -> None:
        """Close the grader's ends, where a waiting thread reads the end of its work; a thread
        still busy in the student's code after that is stopped."""
        if self.closed:
            return
        self.closed = True
        self._close_pipes()
        self._thread.join(STOP_SECONDS)
        _stop(self._thread)


def run_check(
    namespace: dict[str, Any], course_yaml: Path, exercise_id: str, check_id: str
) -> None:
    """Run check ``check_id`` of ``exercise_id`` against the functions in ``namespace``; raise
    AssertionError with the check's message unless it passed (otter then fails the test case)."""
    from grader.runner import check_rng, load_checks
    from grader.runner import run_check as run_one
    from grader.student_code.objects import StudentModule
    from grader.student_code.session import StudentSession

    course = load_course(course_yaml)
    exercise = course.exercise(exercise_id)
    checks = load_checks(course, exercise)
    index = next(number for number, item in enumerate(checks) if item.id == check_id)
    check = checks[index]
    key = (str(course_yaml), exercise_id)
    last_index, charged = _charged_in_kernel.get(key, (len(checks), {}))
    if index <= last_index:
        charged = {}
    _charged_in_kernel[key] = (index, charged)
    source = Source(path="your notebook", filename="your notebook", text="")
    session = StudentSession(
        source,
        exercise.limits,
        time.monotonic() + exercise.limits.wall_seconds,
        start_worker=lambda limits: KernelThreadWorker(limits, namespace),
    )
    try:
        result = run_one(
            check,
            StudentModule(session),
            check_rng(course.seed, exercise.id, check.id),
            exercise,
            charged,
        )
    finally:
        session.close()
    if result.status != "passed":
        raise AssertionError(result.message)
