"""The settings a worker starts with, as plain data: what the grader tells the process that
becomes the worker (as JSON on its command line, or in the fork server's request). Standard
library only.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

from grader.limits import Limits

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
    layers: the names of the layers the grader asks for (those this machine has);
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
