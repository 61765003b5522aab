"""What exercise 11's public and hidden checks share: the words of each mistake a Value makes, a
model Value that makes each, and the small graphs (probes) that tell them apart.

Each kind of mistake (KINDS) is one realistic mistake in one method of Value, made by the Model.
The one kind whose Model gives the student's numbers on every probe is the mistake, named by a
failing check only where that Model also gives the check's own answers: where no kind fits, or
two do, nothing is named. The probes run once per grading, and only once a check has failed.
"""

from __future__ import annotations

import contextlib
import math
import operator
import re
import weakref
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from numbers import Real
from typing import Any

from grader.checks import CheckFailed, answer_or_none, fail, fail_unless_charged, with_hint
from grader.student_code.errors import NotImplementedYet, StudentError, StudentRaised

Mistake = tuple[str, str]

# The named local-derivative mistakes, charged once in the check of that operation: a larger
# graph whose grads follow one is not charged again. The call each is named in starts with the
# method's name (grader.checks.follows).
TANH: Mistake = ("Value.tanh", "tanh'(z) = 1 - t², with t = tanh(z)")
POW: Mistake = (
    "Value.__pow__",
    "(x ** n)' = n·x ** (n - 1): the exponent drops by one, n·x is not it",
)

# The order backward() calls the closures in, as the graphs of + only show it.
BREADTH_FIRST = (
    "a node's _backward ran before every node built from it had added its share, as in a "
    "breadth-first walk: call the _backward of each node in reverse topological order, built "
    "by a depth-first search that appends a node after its children"
)
RAN_AGAIN = (
    "a node's _backward ran more than once, once for each path to it: keep a set of visited "
    "nodes, so that each node enters the order once"
)

# How a hint names each method: as students write the operation, the method, its children.
SHOWN = {
    "add": ("a + b", "__add__", "(self, other)"),
    "mul": ("a·b", "__mul__", "(self, other)"),
    "pow": ("x ** n", "__pow__", "(self,)"),
    "tanh": ("tanh(x)", "tanh", "(self,)"),
}

# Mistakes any operation's _backward closure can make, and what the hint says of each.
CLOSURE = {
    "assign": "{method}'s _backward sets a child's grad with =, so a Value used twice keeps one "
    "share: use += so that the shares add up (accumulate)",
    "upstream": "{method}'s _backward leaves out out.grad, the upstream gradient: multiply the "
    "local derivative by out.grad (chain rule)",
    "out-data": "{method}'s _backward multiplies by out.data, the output's value: the upstream "
    "gradient is out.grad",
    "self-grad": "{method}'s _backward multiplies by self.grad, the operand's own grad: the "
    "upstream gradient is out.grad, the grad of the result",
    "own-grad": "{method}'s _backward multiplies each operand's share by its own grad "
    "(self.grad, other.grad): the upstream gradient is out.grad, the grad of the result",
    "detached": "the result of {op} ({method}) passes nothing back: its out._backward adds "
    "nothing to the children's grads; assign the closure that does, out._backward = _backward",
    "no-children": "the result of {op} ({method}) has no children, so backward() never reaches "
    "what it was made from: pass {children} as its children (its _prev)",
}

