"""The worker: the one process where student code runs.

Started by grader.sandbox.child.start, in a fresh interpreter or forked from a warm server, after
the sandbox's layers: a fresh temporary directory, a cleared environment, resource limits, the
grading's cgroup and namespaces. It imports numpy, restricts itself, says "ready", then serves
the grader's requests on its pipes:

- Load: run the submission's source as the module ``submission``;
- Call: call a function of that module (or a handle) with decoded arguments. A grader
  function among them that comes with a formula (grader.formula) is evaluated here; each
  evaluation is logged and sent, in an Evaluated message ahead of the next frame to the grader,
  for the grader to replay. A call marked ``later`` (or an Operators message so marked) was
  sent ahead of its answer (grader.student_code.pipelining): should it arrive while another call
  waits on a callback, it waits its turn instead of running inside; a request without the mark
  is the grader's own, made from inside that callback, and runs at once;
- GetAttribute: read an attribute of a handle;
- Operators: +, -, *, /, ** or unary - on handles and numbers (``a + b`` on the grader's side
  of two objects kept here), no reply. Each result id is one the grader chose (negative): the
  result is kept under it, or, if the operation raised, the failure is, and every later request
  that uses that id is answered with it. The grader can then send a chain of 1,000 operations in
  one frame, without waiting.

The messages are grader.wire's. A failure is sent as its kind and its parts (the exception, the
line of the submission it came from), never as text for the grader to take apart.

Replies carry plain data only (see grader.protocol). Any other object is kept here in a table and
sent as a handle id. A grader function passed as an argument arrives as a callback stub: calling it
sends a ``callback`` request and waits for the grader's answer, serving nested requests meanwhile.

This module imports nothing from the grader but grader.wire, grader.framing, grader.protocol and
grader.worker_calls (tests/test_worker.py checks it), and keeps its own references to the
functions it needs, taken before student code can replace them.
"""

from __future__ import annotations

import difflib
import itertools
import linecache
import operator
import os
import sys
import types
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

import msgspec
import numpy as np

from grader.framing import Frame, ProtocolError
from grader.protocol import Decoder, Encoder
from grader.shape_clues import called_from, shape_clue
from grader.wire import (
    EVALUATIONS_PER_FRAME,
    Call,
    Callback,
    CallbackRaised,
    CallbackReturned,
    Change,
    Evaluated,
    Evaluation,
    Exit,
    FailureKind,
    GetAttribute,
    Load,
    Loaded,
    Message,
    Operation,
    Operators,
    Raised,
    Ready,
    Returned,
)
from grader.worker_calls import (
    argument_name,
    arrays_in,
    binding_problem,
    exception_text,
    is_plain,
    location,
    plain_only,
    short,
    signature_of,
    syntax_error_location,
    type_name,
    unfinished_function,
    valid_text,
)
from grader.worker_channel import Channel
from grader.worker_clock import OutOfTime, time_limit

if TYPE_CHECKING:
    from grader.sandbox.settings import WorkerSettings

MODULE_NAME = "submission"
# Arithmetic the grader may apply to objects kept here (a Value in exercise 11: a + b, a ** 2).
OPERATORS: dict[str, Callable[..., Any]] = {
    name: getattr(operator, name) for name in ("add", "sub", "mul", "truediv", "pow", "neg")
}
_compile = compile
_eval = eval
_UNEVALUATED = object()
_os_exit = os._exit
_tobytes = np.ndarray.tobytes


class GraderCallbackError(Exception):
    """The grader could not evaluate a function it passed in (for example: wrong argument type)."""


