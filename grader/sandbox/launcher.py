"""Starting a process's workers: fresh interpreters or forks of a warm server, and spares.

One `Launcher` per grader process (`default_launcher`) replaces what used to be module state: the
spare workers started ahead of the gradings that take them, and the fork server a batch grading
process forks its workers from. A test or a tool may make its own and pass its `take` to
grader.student_code.session.StudentSession as ``start_worker``.
"""

from __future__ import annotations

import os

from grader.limits import Limits
from grader.sandbox.cgroups import remove_released
from grader.sandbox.process import FreshStarter, Starter, WorkerProcess, remove_stale_folders


class Launcher:
    """Starts the workers of one grader process."""

    def __init__(self) -> None:
        self.owner = os.getpid()  # a forked child gets a launcher of its own
        self._spares: list[WorkerProcess] = []
        self._forkserver: Starter | None = None

    @property
    def starter(self) -> Starter:
        return self._forkserver or FreshStarter()

    @property
    def forkserver(self) -> Starter | None:
        return self._forkserver

    def use_forkserver(self) -> None:
        """From now on, fork workers from a warm process (grader.sandbox.forkserver) instead of
        starting a fresh interpreter each; for batches, where the ~100 ms start adds up."""
        if self._forkserver is None:
            from grader.sandbox.forkserver import ForkserverStarter

            remove_stale_folders()
            self._forkserver = ForkserverStarter()

    def stop_forkserver(self) -> None:
        """Back to fresh interpreters; ends the fork server and any worker it still runs."""
        if self._forkserver is not None:
            self._forkserver.close()  # type: ignore[attr-defined]
            self._forkserver = None

    def start_spare(self, limits: Limits) -> None:
        """Start a worker now, to be taken by the next grading with these limits: the worker's
        own start then runs alongside the grader's work instead of after it."""
        self._spares.append(WorkerProcess(limits, self.starter))

    def take(self, limits: Limits) -> WorkerProcess:
        """A spare worker started with ``limits``, or a new one."""
        for spare in self._spares:
            if spare.limits == limits:
                self._spares.remove(spare)
                return spare
        return WorkerProcess(limits, self.starter)

    def discard_spares(self) -> None:
        while self._spares:
            self._spares.pop().kill()

    def close(self) -> None:
        """Kill the spares, end the fork server, and remove the cgroups kept for gradings."""
        self.discard_spares()
        self.stop_forkserver()
        remove_released()


_launcher: Launcher | None = None


def default_launcher() -> Launcher:
    """This process's launcher (a new one in a process forked from its owner)."""
    global _launcher
    if _launcher is None or _launcher.owner != os.getpid():
        if _launcher is None:
            remove_stale_folders()  # what graders killed by kill -9 left, once per process
        _launcher = Launcher()
    return _launcher


def take_worker(limits: Limits) -> WorkerProcess:
    """A worker from this process's launcher: the default of grader.student_code's sessions."""
    return default_launcher().take(limits)