OWN = {
    "add-self-only": "__add__'s _backward gives other.grad nothing: add out.grad to both "
    "operands, self.grad and other.grad",
    "add-other-only": "__add__'s _backward gives self.grad nothing: add out.grad to both "
    "operands, self.grad and other.grad",
    "mul-self-only": "__mul__'s _backward gives other.grad nothing: add self.data · out.grad to "
    "other.grad too (each operand gets the other factor)",
    "mul-other-only": "__mul__'s _backward gives self.grad nothing: add other.data · out.grad "
    "to self.grad too (each operand gets the other factor)",
    "mul-swapped": "a·b gives each factor its own value: __mul__'s _backward swaps them; "
    "self.grad += other.data * out.grad (the other factor), other.grad += self.data * out.grad",
    "mul-one": "a·b passes out.grad back unchanged, as a + b does: ∂(a·b)/∂a is b, so "
    "self.grad += other.data * out.grad (the other factor)",
    "mul-grad-for-data": "__mul__'s _backward multiplies by the other factor's grad: ∂(a·b)/∂a "
    "is the other factor's value, other.data (self.grad += other.data * out.grad)",
    "pow-kept": "(x ** n)' = n·x ** (n - 1): __pow__'s _backward keeps the exponent n; it drops "
    "by one",
    "pow-precedence": "__pow__'s _backward computes n·x ** n - 1: ** binds before -, so put "
    "parentheses around the exponent, n·x ** (n - 1)",
    "pow-no-n": "(x ** n)' = n·x ** (n - 1): __pow__'s _backward leaves out the factor n in front",
    "pow-unbracketed": "__pow__'s _backward computes n·x ** n - 1·out.grad: ** and * bind "
    "before -, so put parentheses around the exponent, n * x ** (n - 1) * out.grad",
    "pow-unbracketed-left": "__pow__'s _backward computes out.grad·n·x ** n - 1: ** and * bind "
    "before -, so put parentheses around the exponent, out.grad * n * x ** (n - 1)",
    "tanh-unbracketed": "tanh's _backward computes 1 - t²·out.grad: * binds before -, so put "
    "parentheses around the derivative, (1 - t**2) * out.grad",
    "tanh-unbracketed-left": "tanh's _backward computes out.grad·1 - t²: * binds before -, so "
    "put parentheses around the derivative, out.grad * (1 - t**2)",
    "tanh-one-minus-t": "tanh's _backward uses 1 - t: tanh'(z) = 1 - t², the square of t = tanh(z)",
    "tanh-sign": "tanh's _backward uses t² - 1, the sign flipped: tanh'(z) = 1 - t²",
    "tanh-sech": "tanh's _backward uses sech z = 1/cosh z: tanh'(z) = sech² z = 1 - t², squared",
    "tanh-square-of-difference": "tanh's _backward squares 1 - t: tanh'(z) = 1 - t², where only "
    "t is squared",
    "tanh-sigmoid": "tanh's _backward uses t·(1 - t), the sigmoid's derivative: tanh'(z) = 1 - t²",
    "tanh-plus": "tanh's _backward uses 1 + t²: tanh'(z) = 1 - t²",
    "neg-plus": "-a passes out.grad back with its sign kept: the derivative of -a is -1, so -a "
    "must add -out.grad to a.grad (return self * -1)",
    "sub-reversed": "a - b computes b - a: __sub__ must return self + (-other), the sign on "
    "other, not reversed",
    "div-detached": "a / b is a new Value made from the numbers only (no children, no "
    "_backward), so backward() never reaches a and b: return self * other**-1",
    "backward-no-seed": "after out.backward(), out.grad is 0, and so is every grad: the "
    "closures ran without the seed; backward() must set the seed self.grad = 1.0 before "
    "calling the _backward closures, and set no grad to 0 after it",
    "backward-seed-after": "after out.backward(), out.grad is 1 but nothing reached the nodes "
    "below it: the closures ran before the seed was set, or were never called; set the seed "
    "self.grad = 1.0 first, then call each node's _backward() (with its parentheses)",
    "backward-not-reversed": "only the output's own _backward passed anything on: the nodes "
    "below it ran theirs before their grads arrived (leaves first), or not at all; call every "
    "node's _backward in reverse topological order, from the output down (reversed(topo))",
    "backward-pre-order": "a node's _backward ran before every node made from it had added its "
    "share: it entered the order when first reached (pre-order); append a node after all its "
    "children, and walk that topological order reversed",
    "backward-recurse-children": "after backward() every node's grad is 1: each node's grad was "
    "reset to 1 before its _backward ran (as backward() called again on each child does); set "
    "the seed self.grad = 1.0 once, on the output only, then call every node's _backward in "
    "reverse topological order",
    "init-grad-one": "every new Value's grad starts at 1, so each grad holds 1 more than its "
    "share: __init__ must start it at 0.0 (self.grad = 0.0); backward() sets the output's grad "
    "to 1 as its seed",
}

# Kinds named in the words the checks had for them before: tanh's and pow's named mistakes
# (charged once), and the graph checks' own words for an order mistake.
NAMED = {
    "pow-nx": POW[1],
    "tanh-x": TANH[1],
    "backward-breadth-first": BREADTH_FIRST,
    "backward-no-visited": RAN_AGAIN,
    "backward-no-visited-bfs": RAN_AGAIN,
}
# Each operation's closure mistakes (x ** n and tanh(x) have one operand: its own grad is
# self.grad), then each method's own.
CLOSURES = (f"{op}-{mistake}" for op in SHOWN for mistake in CLOSURE)
KINDS = (*(k for k in CLOSURES if k not in ("pow-own-grad", "tanh-own-grad")), *OWN, *NAMED)