class Worker:
    """Loads one submission and serves the grader's requests against it."""

    def __init__(self, channel: Channel, call_seconds: float | None = None) -> None:
        self._channel = channel
        self._call_seconds = call_seconds  # each load and call's own clock (grader.worker_clock)
        self._module: types.ModuleType | None = None
        self._filename = "submission.py"
        self._objects: dict[int, Any] = {}
        self._next_handle = itertools.count(1)
        # A stub we were given and are asked to send back goes back as the grader's own function.
        self._callback_ids: dict[int, int] = {}  # id(stub) -> callback id
        self._stubs: list[Callable[..., Any]] = []  # keeps stubs alive so their id() stays unique
        # Requests the grader sent ahead ("later") that arrived while a call waited on a callback:
        # they run after that call, in order, not inside it.
        self._backlog: deque[Frame] = deque()
        # Formulas evaluated here since the last frame to the grader: [callback id, x, answer]
        # (grader.formula), sent ahead of that frame for the grader to replay.
        self._evaluations: list[Evaluation] = []
        self._evaluations_encoder = Encoder(plain_only)
        self._formulas: dict[tuple[str, str], Any] = {}  # (expression, name) -> compiled code

    # ------------------------------------------------------------ serving

    def _send(self, message: Message, blobs: list[bytes] | None = None) -> None:
        """Send a frame to the grader, after the log of formulas evaluated before it."""
        self._send_evaluations()
        try:
            self._channel.send(message, blobs)
        except UnicodeEncodeError:  # a lone surrogate ("\ud800") in a message or a string
            valid = msgspec.convert(valid_text(msgspec.to_builtins(message)), type(message))
            self._channel.send(valid, blobs)

    def _send_evaluations(self) -> None:
        if self._evaluations:
            calls, blobs = self._evaluations, self._evaluations_encoder.blobs
            self._evaluations, self._evaluations_encoder = [], Encoder(plain_only)
            self._channel.send(Evaluated(calls=calls), blobs)

    def serve(self) -> NoReturn:
        while True:
            frame = self._backlog.popleft() if self._backlog else self._channel.receive()
            self._handle(frame)

    def _handle(self, frame: Frame) -> None:
        message = frame.head
        if isinstance(message, Operators):
            for operation in message.operations:
                self._defer(frame, operation)
        elif isinstance(message, Load):
            self._send(self._load(message))
        elif isinstance(message, Call | GetAttribute):
            reply, blobs = self._answer(frame, message)
            self._send(reply, blobs)
        elif isinstance(message, Exit):
            _os_exit(0)
        else:  # an answer to a callback no one is waiting for
            self._send(Raised(kind="crash", message=f"cannot run: an unexpected {frame.op}"))

    def _load(self, message: Load) -> Loaded:
        self._filename = message.filename
        source = message.source
        # Tracebacks quote the offending line: let linecache find the source we were sent.
        linecache.cache[self._filename] = (
            len(source),
            None,
            source.splitlines(True),
            self._filename,
        )
        module = types.ModuleType(MODULE_NAME)
        module.__file__ = self._filename
        sys.modules[MODULE_NAME] = module
        try:
            code = compile(source, self._filename, "exec", dont_inherit=True)
            with time_limit(self._call_seconds):
                exec(code, module.__dict__)
        except OutOfTime as error:
            return Loaded(ok=False, timed_out=True, where=location(error, self._filename))
        except SyntaxError as error:
            return Loaded(
                ok=False,
                message=short(f"{type(error).__name__}: {error.msg}"),
                where=syntax_error_location(error),
            )
        except SystemExit as error:
            return Loaded(
                ok=False,
                message=f"it calls sys.exit({short(error.code)}) while loading",
                where=location(error, self._filename),
            )
        except BaseException as error:
            return Loaded(
                ok=False, message=exception_text(error), where=location(error, self._filename)
            )
        self._module = module
        return Loaded(ok=True)

    def _defer(self, frame: Frame, operation: Operation) -> None:
        """An operator whose result (or failure) is kept under the grader's id; no reply."""
        result_id = operation.result_id
        if result_id >= 0 or result_id in self._objects:
            return  # not an id the grader hands out: nothing can refer to it
        try:
            if operation.name not in OPERATORS:
                raise _Refusal("crash", "cannot run: unknown operator")
            if len(operation.operands) > 2:
                raise _Refusal("crash", "cannot run: an operator takes one or two operands")
            operands = [self._operand(frame, node) for node in operation.operands]
            value = OPERATORS[operation.name](*operands)
        except _Refusal as refusal:
            self._objects[result_id] = _Failure(refusal.reply)
        except BaseException as error:
            reply = self._raised(error)
            reply.label = operation.label[:100]
            self._objects[result_id] = _Failure(reply)
        else:
            self._objects[result_id] = value

    def _operand(self, frame: Frame, node: Any) -> Any:
        """One operand of a deferred operation: a handle or a number straight away (a chain has
        thousands), anything else through the decoder."""
        if type(node) is dict and node.get("t") == "handle" and type(node.get("id")) is int:
            return self._kept(node["id"])
        if type(node) is int or type(node) is float:
            return node
        return self._decode(frame, node)

    def _answer(self, frame: Frame, message: Call | GetAttribute) -> tuple[Message, list[bytes]]:
        try:
            target = self._target(message.target)
            if isinstance(message, GetAttribute):
                try:
                    value = getattr(target, message.name)
                except Exception as error:
                    return self._raised(error), []
                return self._reply(value, [])
            args = self._decode(frame, message.args)
            kwargs = self._decode(frame, message.kwargs)
            if type(args) is not list or type(kwargs) is not dict:
                raise _Refusal("crash", "cannot run: its arguments are not a list and a dict")
        except _Refusal as refusal:
            return refusal.reply, []
        signature = signature_of(target)
        problem = binding_problem(target, signature, args, kwargs)
        if problem:
            return Raised(kind="signature", message=problem), []
        before = list(arrays_in(args, kwargs))
        snapshots = [(path, _tobytes(array)) for path, array in before]
        try:
            with time_limit(self._call_seconds):
                value = target(*args, **kwargs)
        except OutOfTime as error:
            return Raised(kind="timeout", message="", where=location(error, self._filename)), []
        except BaseException as error:
            return self._raised(error), []
        changed = [
            (path, argument_name(signature, path), array)
            for (path, array), (_, old) in zip(before, snapshots, strict=True)
            if _tobytes(array) != old
        ]
        return self._reply(value, changed)

    def _reply(
        self, value: Any, changed: list[tuple[list[Any], str, np.ndarray]]
    ) -> tuple[Message, list[bytes]]:
        """A Returned with the value and every argument array the call changed in place."""
        encoder = Encoder(self._keep)
        try:
            if isinstance(value, tuple) and type(value) is not tuple:
                # A namedtuple returned as the answer's pair is a tuple as the docstring asks;
                # nested in the answer (a cache) it stays a handle, to come back as itself.
                value = tuple(value)
            node = encoder.encode(value)
            changes = [Change(path, name, encoder.encode(array)) for path, name, array in changed]
        except BaseException as error:  # a hostile __len__ or the like
            message = f"returned a value the grader cannot send: {exception_text(error)}"
            return Raised(kind="crash", message=message), []
        return Returned(value=node, changed=changes), encoder.blobs

    # ------------------------------------------------------------ objects and callbacks

    def _target(self, target: int | str) -> Any:
        if isinstance(target, int):
            return self._kept(target)
        if self._module is None:
            raise _Refusal("crash", "cannot run: no submission is loaded")
        if target not in self._module.__dict__:
            raise _Refusal("missing", self._missing_message(target))
        value = self._module.__dict__[target]
        if not callable(value):
            raise _Refusal("missing", f"{target} is a {type(value).__name__}, not a function")
        return value

    def _missing_message(self, name: str) -> str:
        assert self._module is not None
        defined = [
            key
            for key, value in self._module.__dict__.items()
            if callable(value) and not key.startswith("_")
        ]
        close = difflib.get_close_matches(name, defined, n=1, cutoff=0.6)
        hint = f"; did you rename it to {close[0]}?" if close else ""
        return f"your file has no function named {name}{hint}"

    def _keep(self, value: Any) -> dict[str, Any]:
        """The node for a value that is not plain data: a callback we got, or a new handle."""
        callback_id = self._callback_ids.get(id(value))
        if callback_id is not None:
            return {"t": "callback", "id": callback_id}
        handle = next(self._next_handle)
        self._objects[handle] = value
        kind = "function" if callable(value) else "object"
        return {"t": "handle", "id": handle, "kind": kind, "type": type_name(value)}

    def _decode(self, frame: Frame, node: Any) -> Any:
        try:
            return Decoder(
                frame, self._handle_node, lambda callback: self._callback_stub(callback, frame)
            ).decode(node)
        except ProtocolError as error:
            raise _Refusal("crash", f"cannot run: {error}") from None

    def _handle_node(self, node: dict[str, Any]) -> Any:
        return self._kept(node["id"])

    def _kept(self, handle: int) -> Any:
        """The object kept under ``handle``; a deferred operation's failure is raised again."""
        if handle not in self._objects:
            raise _Refusal("crash", "cannot run: that object no longer exists in this worker")
        value = self._objects[handle]
        if type(value) is _Failure:
            raise value.as_refusal()
        return value

    def _callback_stub(self, node: dict[str, Any], frame: Frame) -> Callable[..., Any]:
        callback_id = node["id"]
        name = node.get("name")
        label = name if isinstance(name, str) else "f"
        formula = self._formula(node, frame, label)

        def grader_function(*args: Any, **kwargs: Any) -> Any:
            if formula is not None and len(args) == 1 and not kwargs and is_plain(args[0]):
                try:
                    with np.errstate(all="ignore"):  # as in the grader, where it would run
                        value = formula(args[0])
                except Exception:  # the grader's evaluation says what happens
                    value = _UNEVALUATED
                if value is not _UNEVALUATED and is_plain(value):
                    self._log_evaluation(callback_id, args[0], value)
                    return value
            return self._call_grader(callback_id, args, kwargs)

        grader_function.__name__ = grader_function.__qualname__ = label
        self._callback_ids[id(grader_function)] = callback_id
        self._stubs.append(grader_function)
        return grader_function

    def _formula(self, node: dict[str, Any], frame: Frame, label: str) -> Any:
        """The function a callback node's formula gives (grader.formula), or None: then every
        evaluation asks the grader."""
        expression = node.get("formula")
        if type(expression) is not str:
            return None
        try:
            constants = self._decode(frame, node.get("constants"))
            if type(constants) is not dict or not all(type(key) is str for key in constants):
                return None
            key = (expression, label)
            if key not in self._formulas:
                self._formulas[key] = _compile(
                    f"lambda x: ({expression})", f"<formula {label}>", "eval", dont_inherit=True
                )
            return _eval(self._formulas[key], {"np": np, **constants})
        except Exception:
            return None

    def _log_evaluation(self, callback_id: int, argument: Any, value: Any) -> None:
        """Keep a formula's evaluation for the grader's replay, as data taken now (the student's
        code may change the arrays afterwards)."""
        encoder = self._evaluations_encoder
        evaluation = Evaluation(callback_id, encoder.encode(argument), encoder.encode(value))
        self._evaluations.append(evaluation)
        if len(self._evaluations) >= EVALUATIONS_PER_FRAME:
            self._send_evaluations()

    def _call_grader(self, callback_id: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        encoder = Encoder(self._keep)
        request = Callback(
            id=callback_id, args=encoder.encode(list(args)), kwargs=encoder.encode(dict(kwargs))
        )
        self._send(request, encoder.blobs)
        while True:
            frame = self._channel.receive()
            answer = frame.head
            if isinstance(answer, CallbackReturned):
                return self._decode(frame, answer.value)
            if isinstance(answer, CallbackRaised):
                raise GraderCallbackError(answer.message)
            if isinstance(answer, Call | Operators) and answer.later:
                self._backlog.append(frame)  # sent ahead, before the grader saw this callback
            else:
                self._handle(frame)  # a nested request from the grader

    # ------------------------------------------------------------ messages

    def _raised(self, error: BaseException) -> Raised:
        unfinished = isinstance(error, NotImplementedError)
        return Raised(
            kind="unfinished" if unfinished else "raised",
            type=short(type(error).__name__),
            message=exception_text(error),
            where=location(error, self._filename),
            unfinished=unfinished_function(error, self._filename, self._module)
            if unfinished
            else None,
            clue=shape_clue(error, self._filename),
            called_from=called_from(error, self._filename),
        )


class _Refusal(Exception):
    """A request the worker answers with a Raised reply without calling student code.

    message: for "crash", it completes the request's label ("... cannot run: no submission is
    loaded"); for "missing", it is the whole sentence.
    """

    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.reply = Raised(kind=kind, message=message)


class _Failure:
    """What a deferred operation left under its id when it raised: the reply it would have had."""

    __slots__ = ("reply",)

    def __init__(self, reply: Raised) -> None:
        self.reply = reply

    def as_refusal(self) -> _Refusal:
        refusal = _Refusal(self.reply.kind, self.reply.message)
        refusal.reply = self.reply
        return refusal


def serve(read_fd: int, write_fd: int, settings: WorkerSettings) -> NoReturn:
    """Restrict this process, say "ready" on ``write_fd``, then serve requests from ``read_fd``.

    Called by grader.sandbox.child.start, in a fresh interpreter or a process forked by the fork
    server, after the child-stage layers and before any student code. Applies the worker-stage
    layers (grader.sandbox.layers) to itself, and reports whether they took effect: said before
    any student code runs, so the grader can believe it.
    """
    channel = Channel(read_fd, write_fd)
    from grader.sandbox.layers import apply_worker_layers

    applied = apply_worker_layers(settings)
    channel.send(Ready(applied=applied))
    Worker(channel, settings.limits.call_seconds).serve()
