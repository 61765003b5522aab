"""Exercise 11's hints: a mistake in the Value is found by small probe graphs (the one model
mistake that gives the student's numbers on all of them), named only where that mistake also
gives the failing check's own numbers, and in the same words by the public and hidden checks."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from grader.course import Course
from grader.course_modules import import_file
from tests.helpers import REPO, failed, grade_text, message_of, solution_text, with_method


def checks(name: str) -> types.ModuleType:
    return import_file(REPO / "checks" / f"{name}.py", "checks")


def graded(course: Course, tmp_path: Path, *methods: str):  # type: ignore[no-untyped-def]
    source = solution_text(course, "exercise11")
    for method in methods:
        source = with_method(source, method)
    return grade_text(course, "exercise11", source, tmp_path)


def hints(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        check.message.partition("Hint:")[2]
        for check in result.checks
        if check.status != "passed" and "Hint:" in check.message
    ]


def test_the_public_and_hidden_checks_share_one_module_of_mistakes() -> None:
    public, hidden = checks("exercise11_public"), checks("exercise11_hidden")
    assert public.mistakes is hidden.mistakes
    assert public.mistakes.__file__.endswith("_exercise11_mistakes.py")
    assert not hasattr(hidden, "Model") and not hasattr(public, "Model")
    assert public.TANH == public.mistakes.TANH and public.POW == public.mistakes.POW


@pytest.mark.parametrize("flip", [False, True])
def test_the_probes_tell_every_kind_of_mistake_from_the_others(flip: bool) -> None:
    """A Value that makes exactly one kind's mistake is diagnosed as that kind, and no other;
    the lesson's Value as none."""
    mistakes = checks("exercise11_public").mistakes

    def student(kind: str | None) -> types.SimpleNamespace:
        return types.SimpleNamespace(Value=lambda value: mistakes.Model(value, (), kind, flip))

    assert mistakes.diagnose(student(None)) is None
    for kind in mistakes.KINDS:
        assert mistakes.diagnose(student(kind)) == kind


ADD = """
    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
{}

        out._backward = _backward
        return out
"""
MUL = """
    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
{}

        out._backward = _backward
        return out
"""
POW = """
    def __pow__(self, n):
        out = Value(self.data ** n, (self,), "pow")

        def _backward():
{}

        out._backward = _backward
        return out
"""
TANH = """
    def tanh(self):
        x = self.data
        e = math.exp(2 * x)
        out = Value((e - 1) / (e + 1), (self,), "tanh")

        def _backward():
{}

        out._backward = _backward
        return out
"""
ORDER = """
    def backward(self):
        topo, visited, stack = [], set(), [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                topo.append(node)
            elif node not in visited:
                visited.add(node)
                stack.append((node, True))
                for child in node._prev:
                    stack.append((child, False))
{}
"""
INIT = """
    def __init__(self, data, children=(), op=""):
        self.data = float(data)
        self.grad = {}
        self._backward = lambda: None
        self._prev = tuple(children)
        self._op = op
"""


def body(*lines: str, indent: int = 12) -> str:
    return "\n".join(" " * indent + line for line in lines)


