"""Values that arrive later: a call into the student's code sent now, its answer read when needed.

A check that makes many independent calls (finite differences call the student's forward pass
once per perturbed entry) can send them all before reading any answer, instead of waiting for each
in turn: ``student.linear_forward.later(x, W, b)`` returns a Later at once, and
grader.finite_diff reads the answers, in the order the calls were sent, when it needs the numbers.
Each answer still comes from its own call, checked as any other, with the same time limit.

Code that takes a value that may be a Later uses `then` and `settle`, which also accept plain
values: a function written for one works for the other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Later:
    """A value not read yet: ``value()`` reads it (raising what the call raised), and
    ``then(function)`` is a Later of ``function(value)``."""

    def __init__(self, read: Callable[[], Any]) -> None:
        self._read = read

    def value(self) -> Any:
        return self._read()

    def then(self, function: Callable[[Any], Any]) -> Later:
        return Later(lambda: function(self._read()))


def then(value: Any, function: Callable[[Any], Any]) -> Any:
    """``function(value)``, now for a plain value, when it is read for a Later."""
    return value.then(function) if isinstance(value, Later) else function(value)


def settle(value: Any) -> Any:
    """The value itself: a Later read, anything else as it is."""
    return value.value() if isinstance(value, Later) else value
