"""One submission loaded in a worker, as the grader talks to it: the grader's end of the RPC.

Whatever goes wrong in the student's code becomes a StudentError (grader.student_code.errors)
with a message for the student (grader.student_code.feedback). After a timeout, a crash or a
protocol error the worker is killed; the next call starts a fresh one and loads the submission
again, so one bad call costs one check, not the whole grading.

What a worker sends is held to budgets (grader.framing.WireLimits): per message and per worker
by grader.sandbox.pipes, per call here (a CallBudget for each call: the bytes of every frame
until the reply, the arrays built from them, the evaluations replayed). A worker past one is
killed like one that broke the protocol, and the call fails with one line saying which budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NoReturn

from grader.formula import Formula, same_answer
from grader.framing import DEFAULT_LIMITS, Frame, OverBudget, WireLimits, pack
from grader.later import Later
from grader.limits import Limits
from grader.protocol import CallBudget
from grader.sandbox.launcher import take_worker
from grader.sandbox.pipes import (
    WorkerBrokeProtocol,
    WorkerError,
    WorkerOverBudget,
    WorkerPipes,
    WorkerTimedOut,
)
from grader.student_code import feedback
from grader.student_code.errors import (
    CallTimedOut,
    LoadFailed,
    StudentError,
    WorkerCrashed,
)
from grader.student_code.objects import ArgumentChange, Handle
from grader.student_code.pipelining import DeferredOperations, PendingCall, PendingCalls
from grader.student_code.values import Values
from grader.submission import Source
from grader.wire import (
    Call,
    Callback,
    CallbackRaised,
    CallbackReturned,
    Evaluated,
    GetAttribute,
    Load,
    Loaded,
    Message,
    Raised,
    Returned,
)
from grader.worker_clock import ALARM_GRACE


def _raise(error: Exception) -> NoReturn:
    raise error


class StudentSession:
    """One submission loaded in a worker, restarted on demand.

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
        self.load_error_line: int | None = None  # where the submission failed to load, if known
        self.restarts = 0
        self._worker: WorkerPipes | None = None
        self._generation = 0
        self._values = Values(self, lambda: self._generation)
        self._operations = DeferredOperations(self._values.encoder, self._values.handle_id)
        self._pending = PendingCalls()
        self._output: list[str] = []
        self._callback_depth = 0  # > 0 while a grader function runs for the student's code
        self._loaded = False
        self.last_changes: list[ArgumentChange] = []  # what the latest call changed in place
        # The layers each worker said, before student code ran, it applied (grader.sandbox.layers).
        self.workers_applied: list[dict[str, bool]] = []

    @property
    def filename(self) -> str:
        return self.source.filename

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
        self._operations.drop()
        self._pending.fail_all(
            lambda call: (
                failure
                or WorkerCrashed(
                    f"{call.label}: your code's process was stopped before it answered"
                )
            )
        )
        if self._worker is None:
            return
        self._worker.kill()
        self._output.append(self._worker.output())
        self._worker = None

    def _connected(self) -> WorkerPipes:
        """A worker with the submission loaded, starting and loading one if needed."""
        if self.load_error is not None:
            raise LoadFailed(self.load_error, self.load_error_line)
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
            worker.send(pack(Load(source=self.source.text, filename=self.filename)), deadline)
            reply = worker.receive(deadline)
            if isinstance(reply.head, Loaded) and reply.head.timed_out:
                raise WorkerTimedOut(reply.head.where)
        except WorkerError as error:
            self._retire_worker()
            self.load_error = self._worker_problem(error, "while loading your file")
            self.load_error_line = getattr(getattr(error, "where", None), "line", None)
            raise LoadFailed(self.load_error, self.load_error_line) from None
        if not isinstance(reply.head, Loaded) or not reply.head.ok:
            self._retire_worker()
            if isinstance(reply.head, Loaded):
                self.load_error = feedback.load_failure(reply.head, self.source)
                self.load_error_line = reply.head.where.line if reply.head.where else None
            else:
                self.load_error = f"your code's process sent an unexpected {reply.op} while loading"
            raise LoadFailed(self.load_error, self.load_error_line)
        self._loaded = True
        return worker

    def _limits(self) -> WireLimits:
        """The budgets on what the running worker sends."""
        return self._worker.wire_limits if self._worker is not None else DEFAULT_LIMITS

    def _call_deadline(self) -> float:
        # The worker's clock stops the call first and says where (grader.worker_clock).
        return min(time.monotonic() + self.limits.call_seconds + ALARM_GRACE, self.deadline)

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
        return self._request(
            lambda: pack(*self._call_message(target, args, kwargs)), args, kwargs, label
        )

    def get_attribute(self, handle: Handle, name: str, label: str) -> Any:
        return self._request(
            lambda: pack(GetAttribute(target=self._values.handle_id(handle), name=name)),
            None,
            None,
            label,
        )

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
        result_id = self._operations.add(name, operands, label)
        if self._operations.full:
            try:
                self._queue_operations(worker)
            except WorkerError as error:
                self._retire_worker()
                raise self._worker_failure(error, label) from None
        return Handle(self, generation, result_id, f"the result of {symbol}")

    def _queue_operations(self, worker: WorkerPipes) -> None:
        """Put the deferred operations not yet written into one frame, ahead of what comes next."""
        # Sent after calls not yet answered, they are marked to run after those calls.
        frame = self._operations.take_frame(later=bool(self._pending) and not self._callback_depth)
        if frame is not None:
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
        message, blobs = self._call_message(target, args, kwargs)
        message.later = True
        data = pack(message, blobs)
        while self._pending and self._pending.bytes + len(data) > worker.request_window:
            self._settle_oldest()
            if self._worker is not worker:  # it failed: this call goes to a fresh one
                return self.call_later(target, args, kwargs, label)
        pending = PendingCall(label, args, kwargs, generation, len(data))
        try:
            self._send(worker, data, self._call_deadline())
        except WorkerError as error:
            self._retire_worker()
            raise self._worker_failure(error, label) from None
        self._pending.add(pending)
        return Later(lambda: self._result(pending))

    def _result(self, pending: PendingCall) -> Any:
        while pending.error is None and not pending.answered:
            self._settle_oldest()
        if pending.error is not None:
            raise pending.error
        return pending.value

    def _settle_oldest(self) -> None:
        """Read the answer to the oldest call sent with `call_later`."""
        pending = self._pending.take_oldest()
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
        self._operations.unconfirmed = 0
        self.last_changes = []
        pending.answered = True
        try:
            pending.value = self._returned(reply, pending.generation, pending.label)
            self._record_changes(
                reply, pending.generation, pending.label, pending.args, pending.kwargs
            )
        except StudentError as error:
            pending.error = error

    def _call_message(
        self, target: str | Handle, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Call, list[bytes]]:
        """A Call of ``target`` with its arguments encoded, and the blobs they refer to."""
        encoder = self._values.encoder()
        message = Call(
            target=self._values.handle_id(target) if isinstance(target, Handle) else target,
            args=encoder.encode(list(args)),
            kwargs=encoder.encode(dict(kwargs)),
        )
        return message, encoder.blobs

    def _request(
        self,
        request: Callable[[], bytes],
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
        data = request()  # after the worker is known: the handles it refers to must be its own
        try:
            self._send(worker, data, self._call_deadline())
            reply = self._await_reply(worker, generation, label)
        except WorkerError as error:
            self._retire_worker()
            raise self._worker_failure(error, label) from None
        self._operations.unconfirmed = 0  # every operation sent before this request has run
        # An attribute is named by its own label; what a call returns, after the call.
        value = self._returned(reply, generation, label, args is None)
        if args is not None and kwargs is not None:
            self._record_changes(reply, generation, label, args, kwargs)
        return value

    def _returned(self, reply: Frame, generation: int, label: str, attribute: bool = False) -> Any:
        """The value a reply carries, or the StudentError it stands for, raised."""
        head = reply.head
        if isinstance(head, Raised):
            raise feedback.failure(head, label, self.source, self.limits)
        assert isinstance(head, Returned)  # _await_reply returns no other
        returned_by = None if attribute else label
        return self._decode(
            lambda: self._values.decode(
                reply, head.value, generation, label, self._limits(), returned_by
            ),
            label,
        )

    def _await_reply(self, worker: WorkerPipes, generation: int, label: str) -> Frame:
        """Read until the reply to our request, answering the worker's callbacks meanwhile,
        every frame counted against the call's budget."""
        deadline = self._call_deadline()
        # A call made from a grader function the worker waits on counts against the call that
        # waits.
        if not self._callback_depth or self._values.budget is None:
            self._values.budget = CallBudget(worker.wire_limits)
        budget = self._values.budget
        while True:
            frame = worker.receive(deadline)
            try:
                budget.take_frame(frame)
            except OverBudget as over:
                raise WorkerOverBudget(over) from None
            head = frame.head
            if isinstance(head, Raised) and head.kind == "timeout":
                raise WorkerTimedOut(head.where)  # the worker's clock: stopped as if by ours
            if isinstance(head, Returned | Raised):
                return frame
            if isinstance(head, Evaluated):
                self._replay(frame, head, generation, label)
            elif isinstance(head, Callback):
                self._answer_callback(worker, frame, head, generation, label, deadline)
            else:
                raise WorkerBrokeProtocol(f"unexpected message {frame.op!r}")

    def _replay(self, frame: Frame, log: Evaluated, generation: int, label: str) -> None:
        """Evaluate here, in order, every formula the worker evaluated (grader.formula), through
        the grader's own function (a Recorder records), and compare the answers."""
        budget = self._values.call_budget(self._limits())
        try:
            budget.take_evaluations(len(log.calls))
        except OverBudget as over:
            raise WorkerOverBudget(over) from None
        for entry in log.calls:
            function = self._values.callbacks.get(entry.callback_id)
            if not isinstance(getattr(function, "mirrors", None), Formula):
                raise WorkerBrokeProtocol("an evaluation of a function sent with no formula")
            argument = self._values.decode(
                frame,
                entry.argument,
                generation,
                label,
                self._limits(),
                on_array=budget.take_evaluation_argument,
            )
            answer = self._values.decode(frame, entry.answer, generation, label, self._limits())
            name = getattr(function, "__name__", "f")
            try:
                expected = function(argument)  # type: ignore[misc]
                agrees = same_answer(expected, answer)
            except Exception:
                agrees = False
            if not agrees:
                failure = WorkerCrashed(feedback.replay_disagrees(label, name, argument, answer))
                self._retire_worker(failure)
                raise failure

    def _answer_callback(
        self,
        worker: WorkerPipes,
        frame: Frame,
        request: Callback,
        generation: int,
        label: str,
        deadline: float,
    ) -> None:
        function = self._values.callbacks.get(request.id)
        if function is None:
            raise WorkerBrokeProtocol("a callback the grader never sent")
        args = self._values.decode(frame, request.args, generation, label, self._limits())
        kwargs = self._values.decode(frame, request.kwargs, generation, label, self._limits())
        if type(args) is not list or type(kwargs) is not dict:
            raise WorkerBrokeProtocol("a callback's arguments are malformed")
        encoder = self._values.encoder()
        reply: Message
        self._callback_depth += 1
        try:
            result = function(*args, **kwargs)
            reply = CallbackReturned(value=encoder.encode(result))
        except Exception as error:  # the student passed the grader's function something odd
            reply = CallbackRaised(message=f"{type(error).__name__}: {error}")
            encoder.blobs.clear()
        finally:
            self._callback_depth -= 1
        self._send(worker, pack(reply, encoder.blobs), deadline)

    def _decode(self, decode: Callable[[], Any], label: str) -> Any:
        """What ``decode`` builds from a reply (grader.student_code.values); a StudentError,
        with the worker stopped, if the worker's values cannot be accepted."""
        try:
            return decode()
        except WorkerOverBudget as error:
            self._retire_worker()
            raise WorkerCrashed(self._worker_problem(error, f"while running {label}")) from None
        except WorkerBrokeProtocol as error:
            self._retire_worker()
            raise WorkerCrashed(str(error)) from None

    def _record_changes(
        self,
        reply: Frame,
        generation: int,
        label: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        """Keep, as data, which argument arrays the call changed in place."""
        limits = self._limits()
        self.last_changes.extend(
            self._decode(
                lambda: self._values.changes(reply, generation, label, limits, args, kwargs), label
            )
        )

    # ------------------------------------------------------------ failures

    def _worker_failure(self, error: WorkerError, label: str) -> StudentError:
        during = f"while running {label}"
        if self._operations.unconfirmed:
            count = self._operations.unconfirmed
            during += f" (or one of the {count} operations on your objects before it)"
            self._operations.unconfirmed = 0
        kind = CallTimedOut if isinstance(error, WorkerTimedOut) else WorkerCrashed
        return kind(self._worker_problem(error, during))

    def _worker_problem(self, error: WorkerError, during: str) -> str:
        return feedback.worker_problem(error, during, self.limits, self.deadline, self.source)
