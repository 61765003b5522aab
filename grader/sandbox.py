"""Starting a worker process under limits, and exchanging frames with it under deadlines.

The worker (grader.worker) runs as ``python -I -u -m grader.worker``: isolated mode, so neither the
current directory nor PYTHONPATH nor the user's site-packages are importable; a fresh temporary
directory as its working directory and HOME; an environment holding only what Python and numpy need;
resource limits on memory, CPU time, file size and core dumps; its own session, so the whole process
group is killed when it times out or the grading ends. Its stdout and stderr are read into a capped
buffer while it runs, so a submission that prints megabytes neither blocks nor floods the grader.

This module knows processes and bytes; what the bytes mean is grader.protocol's and grader.proxy's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.forkserver import Forkserver, ForkserverError
from grader.framing import Frame, FrameBuffer, ProtocolError, WireLimits
from grader.isolation import (
    PROCESS_LIMIT,
    enter_network_namespace,
    enter_process_cgroup,
    make_process_cgroup,
    network_namespace_available,
    pid_namespace_available,
    pid_namespace_command,
    process_limit_available,
    remove_process_cgroup,
)
from grader.limits import Limits

FILE_SIZE_LIMIT = 16 * 1024 * 1024  # bytes any one file the worker writes may reach
OPEN_FILES_LIMIT = 256  # file descriptors; Python, numpy and the pipes use about 20
STARTUP_SECONDS = 30.0  # to import numpy and say "ready": the grader's cost, not the student's
# A pipe holds 64 KB: a larger read gets no more, and os.read allocates its whole size first
# (a 1 MB read costs ~18 µs more than a 64 KB one, measured; two or more per call).
READ_CHUNK = 1 << 16
MAX_QUEUED_BYTES = 1 << 20  # written at once with the next request; a long chain in parts
# A fork server's pids cgroup holds the server, the worker grading now with its processes, and the
# spare started for the next grading.
FORKSERVER_PROCESS_LIMIT = PROCESS_LIMIT + 8
# Machine settings that keep OpenBLAS correct on some processors; the worker must see them too.
PASSED_THROUGH_ENVIRONMENT = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


class WorkerError(Exception):
    """The worker stopped answering: it timed out, exited, or broke the protocol."""


class WorkerTimedOut(WorkerError):
    pass


class WorkerExited(WorkerError):
    def __init__(self, status: int | None) -> None:
        self.status = status
        super().__init__(describe_status(status))


class WorkerBrokeProtocol(WorkerError):
    pass


def describe_status(status: int | None) -> str:
    """How a worker ended, in words for the student (status as Popen.returncode gives it)."""
    if status is None:
        return "the process closed its connection to the grader"
    if status < 0:
        name = signal.Signals(-status).name if -status in signal.valid_signals() else -status
        if -status == signal.SIGXCPU:
            return "the process used up its CPU time"
        if -status in (signal.SIGKILL, signal.SIGSEGV, signal.SIGBUS):
            return f"the process was killed by {name} (often: out of memory)"
        return f"the process was killed by {name}"
    return f"the process exited with status {status}"


def worker_environment(home: str) -> dict[str, str]:
    environment = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        # One BLAS thread: a grading is small, and threads multiply the address space numpy needs.
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    for name in PASSED_THROUGH_ENVIRONMENT:
        if name in os.environ:
            environment[name] = os.environ[name]
    return environment


def _prepare_child(limits: Limits, without_network: bool, cgroup: Path | None) -> None:
    """Runs in the child between fork and exec: into its process-count cgroup and network
    namespace first (they need the privileges the grader has), then the resource limits."""
    if cgroup is not None:
        enter_process_cgroup(cgroup)
    if without_network:
        enter_network_namespace()
    limit_resources(limits)


def limit_resources(limits: Limits) -> None:
    """Runs in the child between fork and exec: nothing here may allocate much or take locks.

    The CPU limit's soft value is one second below the hard one, so the kernel first sends
    SIGXCPU, which the grader can name, rather than an anonymous SIGKILL.
    """
    memory = limits.memory_mb * 1024 * 1024
    cpu_seconds = int(limits.wall_seconds) + 2  # a backstop; the wall deadline normally kills first
    for name, soft, hard in (
        (resource.RLIMIT_AS, memory, memory),
        (resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 1),
        (resource.RLIMIT_FSIZE, FILE_SIZE_LIMIT, FILE_SIZE_LIMIT),  # Python turns it into OSError
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_NOFILE, OPEN_FILES_LIMIT, OPEN_FILES_LIMIT),
    ):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(name, (soft, hard))


class _Started:
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


class _FreshInterpreter(_Started):
    """``python -I -u -m grader.worker`` started under limits: ~100 ms to import numpy."""

    def __init__(
        self,
        limits: Limits,
        home: str,
        without_network: bool,
        cgroup: Path | None,
        fds: tuple[int, int, int],
    ) -> None:
        request_read, reply_write, output_write = fds
        self._popen = subprocess.Popen(
            [
                *pid_namespace_command(),
                sys.executable,
                "-I",
                "-u",
                "-m",
                "grader.worker",
                str(request_read),
                str(reply_write),
            ],
            stdin=subprocess.DEVNULL,
            stdout=output_write,
            stderr=output_write,
            pass_fds=(request_read, reply_write),
            cwd=home,
            env=worker_environment(home),
            start_new_session=True,
            preexec_fn=lambda: _prepare_child(limits, without_network, cgroup),
        )
        self.pid = self._popen.pid

    def wait(self, timeout: float) -> int | None:
        try:
            self.status = self._popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.status


class _Forked(_Started):
    """A worker forked by the fork server (grader.forkserver): a few milliseconds."""

    def __init__(self, server: Forkserver, pid: int) -> None:
        self._server = server
        self.pid = pid

    def wait(self, timeout: float) -> int | None:
        if self.status is None:
            try:
                self.status = self._server.wait(self.pid, timeout)
            except ForkserverError:  # the server is gone, and took its workers with it
                self.status = -signal.SIGKILL
        return self.status


class _WarmStarter:
    """Starts workers by asking a fork server, with the settings a fresh worker would get."""

    def __init__(self) -> None:
        self._home = tempfile.mkdtemp(prefix=f"grade-forkserver-{os.getpid()}-")
        self._cgroup = (
            make_process_cgroup(FORKSERVER_PROCESS_LIMIT, kind="forkserver")
            if process_limit_available()
            else None
        )
        self.server = Forkserver(worker_environment(self._home), self._home, self._cgroup)
        self._pid_namespace = pid_namespace_available()

    def start_worker(
        self,
        limits: Limits,
        home: str,
        without_network: bool,
        cgroup: Path | None,
        fds: tuple[int, int, int],
    ) -> _Started:
        settings = {
            "home": home,
            "environment": worker_environment(home),
            "limits": dataclasses.asdict(limits),
            "without_network": without_network,
            "pid_namespace": self._pid_namespace,
        }
        if not self.server.running():
            # Killed, by a worker that could signal its parent (no PID namespace, the same
            # user): a new server, so that the gradings after this one still get workers.
            self.server.close()
            self.server = Forkserver(worker_environment(self._home), self._home, self._cgroup)
        return _Forked(self.server, self.server.fork(settings, fds))

    def close(self) -> None:
        self.server.close()
        if self._cgroup is not None:
            remove_process_cgroup(self._cgroup)
        shutil.rmtree(self._home, ignore_errors=True)


_forkserver: _WarmStarter | None = None


def use_forkserver() -> None:
    """From now on, start this process's workers by forking a warm process (grader.forkserver)
    instead of a fresh interpreter each; for batches, where the ~100 ms start adds up."""
    global _forkserver
    if _forkserver is None:
        remove_stale_folders()
        _forkserver = _WarmStarter()


def remove_stale_folders() -> None:
    """Remove the temporary folders of graders that were killed (``kill -9``) before they could
    remove their own: the folders' names hold the pid of a grader that no longer runs."""
    for folder in Path(tempfile.gettempdir()).glob("grade-*-*-*"):
        parts = folder.name.split("-")
        owner_gone = parts[2].isdigit() and not Path(f"/proc/{parts[2]}").exists()
        if parts[1] in ("worker", "forkserver") and owner_gone:
            shutil.rmtree(folder, ignore_errors=True)