# (what the student wrote, the check, words its message must hold; every hint given holds them)
CASES = [
    (
        "a + b: both grads assigned at once",
        ADD.format(body("self.grad, other.grad = out.grad, out.grad")),
        "random_expressions_match_reference",
        "use += so that the shares add up",
    ),
    (
        "a + b: a constant 1 for the upstream grad",
        ADD.format(body("self.grad += 1.0", "other.grad += 1.0")),
        "gradients_accumulate",
        "__add__'s _backward leaves out out.grad",
    ),
    (
        "a + b: out.data for out.grad",
        ADD.format(body("self.grad += out.data", "other.grad += out.data")),
        "add_and_multiply",
        "__add__'s _backward multiplies by out.data",
    ),
    (
        "a + b: the left operand forgotten",
        ADD.format(body("other.grad += out.grad")),
        "add_and_multiply",
        "__add__'s _backward gives self.grad nothing",
    ),
    (
        "a + b: the right operand forgotten",
        ADD.format(body("self.grad += 1 * out.grad")),
        "add_and_multiply",
        "__add__'s _backward gives other.grad nothing",
    ),
    (
        "a·b: each factor's own value, in a loop",
        MUL.format(body("for v in (self, other):", "    v.grad += v.data * out.grad")),
        "add_and_multiply",
        "__mul__'s _backward swaps them",
    ),
    (
        "a·b: assigned",
        MUL.format(body("self.grad = out.grad * other.data", "other.grad = out.grad * self.data")),
        "add_and_multiply",
        "__mul__'s _backward sets a child's grad with =",
    ),
    (
        "a·b: no upstream grad",
        MUL.format(body("self.grad += other.data * 1.0", "other.grad += self.data * 1.0")),
        "deep_chain_does_not_recurse",
        "__mul__'s _backward leaves out out.grad",
    ),
    (
        "a·b: out.data for out.grad",
        MUL.format(
            body("self.grad += other.data * out.data", "other.grad += self.data * out.data")
        ),
        "add_and_multiply",
        "__mul__'s _backward multiplies by out.data",
    ),
    (
        "a·b: self.grad for out.grad",
        MUL.format(
            body("self.grad += other.data * self.grad", "other.grad += self.data * self.grad")
        ),
        "add_and_multiply",
        "__mul__'s _backward multiplies by self.grad, the operand's own grad",
    ),
    (
        "a + b: each operand's own grad for out.grad",
        ADD.format(body("for v in (self, other):", "    v.grad += v.grad")),
        "gradients_accumulate",
        "__add__'s _backward multiplies each operand's share by its own grad",
    ),
    (
        "a·b: the local derivative 1",
        MUL.format(body("self.grad += 1 * out.grad", "other.grad += 1 * out.grad")),
        "add_and_multiply",
        "a·b passes out.grad back unchanged",
    ),
    (
        "a·b: the other factor's grad for its data",
        MUL.format(
            body("self.grad += other.grad * out.grad", "other.grad += self.grad * out.grad")
        ),
        "add_and_multiply",
        "multiplies by the other factor's grad",
    ),
    (
        "a·b: the right factor forgotten",
        MUL.format(body("self.grad += other.data * out.grad")),
        "add_and_multiply",
        "__mul__'s _backward gives other.grad nothing",
    ),
    (
        "a·b: the left factor forgotten",
        MUL.format(body("other.grad += self.data * out.grad")),
        "add_and_multiply",
        "__mul__'s _backward gives self.grad nothing",
    ),
    (
        "a·b: the closure never stored",
        MUL.format(body("self.grad += other.data * out.grad")).replace(
            "        out._backward = _backward\n", ""
        ),
        "add_and_multiply",
        "the result of a·b (__mul__) passes nothing back",
    ),
    (
        "a·b: no children",
        MUL.format(
            body("self.grad += other.data * out.grad", "other.grad += self.data * out.grad")
        ).replace(', (self, other), "*")', ")"),
        "backward_against_finite_differences",
        "the result of a·b (__mul__) has no children",
    ),
    (
        "x ** n: the exponent kept",
        POW.format(body("self.grad += n * (self.data ** n) * out.grad")),
        "power_and_tanh",
        "__pow__'s _backward keeps the exponent n",
    ),
    (
        "x ** n: no factor n",
        POW.format(body("self.grad += (self.data ** (n - 1)) * out.grad")),
        "power_and_tanh",
        "leaves out the factor n in front",
    ),
    (
        "x ** n: n·x ** n - 1",
        POW.format(body("local = n * self.data ** n - 1", "self.grad += local * out.grad")),
        "power_and_tanh",
        "put parentheses around the exponent",
    ),
    (
        "x ** n: out.grad · n·x ** n - 1",
        POW.format(body("self.grad += out.grad * n * self.data ** n - 1")),
        "backward_against_finite_differences",
        "computes out.grad·n·x ** n - 1",
    ),
    (
        "x ** n: no upstream grad",
        POW.format(body("self.grad += n * self.data ** (n - 1)")),
        "backward_against_finite_differences",
        "__pow__'s _backward leaves out out.grad",
    ),
    (
        "x ** n: assigned",
        POW.format(body("self.grad = n * self.data ** (n - 1) * out.grad")),
        "backward_against_finite_differences",
        "__pow__'s _backward sets a child's grad with =",
    ),
    (
        "tanh: 1 - out.data",
        TANH.format(body("self.grad += (1 - out.data) * out.grad")),
        "power_and_tanh",
        "tanh's _backward uses 1 - t:",
    ),
    (
        "tanh: the sign flipped",
        TANH.format(body("self.grad -= (1 - out.data ** 2) * out.grad")),
        "power_and_tanh",
        "uses t² - 1, the sign flipped",
    ),
    (
        "tanh: the sigmoid's derivative",
        TANH.format(body("s = out.data", "self.grad += s * (1 - s) * out.grad")),
        "power_and_tanh",
        "the sigmoid's derivative",
    ),
    (
        "tanh: sech",
        TANH.format(body("self.grad += out.grad / math.cosh(x)")),
        "power_and_tanh",
        "uses sech z = 1/cosh z",
    ),
    (
        "tanh: (1 - t)²",
        TANH.format(body("self.grad += (1 - out.data) * (1 - out.data) * out.grad")),
        "power_and_tanh",
        "squares 1 - t",
    ),
    (
        "tanh: 1 + t²",
        TANH.format(body("self.grad += (1 + out.data**2) * out.grad")),
        "power_and_tanh",
        "uses 1 + t²",
    ),
    (
        "tanh: 1 - t² · out.grad",
        TANH.format(body("self.grad += 1 - out.data**2 * out.grad")),
        "backward_against_finite_differences",
        "computes 1 - t²·out.grad: * binds before -",
    ),
    (
        "tanh: out.grad · 1 - t²",
        TANH.format(body("self.grad += out.grad * 1 - out.data**2")),
        "backward_against_finite_differences",
        "computes out.grad·1 - t²",
    ),
    (
        "tanh: no upstream grad",
        TANH.format(body("self.grad += 1 - out.data**2")),
        "backward_against_finite_differences",
        "tanh's _backward leaves out out.grad",
    ),
    (
        "tanh: self.grad for out.grad",
        TANH.format(body("self.grad += (1 - out.data**2) * self.grad")),
        "backward_against_finite_differences",
        "tanh's _backward multiplies by self.grad",
    ),
    (
        "tanh: no child",
        TANH.format(body("self.grad += (1 - out.data**2) * out.grad")).replace(
            ', (self,), "tanh")', ")"
        ),
        "backward_against_finite_differences",
        "the result of tanh(x) (tanh) has no children",
    ),
    (
        "backward: no seed",
        ORDER.format(body("for node in reversed(topo):", "    node._backward()", indent=8)),
        "add_and_multiply",
        "must set the seed self.grad = 1.0",
    ),
    (
        "backward: the seed after the loop",
        ORDER.format(
            body("for node in topo[::-1]:", "    node._backward()", "self.grad = 1", indent=8)
        ),
        "power_and_tanh",
        "set the seed self.grad = 1.0 first, then call",
    ),
    (
        "backward: the closures named, not called",
        ORDER.format(
            body("self.grad = 1.0", "for node in reversed(topo):", "    node._backward", indent=8)
        ),
        "backward_against_finite_differences",
        "or were never called",
    ),
    (
        "backward: leaves first",
        ORDER.format(
            body("self.grad = 1.0", "for node in topo:", "    node._backward()", indent=8)
        ),
        "backward_against_finite_differences",
        "reverse topological order, from the output down",
    ),
    (
        "backward: every node seeded",
        ORDER.format(
            body(
                "for node in reversed(topo):", "    node.grad = 1", "    node._backward()", indent=8
            )
        ),
        "power_and_tanh",
        "set the seed self.grad = 1.0 once, on the output only",
    ),
    (
        "backward: pre-order",
        """
    def backward(self):
        order, seen, todo = [], set(), [self]
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                order.append(node)
                todo.extend(node._prev)
        self.grad = 1.0
        for node in order:
            node._backward()
""",
        "gradients_accumulate",
        "topological order",
    ),
    (
        "-a: its own node, the sign kept",
        """
    def __neg__(self):
        out = Value(-self.data, (self,), "neg")

        def _backward():
            self.grad += 1.0 * out.grad

        out._backward = _backward
        return out
""",
        "backward_against_finite_differences",
        "the derivative of -a is -1",
    ),
    (
        "a - b as b - a",
        "\n    def __sub__(self, other):\n        return other + (-self)\n",
        "backward_against_finite_differences",
        "a - b computes b - a",
    ),
    (
        "a / b on the numbers",
        "\n    def __truediv__(self, other):\n        return Value(self.data / other.data)\n",
        "backward_against_finite_differences",
        "a / b is a new Value made from the numbers only",
    ),
    (
        "every grad starts at 1",
        INIT.format("1.0"),
        "add_and_multiply",
        "every new Value's grad starts at 1",
    ),
    # Errors: named by the operation that raises the same error alone.
    (
        "grad starts as None",
        INIT.format("None"),
        "add_and_multiply",
        "a new Value's grad is None",
    ),
    (
        "a·b reads other.data of a number",
        MUL.format(
            body("self.grad += other.data * out.grad", "other.grad += self.data * out.grad")
        ).replace("        other = other if isinstance(other, Value) else Value(other)\n", ""),
        "deep_chain_does_not_recurse",
        "a·b with a plain number (Value(2.0) * 3) raises",
    ),
    (
        "a·b adds to other.grad of a number",
        """
    def __mul__(self, other):
        k = other.data if isinstance(other, Value) else other
        out = Value(self.data * k, (self,), "*")

        def _backward():
            self.grad += k * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out
""",
        "deep_chain_does_not_recurse",
        "__mul__'s _backward adds to other.grad of the number; wrap it first",
    ),
    (
        "a + b returns a float",
        "\n    def __add__(self, other):\n        return self.data + getattr(other, 'data', 0)\n",
        "add_and_multiply",
        "a + b returns a float, not a new Value",
    ),
    (
        "a + b wraps a Value again",
        ADD.format(body("self.grad += out.grad", "other.grad += out.grad")).replace(
            "other = other if isinstance(other, Value) else Value(other)", "other = Value(other)"
        ),
        "add_and_multiply",
        "__add__ wraps other in a Value even when it is one",
    ),
    (
        "backward: every grad zeroed before its closure",
        ORDER.format(
            body(
                "self.grad = 1.0",
                "for node in reversed(topo):",
                "    node.grad = 0.0",
                "    node._backward()",
                indent=8,
            )
        ),
        "gradients_accumulate",
        "backward() must set the seed self.grad = 1.0",
    ),
    (
        "the closure called when stored",
        ADD.format(body("self.grad += out.grad", "other.grad += out.grad")).replace(
            "out._backward = _backward\n", "out._backward = _backward()\n"
        ),
        "add_and_multiply",
        "assign the function itself, out._backward = _backward, without parentheses",
    ),
]


