"""Hidden checks for exercise 11: a 2,000-deep chain (no recursion limit), and random expressions
against the reference Value. A named mistake in a local derivative, charged in the public
checks, is not charged again where an expression's grads follow it."""

import math

from grader.checks import answer_or_none, check, expect_close, expect_number, fail, with_hint
from grader.student_code.errors import StudentRaised

# As in the public checks, word for word: the same mistake, charged once.
TANH = ("Value.tanh", "tanh'(z) = 1 - t², with t = tanh(z)")
POW = ("Value.__pow__", "(x ** n)' = n·x ** (n - 1): the exponent drops by one, n·x is not it")

# Twice Python's recursion limit (1,000 frames): a recursive topological sort fails here.
DEPTH = 2000


@check(points=1)
def test_deep_chain_does_not_recurse(student):
    """A chain of 2,000 multiplications backpropagates without hitting the recursion limit."""
    x = student.Value(0.5)
    y = x
    for _ in range(DEPTH):
        y = y * 1.0001
    try:
        y.backward()
    except StudentRaised as error:
        if "RecursionError" in str(error):
            fail(
                with_hint(
                    str(error),
                    "build the topological order with a loop and an explicit stack, not a "
                    "recursive function",
                )
            )
        raise
    expect_close(
        expect_number(x.grad, "x.grad"),
        1.0001**DEPTH,
        f"x.grad after {DEPTH:,} multiplications by 1.0001",
        rtol=1e-9,
    )


class Model:
    """The lesson's Value built here, without the student's code: what backward() gives, with
    the named local-derivative ``mistakes`` a student's Value showed, or with none."""

    def __init__(self, data, children=(), local=(), mistakes=frozenset()):
        self.data = float(data)
        self.grad = 0.0
        self.children = children
        self.local = local
        self.mistakes = mistakes

    def _node(self, data, children, local):
        return Model(data, children, local, self.mistakes)

    def _value(self, other):
        return other if isinstance(other, Model) else Model(other, mistakes=self.mistakes)

    def __add__(self, other):
        other = self._value(other)
        return self._node(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = self._value(other)
        return self._node(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, exponent):
        if POW in self.mistakes:
            local = exponent * self.data
        else:
            local = exponent * self.data ** (exponent - 1)
        return self._node(self.data**exponent, (self,), (local,))

    def tanh(self):
        t = math.tanh(self.data)
        local = 1 - self.data**2 if TANH in self.mistakes else 1 - t**2
        return self._node(t, (self,), (local,))

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node.children)
        self.grad = 1.0
        for node in reversed(order):
            for child, local in zip(node.children, node.local, strict=True):
                child.grad += local * node.grad


def local_mistakes(student):
    """The named local-derivative mistakes the student's Value shows, each on a graph of one
    operation of this check's own: what a larger graph's grads then follow."""

    def shown(build, wrong):
        def grad():
            x = student.Value(build[0])
            build[1](x).backward()
            return x.grad

        got = answer_or_none(grad)
        return isinstance(got, (int, float)) and abs(got - wrong) <= 1e-9 * max(1.0, abs(wrong))

    found = set()
    if shown((0.7, lambda x: x**3), 3 * 0.7):
        found.add(POW)
    if shown((0.3, lambda x: x.tanh()), 1 - 0.3**2):
        found.add(TANH)
    return frozenset(found)


def following(mistakes, values, build):
    """{mistake: the leaves' grads with it} where the student's Value shows exactly one named
    local-derivative mistake; ``build`` makes the graph from leaves (floats or Models)."""
    if len(mistakes) != 1:
        return {}
    leaves = [Model(value, mistakes=mistakes) for value in values]
    build(*leaves).backward()
    (mistake,) = mistakes
    return {mistake: [leaf.grad for leaf in leaves]}


def tanh_of(node):
    return node.tanh()


OPERATIONS = ("add", "mul", "sub", "div", "pow", "tanh", "neg")


def apply(operation, left, right, tanh):
    if operation == "add":
        return left + right
    if operation == "mul":
        return left * right
    if operation == "sub":
        return left - right
    if operation == "div":
        return left / (right * right + 1)
    if operation == "pow":
        return left**2
    if operation == "tanh":
        return tanh(left)
    return -left


@check(points=1)
def test_random_expressions_match_reference(student, solution, rng):
    """Random expressions reusing their inputs give the reference's data and grads."""
    mistakes = local_mistakes(student)
    for _ in range(4):
        values = [float(v) for v in rng.uniform(-1.5, 1.5, size=3)]
        plan = [
            (str(rng.choice(OPERATIONS)), int(rng.integers(0, 3 + k)), int(rng.integers(0, 3 + k)))
            for k in range(8)
        ]
        results = []
        for make in (student.Value, solution.Value):
            nodes = [make(value) for value in values]
            for operation, left, right in plan:
                nodes.append(apply(operation, nodes[left], nodes[right], tanh_of))
            nodes[-1].backward()
            results.append((nodes[-1].data, [node.grad for node in nodes[:3]]))
        (data, grads), (expected_data, expected_grads) = results

        def build(*leaves, plan=plan):
            nodes = list(leaves)
            for operation, left, right in plan:
                nodes.append(apply(operation, nodes[left], nodes[right], tanh_of))
            return nodes[-1]

        follows = following(mistakes, values, build)
        call = f"an expression of {len(plan)} operations on {values}"
        expect_close(expect_number(data, call), expected_data, call, rtol=1e-10, atol=1e-12)
        for index, (name, got, want) in enumerate(zip("abc", grads, expected_grads, strict=True)):
            expect_close(
                expect_number(got, f"{name}.grad"),
                want,
                f"{call}: {name}.grad",
                rtol=1e-9,
                atol=1e-12,
                mistakes={mistake: grads[index] for mistake, grads in follows.items()},
            )
