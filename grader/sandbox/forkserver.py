"""A warm process that forks workers, so that a batch pays numpy's import once, not per grading.

A fresh worker spends about 100 ms starting Python and importing numpy before it can load a
submission. In a batch of thousands of gradings that start dominates, so each batch grading
process keeps one of these instead: started like a worker (isolated mode, cleared environment),
it imports numpy and the worker's code once, then forks a worker per request in a few
milliseconds. No student code ever runs in it, and it never loads a solution or a check: it holds
nothing a worker may not see.

Each forked child becomes a process of its own (`_become_process`: its session, folder,
environment and file descriptors) and then goes through the same sequence of layers as a fresh
worker (grader.sandbox.child.start). Where it can, the server forks it straight into a new PID
namespace as its process 1 (`_PidNamespaces`), saving the keeper a fresh worker needs; and it
builds the part of the private view that is the same for every worker once, in a mount
namespace of its own (grader.sandbox.view.build_template), so that a worker only adds its
folder, /proc and /dev/shm.

The server dies with its grader (a parent-death signal), and its workers die with it;
when the grader closes its end of the socket, the server kills its workers and exits.

The grader talks to this process over a Unix seqpacket socket: one JSON request per packet, file
descriptors alongside (SCM_RIGHTS), one JSON reply each. Requests:

- ``{"op": "fork", "settings": SETTINGS}`` with the worker's three pipe ends: reply
  ``{"pid": PID}``; SETTINGS as grader.sandbox.child.WorkerSettings gives them;
- ``{"op": "wait", "pid": PID, "timeout": SECONDS}``: reply ``{"status": S}``, S as
  ``subprocess.Popen.returncode`` gives it (negative: killed by that signal), or null if the
  worker is still running after ``timeout``.

The server is its workers' subreaper: what a killed worker leaves is adopted and reaped here, not
left to the machine's init.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, NoReturn

from grader.sandbox import namespaces
from grader.sandbox.layers import available_child_layers
from grader.sandbox.libc import libc
from grader.sandbox.namespaces import WholeTreeKilled, running_as_root
from grader.sandbox.process import Started
from grader.sandbox.settings import WorkerSettings, worker_environment
from grader.sandbox.view import PrivateView

MAX_REQUEST_BYTES = 1 << 16
STARTUP_SECONDS = 30.0  # to import numpy and say "ready"
FORK_RETRY_SECONDS = 5.0  # how long a fork may be retried while the machine is out of processes
MAX_INHERITED_FD = 1 << 16  # above any descriptor this server can hold


# ---------------------------------------------------------------- the grader's side


class ForkserverError(Exception):
    """The fork server stopped answering or could not fork."""


class Forkserver:
    """The grader's handle on one fork server process. Safe to share between threads."""

    def __init__(self, home: str) -> None:
        """Start the server in folder ``home``, with a worker's environment."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._socket = ours
        self._lock = threading.Lock()
        try:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-I",
                    "-u",
                    "-m",
                    "grader.sandbox.forkserver",
                    str(theirs.fileno()),
                    str(os.getpid()),
                    # The private view is built once, in the server, for all its workers.
                    "view"
                    if PrivateView.name in available_child_layers() and running_as_root()
                    else "",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                cwd=home,
                env=worker_environment(home),
                start_new_session=True,
            )
        finally:
            theirs.close()
        self.pid = self._process.pid
        self._socket.settimeout(STARTUP_SECONDS)
        if self._receive().get("op") != "ready":
            self.close()
            raise ForkserverError("the fork server did not start")

    def fork(self, settings: WorkerSettings, fds: tuple[int, int, int]) -> int:
        """Fork a worker that reads requests from fds[0], replies on fds[1] and prints to
        fds[2]. The pid of the process this server waits for."""
        settings = dataclasses.replace(settings, parent=self.pid)
        request = json.dumps({"op": "fork", "settings": dataclasses.asdict(settings)}).encode()
        deadline = time.monotonic() + FORK_RETRY_SECONDS
        while True:
            with self._lock:
                self._socket.settimeout(STARTUP_SECONDS)
                socket.send_fds(self._socket, [request], fds)
                reply = self._receive()
            if isinstance(reply.get("pid"), int):
                return int(reply["pid"])
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


class Forked(Started):
    """A worker forked by a fork server: a few milliseconds."""

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


class ForkserverStarter:
    """Starts workers by asking a fork server; replaces a server that was killed."""

    def __init__(self) -> None:
        self._home = tempfile.mkdtemp(prefix=f"grade-forkserver-{os.getpid()}-")
        self.server = Forkserver(self._home)

    def start(self, settings: WorkerSettings, fds: tuple[int, int, int]) -> Started:
        if not self.server.running():
            # Killed, by a worker that could signal its parent (no PID namespace, the same
            # user): a new server, so that the gradings after this one still get workers.
            self.server.close()
            self.server = Forkserver(self._home)
        return Forked(self.server, self.server.fork(settings, fds))

    def close(self) -> None:
        self.server.close()
        shutil.rmtree(self._home, ignore_errors=True)


# ---------------------------------------------------------------- the server's side


class _Server:
    """The server's state: its socket to the grader, its lifeline, the workers it forked."""

    def __init__(self, control: socket.socket, view_template: str) -> None:
        self.control = control
        self.view_template = view_template
        # Only this process holds the write end: a child forked into a PID namespace (where
        # getppid() says 0) learns from it whether this server still lives.
        self.lifeline_read, self.lifeline_write = os.pipe()
        self.forked: dict[int, int | None] = {}  # forked and not yet waited for: its status
        self.pid_namespaces = _PidNamespaces()

    def serve(self) -> NoReturn:
        """Answer fork and wait requests until the grader closes its end."""
        while True:
            self.reap()
            try:
                data, fds, _, _ = socket.recv_fds(self.control, MAX_REQUEST_BYTES, 3)
            except OSError:
                data, fds = b"", []
            if not data:
                self.end()
            request = json.loads(data)
            if request.get("op") == "fork" and len(fds) == 3:
                reply = self._fork(request, (fds[0], fds[1], fds[2]))
            elif request.get("op") == "wait" and request.get("pid") in self.forked:
                pid = request["pid"]
                status = self._wait(pid, float(request.get("timeout", 0)))
                if status is not None:
                    del self.forked[pid]
                reply = {"status": status}
            else:
                reply = {"error": f"bad request {str(request)[:80]}"}
            for fd in fds:
                os.close(fd)
            self.control.send(json.dumps(reply).encode())

    def end(self) -> NoReturn:
        """The grader is gone: kill every worker, then exit."""
        for pid in self.forked:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
        os._exit(0)

    def _fork(self, request: dict[str, Any], fds: tuple[int, int, int]) -> dict[str, Any]:
        settings = WorkerSettings.from_json(json.dumps(request["settings"]))
        settings = dataclasses.replace(settings, view_template=self.view_template)
        direct = WholeTreeKilled.name in settings.layers and self.pid_namespaces.available
        try:
            pid = self.pid_namespaces.fork() if direct else os.fork()
        except OSError as error:  # out of processes: a killed worker's processes linger
            return {"error": str(error), "retry": True}
        if pid == 0:
            self._become_worker(settings, fds)
        self.forked[pid] = None
        return {"pid": pid}

    def _become_worker(self, settings: WorkerSettings, fds: tuple[int, int, int]) -> NoReturn:
        """In the forked child: a process of its own, then the layers. Never returns."""
        try:
            os.close(self.lifeline_write)
            if os.getpid() == 1:
                namespaces.die_with_parent(lifeline=self.lifeline_read)
            _become_process(self.control, settings, fds, self.lifeline_read)
            namespaces.name_process(b"grade-worker")
            from grader.sandbox.child import start

            start(settings, fds[0], fds[1])
        finally:
            os._exit(namespaces.INIT_FAILED)

    def reap(self) -> None:
        """Reap every child that has ended: a worker's status is kept for its wait request;
        anything else is an orphan this server adopted as subreaper, and is let go."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if not pid:
                return
            if pid in self.forked:
                code = os.waitstatus_to_exitcode(status)
                self.forked[pid] = code

    def _wait(self, pid: int, timeout: float) -> int | None:
        """Reap ``pid`` within ``timeout`` seconds: its status as Popen gives it, or None. Ends
        this server at once if the grader goes away meanwhile."""
        deadline = time.monotonic() + timeout
        try:
            descriptor: int | None = os.pidfd_open(pid)
        except OSError:
            descriptor = None
        try:
            while True:
                self.reap()
                if self.forked[pid] is not None:
                    return self.forked[pid]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                watched = [self.control] + ([descriptor] if descriptor is not None else [])
                readable, _, _ = select.select(
                    watched, [], [], min(remaining, 0.005) if descriptor is None else remaining
                )
                if self.control in readable and not self.control.recv(1, socket.MSG_PEEK):
                    self.end()
        finally:
            if descriptor is not None:
                os.close(descriptor)


class _PidNamespaces:
    """Forks whose child is process 1 of a new PID namespace, in one fork.

    unshare(CLONE_NEWPID) only decides where this process's next child goes, and only once: so
    before each such fork this server unshares, and after it goes back to its own namespace
    with setns. Where that is not allowed, the child forks once more, as a fresh worker does
    (grader.sandbox.namespaces.enter_pid_namespace; about 2.4 ms more per worker, measured).
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
        child = os.fork()
        if child == 0:
            try:
                namespaces.unshare(namespaces.CLONE_NEWPID)
                namespaces.setns(own, namespaces.CLONE_NEWPID)
            except BaseException:
                os._exit(1)
            os._exit(0)
        _, status = os.waitpid(child, 0)
        return os.waitstatus_to_exitcode(status) == 0

    @property
    def available(self) -> bool:
        return self._own is not None

    def fork(self) -> int:
        assert self._own is not None
        namespaces.unshare(namespaces.CLONE_NEWPID)
        try:
            pid = os.fork()
        except OSError:
            namespaces.setns(self._own, namespaces.CLONE_NEWPID)
            raise
        if pid:  # the child stays where it is: its own children must be created there too
            # Should this fail, a later worker would share a namespace: better no server at all.
            try:
                namespaces.setns(self._own, namespaces.CLONE_NEWPID)
            except OSError:
                os._exit(namespaces.INIT_FAILED)
        return pid