@pytest.mark.parametrize(("name", "code", "check_id", "words"), CASES, ids=[c[0] for c in CASES])
def test_a_mistake_is_named_where_its_check_fails(
    course: Course, tmp_path: Path, name: str, code: str, check_id: str, words: str
) -> None:
    result = graded(course, tmp_path, code)
    assert result.score < result.max_score
    if check_id in failed(result):
        assert words in message_of(result, check_id), message_of(result, check_id)
    else:  # an earlier check charged the mistake: this one met it again and noted it
        assert any(words in note and "charged in" in note for note in result.notes)
    # Every hint given names the same mistake: in these words, or (for = in place of +=) the
    # words the graph checks of + have always used.
    given = hints(result)
    assert all(words in hint or "use +=, not =" in hint for hint in given), given


def test_a_missing_reverse_operator_is_named_where_the_student_s_code_uses_it(
    course: Course, tmp_path: Path
) -> None:
    """-a written as -1 * self needs __rmul__: with it gone, 3 * Value(2.0) raises the same."""
    result = graded(
        course,
        tmp_path,
        "\n    def __neg__(self):\n        return -1 * self\n",
        "\n    def __rmul__(self, other):\n        return NotImplemented\n",
    )
    message = message_of(result, "backward_against_finite_differences")
    assert "Python calls the Value's __rmul__; define it" in message


