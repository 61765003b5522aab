"""Progress of a batch: a bar with counts, rate and time left (tqdm) on a terminal; on anything
else (a CI log, a file), a plain line every few seconds."""

from __future__ import annotations

import sys
import time
from typing import TextIO

PLAIN_EVERY_SECONDS = 5.0


class Progress:
    """Counts finished gradings out of ``total``; ``close`` prints the last state."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self._stream = stream or sys.stderr
        self._started = time.monotonic()
        self._last_line = 0.0
        self._bar = None
        if total and self._stream.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="grading", file=self._stream, dynamic_ncols=True)

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(count)
        elif time.monotonic() - self._last_line >= PLAIN_EVERY_SECONDS:
            self._plain_line()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.total:
            self._plain_line()

    def _plain_line(self) -> None:
        self._last_line = time.monotonic()
        elapsed = max(self._last_line - self._started, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        eta = f", about {left:.0f} s left" if self.done < self.total and rate > 0 else ""
        print(
            f"graded {self.done}/{self.total} ({100 * self.done / self.total:.0f}%), "
            f"{rate:.1f}/s{eta}",
            file=self._stream,
            flush=True,
        )
