"""A fresh worker process: ``python -I -u -m grader.sandbox.start SETTINGS REQUEST_FD REPLY_FD``.

SETTINGS is grader.sandbox.child.WorkerSettings as JSON. The process goes through the same
sequence of layers as a forked worker (grader.sandbox.child.start) before it imports numpy.
"""

from __future__ import annotations

import sys

from grader.sandbox.child import start
from grader.sandbox.settings import WorkerSettings


def main() -> None:
    settings, request_fd, reply_fd = sys.argv[1:4]
    start(WorkerSettings.from_json(settings), int(request_fd), int(reply_fd))


if __name__ == "__main__":
    main()
