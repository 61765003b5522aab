"""A warm process that forks workers, so that a batch pays numpy's import once, not per grading.

A fresh worker (``python -I -m grader.worker``) spends about 100 ms starting Python and importing
numpy before it can load a submission. In a batch of thousands of gradings that start dominates, so
the batch grader keeps one of these per grading process instead: started exactly like a worker
(isolated mode, cleared environment), it imports numpy and the worker's code once, then forks a
worker per request in a few milliseconds. No student code ever runs in it, and it never loads a
solution or a check: it holds nothing a worker may not see.

Each worker is forked as process 1 of a new PID namespace (`_PidNamespaces`; where the server may
not do that, the worker forks once more, `_enter_pid_namespace`). It then does to itself what
grader.sandbox does to a fresh one between fork and exec, in the same order: its own session, a
network namespace, its own folder and environment, resource limits; then, as every
worker does, Landlock and `nobody` (grader.worker.serve) before it says "ready". The process-count
limit is the server's: it runs in a pids cgroup that its workers are forked into, so the workers of
one server (one at a time, and the spare started for the next grading) share it.

The grader talks to this process over a Unix datagram socket: one JSON request per datagram, file
descriptors alongside (SCM_RIGHTS), one JSON reply each. Requests:

- ``{"op": "fork", ...}`` with the worker's three pipe ends: reply ``{"pid": PID}``;
- ``{"op": "wait", "pid": PID, "timeout": SECONDS}``: reply ``{"status": S}``, S as
  ``subprocess.Popen.returncode`` gives it (negative: killed by that signal), or null if the
  worker is still running after ``timeout``.

The server is its workers' subreaper: what a killed worker leaves (its PID namespace's process 1)
is adopted and reaped here, not left to the machine's init. When the grader closes its end, this
process kills the workers it forked and exits.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, NoReturn

from grader.libc import libc
from grader.limits import Limits

MAX_REQUEST_BYTES = 1 << 16
STARTUP_SECONDS = 30.0  # to import numpy and say "ready"
FORK_RETRY_SECONDS = 5.0  # how long a fork may be retried while the server's cgroup is full
PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
PR_SET_CHILD_SUBREAPER = 36
MAX_INHERITED_FD = 1 << 16  # above any descriptor this server can hold


# ---------------------------------------------------------------- the grader's side


class ForkserverError(Exception):
    """The fork server stopped answering or could not fork."""


class Forkserver:
    """The grader's handle on one fork server process. Safe to share between threads."""

    def __init__(self, environment: dict[str, str], home: str, cgroup: Path | None) -> None:
        """Start the server with ``environment`` (a worker's) in folder ``home``, inside the
        pids cgroup ``cgroup`` if given."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._socket = ours
        self._lock = threading.Lock()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-u", "-m", "grader.forkserver", str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                cwd=home,
                env=environment,
                start_new_session=True,
                preexec_fn=None if cgroup is None else lambda: _enter_cgroup(cgroup),
            )
        finally:
            theirs.close()
        self._socket.settimeout(STARTUP_SECONDS)
        if self._receive().get("op") != "ready":
            self.close()
            raise ForkserverError("the fork server did not start")

    def fork(self, settings: dict[str, Any], fds: tuple[int, int, int]) -> int:
        """Fork a worker that reads requests from fds[0], replies on fds[1] and prints to
        fds[2]; ``settings`` as `_become_worker` takes them. The worker's pid."""
        request = json.dumps({"op": "fork", **settings}).encode()
        deadline = time.monotonic() + FORK_RETRY_SECONDS
        while True:
            with self._lock:
                self._socket.settimeout(STARTUP_SECONDS)
                socket.send_fds(self._socket, [request], fds)
                reply = self._receive()
            if isinstance(reply.get("pid"), int):
                return reply["pid"]
            # A killed fork bomb's processes take a moment to leave the server's cgroup.
            if not reply.get("retry") or time.monotonic() > deadline:
                raise ForkserverError(f"the fork server could not fork: {reply.get('error')}")
            time.sleep(0.01)

    def wait(self, pid: int, timeout: float) -> int | None:
        """The worker's exit status once it has ended (reaping it), or None after ``timeout``."""
        with self._lock:
            self._socket.settimeout(timeout + STARTUP_SECONDS)
            self._socket.send(json.dumps({"op": "wait", "pid": pid, "timeout": timeout}).encode())
            reply = self._receive()
        status = reply.get("status")
        return status if isinstance(status, int) else None

    def _receive(self) -> dict[str, Any]:
        try:
            data = self._socket.recv(MAX_REQUEST_BYTES)
        except OSError as error:
            raise ForkserverError(f"the fork server did not answer ({error})") from None
        if not data:
            raise ForkserverError("the fork server exited")
        reply = json.loads(data)
        return reply if isinstance(reply, dict) else {}

    def running(self) -> bool:
        return self._process.poll() is None

    def close(self) -> None:
        """End the server; it kills any worker still running first."""
        with contextlib.suppress(OSError):
            self._socket.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _enter_cgroup(cgroup: Path) -> None:
    from grader.isolation import enter_process_cgroup

    enter_process_cgroup(cgroup)