def _become_process(
    control: socket.socket, settings: WorkerSettings, fds: tuple[int, int, int], lifeline: int
) -> None:
    """What a fresh interpreter gets from subprocess: its own session, standard streams on the
    worker's pipes, its folder and environment, no other descriptor of the server's but the
    lifeline (grader.sandbox.namespaces.die_with_parent)."""
    control.close()
    request_fd, reply_fd, output_fd = fds
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.setsid()
    os.chdir(settings.home)
    os.environ.clear()
    os.environ.update(settings.environment)
    _fresh_state()
    start = 3
    for kept in sorted({request_fd, reply_fd, lifeline}):
        os.closerange(start, kept)
        start = kept + 1
    os.closerange(start, MAX_INHERITED_FD)
    sys.argv = ["-m", "grader.worker"]


def _fresh_state() -> None:
    """What a fresh interpreter would not share with its siblings: random seeds, temp folder."""
    import numpy as np

    np.random.seed()  # the stdlib's random reseeds itself after fork; numpy's does not
    tempfile.tempdir = None  # recomputed from the new TMPDIR


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    namespaces.die_with_parent(parent=int(sys.argv[2]))
    # What every worker needs, imported once here (grader.worker imports numpy).
    import site  # noqa: F401  (the worker's file rules ask site and sysconfig for Python's paths)
    import sysconfig  # noqa: F401

    from grader import worker  # noqa: F401  (numpy and the worker, imported once for all)
    from grader.sandbox import (  # noqa: F401
        cgroups,
        landlock,
        layers,
        paths,
        privileges,
        resources,
        view,
    )

    _fresh_state()  # once here, so that its first-use costs (~13 ms) are not paid per worker
    landlock.abi_version()  # and what every worker asks the same way, answered once for all
    paths.readable_paths()
    template = ""
    if sys.argv[3:4] == ["view"]:
        # Built in a mount namespace of the server's own: the machine never sees it.
        template = os.path.join(os.getcwd(), "view")
        view.private_mounts()
        view.build_template(template)
    server = _Server(control, template)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    # A killed worker's keeper may leave processes behind for a moment. Left to the
    # machine's init, which may reap late or never (a container whose process 1 is not an init),
    # their zombies would stay charged to the machine's process count; as subreaper this server
    # adopts them, and reaps them itself.
    with contextlib.suppress(OSError, AttributeError):
        libc().prctl(namespaces.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    control.send(json.dumps({"op": "ready"}).encode())
    server.serve()


if __name__ == "__main__":
    main()
