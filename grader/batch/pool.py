"""Where the gradings of a batch run: a pool of local grading processes (a Dask cluster's is
grader.batch.dask_pool).

A grading process is a grader: it loads the course and its checks once for each content their
files have (so a process kept across batches, a Dask worker's, grades edited checks as edited),
and grades one submission at a time the way `grade` does, with every check in the grader and the
student's code in a fresh, limited worker. Its workers are forked from a warm fork server of its
own (grader.sandbox.forkserver), so a worker starts in milliseconds instead of the ~100 ms of a
fresh interpreter importing numpy.

What comes back from a grading process is the grading's JSON report (plain data, made by the
grader, never by student code) with its time; or "stale" when what it would grade with is not of
the version the batch planned for the task (grader.batch.versions), which is then not recorded.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import signal
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from grader.batch.versions import checks_version, course_file_hash, grader_code_hash
from grader.course import Course, Exercise, load_course
from grader.sandbox.launcher import default_launcher

PR_SET_PDEATHSIG = 1
RETRIES = 1  # a grading whose grading process died is tried once more, in a new process
STUCK_MARGIN_SECONDS = 60.0  # past an exercise's wall limit, before its grader counts as stuck


@dataclass(frozen=True)
class Task:
    """One grading to do: ``student``'s file at ``path`` for ``exercise``.

    shown: the file's name in the report (relative to the student's folder);
    note: why this file was chosen, when the student had two (grader.submission);
    version: the grading's version as the batch planned it: the grading process grades only if
    what it loaded has that version (else its answer is "stale"), so no grading is recorded
    under a version it was not graded with.
    """

    student: str
    exercise: str
    path: str
    shown: str
    note: str | None = None
    version: str | None = None  # the version planned (grader.batch.versions); checked on grading


@dataclass(frozen=True)
class Outcome:
    """A finished task: its JSON report and wall time, or why the grading itself failed."""

    task: Task
    report: dict[str, Any] | None
    seconds: float
    failure: str | None = None


# ---------------------------------------------------------------- in a grading process

_courses: dict[tuple[str, str], Course] = {}  # by course.yaml's path and its content's hash


class StaleGrading(Exception):
    """What this process loaded (its grader code, the course, the checks) is not of the version
    the batch planned: the files changed during the run, or the process is older than them."""


def _course(course_path: str) -> Course:
    """The course at ``course_path`` as its file is now: loaded again when the file changed."""
    if not _courses:
        launcher = default_launcher()
        launcher.use_forkserver()
        # At exit: the spare worker (and its folder and cgroup), then the server.
        atexit.register(launcher.close)
    key = (course_path, course_file_hash(Path(course_path)))
    if key not in _courses:
        for old in [known for known in _courses if known[0] == course_path]:
            del _courses[old]
        _courses[key] = load_course(Path(course_path))
    return _courses[key]


_seen: dict[tuple[Path, str], str] = {}  # by course and exercise: the version last graded here


def _check_version(course: Course, exercise: Exercise, planned: str | None) -> None:
    """StaleGrading unless ``exercise``'s version, as this process sees it, is ``planned``.

    A new version of an exercise here also forgets the signatures read from solutions: the one
    cache of the grading code kept by a file's path, not its content (it words a hint)."""
    found = checks_version(course, exercise)
    if _seen.setdefault((course.path, exercise.id), found) != found:
        from grader.signatures import _signatures

        _signatures.cache_clear()
        _seen[(course.path, exercise.id)] = found
    if planned is not None and found != planned:
        raise StaleGrading(
            f"the course, its checks or the grader changed during the run (version {found}, "
            f"planned {planned}); run grade batch again"
        )


def grade_task(course_path: str, task: dict[str, Any]) -> dict[str, Any]:
    """Grade one task in this process (a grading process); its JSON report. StaleGrading if what
    this process grades with is not of the task's version, before or after the grading."""
    from grader.reports.json_report import exercise_object
    from grader.runner import Grading

    course = _course(course_path)
    item = Task(**task)
    notes = (item.note,) if item.note else ()
    exercise = course.exercise(item.exercise)
    _check_version(course, exercise, item.version)
    grading = Grading(course, exercise, Path(item.path), item.shown, notes)
    grading.start()  # takes the spare
    # The next task's worker starts (forks, restricts itself) while this grading runs; a spare
    # left over because its limits did not fit is stopped first.
    default_launcher().discard_spares()
    default_launcher().start_spare(exercise.limits)
    result = grading.run()
    _check_version(course, exercise, item.version)  # a file changed while it was graded
    return {"report": exercise_object(result), "seconds": result.seconds}


def usable_cpus() -> set[int]:
    """The CPUs this process may run on (a container or taskset may allow fewer than exist)."""
    if hasattr(os, "sched_getaffinity"):
        return os.sched_getaffinity(0)
    return set(range(os.cpu_count() or 1))


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


