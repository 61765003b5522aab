"""The worker's own clock on one request: when a call's time is up, student code is stopped where
it runs, so that the message can say which line was running.

The grader's deadline stays the limit that counts (grader.sandbox.pipes): it waits a little longer
than this clock (ALARM_GRACE) and then stops the process whatever it is doing. Code that catches
every exception, ignores SIGALRM or sits in one long numpy call is stopped that way, without a
line. What this clock reports only words the message; it never decides a point.

Standard library only: the worker imports this.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

# Seconds the grader waits past a call's limit before it stops the worker: time for the worker's
# own clock to fire and its reply to arrive.
ALARM_GRACE = 0.5


class OutOfTime(BaseException):
    """Raised in student code when the request's time is up. A BaseException, so that
    ``except Exception`` in student code does not swallow it."""


class _Hold:
    """Whether the clock is held off (a frame is being written), and whether it rang meanwhile."""

    held = False
    rang = False


def _out_of_time(signum: int, frame: FrameType | None) -> None:
    if _Hold.held:
        _Hold.rang = True
        return
    raise OutOfTime


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise OutOfTime in the code run inside, ``seconds`` (wall-clock) after it started; no
    limit for None or 0. On the way out the previous SIGALRM handler is restored, and the timer
    cancelled, or set to what an enclosing limit has left."""
    if not seconds:
        yield
        return
    started = time.monotonic()
    _Hold.rang = False
    previous = signal.signal(signal.SIGALRM, _out_of_time)
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        # A call made from a grader function that an outer call waits on: the outer call's
        # clock goes on where it was.
        left = outer - (time.monotonic() - started) if outer else 0.0
        signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3) if outer else 0.0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def clock_held() -> Iterator[None]:
    """Hold the clock off inside: a frame being written to the grader is finished before a
    call's clock stops anything (a half-written frame would read as a broken protocol, not a
    timeout). A clock that rang meanwhile stops the code on the way out. A flag, not a signal
    mask: Python runs its handlers in the main thread whichever thread the signal reached."""
    outer = _Hold.held
    _Hold.held = True
    try:
        yield
    finally:
        _Hold.held = outer
        if not outer and _Hold.rang:
            _Hold.rang = False
            raise OutOfTime