# ---------------------------------------------------------------- the server's side


def serve(control: socket.socket) -> NoReturn:
    """Answer fork and wait requests until the grader closes ``control``."""
    forked: dict[int, int | None] = {}  # each worker forked and not yet waited for: its status
    while True:
        _reap_orphans(forked)
        try:
            data, fds, _, _ = socket.recv_fds(control, MAX_REQUEST_BYTES, 3)
        except OSError:
            data, fds = b"", []
        if not data:
            for pid in forked:
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
            os._exit(0)
        request = json.loads(data)
        if request.get("op") == "fork" and len(fds) == 3:
            try:
                pid = _fork(bool(request.get("pid_namespace")))
            except OSError as error:  # the cgroup is full: the last worker's processes linger
                reply: dict[str, Any] = {"error": str(error), "retry": True}
            else:
                if pid == 0:
                    _become_worker(control, request, (fds[0], fds[1], fds[2]))
                forked[pid] = None
                reply = {"pid": pid}
        elif request.get("op") == "wait" and request.get("pid") in forked:
            status = _wait(request["pid"], float(request.get("timeout", 0)), forked)
            if status is not None:
                del forked[request["pid"]]
            reply = {"status": status}
        else:
            reply = {"error": f"bad request {str(request)[:80]}"}
        for fd in fds:
            os.close(fd)
        control.send(json.dumps(reply).encode())


class _PidNamespaces:
    """Forks whose child is process 1 of a new PID namespace, in one fork.

    unshare(CLONE_NEWPID) only decides where this process's next child goes, and only once: so
    before each such fork this server unshares, and after it goes back to its own namespace
    with setns. Where that is not allowed, `_enter_pid_namespace` in the child does the same
    job with a second fork (about 2.4 ms more per worker, measured).
    """

    def __init__(self) -> None:
        self._own: int | None = None
        try:
            own = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return
        if self._allowed(own):
            self._own = own
        else:
            os.close(own)

    @staticmethod
    def _allowed(own: int) -> bool:
        """Whether unshare and then setns back both work here, tried in a child: should the
        first work and not the second, the child, not this server, is left with the change."""
        from grader import isolation

        child = os.fork()
        if child == 0:
            try:
                isolation.unshare(isolation.CLONE_NEWPID)
                isolation.setns(own, isolation.CLONE_NEWPID)
            except BaseException:
                os._exit(1)
            os._exit(0)
        _, status = os.waitpid(child, 0)
        return os.waitstatus_to_exitcode(status) == 0

    @property
    def available(self) -> bool:
        return self._own is not None

    def fork(self) -> int:
        from grader import isolation

        assert self._own is not None
        isolation.unshare(isolation.CLONE_NEWPID)
        try:
            pid = os.fork()
        except OSError:
            isolation.setns(self._own, isolation.CLONE_NEWPID)
            raise
        if pid:  # the child stays where it is: its own children must be created there too
            # Should this fail, a later worker would share a namespace: better no server at all.
            try:
                isolation.setns(self._own, isolation.CLONE_NEWPID)
            except OSError:
                os._exit(71)
        return pid


_pid_namespaces: _PidNamespaces | None = None


def _fork(pid_namespace: bool) -> int:
    """os.fork(); with ``pid_namespace``, the child is process 1 of a new PID namespace where
    this server can put it there directly (`_PidNamespaces`); else the child does it itself."""
    if pid_namespace and _pid_namespaces is not None and _pid_namespaces.available:
        return _pid_namespaces.fork()
    return os.fork()