# Mistakes of backward() after which no probe reaches the nodes below the output (no seed, the
# closures before the seed or never called, leaves first, every grad reset to 1): the probes show
# nothing of the operations, so these are charged in every check that meets them.
HIDES_THE_REST = frozenset(
    (
        "backward-no-seed",
        "backward-seed-after",
        "backward-not-reversed",
        "backward-recurse-children",
    )
)


def hint_of(kind: str) -> str:
    """The words of the hint for a kind of mistake."""
    if kind in NAMED or kind in OWN:
        return NAMED.get(kind) or OWN[kind]
    op, _, mistake = kind.partition("-")  # one of CLOSURE's, in one operation
    shown, method, children = SHOWN[op]
    return CLOSURE[mistake].format(op=shown, method=method, children=children)


# The local derivative each kind computes in place of the right one: a function of the operands
# (a·b: x, y; x ** n: x, n; tanh: x, t = tanh(x)).
LOCAL: dict[str, Callable[[float, float], Any]] = {
    "mul-swapped": lambda x, y: (x, y),
    "mul-one": lambda x, y: (1.0, 1.0),
    "pow-kept": lambda x, n: n * x**n,
    "pow-nx": lambda x, n: n * x,
    "pow-precedence": lambda x, n: n * x**n - 1,
    "pow-no-n": lambda x, n: x ** (n - 1),
    "tanh-one-minus-t": lambda x, t: 1 - t,
    "tanh-x": lambda x, t: 1 - x**2,
    "tanh-sign": lambda x, t: t**2 - 1,
    "tanh-sech": lambda x, t: 1 / math.cosh(x),
    "tanh-square-of-difference": lambda x, t: (1 - t) ** 2,
    "tanh-sigmoid": lambda x, t: t * (1 - t),
    "tanh-plus": lambda x, t: 1 + t**2,
    # Without parentheses: the share itself, a function of the upstream grad.
    "pow-unbracketed": lambda x, n: lambda up: n * x**n - 1 * up,
    "pow-unbracketed-left": lambda x, n: lambda up: up * n * x**n - 1,
    "tanh-unbracketed": lambda x, t: lambda up: 1 - t**2 * up,
    "tanh-unbracketed-left": lambda x, t: lambda up: up * 1 - t**2,
}


