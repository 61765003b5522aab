"""How a worker starts: its settings, and the one sequence of layers between the grader's fork and
the worker's first line.

The same sequence (`start`) runs in a fresh interpreter (grader.sandbox.start, just after exec)
and in a process the fork server just forked (grader.sandbox.forkserver): the child-stage layers
of grader.sandbox.layers, in their order, each applied by this process to itself:

1. the grading's cgroup: joined first, so everything after it is counted there;
2. for an ordinary user, a user namespace of its own, in which it may make the others;
3. the PID namespace: where the fork server has not forked this process into one already, it
   forks once more and stays behind as the keeper; the child goes on as process 1;
4. the network, IPC and UTS namespaces;
5. the private view: a mount namespace holding only what the worker needs, with its own /proc;
6. the resource limits.

Then this process, process 1 of its namespace, is the worker: it imports numpy and
grader.worker, applies the worker-stage layers to itself (Landlock; `nobody`, with its
parent-death signal set again; the system-call filter), says "ready", and serves.

A layer that fails here ends the process before any student code runs, with its reason on the
output pipe: never a worker with a layer silently missing. Standard library only until the
worker itself.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

from grader.sandbox.layer import Layer
from grader.sandbox.layers import child_layers
from grader.sandbox.namespaces import INIT_FAILED, die_with_parent
from grader.sandbox.settings import WorkerSettings


def start(settings: WorkerSettings, request_fd: int, reply_fd: int) -> NoReturn:
    """Apply the child-stage layers to this process, then serve as the worker. Never returns;
    ends the process if a layer cannot be applied."""
    try:
        if os.getpid() != 1:  # as process 1, its parent-death signal is already set
            die_with_parent(parent=settings.parent)
        for layer in child_layers():
            if layer.applies_to(settings):
                _apply(layer, settings)
        _serve(settings, request_fd, reply_fd)
    finally:
        os._exit(INIT_FAILED)


def _apply(layer: Layer, settings: WorkerSettings) -> None:
    try:
        layer.apply(settings)
    except OSError as error:
        sys.stderr.write(f"the worker could not apply the layer {layer.name!r}: {error}\n")
        sys.stderr.flush()
        os._exit(INIT_FAILED)


def _serve(settings: WorkerSettings, request_fd: int, reply_fd: int) -> NoReturn:
    from grader import worker  # numpy: in the worker alone, never in the keeper

    worker.serve(request_fd, reply_fd, settings)