RIGHT = {
    "Kahn's algorithm, tanh from exponentials, a loop in a·b": (
        """
    def backward(self):
        parents = {}
        stack, seen = [self], {self}
        while stack:
            node = stack.pop()
            for child in node._prev:
                parents[child] = parents.get(child, 0) + 1
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        self.grad = 1.0
        ready = [self]
        while ready:
            node = ready.pop()
            node._backward()
            for child in node._prev:
                parents[child] -= 1
                if parents[child] == 0:
                    ready.append(child)
""",
        TANH.format(body("self.grad += (1 - out.data * out.data) * out.grad")),
        MUL.format(
            body(
                "for mine, theirs in ((self, other), (other, self)):",
                "    mine.grad += theirs.data * out.grad",
            )
        ),
    ),
    "children in a set, grads as numpy floats": (
        """
    def __init__(self, data, children=(), op=""):
        import numpy

        self.data = numpy.float64(data)
        self.grad = numpy.float64(0.0)
        self._backward = lambda: None
        self._prev = set(children)
        self._op = op
""",
        POW.format(body("self.grad += out.grad * n * self.data ** (n - 1)")),
    ),
}


@pytest.mark.parametrize("methods", RIGHT.values(), ids=list(RIGHT))
def test_correct_code_gets_full_marks_and_no_hint(
    course: Course, tmp_path: Path, methods: tuple[str, ...]
) -> None:
    result = graded(course, tmp_path, *methods)
    assert result.score == result.max_score
    assert not any(check.message for check in result.checks)