class Model:
    """The lesson's Value built here, without the student's code, with one ``kind`` of mistake
    (KINDS) or none; ``flip``: backward() takes each node's children in reverse order, as a
    search that pushes them on a stack does."""

    def __init__(self, data: float, parts: tuple = (), kind: str | None = None, flip=False) -> None:
        self.data = float(data)
        self.kind = kind or ""
        self.grad = 1.0 if self.kind == "init-grad-one" else 0.0
        self.children = tuple(parts)
        self.flip = flip
        self.step: Callable[[], None] = lambda: None

    def _value(self, other: Any) -> Model:
        return other if isinstance(other, Model) else Model(other, (), self.kind, self.flip)

    def _node(self, op: str, data: float, parts: tuple[Model, ...], local: Sequence[float]):
        """The result of ``op`` on ``parts``, whose local derivatives are ``local``."""
        out = Model(data, parts, self.kind, self.flip)
        mistake = self.kind[len(op) + 1 :] if self.kind.startswith(op + "-") else ""
        if mistake == "no-children":
            out.children = ()
        if mistake == "self-only":
            parts, local = parts[:1], local[:1]
        if mistake == "other-only":
            parts, local = parts[1:], local[1:]
        if mistake == "detached":
            parts, local = (), ()

        def step() -> None:
            for index, (child, derivative) in enumerate(zip(parts, local, strict=True)):
                if mistake == "grad-for-data":
                    derivative = parts[1 - index].grad
                upstream = {
                    "upstream": 1.0,
                    "out-data": out.data,
                    "self-grad": parts[0].grad,
                    "own-grad": child.grad,
                }.get(mistake, out.grad)
                share = derivative(upstream) if callable(derivative) else derivative * upstream
                child.grad = share if mistake == "assign" else child.grad + share

        out.step = step
        return out

    def _local(self, op: str, right: Callable[[float, float], Any]) -> Callable[..., Any]:
        """The local derivative of ``op``, with this kind's mistake where it is one of op's."""
        return LOCAL.get(self.kind, right) if self.kind.startswith(op + "-") else right

    def __add__(self, other: Any) -> Model:
        other = self._value(other)
        return self._node("add", self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other: Any) -> Model:
        other = self._value(other)
        local = self._local("mul", lambda x, y: (y, x))(self.data, other.data)
        return self._node("mul", self.data * other.data, (self, other), local)

    def __pow__(self, exponent: float) -> Model:
        x = self.data
        local = self._local("pow", lambda x, n: n * x ** (n - 1))(x, exponent)
        return self._node("pow", x**exponent, (self,), (local,))

    def tanh(self) -> Model:
        t = math.tanh(self.data)
        local = self._local("tanh", lambda x, t: 1 - t**2)(self.data, t)
        return self._node("tanh", t, (self,), (local,))

    def __neg__(self) -> Model:
        if self.kind == "neg-plus":
            return self._node("neg", -self.data, (self,), (1.0,))
        return self * -1

    __radd__ = __add__

    def __sub__(self, other: Any) -> Model:
        return -self + other if self.kind == "sub-reversed" else self + (-other)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Model:
        if self.kind == "div-detached":
            return Model(self.data / self._value(other).data, (), self.kind, self.flip)
        return self * other**-1

    def _children(self) -> tuple[Model, ...]:
        return self.children[::-1] if self.flip else self.children

    def _order(self) -> list[Model]:
        """The nodes in the order backward() calls their _backward, with this kind's mistake."""
        if self.kind in ("backward-breadth-first", "backward-no-visited-bfs"):
            order, seen, queue = [], {id(self)}, deque([self])
            while queue:
                node = queue.popleft()
                order.append(node)
                for child in node._children():
                    if self.kind == "backward-no-visited-bfs" or id(child) not in seen:
                        seen.add(id(child))
                        queue.append(child)
            return order
        if self.kind == "backward-pre-order":
            order, seen, stack = [], set(), [self]
            while stack:
                node = stack.pop()
                if id(node) not in seen:
                    seen.add(id(node))
                    order.append(node)
                    stack.extend(node._children())
            return order
        order, seen, pending = [], set(), [(self, False)]
        while pending:
            node, children_done = pending.pop()
            if children_done:
                order.append(node)
            elif self.kind == "backward-no-visited" or id(node) not in seen:
                seen.add(id(node))
                pending.append((node, True))
                pending.extend((child, False) for child in node._children())
        return order if self.kind == "backward-not-reversed" else order[::-1]

    def backward(self) -> None:
        if self.kind == "backward-recurse-children":
            pending = [self]
            while pending:
                node = pending.pop()
                node.grad = 1.0
                node.step()
                pending.extend(node._children()[::-1])
            return
        if self.kind not in ("backward-no-seed", "backward-seed-after"):
            self.grad = 1.0
        for node in self._order():
            node.step()
        if self.kind == "backward-seed-after":
            self.grad = 1.0


def local_mistakes(student: Any) -> frozenset[Mistake]:
    """The named local-derivative mistakes (TANH, POW) the student's Value shows, each on a
    graph of one operation: what a larger graph's grads then follow."""

    def shown(start: float, build: Callable[[Any], Any], wrong: float) -> bool:
        got = answer_or_none(lambda: read(build, student.Value(start)))
        return isinstance(got, (int, float)) and abs(got - wrong) <= 1e-9 * max(1.0, abs(wrong))

    def read(build: Callable[[Any], Any], x: Any) -> Any:
        build(x).backward()
        return x.grad

    pow_shown = shown(0.7, lambda x: x**3, 3 * 0.7)
    tanh_shown = shown(0.3, lambda x: x.tanh(), 1 - 0.3**2)
    return frozenset(name for name, on in ((POW, pow_shown), (TANH, tanh_shown)) if on)


NAMED_KINDS = {TANH: "tanh-x", POW: "pow-nx"}


def following(
    mistakes: frozenset[Mistake], values: Sequence[float], build: Callable[..., Any]
) -> dict[Mistake, list[float]]:
    """{mistake: the leaves' grads with it} where the student's Value shows exactly one named
    local-derivative mistake; ``build`` makes the graph from leaves (floats or Models)."""
    if len(mistakes) != 1:
        return {}
    (mistake,) = mistakes
    leaves = [Model(value, (), NAMED_KINDS[mistake]) for value in values]
    build(*leaves).backward()
    return {mistake: [leaf.grad for leaf in leaves]}


