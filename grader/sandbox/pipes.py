"""The grader's end of a worker's three pipes: frames written and read under deadlines and byte
budgets, and what the worker prints, kept under its cap.

This module knows bytes and deadlines; what the bytes mean is grader.wire's, grader.protocol's and
grader.student_code's; how the worker at the far end is started and stopped is
grader.sandbox.process's (a process) or grader.kernel_worker's (a thread of otter-grader's kernel).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import selectors
import signal
import time

from grader.framing import (
    DEFAULT_LIMITS,
    READ_SIZE,
    Frame,
    FrameBuffer,
    OverBudget,
    ProtocolError,
    WireLimits,
)
from grader.limits import Limits
from grader.wire import Location, Ready

STARTUP_SECONDS = 30.0  # to import numpy and say "ready": the grader's cost, not the student's
# A pipe holds 64 KB: a larger read gets no more, and os.read allocates its whole size first
# (a 1 MB read costs ~18 µs more than a 64 KB one, measured; two or more per call).
READ_CHUNK = READ_SIZE
MAX_QUEUED_BYTES = 1 << 20  # written at once with the next request; a long chain in parts


class WorkerError(Exception):
    """The worker stopped answering: it timed out, exited, or broke the protocol."""


class WorkerTimedOut(WorkerError):
    """No answer by the deadline. ``where``: the line the student code was running when its
    time ran out, as the worker's own clock reported it (grader.worker_clock), if it did."""

    def __init__(self, where: Location | None = None) -> None:
        self.where = where
        super().__init__()


class WorkerExited(WorkerError):
    """The worker ended; ``reason`` says why where more is known than its status."""

    def __init__(self, status: int | None, reason: str | None = None) -> None:
        self.status = status
        super().__init__(reason or describe_status(status))


class WorkerBrokeProtocol(WorkerError):
    pass


class WorkerOverBudget(WorkerBrokeProtocol):
    """The worker sent more than one of the budgets of grader.framing.WireLimits allows.

    what: what it did, completing "your code's process ..."; advice: what to do instead.
    """

    def __init__(self, over: OverBudget) -> None:
        super().__init__(over.what)
        self.what = over.what
        self.advice = over.advice


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


class WorkerPipes:
    """The grader's end of a worker's three pipes (requests, replies, printed output): frames
    written and read under deadlines, output kept under its cap. How the worker at the far end
    is started and stopped is a subclass's: grader.sandbox.process.WorkerProcess, or a thread of
    otter-grader's kernel in grader.kernel_worker."""

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
        # Requests sent ahead of their answers (grader.student_code.pipelining) stay within half the
        # pipe, so writing one never waits for the worker to read.
        try:
            self.request_window = fcntl.fcntl(self._request_write, fcntl.F_GETPIPE_SZ) // 2
        except (OSError, AttributeError):
            self.request_window = 4096 // 2
        # The budgets on what the worker sends (per message, per worker, per call: see
        # grader.student_code.session).
        self.wire_limits = wire_limits or DEFAULT_LIMITS
        self._frames = FrameBuffer(self.wire_limits)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._reply_read, selectors.EVENT_READ)
        self._selector.register(self._output_read, selectors.EVENT_READ)
        self._replies_closed = False
        self._queued: list[bytes] = []
        self._queued_bytes = 0
        self._output = bytearray()
        self._output_dropped = 0
        self._ready = False
        # The worker-stage layers (grader.sandbox.layers) the worker applied to itself, by name.
        self.applied: dict[str, bool] = {}
        self.closed = False

    def _start_worker(self, fds: tuple[int, int, int]) -> None:
        """Start the worker on the far ends of the pipes (request read, reply write, output
        write). They are closed here when this returns: a worker in this process dups them."""
        raise NotImplementedError

    def _exit_status(self) -> int | None:
        """The worker's exit status once it has ended; None for a worker that is no process."""
        return None

    def _exited(self) -> WorkerExited:
        status = self._exit_status()
        return WorkerExited(status, self._why_ended(status))

    def _why_ended(self, status: int | None) -> str | None:
        """Why the worker ended, where more is known than ``status`` says; else None."""
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
            if not isinstance(frame.head, Ready):
                raise WorkerBrokeProtocol(f"expected 'ready', got {frame.op!r}")
            # Said before any student code ran, so it can be believed.
            self.applied = {name: on for name, on in frame.head.applied.items() if len(name) < 64}
            self._ready = True

    @property
    def files_restricted(self) -> bool:
        return self.applied.get("answer key hidden", False)

    @property
    def unprivileged(self) -> bool:
        return self.applied.get("unprivileged user", False)

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
            raise self._exited() from None
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
                            raise self._exited() from None
                    else:
                        self._read(key.fd)
                if self._replies_closed:
                    raise self._exited()
        finally:
            self._selector.unregister(self._request_write)

    def receive(self, deadline: float) -> Frame:
        """The next frame from the worker; raises WorkerError if none comes by ``deadline``."""
        while True:
            try:
                frame = self._frames.next_frame()
            except OverBudget as over:
                raise WorkerOverBudget(over) from None
            except ProtocolError as error:
                raise WorkerBrokeProtocol(str(error)) from None
            if frame is not None:
                return frame
            if self._replies_closed:
                raise self._exited()
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
            self._frames.feed(chunk)  # past a budget while we send: the worker is not reading
        except OverBudget as over:
            raise WorkerOverBudget(over) from None
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
