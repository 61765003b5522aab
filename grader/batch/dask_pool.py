"""The gradings of a batch on a Dask cluster, each in a grading process the Dask worker owns.

A Dask worker runs tasks in threads of a process that lives across batches, and a thread cannot
be stopped: a check that never returns would spin there after its batch gave up on it. So a task
(grade_on_dask) never grades in the Dask worker itself. It hands the grading to a grading process
of its own, started as ``python -m grader.batch.dask_pool COURSE FD`` and kept for the next tasks
(one per task running at once): the same grader as a local pool's (grader.batch.pool), with its
warm fork server, and the same rules:

- a grading not answered by its exercise's wall limit plus a margin is stuck: its process is
  killed (its fork server and the student's worker with it) and the task is tried once more in
  a new process; stuck again, it is recorded as timed out (timed_out_report);
- a grading whose process died is tried once more, then reported as failed;
- a task the client no longer wants (it was stopped, or it left) kills its grading process
  within POLL_SECONDS, so no student code runs on for nobody;
- a grading process answers "stale" when what it would grade with is not of the task's version
  (grader.batch.versions): it is older than an edit of the grader's code. It is replaced by a
  new one, which has the code now on disk, and the task tried once more.

The course and its check and solution modules are cached in a grading process by their contents
(grader.batch.pool, grader.course_modules), so a kept process grades edited checks as edited.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from multiprocessing.connection import Connection
from typing import Any

from grader.batch.pool import RETRIES, STUCK_MARGIN_SECONDS, Outcome, Task, serve
from grader.course import Course, Exercise

POLL_SECONDS = 0.5  # how often a waiting task asks whether it is still wanted


class GradingFailed(Exception):
    """The grading could not be done on the Dask worker; the message says why."""


# ---------------------------------------------------------------- on a Dask worker


class _GradingProcess:
    """A grading process of this Dask worker process for one course, and the socket to it.

    A subprocess rather than a multiprocessing child: a Dask worker is often a daemonic process,
    which may not have those. In a session of its own, so that killing it kills its group too."""

    def __init__(self, course_path: str) -> None:
        ours, theirs = socket.socketpair()
        with theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "grader.batch.dask_pool", course_path, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.connection = Connection(ours.detach())

    def ask(self, task: dict[str, Any], allowed: float) -> tuple[str, Any]:
        """Send ``task`` and wait for the answer: ("done", value), ("failed", why), ("stale",
        why), or ("died", ""), ("stuck", "") past ``allowed`` seconds, ("unwanted", "") once the
        task is cancelled."""
        deadline = time.monotonic() + allowed
        try:
            self.connection.send(task)
        except OSError:
            return ("died", "")
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return ("stuck", "")
            if self.connection.poll(min(POLL_SECONDS, left)):
                try:
                    answer: tuple[str, Any] = self.connection.recv()
                except (EOFError, OSError):
                    return ("died", "")
                return answer
            if not _still_wanted():
                return ("unwanted", "")

    def kill(self) -> None:
        """Kill the process and its session (its fork server, the student's worker)."""
        with contextlib.suppress(OSError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()
        self.connection.close()


_idle: dict[str, list[_GradingProcess]] = {}  # by course path: processes free for a task
_idle_lock = threading.Lock()


def _take(course_path: str) -> _GradingProcess:
    """An idle grading process for the course (one still alive), or a new one."""
    with _idle_lock:
        waiting = _idle.setdefault(course_path, [])
        while waiting:
            found = waiting.pop()
            if found.process.poll() is None:
                return found
            found.kill()
    return _GradingProcess(course_path)


def _give_back(course_path: str, grading: _GradingProcess) -> None:
    with _idle_lock:
        _idle.setdefault(course_path, []).append(grading)


def _still_wanted() -> bool:
    """Whether the Dask task running in this thread is still wanted (True outside Dask)."""
    try:
        from distributed import get_worker
        from distributed.worker import thread_state

        state = get_worker().state.tasks.get(thread_state.key)
    except (ImportError, ValueError, AttributeError, KeyError):
        return True
    return state is not None and state.state in ("executing", "long-running")


def grade_on_dask(course_path: str, task: dict[str, Any], allowed: float) -> dict[str, Any]:
    """Grade ``task`` in a grading process of this Dask worker within ``allowed`` seconds: the
    grading's JSON report and time, or ``{"timed_out": seconds}``; GradingFailed if it could
    not be done."""
    tries = 0
    while True:
        grading = _take(course_path)
        kind, value = grading.ask(task, allowed)
        if kind in ("done", "failed"):
            _give_back(course_path, grading)
        else:
            grading.kill()
        if kind == "done":
            return dict(value)
        if kind == "failed":
            raise GradingFailed(str(value))
        if kind == "unwanted":
            raise GradingFailed("stopped: the batch that asked for it left")
        tries += 1
        if tries > RETRIES:
            if kind == "stuck":
                return {"timed_out": allowed}
            raise GradingFailed(str(value) if kind == "stale" else "its grading process died")


# ---------------------------------------------------------------- on the batch's machine


def timed_out_report(course: Course, exercise: Exercise, task: Task) -> dict[str, Any]:
    """The JSON report of a grading stopped for not ending: every check 0, timed out."""
    from grader.reports.json_report import exercise_object
    from grader.results import CheckResult, ExerciseResult
    from grader.runner import load_checks

    wall = exercise.limits.wall_seconds
    result = ExerciseResult(
        exercise=exercise.id,
        title=exercise.title,
        max_score=exercise.points,
        file=task.shown,
        problem=f"the grading did not end within its {wall:g} s and was stopped",
        hidden_points=exercise.hidden_points,
    )
    result.checks = [
        CheckResult(
            id=item.id,
            title=item.title,
            score=0.0,
            max_score=item.points,
            status="error",
            hidden=item.hidden,
            message=f"timed out: the grading did not end within its {wall:g} s",
            kind="timeout",
        )
        for item in load_checks(course, exercise)
    ]
    result.seconds = wall
    return exercise_object(result)


class DaskPool:
    """The gradings sent to an existing Dask cluster at ``address`` (dask.distributed).

    Every Dask worker needs this package installed and the course folder at the same path
    (a shared file system); the submissions are read from the paths the tasks name. A grading
    has its exercise's wall limit plus ``margin`` seconds, as in a local pool.
    """

    def __init__(self, course: Course, address: str, margin: float = STUCK_MARGIN_SECONDS) -> None:
        try:
            from distributed import Client
        except ImportError:
            from grader.errors import UsageError

            raise UsageError(
                "--dask needs dask.distributed: pip install 'gradients-by-hand[batch]' "
                "(or `pip install distributed`)"
            ) from None
        self._course = course
        self._allowed = {
            exercise.id: exercise.limits.wall_seconds + margin for exercise in course.exercises
        }
        try:
            self._client = Client(address, timeout=30)
        except OSError as error:
            from grader.errors import UsageError

            raise UsageError(
                f"--dask {address}: no Dask scheduler answered ({error}); start one with "
                "`dask scheduler` and pass the address it prints"
            ) from None

    def run(self, tasks: list[Task]) -> Iterator[Outcome]:
        """Grade ``tasks`` on the cluster, yielding each outcome as it comes."""
        from distributed import as_completed

        course_path = str(self._course.path)
        futures = {
            self._client.submit(
                grade_on_dask,
                course_path,
                asdict(task),
                self._allowed[task.exercise],
                pure=False,
            ): task
            for task in tasks
        }
        for future in as_completed(futures):
            task = futures[future]
            try:
                answer = future.result()
            except GradingFailed as error:
                yield Outcome(task, None, 0.0, str(error))
                continue
            except Exception as error:
                yield Outcome(task, None, 0.0, f"{type(error).__name__}: {error}")
                continue
            if "timed_out" in answer:
                exercise = self._course.exercise(task.exercise)
                report = timed_out_report(self._course, exercise, task)
                yield Outcome(task, report, float(answer["timed_out"]))
            else:
                yield Outcome(task, answer["report"], answer["seconds"])

    def close(self, wait: bool = True) -> None:
        """Leave the cluster; the gradings still running there are stopped."""
        self._client.close()


if __name__ == "__main__":  # a grading process of a Dask worker: COURSE_PATH FD
    serve(sys.argv[1], Connection(int(sys.argv[2])), None)
