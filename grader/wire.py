"""Every message between the grader and a worker, defined once for both ends.

A message is the JSON head of a frame (grader.framing), tagged by its ``op``; its values (the
arguments of a call, what it returned) are nodes that grader.protocol encodes and decodes under
the budgets of grader.framing.WireLimits, so they are typed ``Any`` here. Everything else is
checked by the decoder of the end that reads it: a worker's message that is not one of
FROM_WORKER, or has a field of the wrong type, is a protocol error, and the grader stops the worker.

The grader sends:

- Load: run the submission's source as a module;
- Call: call a function of it (``target`` a name) or an object kept in the worker (``target``
  a handle id), with arguments; ``later`` marks a call sent ahead of its answer (grader.later);
- GetAttribute: read an attribute of a kept object;
- Operators: arithmetic on kept objects, deferred: no reply, each result kept under the grader's
  (negative) id; ``later`` as for Call;
- CallbackReturned / CallbackRaised: the answer to a worker's Callback;
- Exit.

A worker sends:

- Ready: once, before any student code ran, with the protection layers it applied to itself;
- Loaded: whether the submission loaded, and if not, why and where;
- Returned / Raised: the answer to a Call or GetAttribute;
- Evaluated: the formulas (grader.formula) it evaluated, for the grader to replay;
- Callback: a request to evaluate a grader function it was passed.

No numpy here: the worker imports it before any student code, and the fork server loads it early.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

# A worker's log of evaluations holds at most this many: the grader replays each, so one frame
# costs it little time (grader.protocol.CallBudget counts them against the call).
EVALUATIONS_PER_FRAME = 256

# How a request failed in the worker, as the grader reports it (grader.student_code.errors).
FailureKind = Literal["raised", "unfinished", "missing", "signature", "crash", "timeout"]


class Message(msgspec.Struct, tag_field="op", kw_only=True, omit_defaults=True):
    """A frame's head. ``blobs``: the byte length of each array blob after the head, in order;
    grader.framing.pack fills it in."""

    blobs: list[Annotated[int, msgspec.Meta(ge=0)]] = []


class Location(msgspec.Struct, frozen=True):
    """Where in the submission's source something happened: 1-based line and its code, stripped.

    The grader turns it into a place for the student ("line 12", or "cell 3, line 2" in a
    notebook): it is never formatted into a message here and parsed back.
    """

    line: int
    code: str = ""


# ---------------------------------------------------------------- grader to worker


class Load(Message, tag="load"):
    source: str
    filename: str


class Call(Message, tag="call"):
    target: int | str  # a kept object's handle id, or the name of a function of the submission
    args: Any  # a list node (grader.protocol)
    kwargs: Any  # a dict node
    later: bool = False


class GetAttribute(Message, tag="getattr"):
    target: int  # a kept object's handle id
    name: str


class Operation(msgspec.Struct, array_like=True):
    """operator.<name>(*operands), its result kept under ``result_id``; ``label`` names it in the
    message of its failure ("the operator *")."""

    name: str
    result_id: int
    label: str
    operands: list[Any]  # handle nodes, numbers, or other value nodes


class Operators(Message, tag="operators"):
    operations: list[Operation]
    later: bool = False


class CallbackReturned(Message, tag="callback_return"):
    value: Any


class CallbackRaised(Message, tag="callback_raise"):
    message: str


class Exit(Message, tag="exit"):
    pass


ToWorker = Load | Call | GetAttribute | Operators | CallbackReturned | CallbackRaised | Exit


# ---------------------------------------------------------------- worker to grader


class Ready(Message, tag="ready"):
    applied: dict[str, bool] = {}  # protection layer name -> whether it took effect


class Loaded(Message, tag="loaded"):
    ok: bool
    message: str = ""  # why it could not be loaded, completing "your file could not be loaded: "
    where: Location | None = None
    timed_out: bool = False  # its time ran out while loading; ``where``: the line running then


class Change(msgspec.Struct, array_like=True):
    """An argument array a call changed in place: its path in the call's arguments
    (["args", 0] or ["kwargs", "params", "W1"]), its name as the student's code calls it
    (params['W1']), and its value after the call (an array node)."""

    path: list[str | int]
    name: str
    after: Any


class Returned(Message, tag="return"):
    value: Any
    changed: list[Change] = []


class Unfinished(msgspec.Struct, frozen=True):
    """The submission's function that raised NotImplementedError: its qualified name, the line
    of the raise, and the first line of its docstring."""

    function: str
    line: int
    summary: str = ""


# A clue's code is a sub-expression of one line: the worker cuts it to this many characters, and
# the grader refuses a longer one (a message the student reads stays short).
CLUE_CODE_CHARS = 200


class Operand(msgspec.Struct, frozen=True):
    """One operand of the expression that raised: its code, and its shape if it is an array
    (None if not, or if the worker did not evaluate it again)."""

    code: Annotated[str, msgspec.Meta(max_length=CLUE_CODE_CHARS)]
    shape: (
        Annotated[list[Annotated[int, msgspec.Meta(ge=0)]], msgspec.Meta(max_length=32)] | None
    ) = None


class ShapeClue(msgspec.Struct, frozen=True):
    """For a numpy error: the sub-expression of the line that raised (``expression``), its
    operation ("@", "+", "np.dot", "reshape", "+=") and its operands with their shapes."""

    expression: Annotated[str, msgspec.Meta(max_length=CLUE_CODE_CHARS)]
    operation: Annotated[str, msgspec.Meta(max_length=CLUE_CODE_CHARS)]
    operands: Annotated[list[Operand], msgspec.Meta(max_length=4)]


class Raised(Message, tag="raise"):
    """A request that failed. ``message``: for "raised", the exception as "Type: text"; for the
    others, what is wrong, for the student. ``type``: the exception's class name. ``label``: the
    deferred operation that failed, where it was one. ``clue``: for a numpy error, the operation
    that raised and its operands' shapes (grader.shape_clues). ``called_from``: where the
    submission's outermost frame called the function that raised, when that is another line
    (an error inside a given helper, called with the wrong arrays)."""

    kind: FailureKind
    message: str
    type: str = ""
    where: Location | None = None
    label: str | None = None
    unfinished: Unfinished | None = None
    clue: ShapeClue | None = None
    called_from: Location | None = None


class Evaluation(msgspec.Struct, array_like=True):
    """One formula the worker evaluated: the callback's id, its argument and its answer (nodes)."""

    callback_id: int
    argument: Any
    answer: Any


class Evaluated(Message, tag="evaluated"):
    calls: Annotated[list[Evaluation], msgspec.Meta(min_length=1, max_length=EVALUATIONS_PER_FRAME)]


class Callback(Message, tag="callback"):
    id: int
    args: Any  # a list node
    kwargs: Any  # a dict node


FromWorker = Ready | Loaded | Returned | Raised | Evaluated | Callback