def stop_forkserver() -> None:
    """Back to fresh interpreters; ends the fork server and any worker it still runs."""
    global _forkserver
    if _forkserver is not None:
        _forkserver.close()
        _forkserver = None


_spares: list[WorkerProcess] = []


def start_spare_worker(limits: Limits) -> None:
    """Start a worker now, to be taken by the next grading with these limits.

    The command line calls this before the grader imports numpy, so that the worker's own start
    (interpreter and numpy, ~100 ms) runs alongside the grader's instead of after it.
    """
    _spares.append(WorkerProcess(limits))


def take_worker(limits: Limits) -> WorkerProcess:
    """A spare worker started with ``limits``, or a new one."""
    for spare in _spares:
        if spare.limits == limits:
            _spares.remove(spare)
            return spare
    return WorkerProcess(limits)


def discard_spare_workers() -> None:
    while _spares:
        _spares.pop().kill()


class WorkerPipes:
    """The grader's end of a worker's three pipes (requests, replies, printed output): frames
    written and read under deadlines, output kept under its cap. How the worker at the far end
    is started and stopped is a subclass's: WorkerProcess here, a thread of otter-grader's kernel
    in grader.kernel_worker."""

    def __init__(self, limits: Limits, wire_limits: WireLimits | None = None) -> None:
        self.limits = limits
        request_read, self._request_write = os.pipe()
        self._reply_read, reply_write = os.pipe()
        self._output_read, output_write = os.pipe()
        try:
            self._start_worker((request_read, reply_write, output_write))
        finally:
            for fd in (request_read, reply_write, output_write):
                os.close(fd)
        for fd in (self._request_write, self._reply_read, self._output_read):
            os.set_blocking(fd, False)
        # Requests sent ahead of their answers (grader.proxy's call_later) stay within half the
        # pipe, so writing one never waits for the worker to read.
        try:
            self.request_window = fcntl.fcntl(self._request_write, fcntl.F_GETPIPE_SZ) // 2
        except (OSError, AttributeError):
            self.request_window = 4096 // 2
        self._frames = FrameBuffer(wire_limits or WireLimits())
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._reply_read, selectors.EVENT_READ)
        self._selector.register(self._output_read, selectors.EVENT_READ)
        self._replies_closed = False
        self._queued: list[bytes] = []
        self._queued_bytes = 0
        self._output = bytearray()
        self._output_dropped = 0
        self._ready = False
        self.files_restricted = False
        self.unprivileged = False
        self.closed = False

    def _start_worker(self, fds: tuple[int, int, int]) -> None:
        """Start the worker on the far ends of the pipes (request read, reply write, output
        write). They are closed here when this returns: a worker in this process dups them."""
        raise NotImplementedError

    def _exit_status(self) -> int | None:
        """The worker's exit status once it has ended; None for a worker that is no process."""
        return None

    def kill(self) -> None:
        """Stop the worker and release the pipes."""
        raise NotImplementedError

    def _close_pipes(self) -> None:
        self._selector.close()
        for fd in (self._request_write, self._reply_read, self._output_read):
            with contextlib.suppress(OSError):
                os.close(fd)

    # ------------------------------------------------------------ exchanging frames

    def wait_ready(self) -> None:
        """Wait for the worker's "ready" (numpy imported); once per process."""
        if not self._ready:
            frame = self.receive(time.monotonic() + STARTUP_SECONDS)
            if frame.op != "ready":
                raise WorkerBrokeProtocol(f"expected 'ready', got {frame.op[:40]!r}")
            # Said before any student code ran, so it can be believed.
            self.files_restricted = frame.head.get("files_restricted") is True
            self.unprivileged = frame.head.get("unprivileged") is True
            self._ready = True

    def queue(self, data: bytes, deadline: float) -> None:
        """Keep a frame that needs no answer, to be written with the next one sent: each
        write wakes the worker, which costs more than the frame itself."""
        self._queued.append(data)
        self._queued_bytes += len(data)
        if self._queued_bytes > MAX_QUEUED_BYTES:
            self.send(b"", deadline)

    def send(self, data: bytes, deadline: float) -> None:
        """Write one frame (after any queued ones), reading the worker's output meanwhile so
        neither side blocks."""
        if self._queued:
            data = b"".join([*self._queued, data])
            self._queued.clear()
            self._queued_bytes = 0
        view = memoryview(data)
        try:  # most frames fit in the pipe at once: no need to wait for it to be writable
            view = view[os.write(self._request_write, view) :]
        except BlockingIOError:
            pass
        except BrokenPipeError:
            raise WorkerExited(self._exit_status()) from None
        if not view:
            return
        self._selector.register(self._request_write, selectors.EVENT_WRITE)
        try:
            while view:
                for key, _ in self._select(deadline):
                    if key.fd == self._request_write:
                        try:
                            view = view[os.write(self._request_write, view) :]
                        except BrokenPipeError:
                            raise WorkerExited(self._exit_status()) from None
                    else:
                        self._read(key.fd)
                if self._replies_closed:
                    raise WorkerExited(self._exit_status())
        finally:
            self._selector.unregister(self._request_write)

    def receive(self, deadline: float) -> Frame:
        """The next frame from the worker; raises WorkerError if none comes by ``deadline``."""
        while True:
            try:
                frame = self._frames.next_frame()
            except ProtocolError as error:
                raise WorkerBrokeProtocol(str(error)) from None
            if frame is not None:
                return frame
            if self._replies_closed:
                raise WorkerExited(self._exit_status())
            for key, _ in self._select(deadline):
                self._read(key.fd)

    def _select(self, deadline: float) -> list[tuple[selectors.SelectorKey, int]]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WorkerTimedOut()
        return self._selector.select(remaining)

    def _read(self, fd: int) -> None:
        try:
            chunk = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            return
        if fd == self._output_read:
            self._keep_output(chunk)
            if not chunk:
                self._selector.unregister(fd)
            return
        if not chunk:
            self._replies_closed = True
            self._selector.unregister(fd)
            return
        try:
            self._frames.feed(chunk)
        except ProtocolError as error:
            raise WorkerBrokeProtocol(str(error)) from None

    def _keep_output(self, chunk: bytes) -> None:
        room = self.limits.output_kb * 1024 - len(self._output)
        self._output += chunk[: max(room, 0)]
        self._output_dropped += max(len(chunk) - max(room, 0), 0)

    def output(self) -> str:
        """What the student's code printed so far (capped), as text."""
        text = self._output.decode("utf-8", errors="replace")
        if self._output_dropped:
            text += f"\n… {self._output_dropped} more bytes of output not kept"
        return text


