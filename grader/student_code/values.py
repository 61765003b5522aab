"""How values cross between the grader and the workers of one session.

Going to a worker (``encoder``): plain data as grader.protocol encodes it; a Handle back as its
id, refused if it came from an earlier worker; a grader function as a callback, with its formula
if it has one (grader.formula: the worker evaluates it and logs each evaluation for replay).
Coming from a worker (``decode``): plain data, handles made for what stays there, callbacks
resolved to the grader's own functions, and every array counted against the call's budget
before it is built. Arrays a call changed in place come back as data (``changes``), never
written into the grader's own.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from grader.formula import Formula
from grader.framing import Frame, OverBudget, ProtocolError, WireLimits
from grader.protocol import CallBudget, Decoder, Encoder
from grader.sandbox.pipes import WorkerBrokeProtocol, WorkerOverBudget
from grader.student_code.errors import StudentError
from grader.student_code.objects import ArgumentChange, Handle, Session
from grader.wire import Returned

# In-place changes one reply may report; more are ignored (honest code changes a few).
MAX_CHANGES = 1000


class Values:
    """The encoder and decoder of one session's values, and what they refer to.

    session: the handles' session; generation: the running worker's generation (a handle
    from another worker is refused). ``callbacks``: every grader function sent, by id.
    ``budget``: what the call being answered has used of the per-call budgets.
    """

    def __init__(self, session: Session, generation: Callable[[], int]) -> None:
        self._session = session
        self._generation = generation
        self.callbacks: dict[int, Callable[..., Any]] = {}
        self._callback_ids = itertools.count(1)
        self.budget: CallBudget | None = None

    # ------------------------------------------------------------ to the worker

    def encoder(self) -> Encoder:
        """An encoder for values the grader sends, grader functions and handles included.

        It refers to itself weakly: in a reference cycle, its blobs (a request's arrays) would
        stay in memory after it is dropped, until the garbage collector next ran.
        """

        def other(value: Any) -> dict[str, Any]:
            encoder = itself()
            assert encoder is not None  # it is encoding
            return self._grader_side_node(value, encoder)

        encoder = Encoder(other)
        itself = weakref.ref(encoder)
        return encoder

    def _grader_side_node(self, value: Any, encoder: Encoder) -> dict[str, Any]:
        """How a grader value that is not plain data crosses: a handle back, or a callback,
        with its formula if it has one."""
        if isinstance(value, Handle):
            return {"t": "handle", "id": self.handle_id(value)}
        if callable(value):
            callback_id = next(self._callback_ids)
            self.callbacks[callback_id] = value
            node = {
                "t": "callback",
                "id": callback_id,
                "name": getattr(value, "__name__", "f")[:60],
            }
            formula = getattr(value, "mirrors", None)
            if isinstance(formula, Formula):
                node["formula"] = formula.expression
                node["constants"] = encoder.encode(dict(formula.constants))
            return node
        raise TypeError(f"cannot send a {type(value).__name__} to the student's code")

    def handle_id(self, handle: Handle) -> int:
        """The handle's id in the running worker; it must come from that very worker."""
        if handle._session is not self._session or handle._generation != self._generation():
            raise StudentError(
                f"{handle._label} came from an earlier run of your code that had to be stopped"
            )
        return handle._id

    # ------------------------------------------------------------ from the worker

    def call_budget(self, limits: WireLimits) -> CallBudget:
        """The budget of the call being answered (a fresh one with ``limits`` if none is)."""
        if self.budget is None:
            self.budget = CallBudget(limits)
        return self.budget

    def decode(
        self,
        frame: Frame,
        node: Any,
        generation: int,
        label: str,
        limits: WireLimits,
        returned_by: str | None = None,
        on_array: Callable[[int], None] | None = None,
    ) -> Any:
        """Values from a frame; handles in them are labelled as returned by ``returned_by``.

        Every array is counted against the call's budget (``on_array``, else its
        ``take_array``) before it is built. Raises WorkerBrokeProtocol if the values cannot be
        accepted, WorkerOverBudget past a budget.
        """

        def make_handle(handle: dict[str, Any]) -> Handle:
            type_name = handle["type"] if type(handle.get("type")) is str else "object"
            short = type_name.rsplit(".", 1)[-1][:60]  # make_counter.<locals>.Counter -> Counter
            name = f"the {short} that {returned_by} returned" if returned_by else label
            return Handle(self._session, generation, handle["id"], name)

        def own_callback(callback: dict[str, Any]) -> Callable[..., Any]:
            if callback["id"] not in self.callbacks:
                raise ProtocolError("a callback the grader never sent")
            return self.callbacks[callback["id"]]

        budget = self.call_budget(limits)
        decoder = Decoder(
            frame, make_handle, own_callback, budget.limits, on_array or budget.take_array
        )
        try:
            return decoder.decode(node)
        except OverBudget as over:
            raise WorkerOverBudget(over) from None
        except ProtocolError as error:
            raise WorkerBrokeProtocol(
                f"{label} returned a value the grader cannot accept: {error}"
            ) from None

    def changes(
        self,
        reply: Frame,
        generation: int,
        label: str,
        limits: WireLimits,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> list[ArgumentChange]:
        """The argument arrays a call changed in place, as the reply reports them, as data.

        The grader's own arrays are never written from the worker's bytes: a check that computes
        its expected value from an argument after the call must not be fooled by a change to it.
        """
        head = reply.head
        if not isinstance(head, Returned):
            return []
        roots = {"args": args, "kwargs": kwargs}
        found = []
        for change in head.changed[:MAX_CHANGES]:
            after = self.decode(reply, change.after, generation, label, limits)
            before = _follow(roots, change.path)
            if type(before) is np.ndarray and type(after) is np.ndarray:
                found.append(ArgumentChange(change.name[:200], before, after))
        return found


def _follow(roots: dict[str, Any], path: list[Any]) -> Any:
    """The grader's value at ``path`` (as the worker sent it) in the call's arguments, or None."""
    if not path or path[0] not in roots:
        return None
    value = roots[path[0]]
    for step in path[1:]:
        in_sequence = type(value) in (list, tuple) and type(step) is int and 0 <= step < len(value)
        in_dict = type(value) is dict and type(step) in (str, int) and step in value
        if not (in_sequence or in_dict):
            return None
        value = value[step]
    return value
