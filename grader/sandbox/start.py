"""A fresh worker process: ``python -I -u -m grader.sandbox.start REQUEST_FD REPLY_FD``.

Its settings (grader.sandbox.settings.WorkerSettings) come as JSON in the environment variable
`SETTINGS_VARIABLE`, taken out of the environment at once: a command line is anyone's to read in
/proc, and the settings name the grader's folders and cgroups. The process goes through the same
sequence of layers as a forked worker (grader.sandbox.child.start) before it imports numpy.
"""

from __future__ import annotations

import os
import sys

from grader.sandbox.child import start
from grader.sandbox.settings import SETTINGS_VARIABLE, WorkerSettings


def main() -> None:
    request_fd, reply_fd = sys.argv[1:3]
    settings = WorkerSettings.from_json(os.environ.pop(SETTINGS_VARIABLE))
    start(settings, int(request_fd), int(reply_fd))


if __name__ == "__main__":
    main()