class _Slot:
    """One grading process, the pipe to it, and the task it is grading (None: idle)."""

    def __init__(self, course_path: str, cpu: int | None) -> None:
        context = multiprocessing.get_context("spawn")  # a clean interpreter, not a copy of this
        self.cpu = cpu
        self.connection, theirs = context.Pipe()
        self.process = context.Process(
            target=serve, args=(course_path, theirs, cpu), name="grade-batch-grader", daemon=True
        )
        self.process.start()
        theirs.close()
        self.task: Task | None = None
        self.deadline = 0.0  # time.monotonic() by which the task must be answered

    def stop(self, wait: bool) -> None:
        with contextlib.suppress(OSError, ValueError):
            if wait:
                self.connection.send(None)
        self.process.join(timeout=10 if wait else 0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()


def serve(course_path: str, connection: Connection, cpu: int | None) -> None:
    """A grading process (a local pool's, or a Dask worker's): grade each task the pipe brings
    until it brings None; on CPU ``cpu`` only, if given (its fork server and workers inherit
    that)."""
    _start_grading_process()
    # The hash of the grader's code as this process starts, before it imports the rest of it:
    # the code it grades with, which a task's version is checked against.
    grader_code_hash()
    if cpu is not None:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {cpu})
    while True:
        try:
            task = connection.recv()
        except EOFError:
            return
        if task is None:
            return
        try:
            answer: tuple[str, Any] = ("done", grade_task(course_path, task))
        except StaleGrading as error:
            answer = ("stale", str(error))
        except Exception as error:  # a course or grader problem: say so, go on
            answer = ("failed", f"{type(error).__name__}: {error}")
        connection.send(answer)


class LocalPool:
    """``jobs`` grading processes on this machine, each given one task at a time, so that a
    process that dies (a broken check file, the kernel's out-of-memory killer) or stops answering
    (a check that never ends) costs only the task it was grading; that task is tried once more
    in a new process.

    A grading ends by its exercise's wall limit, the grader's own work included; a process still
    busy ``margin`` seconds after that is taken to be stuck and is killed.

    With no more processes than CPUs, each process keeps to a CPU of its own, and its fork server
    and workers with it: a grading is a conversation between the grader and its worker, and on
    one CPU each hands over to the other without waking another CPU or losing its caches. On
    2 cores that graded about 5 % more per second than 3 processes left free (measured with
    benchmarks/batch_speed.py).
    """

    def __init__(self, course: Course, jobs: int, margin: float = STUCK_MARGIN_SECONDS) -> None:
        self._course_path = str(course.path)
        self._allowed = {
            exercise.id: exercise.limits.wall_seconds + margin for exercise in course.exercises
        }
        cpus = sorted(usable_cpus())
        self._slots = [
            _Slot(self._course_path, cpus[index] if jobs <= len(cpus) else None)
            for index in range(jobs)
        ]

    def run(self, tasks: list[Task]) -> Iterator[Outcome]:
        """Grade ``tasks``, yielding each outcome as it comes (in no set order)."""
        queue = deque(tasks)
        tries: Counter[Task] = Counter()
        while queue or any(slot.task is not None for slot in self._slots):
            for slot in self._slots:
                self._give_next(slot, queue)
            busy = [slot for slot in self._slots if slot.task is not None]
            ready = wait(
                [slot.connection for slot in busy] + [slot.process.sentinel for slot in busy],
                timeout=max(0.0, min(slot.deadline for slot in busy) - time.monotonic()),
            )
            for slot in busy:
                task = slot.task
                assert task is not None
                answered = slot.connection in ready or slot.process.sentinel in ready
                if not answered and time.monotonic() < slot.deadline:
                    continue
                answer = self._answer(slot) if answered else None
                if answer is None or not slot.process.is_alive():
                    slot = self._replace(slot)
                if answer is None:  # it died, or is stuck: the task goes round once more
                    tries[task] += 1
                    if tries[task] <= RETRIES:
                        queue.appendleft(task)
                    else:
                        why = "died" if answered else "stopped answering"
                        yield Outcome(task, None, 0.0, f"its grading process {why}")
                    continue
                slot.task = None
                # The next task first: the slot grades it while the caller records this one.
                self._give_next(slot, queue)
                kind, value = answer
                if kind == "done":
                    yield Outcome(task, value["report"], value["seconds"])
                else:
                    yield Outcome(task, None, 0.0, str(value))

    def _give_next(self, slot: _Slot, queue: deque[Task]) -> None:
        """Send ``slot`` the next task, if it is idle and one is left."""
        if slot.task is None and queue:
            slot.task = queue.popleft()
            slot.deadline = time.monotonic() + self._allowed[slot.task.exercise]
            slot.connection.send(asdict(slot.task))

    def _replace(self, slot: _Slot) -> _Slot:
        """A new grading process in ``slot``'s place, returned; the old one is killed."""
        new = self._slots[self._slots.index(slot)] = _Slot(self._course_path, slot.cpu)
        slot.stop(wait=False)
        return new

    @staticmethod
    def _answer(slot: _Slot) -> tuple[str, Any] | None:
        """What the slot's process sent, or None if it died without an answer."""
        try:
            if slot.connection.poll():
                return slot.connection.recv()
        except (EOFError, OSError):
            pass
        return None

    def close(self, wait: bool = True) -> None:
        """Stop the grading processes (their fork servers and workers go with them)."""
        for slot in self._slots:
            slot.stop(wait)