PAIR, FOUR = (0.7, -1.3), (0.7, -1.3, 1.9, -0.6)

# Small graphs that tell the kinds apart, each a function of its leaves and their values.
PROBES: tuple[tuple[Callable[..., Any], tuple[float, ...]], ...] = (
    (lambda a, b: a + b, PAIR),
    (lambda a, b: a * b, PAIR),
    (lambda a, b: (a + a) * b, PAIR),
    (lambda a, b: (a * a) + b, PAIR),
    (lambda a, b, c, d: (a + b) * c, FOUR),
    (lambda a, b, c, d: (a * b) * c, FOUR),
    (lambda a, b, c, d: (a * b + c) * d, FOUR),
    (lambda x, c: x**3, (0.7, 1.9)),
    (lambda x, c: (x**3 + x**2) * c, (0.7, 1.9)),
    (lambda a, b, c, d: ((a * b) ** 3) * c, FOUR),
    (lambda x, c: x.tanh(), (0.3, 1.9)),
    (lambda x, c: (x.tanh() + x.tanh()) * c, (0.3, 1.9)),
    (lambda a, b, c, d: (a * b).tanh() * c, FOUR),
    (lambda a, b: a - b, PAIR),
    (lambda a, b: -a * b, PAIR),
    (lambda a, b: a / b, PAIR),
    (lambda a, b: (2 + a) * (3 * b), PAIR),
    (lambda a, b: a * b + b, PAIR),
    # A result used again: its children have a grad of their own when its closure runs.
    (lambda a, b: (s := a * b).tanh() + s, PAIR),
    (lambda a, b: (s := a * b) ** 2 + s, PAIR),
    (lambda a, b: (s := a * b) * a + s, PAIR),
    (lambda a, b: ((s := a * b) + a) * s, PAIR),
    (lambda a, b: (a + (s := a * b)) * s, PAIR),
    # Graphs of + that use a node more than once: the order backward() keeps shows in them.
    (lambda x, y: (a := x + y) + (a + y), (0.5, 2.0)),
    (lambda x, y: (((a := x + y) + x) + y) + a, (1.5, -0.75)),
    (lambda x, y: ((s := x + y) + s) + (s + x), (0.8, -1.25)),
    # The same without +: the order backward() keeps shows even where a + b passes back nothing
    # (or shares that do not depend on the order), so a mistake of + together with one of the
    # order is not taken for the mistake of + alone.
    (lambda a, b: (((s := a * b) * a) * b) * s, PAIR),
    (lambda a, b: ((s := a * b) * s) * (s * a), PAIR),
    (lambda a, b: ((t := (a * b).tanh()) * a) * t, PAIR),
)


def close(got: Sequence[float], want: Sequence[float]) -> bool:
    """Whether two lists of numbers agree to rounding."""
    return len(got) == len(want) and all(
        abs(g - w) <= 1e-9 * max(1.0, abs(w)) for g, w in zip(got, want, strict=True)
    )


def probe_on(make: Callable[[float], Any], probe: tuple[Callable[..., Any], tuple]) -> list:
    """What a probe shows on leaves made by ``make``: the output's data and grad after
    out.backward(), and the leaves' grads."""
    build, values = probe
    leaves = [make(value) for value in values]
    (out := build(*leaves)).backward()
    return [float(out.data), float(out.grad), *(float(leaf.grad) for leaf in leaves)]


def on_models(probe: tuple[Callable[..., Any], tuple], kind: str | None, flip: bool) -> list:
    return probe_on(lambda value: Model(value, (), kind, flip), probe)


def student_probes(student: Any) -> list[list[float] | None] | None:
    """The probes on the student's Value (None for one that meets a method not written yet), or
    None where one raises anything else: its numbers are not a Model's."""
    shown: list[list[float] | None] = []
    for probe in PROBES:
        try:
            shown.append(probe_on(student.Value, probe))
        except NotImplementedYet:
            shown.append(None)
        except (StudentError, TypeError, ValueError, OverflowError):
            return None
    return shown


_diagnoses: weakref.WeakKeyDictionary[Any, str | None] = weakref.WeakKeyDictionary()

FLIPS = (False, True)  # the children in the order given, or reversed (a set's order is either)