class WorkerProcess(WorkerPipes):
    """One started worker process and the three pipes to it."""

    def __init__(self, limits: Limits, wire_limits: WireLimits | None = None) -> None:
        self.without_network = network_namespace_available()
        # A forked worker is counted in its fork server's pids cgroup instead: moving a process
        # into a cgroup of its own costs 1-15 ms, and forking into the server's costs nothing.
        self._cgroup = (
            make_process_cgroup() if process_limit_available() and _forkserver is None else None
        )
        self._home = tempfile.mkdtemp(prefix=f"grade-worker-{os.getpid()}-")
        super().__init__(limits, wire_limits)

    def _start_worker(self, fds: tuple[int, int, int]) -> None:
        if _forkserver is not None:
            self._process: _Started = _forkserver.start_worker(
                self.limits, self._home, self.without_network, self._cgroup, fds
            )
        else:
            self._process = _FreshInterpreter(
                self.limits, self._home, self.without_network, self._cgroup, fds
            )

    def _exit_status(self) -> int | None:
        return self._process.wait(0.5)

    def kill(self) -> None:
        """Kill the worker's whole process group and release its pipes and directory."""
        if self.closed:
            return
        self.closed = True
        self._process.kill()
        self._drain_output()
        while self._process.wait(5.0) is None:
            self._process.kill()
        if self._cgroup is not None:
            remove_process_cgroup(self._cgroup)
        self._close_pipes()
        shutil.rmtree(self._home, ignore_errors=True)

    def _drain_output(self) -> None:
        """Keep what the killed process printed before it died (bounded: the pipe has an end)."""
        with contextlib.suppress(OSError, ValueError, KeyError):
            deadline = time.monotonic() + 0.2
            while time.monotonic() < deadline:
                chunk = os.read(self._output_read, READ_CHUNK)
                if not chunk:
                    break
                self._keep_output(chunk)
