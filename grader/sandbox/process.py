"""One worker process of a grading: started fresh or forked, in the grading's cgroup, and ended
with every process it made.

A `WorkerProcess` makes the grading's folder and cgroup, hands the worker's settings to a
`Starter` (a fresh interpreter here, or a fork server: grader.sandbox.forkserver), and on `kill`
ends the whole grading: the worker (which takes its PID namespace down), then the cgroup,
then the folder.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Protocol

from grader.framing import WireLimits
from grader.limits import Limits
from grader.sandbox.cgroups import GradingCgroup, GradingCgroups
from grader.sandbox.layers import requested_layers
from grader.sandbox.pipes import READ_CHUNK, WorkerPipes
from grader.sandbox.settings import WorkerSettings, worker_environment
from grader.sandbox.view import VIEW_HOME, PrivateView

FOLDER_PREFIX = "grade-worker"


class Started:
    """A started worker process, however it was started: its pid, its end, and killing it."""

    pid: int
    status: int | None = None  # once reaped: as subprocess.Popen.returncode gives it

    def wait(self, timeout: float) -> int | None:
        """The exit status once the process has ended, or None if it still runs after
        ``timeout`` seconds."""
        raise NotImplementedError

    def kill(self) -> None:
        """SIGKILL its whole process group; nothing once it has been reaped (its pid may have
        been given to another process since)."""
        if self.status is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.pid, signal.SIGKILL)


class Starter(Protocol):
    """Something that starts a worker process with ``settings`` on the pipe ends ``fds``
    (request read, reply write, output write)."""

    def start(self, settings: WorkerSettings, fds: tuple[int, int, int]) -> Started: ...


class FreshInterpreter(Started):
    """``python -I -u -m grader.sandbox.start``: ~100 ms to start Python and import numpy."""

    def __init__(self, settings: WorkerSettings, fds: tuple[int, int, int]) -> None:
        request_read, reply_write, output_write = fds
        settings = dataclasses.replace(settings, parent=os.getpid())
        # The settings go on a pipe: what a pipe holds (64 KB) takes them whole before the start.
        settings_read, settings_write = os.pipe()
        try:
            os.write(settings_write, settings.to_json().encode())
            os.close(settings_write)
            self._popen = subprocess.Popen(
                [
                    sys.executable,
                    "-I",
                    "-u",
                    "-m",
                    "grader.sandbox.start",
                    str(settings_read),
                    str(request_read),
                    str(reply_write),
                ],
                stdin=subprocess.DEVNULL,
                stdout=output_write,
                stderr=output_write,
                pass_fds=(settings_read, request_read, reply_write),
                cwd=settings.home,
                env=settings.environment,
                start_new_session=True,
            )
        finally:
            os.close(settings_read)
        self.pid = self._popen.pid

    def wait(self, timeout: float) -> int | None:
        try:
            self.status = self._popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.status


class FreshStarter:
    """Starts each worker as a fresh interpreter."""

    def start(self, settings: WorkerSettings, fds: tuple[int, int, int]) -> Started:
        return FreshInterpreter(settings, fds)


class WorkerProcess(WorkerPipes):
    """One started worker process, the three pipes to it, its folder and its cgroup."""

    def __init__(
        self, limits: Limits, starter: Starter | None = None, wire_limits: WireLimits | None = None
    ) -> None:
        self._starter = starter or FreshStarter()
        layers = requested_layers()
        wanted = GradingCgroup.name in layers
        self._cgroup = GradingCgroups.make(limits.memory_mb) if wanted else None
        # The grading's folder holds the worker's own (``work``) and, in the private view, the
        # mount point its view is built on (grader.sandbox.view).
        self._folder = tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}-{os.getpid()}-")
        self._home = os.path.join(self._folder, "work")
        os.mkdir(self._home, 0o700)
        # In the private view the folder is at /grading: the worker's environment, which stays
        # readable in its /proc, names no folder of the machine's.
        seen_home = VIEW_HOME if PrivateView.name in layers else self._home
        self._settings = WorkerSettings(
            home=self._home,
            environment=worker_environment(seen_home),
            limits=limits,
            parent=os.getpid(),
            cgroups=tuple(str(folder) for folder in self._cgroup.folders) if self._cgroup else (),
            layers=layers,
        )
        super().__init__(limits, wire_limits)

    def _start_worker(self, fds: tuple[int, int, int]) -> None:
        self._process = self._starter.start(self._settings, fds)

    def _exit_status(self) -> int | None:
        return self._process.wait(0.5)

    def _why_ended(self, status: int | None) -> str | None:
        if self._cgroup is not None and self._cgroup.ran_out_of_memory():
            return (
                f"the grading's processes used more than its {self.limits.memory_mb} MB of "
                "memory together, and the kernel stopped them"
            )
        return None

    def kill(self) -> None:
        """End the grading's every process, then release its pipes, cgroup and folder."""
        if self.closed:
            return
        self.closed = True
        self._process.kill()
        # Reaped, the worker has taken its PID namespace down with it: the cgroup is then
        # empty, and killing it costs one look. Without a PID namespace, it kills what escaped.
        while self._process.wait(5.0) is None:
            self._process.kill()
        if self._cgroup is not None:
            self._cgroup.kill()
        self._drain_output()
        if self._cgroup is not None:
            self._cgroup.release()
        self._close_pipes()
        shutil.rmtree(self._folder, ignore_errors=True)

    def _drain_output(self) -> None:
        """Keep what the killed process printed before it died (bounded: the pipe has an end)."""
        with contextlib.suppress(OSError, ValueError, KeyError):
            deadline = time.monotonic() + 0.2
            while time.monotonic() < deadline:
                chunk = os.read(self._output_read, READ_CHUNK)
                if not chunk:
                    break
                self._keep_output(chunk)


def remove_stale_folders() -> None:
    """Remove the temporary folders of graders that were killed (``kill -9``) before they could
    remove their own: the folders' names hold the pid of a grader that no longer runs."""
    for folder in Path(tempfile.gettempdir()).glob("grade-*-*-*"):
        parts = folder.name.split("-")
        owner_gone = parts[2].isdigit() and not Path(f"/proc/{parts[2]}").exists()
        if parts[1] in ("worker", "forkserver") and owner_gone:
            shutil.rmtree(folder, ignore_errors=True)