def test_two_mistakes_at_once_are_not_named(course: Course, tmp_path: Path) -> None:
    """a·b swapped and tanh' = 1 - t: neither model mistake gives these numbers, so no check
    names one."""
    result = graded(
        course,
        tmp_path,
        MUL.format(
            body("self.grad += self.data * out.grad", "other.grad += other.data * out.grad")
        ),
        TANH.format(body("self.grad += (1 - out.data) * out.grad")),
    )
    assert result.score < result.max_score
    assert hints(result) == []


@pytest.mark.parametrize(
    "backward",
    [
        "\n    def backward(self):\n        self.grad = 1.0\n",  # no closure ever called
        "\n    def backward(self):\n        self.grad = 0.0\n",  # not even the seed
    ],
)
def test_a_backward_that_reaches_nothing_below_the_output_earns_nothing(
    course: Course, tmp_path: Path, backward: str
) -> None:
    """Its probes show nothing of the operations, so no other check is excused by its charge:
    a Value whose backward does nothing must not keep the points of the checks it fails."""
    result = graded(course, tmp_path, backward)
    assert result.score == 0, [(check.id, check.status) for check in result.checks]


# A + whose result keeps its children but never stores its closure, with a backward() whose
# order is wrong: breadth-first, or a stack walk that visits a node once per path to it.
DETACHED_ADD = """
    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), "+")
"""
WRONG_ORDERS = {
    "breadth-first": """
    def backward(self):
        from collections import deque

        self.grad = 1.0
        queue, seen = deque([self]), {self}
        while queue:
            node = queue.popleft()
            node._backward()
            for child in node._prev:
                if child not in seen:
                    seen.add(child)
                    queue.append(child)
""",
    "a stack walk without a visited set": """
    def backward(self):
        self.grad = 1.0
        stack = [self]
        while stack:
            node = stack.pop()
            node._backward()
            stack.extend(node._prev)
""",
}


