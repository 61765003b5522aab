"""A fresh worker process: ``python -I -u -m grader.sandbox.start SETTINGS_FD REQUEST_FD REPLY_FD``.

Its settings (grader.sandbox.settings.WorkerSettings) come as JSON on a pipe, read whole and
closed at once: a command line is anyone's to read in /proc, and the environment a process
started with stays in its /proc too, while the settings name the grader's folders and cgroups.
The process goes through the same sequence of layers as a forked worker
(grader.sandbox.child.start) before it imports numpy.
"""

from __future__ import annotations

import os
import sys

from grader.sandbox.child import start
from grader.sandbox.settings import WorkerSettings

MAX_SETTINGS_BYTES = 1 << 20


def main() -> None:
    settings_fd, request_fd, reply_fd = (int(argument) for argument in sys.argv[1:4])
    with os.fdopen(settings_fd, "rb") as pipe:
        settings = WorkerSettings.from_json(pipe.read(MAX_SETTINGS_BYTES))
    start(settings, request_fd, reply_fd)


if __name__ == "__main__":
    main()
