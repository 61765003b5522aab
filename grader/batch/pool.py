"""Where the gradings of a batch run: a pool of local grading processes, or a Dask cluster.

A grading process is a grader: it loads the course and its checks once, and grades one submission
at a time the way `grade` does, with every check in the grader and the student's code in a fresh,
limited worker. Its workers are forked from a warm fork server (grader.forkserver) of its own, so
a worker starts in milliseconds instead of the ~100 ms of a fresh interpreter importing numpy.

What comes back from a grading process is the grading's JSON report (plain data, made by the
grader, never by student code) with its time.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import multiprocessing
import os
import signal
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grader.course import Course, load_course

PR_SET_PDEATHSIG = 1
RETRIES = 1  # a grading whose grading process died is tried once more, in a new process


@dataclass(frozen=True)
class Task:
    """One grading to do: ``student``'s file at ``path`` for ``exercise``.

    shown: the file's name in the report (relative to the student's folder);
    note: why this file was chosen, when the student had two (grader.submission).
    """

    student: str
    exercise: str
    path: str
    shown: str
    note: str | None = None


@dataclass(frozen=True)
class Outcome:
    """A finished task: its JSON report and wall time, or why the grading itself failed."""

    task: Task
    report: dict[str, Any] | None
    seconds: float
    failure: str | None = None


# ---------------------------------------------------------------- in a grading process

_courses: dict[str, Course] = {}


def grade_task(course_path: str, task: dict[str, Any]) -> dict[str, Any]:
    """Grade one task in this process (a pool process or a Dask worker); its JSON report."""
    from grader import sandbox
    from grader.reports.json_report import exercise_object
    from grader.runner import Grading

    if course_path not in _courses:
        _courses[course_path] = load_course(Path(course_path))
        sandbox.use_forkserver()
        atexit.register(sandbox.stop_forkserver)  # atexit runs these last first
    course = _courses[course_path]
    item = Task(**task)
    notes = (item.note,) if item.note else ()
    exercise = course.exercise(item.exercise)
    grading = Grading(course, exercise, Path(item.path), item.shown, notes)  # takes the spare
    # The next task's worker starts (forks, restricts itself) while this grading runs; a spare
    # left over because its limits did not fit is stopped first.
    sandbox.discard_spare_workers()
    sandbox.start_spare_worker(exercise.limits)
    result = grading.run()
    report = exercise_object(result)
    for test, check in zip(report["tests"], result.checks, strict=True):
        test["kind"] = check.kind
    return {"report": report, "seconds": result.seconds}


def _start_grading_process() -> None:
    """In each local grading process: Ctrl-C reaches the whole process group, but the batch's
    main process decides what stops; and if the main process dies (even by ``kill -9``), this one
    dies too, closing its fork server's socket, which ends the server and its workers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the main process died before the line above
        os._exit(1)


# ---------------------------------------------------------------- the pools


class LocalPool:
    """``jobs`` grading processes on this machine."""

    def __init__(self, course: Course, jobs: int) -> None:
        self._course_path = str(course.path)
        self._jobs = jobs
        self._executor = self._new_executor()

    def _new_executor(self) -> concurrent.futures.ProcessPoolExecutor:
        return concurrent.futures.ProcessPoolExecutor(
            max_workers=self._jobs,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_grading_process,
        )

    def run(self, tasks: list[Task]) -> Iterator[Outcome]:
        """Grade ``tasks``, yielding each outcome as it comes (in no set order)."""
        pending = list(tasks)
        tries = dict.fromkeys(tasks, 0)
        while pending:
            futures = {
                self._executor.submit(grade_task, self._course_path, asdict(task)): task
                for task in pending
            }
            pending = []
            broken = False
            for future in concurrent.futures.as_completed(futures):
                task = futures[future]
                try:
                    answer = future.result()
                except concurrent.futures.process.BrokenProcessPool:
                    broken = True
                    tries[task] += 1
                    if tries[task] <= RETRIES:
                        pending.append(task)
                    else:
                        yield Outcome(task, None, 0.0, "its grading process died")
                    continue
                except Exception as error:  # a course or grader problem: say so, go on
                    yield Outcome(task, None, 0.0, f"{type(error).__name__}: {error}")
                    continue
                yield Outcome(task, answer["report"], answer["seconds"])
            if broken:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = self._new_executor()

    def close(self, wait: bool = True) -> None:
        """Stop the grading processes (their fork servers and workers go with them)."""
        if not wait:
            for process in list(getattr(self._executor, "_processes", {}).values()):
                if process.pid is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(process.pid, signal.SIGTERM)
        self._executor.shutdown(wait=wait, cancel_futures=True)


class DaskPool:
    """The gradings sent to an existing Dask cluster at ``address`` (dask.distributed).

    Every Dask worker needs this package installed and the course folder at the same path
    (a shared file system); the submissions are read from the paths the tasks name.
    """

    def __init__(self, course: Course, address: str) -> None:
        try:
            from distributed import Client
        except ImportError:
            from grader.errors import UsageError

            raise UsageError(
                "--dask needs dask.distributed: pip install 'gradients-by-hand[batch]' "
                "(or `pip install distributed`)"
            ) from None
        self._course_path = str(course.path)
        try:
            self._client = Client(address, timeout=30)
        except OSError as error:
            from grader.errors import UsageError

            raise UsageError(
                f"--dask {address}: no Dask scheduler answered ({error}); start one with "
                "`dask scheduler` and pass the address it prints"
            ) from None

    def run(self, tasks: list[Task]) -> Iterator[Outcome]:
        from distributed import as_completed

        futures = {
            self._client.submit(grade_task, self._course_path, asdict(task), pure=False): task
            for task in tasks
        }
        for future in as_completed(futures):
            task = futures[future]
            try:
                answer = future.result()
            except Exception as error:
                yield Outcome(task, None, 0.0, f"{type(error).__name__}: {error}")
                continue
            yield Outcome(task, answer["report"], answer["seconds"])

    def close(self, wait: bool = True) -> None:
        self._client.close()