def diagnose(student: Any) -> str | None:
    """The one kind of mistake whose Model gives the student's numbers on every probe that gave
    numbers (in either child order), else None: no mistake, or not one of these, or more than
    one. Found once per grading (per submission object)."""
    with contextlib.suppress(KeyError, TypeError):
        return _diagnoses[student]
    found = _diagnosis(student)
    with contextlib.suppress(TypeError):
        _diagnoses[student] = found
    return found


def _diagnosis(student: Any) -> str | None:
    shown = student_probes(student)
    if shown is None or all(got is None for got in shown):
        return None

    def agrees(kind: str | None) -> bool:
        return all(
            got is None or any(close(got, on_models(probe, kind, flip)) for flip in FLIPS)
            for got, probe in zip(shown, PROBES, strict=True)
        )

    if agrees(None):
        return None
    found = [kind for kind in KINDS if agrees(kind)]
    return found[0] if len(found) == 1 else None


class Seen:
    """The graphs a check built on the student's Value, each (build, observe, numbers): build(make)
    makes it from leaves make(value) (Values or Models), returning (output, leaves, ...), and
    observe(output, leaves) reads what the check compared after backward(), ``numbers``."""

    def __init__(self, student: Any) -> None:
        self.student = student
        self.graphs: list[tuple[Callable[..., Any], Callable[..., Any], list[Any]]] = []
        # The failures of this check excused as a mistake charged earlier (``comparing``): the
        # check passes only if, at its end, every number it read is still that mistake's.
        self.excused: list[str] = []

    def add(self, build: Callable[..., Any], observe: Callable[..., Any], numbers: list) -> None:
        self.graphs.append((build, observe, numbers))

    def kind(self) -> str | None:
        """The diagnosed kind of mistake, where its Model gives every number the check read."""
        numbers = [number for *_, read in self.graphs for number in read]
        if not numbers or not all(isinstance(n, Real) and not isinstance(n, bool) for n in numbers):
            return None
        kind = diagnose(self.student)
        with contextlib.suppress(ArithmeticError, ValueError, TypeError):
            if kind is not None and all(
                any(close([float(n) for n in read], model(build, observe, kind, f)) for f in FLIPS)
                for build, observe, read in self.graphs
            ):
                return kind
        return None


def model(build: Callable[..., Any], observe: Callable[..., Any], kind: str, flip: bool) -> list:
    """What a check reads of its graph made of Models with the mistake ``kind``."""
    out, leaves, *_ = build(lambda value: Model(value, (), kind, flip))
    out.backward()
    return [float(number) for number in observe(out, leaves)]


@contextlib.contextmanager
def naming(seen: Seen) -> Iterator[Seen]:
    """A whole check: a failure without a hint gets the diagnosed mistake's, and an error the
    student's Value raised gets the hint of what raised it, where one is known. Nothing is
    excused here (a failure that reaches this block ends the check, failed): only a comparison
    in its own ``comparing`` block is, so that an excuse never skips the comparisons after it.
    Where one was excused, the check passes only if every number it read, before and after, is
    what the diagnosed mistake's Model gives."""
    try:
        yield seen
        if seen.excused and seen.kind() is None:
            # Some number the check read is not that one mistake's: the excuse is void.
            fail(
                f"{seen.excused[0]}. Not every other answer of this check is what that mistake "
                "gives: something else is wrong too"
            )
    except CheckFailed as failure:
        if "\nHint:" in str(failure) or (kind := seen.kind()) is None:
            raise
        text = with_hint(str(failure).rstrip("."), hint_of(kind))
        raise CheckFailed(text, failure.mistake) from None
    except StudentRaised as error:
        # Never excused, in any check that meets it: an error gives no answer to verify.
        hint = error_hint(seen.student, str(error))
        if hint is None or "\nHint:" in str(error):
            raise
        raise StudentRaised(with_hint(str(error).rstrip("."), hint), error.line) from None


@contextlib.contextmanager
def comparing(seen: Seen) -> Iterator[None]:
    """One comparison of a check (inside its ``naming`` block): a failure that names no mistake
    of its own, whose numbers and every other number the check read so far are the diagnosed
    mistake's, is named so; the mistake is charged once, in the first check that meets it (the
    rest of the Value is right), and a later check that meets it again notes it and goes on to
    the check's next comparison.
    Any other failure, and an error the student's code raised, goes on to ``naming``: failed."""
    try:
        yield
    except CheckFailed as failure:
        if failure.mistake is not None:
            raise
        kind = seen.kind()
        if kind is None or kind in HIDES_THE_REST:
            raise
        # A generic hint of the comparison (a flipped sign, float32's precision) gives way to
        # the mistake whose Model gives every number the check read.
        what = str(failure).split("\nHint:")[0].rstrip(".")
        fail_unless_charged(with_hint(what, hint_of(kind)), ("Value", kind))
        seen.excused.append(what)


