"""The worker's end of the pipes to the grader: whole frames out, frames in.

The os functions are kept here as they were at import, before any student code ran: a
submission that replaces os.write cannot change what reaches the grader.
"""

from __future__ import annotations

import os
from typing import NoReturn

from grader.framing import TO_WORKER, Frame, FrameBuffer, WireLimits, pack
from grader.wire import Message
from grader.worker_clock import clock_held

READ_CHUNK = 1 << 16  # what a pipe holds; a larger os.read only allocates more (grader.sandbox)
_os_read = os.read
_os_write = os.write
_os_exit = os._exit


class Channel:
    """Frames over the two pipes the grader gave this process."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self._read_fd = read_fd
        self._write_fd = write_fd
        # The grader is trusted, but its arrays may be large: allow more than the grader allows us.
        self._frames = FrameBuffer(WireLimits(max_message_bytes=1 << 30), TO_WORKER)

    def send(self, message: Message, blobs: list[bytes] | None = None) -> None:
        data = memoryview(pack(message, blobs or []))
        with clock_held():  # a frame goes out whole, even when a call's time runs out meanwhile
            while data:
                written = _os_write(self._write_fd, data)
                data = data[written:]

    def receive(self) -> Frame:
        while True:
            frame = self._frames.next_frame()
            if frame is not None:
                return frame
            chunk = _os_read(self._read_fd, READ_CHUNK)
            if not chunk:  # the grader closed the pipe: nothing more to do
                self.closed()
            self._frames.feed(chunk)

    def closed(self) -> NoReturn:
        """The grader closed its end: the worker process ends."""
        _os_exit(0)
