"""How a worker starts: its settings, and the one sequence of layers between the grader's fork and
the worker's first line.

The same sequence (`start`) runs in a fresh interpreter (grader.sandbox.start, just after exec)
and in a process the fork server just forked (grader.sandbox.forkserver): the child-stage layers
of grader.sandbox.layers, in their order, each applied by this process to itself:

1. the grading's cgroup: joined first, so everything after it is counted there;
2. the PID namespace: where the fork server has not forked this process into one already, it
   forks once more and stays behind as the keeper; the child goes on as process 1;
3. the network, IPC and UTS namespaces;
4. the private view: a mount namespace holding only what the worker needs, with its own /proc;
5. the resource limits.

Then, as process 1 of its namespace, this process becomes the namespace's init and forks the
worker; without a PID namespace it is the worker itself. The worker imports numpy and
grader.worker, applies the worker-stage layers to itself (Landlock, then `nobody`), says
"ready", and serves.

A layer that fails here ends the process before any student code runs, with its reason on the
output pipe: never a worker with a layer silently missing. Standard library only until the
worker itself.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field
from typing import NoReturn

from grader.limits import Limits
from grader.sandbox.layers import Layer, child_layers
from grader.sandbox.namespaces import INIT_FAILED, die_with_parent, run_init

# Machine settings that keep OpenBLAS correct on some processors; the worker must see them too.
PASSED_THROUGH_ENVIRONMENT = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass(frozen=True)
class WorkerSettings:
    """What a starting worker needs to know, as plain data (JSON on the way to it).

    home: the worker's own folder, its working directory, HOME and TMPDIR;
    environment: its whole environment;
    limits: the exercise's limits;
    parent: the pid of the process whose death must end it (the grader, or the fork server);
    cgroups: the folders of the grading's cgroup (grader.sandbox.cgroups), or none;
    layers: the names of the child-stage layers the grader asks for (those this machine has);
    view_template: where a fork server built the private view for its workers (in its own mount
    namespace, grader.sandbox.view), or "" for a worker that builds its own.
    """

    home: str
    environment: dict[str, str]
    limits: Limits
    parent: int
    cgroups: tuple[str, ...] = ()
    layers: tuple[str, ...] = field(default=())
    view_template: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | bytes) -> WorkerSettings:
        data = json.loads(text)
        return cls(
            home=str(data["home"]),
            environment={str(k): str(v) for k, v in data["environment"].items()},
            limits=Limits(**data["limits"]),
            parent=int(data["parent"]),
            cgroups=tuple(str(folder) for folder in data["cgroups"]),
            layers=tuple(str(name) for name in data["layers"]),
            view_template=str(data.get("view_template", "")),
        )


def worker_environment(home: str) -> dict[str, str]:
    """A worker's whole environment: its folder, a UTF-8 locale, one BLAS thread."""
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


def start(settings: WorkerSettings, request_fd: int, reply_fd: int) -> NoReturn:
    """Apply the child-stage layers to this process, then serve as the worker (or as the init
    that forks it). Never returns; ends the process if a layer cannot be applied."""
    try:
        if os.getpid() != 1:  # as process 1, its parent-death signal is already set
            die_with_parent(parent=settings.parent)
        for layer in child_layers():
            if layer.applies_to(settings):
                _apply(layer, settings)
        if os.getpid() == 1:
            run_init(lambda: _serve(settings, request_fd, reply_fd))
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
    from grader import worker  # numpy: in the worker alone, never in the keeper or the init

    worker.serve(request_fd, reply_fd, settings)
