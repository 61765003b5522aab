"""The grader's view of a submission running in a worker: calls that read like ordinary Python.

``student.numerical_derivative(f, 2.0)`` sends a call to the worker and returns the decoded reply.
A grader function among the arguments (``f``) stays here: the worker asks for it to be evaluated.
A reply that is not plain data arrives as a Handle, which can be called, passed back, or have its
attributes read (``h = student.compose(pairs); value, slope = h(0.5)``). Arrays the student's code
changed in place are reported as data (``changed_arguments``), never written into the grader's.

Whatever goes wrong in the student's code becomes a StudentError with a message for the student.
After a timeout, a crash or a protocol error the worker is killed; the next call starts a fresh one
and loads the submission again, so one bad call costs one check, not the whole grading.

What a worker sends is held to budgets (grader.framing.WireLimits): per message and per worker
by grader.sandbox.pipes, per call here (a CallBudget for each call: the bytes of every frame
until the reply, the arrays built from them, the evaluations replayed). A worker past one is
killed like one that broke the protocol, and the call fails with one line saying which budget.
"""

from __future__ import annotations

import itertools
import math
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np

from grader import numpy_changes
from grader.formula import Formula, same_answer
from grader.framing import DEFAULT_LIMITS, Frame, OverBudget, ProtocolError, pack
from grader.later import Later
from grader.limits import Limits
from grader.protocol import EVALUATIONS_PER_FRAME, CallBudget, Decoder, Encoder
from grader.sandbox.launcher import take_worker
from grader.sandbox.pipes import (
    WorkerBrokeProtocol,
    WorkerError,
    WorkerExited,
    WorkerOverBudget,
    WorkerPipes,
    WorkerTimedOut,
)
from grader.submission import Source


@dataclass(frozen=True)
class ArgumentChange:
    """An argument array the student's code changed in place during a call.

    name: as the student's code names it (x, params['W1']); before: the grader's array, as it was
    passed and still is; after: the worker's array after the call, as data.
    """

    name: str
    before: np.ndarray
    after: np.ndarray


# Deferred operations written in one frame at most; a longer chain goes in several.
OPERATIONS_PER_FRAME = 1000


@dataclass
class _PendingCall:
    """A call sent by `StudentSession.call_later`: what the grader needs once it is answered."""

    label: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    generation: int
    size: int  # bytes of its request
    answered: bool = False
    value: Any = None
    error: StudentError | None = None


def _raise(error: Exception) -> NoReturn:
    raise error


class StudentError(Exception):
    """The student's code did not produce a value; the message is for the student."""

    status = "error"


class LoadFailed(StudentError):
    """The submission could not be loaded at all."""


class NotImplementedYet(StudentError):
    """The function still raises NotImplementedError."""


class StudentRaised(StudentError):
    """The function raised an exception."""


class MissingFunction(StudentError):
    """No function of that name in the submission."""


class WrongSignature(StudentError):
    """The function's parameters do not accept the documented call."""


class CallTimedOut(StudentError):
    """The call did not return before its deadline."""


class WorkerCrashed(StudentError):
    """The worker process exited, was killed, or sent bytes the grader cannot accept."""


_KIND_ERRORS: dict[str, type[StudentError]] = {
    "exception": StudentRaised,
    "not_implemented": NotImplementedYet,
    "missing": MissingFunction,
    "not_callable": MissingFunction,
    "signature": WrongSignature,
    "bad_return": WorkerCrashed,
}