@pytest.mark.parametrize("backward", WRONG_ORDERS.values(), ids=list(WRONG_ORDERS))
def test_a_detached_add_with_a_wrong_order_is_two_mistakes_not_one(
    course: Course, tmp_path: Path, backward: str
) -> None:
    """Every graph of + shows nothing of the order when + passes nothing back: probes without +
    show it, so no single mistake is diagnosed (no hint, none of another mistake), and the
    order's own check fails as it does for the wrong order alone."""
    result = graded(course, tmp_path, DETACHED_ADD, backward)
    assert hints(result) == []
    assert not result.notes, result.notes
    assert "gradients_accumulate" in failed(result)
    alone = graded(course, tmp_path, backward)
    assert failed(alone) <= failed(result)


def test_a_backward_that_follows_each_node_s_first_child_is_not_told_to_use_plus_equals(
    course: Course, tmp_path: Path
) -> None:
    """Its grads on one graph are those of = for +=, but not on the others (a = Value(1);
    b = a + a; c = b + b gives 4): a hint must fit every graph the check read."""
    result = graded(
        course,
        tmp_path,
        """
    def backward(self):
        self.grad = 1.0
        node = self
        while True:
            node._backward()
            if not node._prev:
                break
            node = node._prev[0]
""",
    )
    assert "gradients_accumulate" in failed(result)
    assert not any("+=" in hint for hint in hints(result)), hints(result)
    assert hints(result) == []


def test_an_excused_mistake_does_not_skip_the_check_s_other_comparisons(
    course: Course, tmp_path: Path
) -> None:
    """Every grad starts at 1 (charged in add_and_multiply), and backward() drops all but 100
    nodes of its order, which no probe is large enough to show. gradients_accumulate's first
    comparison shows the charged mistake alone; its 200-deep chain shows the other one, and must
    still be compared: the check fails, and names neither mistake (it is not one of them alone)."""
    result = graded(
        course,
        tmp_path,
        INIT.format("1.0"),
        """
    def backward(self):
        topo, visited, stack = [], set(), [(self, False)]
        while stack and len(topo) < 100:  # a guard against a graph that never ends
            node, expanded = stack.pop()
            if expanded:
                topo.append(node)
            elif node not in visited:
                visited.add(node)
                stack.append((node, True))
                for child in node._prev:
                    stack.append((child, False))
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()
""",
    )
    assert {"add_and_multiply", "gradients_accumulate"} <= failed(result)
    assert "Hint:" not in message_of(result, "gradients_accumulate")


def test_an_excuse_holds_only_if_every_number_the_check_read_is_the_mistake_s() -> None:
    """A comparison excused as a mistake charged earlier lets the check go on; at its end every
    number it read, after the excuse too, must be what that mistake's Model gives, else the check
    fails (a later number right where the mistake gives another is not that mistake alone)."""
    from grader.check_outcome import CheckFailed, CheckRecord, fail, recording

    mistakes = checks("exercise11_public").mistakes
    student = types.SimpleNamespace(Value=lambda v: mistakes.Model(v, (), "init-grad-one"))

    def product(make):  # type: ignore[no-untyped-def]
        a = make(2.0)
        return a * make(3.0), [a]

    def grad_of_a(out, leaves):  # type: ignore[no-untyped-def]
        return [leaves[0].grad]

    def graded_check(later: list[float]) -> CheckRecord:
        record = CheckRecord(charged={("Value", "init-grad-one"): "an earlier check"})
        with recording(record), mistakes.naming(mistakes.Seen(student)) as seen:
            seen.add(product, grad_of_a, [4.0])  # the Model's: 1 from __init__, 3 from a·b
            with mistakes.comparing(seen):
                fail("a.grad: expected 3, got 4")
            seen.add(product, grad_of_a, later)
        return record

    assert len(graded_check([4.0]).repeats) == 1  # the mistake alone: noted, the check goes on
    with pytest.raises(CheckFailed, match="something else is wrong too"):
        graded_check([3.0])