def core(text: str) -> str:
    """The exception an error's message names ("TypeError: ..."), without where; else ""."""
    found = re.search(r"raised (\w+: .*?)(?: \(line \d+|\.?$)", text.split("\n")[0])
    return found.group(1) if found else ""


def error_hint(student: Any, text: str) -> str | None:
    """The hint for an error the student's Value raised (``text``), found by trying the
    operations alone: named only where one of them raises that same error."""
    value, raised = student.Value, core(text)
    if not raised:
        return None

    def same_error(build: Callable[[], Any]) -> bool:
        """Whether ``build()`` raises the error of ``text`` (reading its data, if any)."""
        try:
            float(getattr(build(), "data", 0.0))
        except StudentError as error:
            return core(str(error)) == raised
        except (TypeError, ValueError, AttributeError):
            pass
        return False

    fix = "other = other if isinstance(other, Value) else Value(other)"
    number = 3.0 if "'float'" in raised else 3  # the kind of number that raised
    for op, symbol, apply, reverse in (
        ("add", "+", operator.add, "__radd__"),
        ("mul", "*", operator.mul, "__rmul__"),
    ):
        shown, method, children = SHOWN[op]
        # A number has .real, a Value has not: what a + b returned, read in the worker.
        real = attribute(lambda apply=apply: apply(value(2.0), value(3.0)), "real")[1]
        if re.search(r"'(float|int|numpy\.\w+)' object has no", raised) and isinstance(real, Real):
            return (
                f"{shown} returns a float, not a new Value: {method} must return "
                f"out = Value(self.data {symbol} other.data, {children}, '{symbol}')"
            )
        if "object has no attribute 'data'" in raised and same_error(
            lambda apply=apply: apply(value(2.0), number)
        ):
            return (
                f"{shown} with a plain number (Value(2.0) {symbol} 3) raises: {method} reads "
                f"other.data of the number; wrap it first, {fix}"
            )
        if "object has no attribute 'grad'" in raised and same_error(
            lambda apply=apply: apply(value(2.0), number).backward()
        ):
            return (
                f"backward() of {shown} with a plain number (Value(2.0) {symbol} 3) raises: "
                f"{method}'s _backward adds to other.grad of the number; wrap it first, {fix}"
            )
        if (
            "not 'Value'" in raised
            and same_error(lambda apply=apply: apply(value(2.0), value(3.0)))
            and not same_error(lambda apply=apply: apply(value(2.0), 3.0))
        ):
            return (
                f"Value(2.0) {symbol} Value(3.0) raises: {method} wraps other in a Value even "
                f"when it is one; wrap a plain number only, {fix}"
            )
        if "unsupported operand" in raised and same_error(
            lambda apply=apply: apply(number, value(2.0))
        ):
            return (
                f"3 {symbol} Value(2.0) raises: with the number on the left Python calls the "
                f"Value's {reverse}; define it, {reverse}(self, other) returning self {symbol} "
                "other"
            )
    if "'NoneType' object is not callable" in raised:
        for op, build in (
            ("add", lambda: value(2.0) + value(3.0)),
            ("mul", lambda: value(2.0) * value(3.0)),
            ("pow", lambda: value(2.0) ** 3),
            ("tanh", lambda: value(0.5).tanh()),
        ):
            if attribute(build, "_backward") == (True, None):
                return (
                    f"out._backward of {SHOWN[op][0]} is None, what the closure returns: assign "
                    "the function itself, out._backward = _backward, without parentheses"
                )
    if "'NoneType'" in raised and attribute(lambda: value(2.0), "grad") == (True, None):
        return (
            "a new Value's grad is None, and None cannot be added to: __init__ must start it "
            "at 0.0 (self.grad = 0.0)"
        )
    return None


def attribute(build: Callable[[], Any], name: str) -> tuple[bool, Any]:
    """(True, the attribute ``name`` of ``build()``), or (False, None) where either raises."""
    try:
        return True, getattr(build(), name)
    except (StudentError, AttributeError, TypeError):
        return False, None