def _reap_orphans(forked: dict[int, int | None]) -> None:
    """Reap every child that has ended: a worker's status is kept in ``forked`` for its wait
    request; anything else is an orphan this server adopted as subreaper, and is let go."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if not pid:
            return
        if pid in forked:
            forked[pid] = os.waitstatus_to_exitcode(status)


def _wait(pid: int, timeout: float, forked: dict[int, int | None]) -> int | None:
    """Reap ``pid`` within ``timeout`` seconds: its status as Popen gives it, or None."""
    deadline = time.monotonic() + timeout
    try:
        descriptor = os.pidfd_open(pid)
    except OSError:
        descriptor = None
    try:
        while True:
            _reap_orphans(forked)
            if forked[pid] is not None:
                return forked[pid]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if descriptor is None:
                time.sleep(min(remaining, 0.005))
            else:
                select.select([descriptor], [], [], remaining)
    finally:
        if descriptor is not None:
            os.close(descriptor)


def _become_worker(
    control: socket.socket, settings: dict[str, Any], fds: tuple[int, ...]
) -> NoReturn:
    """In the forked child: limit this process as grader.sandbox limits a fresh worker, then
    serve as one. Never returns to the server's loop, whatever happens."""
    try:
        from grader import isolation, sandbox, worker

        control.close()
        request_fd, reply_fd, output_fd = fds
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        os.setsid()
        _name_process(b"grade-worker")  # `top` and `ps -o comm` tell it from the server
        if settings.get("without_network"):
            isolation.enter_network_namespace()
        if settings.get("pid_namespace"):
            if os.getpid() == 1:  # the server forked it into a namespace of its own
                libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            else:
                _enter_pid_namespace()
        home = settings["home"]
        os.chdir(home)
        os.environ.clear()
        os.environ.update(settings["environment"])
        _fresh_state()
        sandbox.limit_resources(Limits(**settings["limits"]))
        os.closerange(3, min(request_fd, reply_fd))
        os.closerange(min(request_fd, reply_fd) + 1, max(request_fd, reply_fd))
        os.closerange(max(request_fd, reply_fd) + 1, MAX_INHERITED_FD)
        sys.argv = ["-m", "grader.worker"]
        worker.serve(request_fd, reply_fd)
    finally:
        os._exit(70)


def _enter_pid_namespace() -> None:
    """Fork once more into a new PID namespace: the child carries on as its process 1; this
    process waits for it, ends as it ended, and takes it (and the namespace) down if killed.

    This is what util-linux's ``unshare --pid --fork --kill-child`` does for a fresh worker.
    """
    from grader import isolation

    isolation.unshare(isolation.CLONE_NEWPID)
    child = os.fork()
    if child == 0:
        # Should the parent be killed before this line, no student code has run yet, and this
        # process ends by itself when the grader closes its pipes.
        libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        return
    _, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code if code >= 0 else 70)


def _name_process(name: bytes) -> None:
    import ctypes

    libc().prctl(PR_SET_NAME, ctypes.c_char_p(name[:15]), 0, 0, 0)


def _fresh_state() -> None:
    """What a fresh interpreter would not share with its siblings: random seeds, temp folder."""
    import tempfile

    import numpy as np

    np.random.seed()  # the stdlib's random reseeds itself after fork; numpy's does not
    tempfile.tempdir = None  # recomputed from the new TMPDIR


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    # What every worker needs, imported once here (grader.worker imports numpy).
    import site  # noqa: F401  (the worker's file rules ask site and sysconfig for Python's paths)
    import sysconfig  # noqa: F401
    import tempfile  # noqa: F401

    from grader import isolation, landlock, privileges, sandbox, worker  # noqa: F401

    _fresh_state()  # once here, so that its first-use costs (~13 ms) are not paid per worker
    landlock.abi_version()  # and what every worker asks the same way, answered once for all
    worker.readable_paths()
    global _pid_namespaces
    _pid_namespaces = _PidNamespaces()

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    # A killed worker's own child (process 1 of its PID namespace) is orphaned, and would go to
    # the machine's init. Where init is slow to reap (or never does: a container whose process 1
    # is not an init), its zombies stay charged to this server's pids cgroup until the cgroup is
    # full and no worker can fork. As subreaper this server adopts them, and reaps them itself.
    with contextlib.suppress(OSError, AttributeError):
        libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    control.send(json.dumps({"op": "ready"}).encode())
    serve(control)


if __name__ == "__main__":
    main()