class StudentSession:
    """One submission loaded in a worker, restarted on demand; the grader's end of the RPC.

    ``deadline`` (time.monotonic seconds) ends the whole grading; each call also gets at most
    ``limits.call_seconds``. ``start_worker`` starts each worker: a sandboxed process by default
    (grader.sandbox.launcher), a thread of the student's own kernel for otter-grader
    (grader.kernel_worker).
    """

    def __init__(
        self,
        source: Source,
        limits: Limits,
        deadline: float,
        start_worker: Callable[[Limits], WorkerPipes] = take_worker,
    ) -> None:
        self.source = source
        self._start_worker = start_worker
        self.limits = limits
        self.deadline = deadline
        self.load_error: str | None = None
        self.restarts = 0
        self._worker: WorkerPipes | None = None
        self._generation = 0
        self._callbacks: dict[int, Callable[..., Any]] = {}
        self._callback_ids = itertools.count(1)
        self._deferred_ids = itertools.count(-1, -1)  # ids of deferred operations' results
        self._deferred = 0  # deferred operations sent since the last answered request
        # Deferred operations not yet written: one frame for many, sent with the next request.
        self._operations: list[list[Any]] = []
        self._operations_encoder = self._encoder()
        self._output: list[str] = []
        # Calls sent with `call_later` whose answers are not read yet, oldest first, and the
        # bytes they took on the request pipe.
        self._pending: deque[_PendingCall] = deque()
        self._pending_bytes = 0
        self._callback_depth = 0  # > 0 while a grader function runs for the student's code
        # What the call being answered has used of the per-call budgets; a call made from a
        # grader function the worker waits on counts against the call that waits.
        self._budget: CallBudget | None = None
        self._loaded = False
        self.last_changes: list[ArgumentChange] = []  # what the latest call changed in place
        # What each worker said, before any student code ran, it had done to itself.
        # What each worker of this session applied to itself (grader.sandbox.layers).
        self.workers_applied: list[dict[str, bool]] = []

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the worker process now, so it imports numpy while the grader prepares."""
        if self._worker is None and self.load_error is None:
            self._worker = self._start_worker(self.limits)
            self._generation += 1
            self._loaded = False

    def load(self) -> bool:
        """Load the submission in the worker; False (and ``load_error`` set) if it cannot be."""
        try:
            self._connected()
        except LoadFailed:
            return False
        return True

    def close(self) -> None:
        if self._worker is not None:
            self._retire_worker()

    def output(self) -> str:
        """Everything the student's code printed, across restarts (each part capped)."""
        parts = [*self._output]
        if self._worker is not None:
            parts.append(self._worker.output())
        return "".join(part for part in parts if part)

    def _retire_worker(self, failure: StudentError | None = None) -> None:
        """Kill the worker; calls sent to it and not yet answered fail with ``failure``."""
        self._operations = []
        self._operations_encoder = self._encoder()
        while self._pending:
            pending = self._pending.popleft()
            pending.error = failure or WorkerCrashed(
                f"{pending.label}: your code's process was stopped before it answered"
            )
        self._pending_bytes = 0
        if self._worker is None:
            return
        self._worker.kill()
        self._output.append(self._worker.output())
        self._worker = None

    def _connected(self) -> WorkerPipes:
        """A worker with the submission loaded, starting and loading one if needed."""
        if self.load_error is not None:
            raise LoadFailed(self.load_error)
        if self._worker is not None and self._loaded:
            return self._worker
        if self._worker is None:
            if self._generation:
                self.restarts += 1
            self.start()
        worker = self._worker
        assert worker is not None
        try:
            worker.wait_ready()
            self.workers_applied.append(worker.applied)
            deadline = self._call_deadline()
            worker.send(
                pack({"op": "load", "source": self.source.text, "filename": self.source.filename}),
                deadline,
            )
            reply = worker.receive(deadline)
        except WorkerError as error:
            self._retire_worker()
            self.load_error = self._describe_worker_error(error, "while loading your file")
            raise LoadFailed(self.load_error) from None
        if reply.op != "loaded" or reply.head.get("ok") is not True:
            self._retire_worker()
            self.load_error = self._locate(str(reply.head.get("message", "it could not be loaded")))
            removed = numpy_changes.explain(self.load_error)
            if removed:
                self.load_error += f". {removed}"
            raise LoadFailed(self.load_error)
        self._loaded = True
        return worker

    def _call_deadline(self) -> float:
        return min(time.monotonic() + self.limits.call_seconds, self.deadline)

    # ------------------------------------------------------------ calls

    def call(
        self,
        target: str | Handle,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        label: str,
    ) -> Any:
        """Call ``target`` (a function's name, or a handle) in the worker and return its value.

        ``label`` names the call in messages, e.g. "numerical_derivative".
        """
        return self._request({"op": "call"}, target, args, kwargs, label)

    def get_attribute(self, handle: Handle, name: str, label: str) -> Any:
        return self._request({"op": "getattr", "name": name}, handle, None, None, label)

    def apply_operator(self, name: str, operands: tuple[Any, ...], symbol: str) -> Handle:
        """operator.<name>(*operands) in the worker: arithmetic on handles (a + b, a ** 2).

        Sent without waiting for an answer, with the next request that needs one, together
        with the operations before it in one frame: the result stays in the worker under an id
        chosen here, and the handle returned refers to it. A chain of operations (a deep
        expression) then costs no round trip at all. Should an operation raise, the next request
        that uses its result raises that error; should one never end, the next request that
        waits for an answer times out, and its message says so.
        """
        label = f"the operator {symbol}"
        worker = self._connected()
        generation = self._generation
        result_id = next(self._deferred_ids)
        operands_node = [self._operand_node(operand) for operand in operands]
        self._operations.append([name, result_id, label, operands_node])
        self._deferred += 1
        if len(self._operations) >= OPERATIONS_PER_FRAME:
            try:
                self._queue_operations(worker)
            except WorkerError as error:
                self._retire_worker()
                raise self._worker_failure(error, label) from None
        return Handle(self, generation, result_id, f"the result of {symbol}")

    def _operand_node(self, operand: Any) -> Any:
        """An operand's node: handles and numbers directly (a chain has thousands), the rest
        through the encoder."""
        kind = type(operand)
        if kind is Handle:
            return {"t": "handle", "id": self._current_handle_id(operand)}
        if (kind is float and math.isfinite(operand)) or kind is int:
            return operand
        return self._operations_encoder.encode(operand)

    def _queue_operations(self, worker: WorkerPipes) -> None:
        """Put the deferred operations not yet written into one frame, ahead of what comes next."""
        if not self._operations:
            return
        message: dict[str, Any] = {"op": "operators", "operations": self._operations}
        if self._pending and not self._callback_depth:
            # Sent ahead, after calls not yet answered: the worker runs them after those calls,
            # not inside one of them that waits on a callback.
            message["later"] = True
        frame = pack(message, self._operations_encoder.blobs)
        self._operations = []
        self._operations_encoder = self._encoder()
        worker.queue(frame, self._call_deadline())

    def _send(self, worker: WorkerPipes, data: bytes, deadline: float) -> None:
        """Write one frame, after the deferred operations it may use."""
        self._queue_operations(worker)
        worker.send(data, deadline)

    def call_later(
        self, target: str, args: tuple[Any, ...], kwargs: dict[str, Any], label: str
    ) -> Later:
        """Send a call of the function ``target`` now; read its answer when the Later is read.

        Answers are read in the order the calls were sent, answering callbacks meanwhile, each
        within the call limit from when it is waited for. Requests not yet answered stay within
        half the request pipe, so that writing one never waits for the worker. A request that
        must be answered first (any ordinary call) reads every answer still due.
        """
        if self._callback_depth:  # inside a grader function the worker waits on: no queueing
            try:
                value = self.call(target, args, kwargs, label)
            except StudentError as error:
                failure = error
                return Later(lambda: _raise(failure))
            return Later(lambda: value)
        worker = self._connected()
        generation = self._generation
        data = self._request_bytes({"op": "call", "later": True}, target, args, kwargs)
        while self._pending and self._pending_bytes + len(data) > worker.request_window:
            self._settle_oldest()
            if self._worker is not worker:  # it failed: this call goes to a fresh one
                return self.call_later(target, args, kwargs, label)
        pending = _PendingCall(label, args, kwargs, generation, len(data))
        try:
            self._send(worker, data, self._call_deadline())
        except WorkerError as error:
            self._retire_worker()
            raise self._worker_failure(error, label) from None
        self._pending.append(pending)
        self._pending_bytes += len(data)
        return Later(lambda: self._result(pending))

    def _result(self, pending: _PendingCall) -> Any:
        while pending.error is None and not pending.answered:
            self._settle_oldest()
        if pending.error is not None:
            raise pending.error
        return pending.value

    def _settle_oldest(self) -> None:
        """Read the answer to the oldest call sent with `call_later`."""
        pending = self._pending.popleft()
        self._pending_bytes -= pending.size
        worker = self._worker
        assert worker is not None and pending.generation == self._generation
        try:
            reply = self._await_reply(worker, pending.generation, pending.label)
        except WorkerError as error:
            pending.error = self._worker_failure(error, pending.label)
            self._retire_worker(pending.error)
            return
        except StudentError as error:  # a callback the grader cannot take, a replay that failed
            pending.error = error
            self._retire_worker(error)
            return
        self._deferred = 0
        self.last_changes = []
        pending.answered = True
        try:
            pending.value = self._returned(reply, pending.generation, pending.label, "call")
            self._record_changes(
                reply, pending.generation, pending.label, pending.args, pending.kwargs
            )
        except StudentError as error:
            pending.error = error

    def _request_bytes(
        self,
        message: dict[str, Any],
        target: str | Handle | None,
        args: tuple[Any, ...] | None,
        kwargs: dict[str, Any] | None,
    ) -> bytes:
        """The frame of a request: ``message`` with its target and encoded arguments."""
        if isinstance(target, Handle):
            message = {**message, "target": {"handle": self._current_handle_id(target)}}
        elif target is not None:
            message = {**message, "target": {"name": target}}
        encoder = self._encoder()
        if args is not None and kwargs is not None:
            message = {
                **message,
                "args": encoder.encode(list(args)),
                "kwargs": encoder.encode(dict(kwargs)),
            }
        return pack(message, encoder.blobs)

    def _request(
        self,
        message: dict[str, Any],
        target: str | Handle | None,
        args: tuple[Any, ...] | None,
        kwargs: dict[str, Any] | None,
        label: str,
    ) -> Any:
        # Answers still due come first; inside a callback they come after this one's.
        while self._pending and not self._callback_depth:
            self._settle_oldest()
        self.last_changes = []
        worker = self._connected()
        generation = self._generation
        data = self._request_bytes(message, target, args, kwargs)
        try:
            self._send(worker, data, self._call_deadline())
            reply = self._await_reply(worker, generation, label)
        except WorkerError as error:
            self._retire_worker()
            raise self._worker_failure(error, label) from None
        self._deferred = 0  # every operation sent before this request has run
        value = self._returned(reply, generation, label, message["op"])
        if args is not None and kwargs is not None:
            self._record_changes(reply, generation, label, args, kwargs)
        return value

    def _returned(self, reply: Frame, generation: int, label: str, op: str) -> Any:
        """The value a reply carries, or the StudentError it stands for, raised."""
        if reply.op == "raise":
            raise self._student_failure(reply.head, label)
        # An attribute is named by its own label; what a call returns, after the call.
        returned_by = None if op == "getattr" else label
        return self._decode(reply, reply.head.get("value"), generation, label, returned_by)

    def _await_reply(self, worker: WorkerPipes, generation: int, label: str) -> Frame:
        """Read until the reply to our request, answering the worker's callbacks meanwhile,
        every frame counted against the call's budget."""
        deadline = self._call_deadline()
        if not self._callback_depth or self._budget is None:
            self._budget = CallBudget(worker.wire_limits)
        budget = self._budget
        while True:
            frame = worker.receive(deadline)
            try:
                budget.take_frame(frame)
            except OverBudget as over:
                raise WorkerOverBudget(over) from None
            if frame.op in ("return", "raise"):
                return frame
            if frame.op == "evaluated":
                self._replay(frame, generation, label)
            elif frame.op == "callback":
                self._answer_callback(worker, frame, generation, label, deadline)
            else:
                raise WorkerBrokeProtocol(f"unexpected message {frame.op[:40]!r}")

    def _replay(self, frame: Frame, generation: int, label: str) -> None:
        """Evaluate here, in order, every formula the worker evaluated (grader.formula), through
        the grader's own function (a Recorder records), and compare the answers."""
        calls = frame.head.get("calls")
        if type(calls) is not list or not 0 < len(calls) <= EVALUATIONS_PER_FRAME:
            # A worker logs one evaluation at least: an empty log would cost the grader for
            # nothing, and it counts against no budget but the call's bytes.
            raise WorkerBrokeProtocol(
                "a log of evaluations that is empty or not a list of at most 256"
            )
        budget = self._call_budget()
        try:
            budget.take_evaluations(len(calls))
        except OverBudget as over:
            raise WorkerOverBudget(over) from None
        for entry in calls:
            if type(entry) is not list or len(entry) != 3 or type(entry[0]) is not int:
                raise WorkerBrokeProtocol("a malformed evaluation")
            function = self._callbacks.get(entry[0])
            if not isinstance(getattr(function, "mirrors", None), Formula):
                raise WorkerBrokeProtocol("an evaluation of a function sent with no formula")
            argument = self._values(
                frame, entry[1], generation, label, on_array=budget.take_evaluation_argument
            )
            answer = self._values(frame, entry[2], generation, label)
            name = getattr(function, "__name__", "f")
            try:
                expected = function(argument)  # type: ignore[misc]
                agrees = same_answer(expected, answer)
            except Exception:
                agrees = False
            if not agrees:
                failure = WorkerCrashed(
                    f"{label}: your code got {_short(answer)} from the grader's function {name} "
                    f"at {_short(argument)}, which it does not give; leave the functions you are "
                    "given, and numpy, as they are"
                )
                self._retire_worker(failure)
                raise failure

    def _answer_callback(
        self, worker: WorkerPipes, frame: Frame, generation: int, label: str, deadline: float
    ) -> None:
        function = self._callbacks.get(frame.head.get("id"))  # type: ignore[arg-type]
        if function is None:
            raise WorkerBrokeProtocol("a callback the grader never sent")
        args = self._values(frame, frame.head.get("args"), generation, label)
        kwargs = self._values(frame, frame.head.get("kwargs"), generation, label)
        if type(args) is not list or type(kwargs) is not dict:
            raise WorkerBrokeProtocol("a callback's arguments are malformed")
        encoder = self._encoder()
        self._callback_depth += 1
        try:
            result = function(*args, **kwargs)
            reply = {"op": "callback_return", "value": encoder.encode(result)}
        except Exception as error:  # the student passed the grader's function something odd
            reply = {"op": "callback_raise", "message": f"{type(error).__name__}: {error}"}
            encoder.blobs.clear()
        finally:
            self._callback_depth -= 1
        self._send(worker, pack(reply, encoder.blobs), deadline)

    # ------------------------------------------------------------ values

    def _encoder(self) -> Encoder:
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
        with its formula if it has one (grader.formula: the worker evaluates it)."""
        if isinstance(value, Handle):
            return {"t": "handle", "id": self._current_handle_id(value)}
        if callable(value):
            callback_id = next(self._callback_ids)
            self._callbacks[callback_id] = value
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

    def _current_handle_id(self, handle: Handle) -> int:
        """The handle's id in the running worker; it must come from that very worker."""
        if handle._session is not self or handle._generation != self._generation:
            raise StudentError(
                f"{handle._label} came from an earlier run of your code that had to be stopped"
            )
        return handle._id

    def _call_budget(self) -> CallBudget:
        """The budget of the call being answered (a fresh one if none is)."""
        if self._budget is None:
            limits = self._worker.wire_limits if self._worker is not None else DEFAULT_LIMITS
            self._budget = CallBudget(limits)
        return self._budget

    def _decode(
        self,
        frame: Frame,
        node: Any,
        generation: int,
        label: str,
        returned_by: str | None = None,
    ) -> Any:
        """Values from a reply, as `_values` builds them; a StudentError, with the worker
        stopped, if they cannot be accepted."""
        try:
            return self._values(frame, node, generation, label, returned_by)
        except WorkerOverBudget as error:
            self._retire_worker()
            raise WorkerCrashed(
                self._describe_worker_error(error, f"while running {label}")
            ) from None
        except WorkerBrokeProtocol as error:
            self._retire_worker()
            raise WorkerCrashed(str(error)) from None

    def _values(
        self,
        frame: Frame,
        node: Any,
        generation: int,
        label: str,
        returned_by: str | None = None,
        on_array: Callable[[int], None] | None = None,
    ) -> Any:
        """Values from a frame; handles in them are labelled as returned by ``returned_by``.

        Every array is counted against the call's budget (``on_array``, else its
        ``take_array``) before it is built. Raises WorkerBrokeProtocol if the values cannot be
        accepted, WorkerOverBudget past a budget.
        """

        def make_handle(handle: dict[str, Any]) -> Handle:
            type_name = handle.get("type") if type(handle.get("type")) is str else "object"
            short = type_name.rsplit(".", 1)[-1][:60]  # make_counter.<locals>.Counter -> Counter
            name = f"the {short} that {returned_by} returned" if returned_by else label
            return Handle(self, generation, handle["id"], name)

        def own_callback(callback: dict[str, Any]) -> Callable[..., Any]:
            if callback["id"] not in self._callbacks:
                raise ProtocolError("a callback the grader never sent")
            return self._callbacks[callback["id"]]

        budget = self._call_budget()
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

    def _record_changes(
        self,
        reply: Frame,
        generation: int,
        label: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        """Keep, as data, which argument arrays the call changed in place.

        The grader's own arrays are never written from the worker's bytes: a check that computes
        its expected value from an argument after the call must not be fooled by a change to it.
        """
        changes = reply.head.get("changed")
        if type(changes) is not list:
            return
        roots = {"args": args, "kwargs": kwargs}
        for change in changes[:1000]:
            if type(change) is not list or len(change) != 3 or type(change[0]) is not list:
                raise WorkerCrashed(f"{label}: the worker reported a malformed change")
            after = self._decode(reply, change[2], generation, label)
            before = _follow(roots, change[0])
            if type(before) is np.ndarray and type(after) is np.ndarray:
                self.last_changes.append(ArgumentChange(str(change[1])[:200], before, after))

    # ------------------------------------------------------------ messages

    def _student_failure(self, head: dict[str, Any], label: str) -> StudentError:
        if type(head.get("label")) is str:  # a deferred operation's failure: name that operation
            label = head["label"][:100]
        kind = head.get("kind")
        message = str(head.get("message", ""))[:2000]
        where = self._locate(str(head.get("where", ""))[:500])
        error_type = _KIND_ERRORS.get(kind) if type(kind) is str else None
        if error_type is NotImplementedYet:
            return NotImplementedYet(self._not_implemented_message(head, label))
        if error_type is StudentRaised:
            memory = (
                f"; your code may use at most {self.limits.memory_mb} MB"
                if head.get("type") == "MemoryError"
                else ""
            )
            removed = numpy_changes.explain(message)
            return StudentRaised(
                f"{label} raised {message}{' ' + where if where else ''}{memory}"
                + (f". {removed}" if removed else "")
            )
        if error_type is MissingFunction or error_type is WrongSignature:
            return error_type(message)
        if error_type is WorkerCrashed:
            return WorkerCrashed(f"{label} returned a value the grader cannot send: {message}")
        return WorkerCrashed(f"{label}: {message}")

    def _not_implemented_message(self, head: dict[str, Any], label: str) -> str:
        function = str(head.get("function") or label)[:100]
        line = head.get("line")
        summary = str(head.get("summary") or "")[:300]
        place = (
            f" ({self.source.filename}, {self.source.place(line)})"
            if type(line) is int
            else f" in {self.source.filename}"
        )
        opening = (
            f"{function} is not implemented yet"
            if function == label
            else f"{label} calls {function}, which is not implemented yet"
        )
        task = f" (its docstring: “{summary}”)" if summary else ""
        return f"{opening}{task}. Replace `raise NotImplementedError`{place} with your code."

    def _worker_failure(self, error: WorkerError, label: str) -> StudentError:
        during = f"while running {label}"
        if self._deferred:
            during += f" (or one of the {self._deferred} operations on your objects before it)"
            self._deferred = 0
        return (CallTimedOut if isinstance(error, WorkerTimedOut) else WorkerCrashed)(
            self._describe_worker_error(error, during)
        )

    def _describe_worker_error(self, error: WorkerError, during: str) -> str:
        if isinstance(error, WorkerOverBudget):
            stopped = "the grader stopped it"
            return f"your code's process {error.what} {during}; {stopped}. {error.advice}"
        if isinstance(error, WorkerTimedOut):
            if time.monotonic() >= self.deadline:
                return (
                    f"the grading ran out of its {self.limits.wall_seconds:g} s {during}; "
                    "look for a loop that never ends"
                )
            return (
                f"no answer within {self.limits.call_seconds:g} s {during}; "
                "look for a loop that never ends or a very slow computation"
            )
        if isinstance(error, WorkerExited):
            return f"your code stopped the process {during}: {error}"
        return f"your code's process sent bytes the grader cannot read {during}: {error}"

    def _locate(self, text: str) -> str:
        """Rewrite '(line N' into '(cell C, line L' for notebooks."""
        if not self.source.cell_of_line:
            return text
        head, sep, rest = text.partition("(line ")
        number = rest.split(":")[0].split(")")[0]
        if not sep or not number.isdigit():
            return text
        return f"{head}({self.source.place(int(number))}{rest[len(number) :]}"


def _short(value: Any) -> str:
    text = np.array2string(value, threshold=6) if isinstance(value, np.ndarray) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


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


class Handle:
    """An object that stays in the worker: call it, read its attributes, or pass it back."""

    def __init__(
        self, session: StudentSession, generation: int, handle_id: int, label: str
    ) -> None:
        self._session = session
        self._generation = generation
        self._id = handle_id
        self._label = label

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._session.call(self, args, kwargs, self._label)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._session.get_attribute(self, name, f"{name} of {self._label}")

    def __repr__(self) -> str:
        return f"<{self._label}>"

    # Arithmetic runs in the worker, with Python's own rules (a + 2, 2 + a, a ** 2, -a).
    def _apply(self, name: str, symbol: str, *operands: Any) -> Any:
        return self._session.apply_operator(name, operands, symbol)

    def __add__(self, other: Any) -> Any:
        return self._apply("add", "+", self, other)

    def __radd__(self, other: Any) -> Any:
        return self._apply("add", "+", other, self)

    def __sub__(self, other: Any) -> Any:
        return self._apply("sub", "-", self, other)

    def __rsub__(self, other: Any) -> Any:
        return self._apply("sub", "-", other, self)

    def __mul__(self, other: Any) -> Any:
        return self._apply("mul", "*", self, other)

    def __rmul__(self, other: Any) -> Any:
        return self._apply("mul", "*", other, self)

    def __truediv__(self, other: Any) -> Any:
        return self._apply("truediv", "/", self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return self._apply("truediv", "/", other, self)

    def __pow__(self, other: Any) -> Any:
        return self._apply("pow", "**", self, other)

    def __neg__(self) -> Any:
        return self._apply("neg", "-", self)


class StudentFunction:
    """A function of the submission, called in the worker."""

    def __init__(self, session: StudentSession, name: str) -> None:
        self._session = session
        self.__name__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._session.call(self.__name__, args, kwargs, self.__name__)

    def later(self, *args: Any, **kwargs: Any) -> Later:
        """The call sent now, its answer read when needed (grader.later): many such calls cost
        about one wait instead of one each."""
        return self._session.call_later(self.__name__, args, kwargs, self.__name__)

    def __repr__(self) -> str:
        return f"<student function {self.__name__}>"


class StudentModule:
    """The submission as a module: ``student.relu_forward(x)`` calls it in the worker."""

    def __init__(self, session: StudentSession) -> None:
        self._session = session

    def __getattr__(self, name: str) -> StudentFunction:
        if name.startswith("_"):
            raise AttributeError(name)
        return StudentFunction(self._session, name)

    def __repr__(self) -> str:
        return f"<student submission {self._session.source.filename}>"


def changed_arguments(student: StudentModule | Handle) -> list[ArgumentChange]:
    """The argument arrays that the latest call made through ``student`` changed in place."""
    return list(student._session.last_changes)
