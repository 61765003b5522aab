"""Public checks for exercise 11, a scalar autograd Value: the lesson's small examples, gradients
that accumulate along every path in the order backward() must keep, and backward() against central
differences of the same expression on floats. A named mistake in a local derivative (tanh's,
pow's) is charged once, in the check of that operation: a larger graph whose grads follow it is
not charged again. A failing check says which mistake of the Value it shows where its answers are
the ones that mistake gives, found by small probe graphs (checks/_exercise11_mistakes.py)."""

import functools
import math
from collections import deque
from typing import Any

from grader.checks import check, expect_close, expect_number, fail, shared, with_hint

# The words of each mistake, the model Value that makes it and the probes that find it, shared
# with the hidden checks word for word: the same mistake, named alike and charged once.
mistakes = shared(__file__, "_exercise11_mistakes")
TANH = mistakes.TANH
POW = mistakes.POW
BREADTH_FIRST = mistakes.BREADTH_FIRST
RAN_AGAIN = mistakes.RAN_AGAIN
OVERWRITE = "a Value used more than once kept the grad of one use only: use +=, not ="


def tanh(value: Any) -> Any:
    """tanh of a float, or of a Value (through its method)."""
    return math.tanh(value) if isinstance(value, (int, float)) else value.tanh()


def expression(a: Any, b: Any, c: Any) -> Any:
    """An expression using every operation; it runs on floats and on Values alike."""
    return tanh(a * b + c**2) * a - b / c + 3


def single_uses_right(student):
    """Whether graphs where each Value is used once get the lesson's grads: a + b, a·b, and the
    chains (a + b)·c and a·b + c. Only then can a lost grad in a graph that uses a Value twice
    be `=` for `+=` or the order backward() runs in; otherwise the mistake is elsewhere (a local
    derivative, the upstream grad left out, a backward that stops early) and those hints would
    mislead."""
    try:
        a, b = student.Value(2.0), student.Value(-3.0)
        (a + b).backward()
        p, q = student.Value(2.0), student.Value(-3.0)
        (p * q).backward()
        x, y, z = student.Value(1.5), student.Value(0.5), student.Value(-2.0)
        ((x + y) * z).backward()
        u, v, w = student.Value(1.5), student.Value(0.5), student.Value(-2.0)
        (u * v + w).backward()
        got = [float(node.grad) for node in (a, b, p, q, x, y, z, u, v, w)]
    except Exception:  # a crash is reported by the check itself
        return False
    return close(got, [1.0, 1.0, -3.0, 2.0, -2.0, -2.0, 2.0, 0.5, 1.5, 1.0])


def product_plus(make: Any) -> tuple[Any, list[Any]]:
    """c = a·b + a, the lesson's example."""
    a, b = make(2.0), make(-3.0)
    return a * b + a, [a, b]


def data_only(out: Any, leaves: list[Any]) -> list[Any]:
    return [out.data]


def data_and_leaf_grads(out: Any, leaves: list[Any]) -> list[Any]:
    return [out.data, *(leaf.grad for leaf in leaves)]


def leaf_grads(out: Any, leaves: list[Any]) -> list[Any]:
    return [leaf.grad for leaf in leaves]


@check(points=1)
def test_add_and_multiply(student):
    """c = a·b + a gives c.data = -4 and, after backward, a.grad = b + 1 = -2, b.grad = a = 2."""
    # Each comparison in a block of its own: a mistake charged earlier that one of them shows
    # is noted, and the comparisons after it still run (mistakes.comparing).
    with mistakes.naming(mistakes.Seen(student)) as seen:
        a, b = student.Value(2.0), student.Value(-3.0)
        c = a * b + a
        data = c.data
        seen.add(product_plus, data_only, [data])
        with mistakes.comparing(seen):
            expect_close(expect_number(data, "(a·b + a).data"), -4.0, "(a·b + a).data", rtol=1e-12)
        c.backward()
        grads = [a.grad, b.grad]
        seen.add(product_plus, data_and_leaf_grads, [data, *grads])
        with mistakes.comparing(seen):
            got = expect_number(grads[0], "a.grad")
            expect_close(
                got,
                -2.0,
                "c = a·b + a, after c.backward(): a.grad",
                rtol=1e-12,
                mistakes={
                    "the grad from a's second use is lost: accumulate with +=, don't overwrite": 1.0
                }
                if got != -2.0 and single_uses_right(student)  # probed only for a wrong answer
                else None,
            )
        with mistakes.comparing(seen):
            expect_close(
                expect_number(grads[1], "b.grad"),
                2.0,
                "c = a·b + a, after c.backward(): b.grad",
                rtol=1e-12,
            )


# The graphs below use + between Values only, so that a mistake in another operation costs the
# points of its own check, not these: their grads count the paths from each leaf to the output.


class Node:
    """A Value of the lesson built here, for + only: what backward() gives for a graph, and what
    the known mistakes give, computed without the student's code."""

    def __init__(self, data, children=()):
        self.data = float(data)
        self.children = children

    def __add__(self, other):
        return Node(self.data + other.data, (self, other))


def post_order(out, reverse, visited=True):
    """Every node after its children, by depth-first search (children in their order, or in
    reverse); with ``visited=False`` a node enters once per path to it."""
    order, seen, stack = [], set(), [(out, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
        elif not visited or id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            children = node.children if reverse else node.children[::-1]
            stack.extend((child, False) for child in children)
    return order


def breadth_first(out, reverse, visited=True):
    order, seen, queue = [], {id(out)}, deque([out])
    while queue:
        node = queue.popleft()
        order.append(node)
        for child in node.children[::-1] if reverse else node.children:
            if not visited or id(child) not in seen:
                seen.add(id(child))
                queue.append(child)
    return order


def run(out, order, leaves, overwrite=False):
    """The leaves' grads after out.grad = 1 and each node's _backward called in ``order``;
    ``overwrite``: _backward assigns each child's grad with = instead of adding with +=."""
    grads = {id(out): 1.0}
    for node in order:
        for child in node.children:
            share = grads.get(id(node), 0.0)
            grads[id(child)] = share if overwrite else grads.get(id(child), 0.0) + share
    return [grads.get(id(leaf), 0.0) for leaf in leaves]


def known_mistakes(out, leaves):
    """Hint -> the leaves' grads that mistake gives, for children visited in either order."""
    orders = (False, True)
    return {
        BREADTH_FIRST: [run(out, breadth_first(out, reverse), leaves) for reverse in orders],
        RAN_AGAIN: [
            run(out, order, leaves)
            for reverse in orders
            for order in (
                post_order(out, reverse, visited=False)[::-1],
                breadth_first(out, reverse, visited=False),
            )
        ],
        OVERWRITE: [
            run(out, post_order(out, reverse)[::-1], leaves, overwrite=True) for reverse in orders
        ],
    }


def shorter_path_first(make, swap):
    """a reached from the output directly and through b."""
    x, y = make(0.5), make(2.0)
    a = x + y
    b = a + y
    written = "a = x + y; b = a + y; out = " + ("a + b" if swap else "b + a")
    return (a + b if swap else b + a), [x, y], written


def paths_of_one_and_three(make, swap):
    x, y = make(1.5), make(-0.75)
    a = x + y
    c = (a + x) + y
    written = "a = x + y; c = (a + x) + y; out = " + ("a + c" if swap else "c + a")
    return (a + c if swap else c + a), [x, y], written


def used_three_times(make):
    x, y = make(0.8), make(-1.25)
    s = x + y
    return (s + s) + (s + x), [x, y], "s = x + y; out = (s + s) + (s + x)"


CHAIN = 200


def deep_chain_with_a_skip(make):
    """200 additions of y in a chain, whose first link also feeds the output directly."""
    x, y = make(0.5), make(0.25)
    first = x + y
    link = first
    for _ in range(CHAIN - 1):
        link = link + y
    written = f"first = x + y; a chain of {CHAIN - 1} more + y from it; out = chain + first"
    return link + first, [x, y], written


TERMS = 40


def wide_sum(make):
    """A sum of 40 terms sharing two subexpressions."""
    x, y = make(0.3), make(-0.6)
    s = x + y
    u = s + y
    total = u
    for _ in range(TERMS - 1):
        total = total + (u + s)
    return total, [x, y], f"s = x + y; u = s + y; out = u + {TERMS - 1} terms (u + s)"


GRAPHS = [
    lambda make: shorter_path_first(make, swap=True),
    lambda make: shorter_path_first(make, swap=False),
    lambda make: paths_of_one_and_three(make, swap=True),
    lambda make: paths_of_one_and_three(make, swap=False),
    used_three_times,
    deep_chain_with_a_skip,
    wide_sum,
]


def close(got, want):
    return all(abs(g - w) <= 1e-9 * max(1.0, abs(w)) for g, w in zip(got, want, strict=True))


def graph_failure(student, build, seen=None):
    """(message, hint) when backward() on the graph ``build`` makes gives wrong grads, else None:
    the hint of the one known mistake that gives them on this graph, if one does."""
    message, shown = graph_reading(student, build, seen)
    if message is None:
        return None
    return message, next(iter(shown)) if len(shown) == 1 else None


def graph_reading(student, build, seen=None):
    """What backward() on the graph ``build`` makes gives: (the message saying which grads are
    wrong, or None where all are right; the hints of ``known_mistakes`` whose mistake gives
    these grads). ``seen`` (a mistakes.Seen) records the grads read."""
    out, leaves, written = build(student.Value)
    out.backward()
    names = "xy"[: len(leaves)]
    grads = [leaf.grad for leaf in leaves]
    if seen is not None:
        seen.add(build, leaf_grads, grads)
    got = [
        expect_number(grad, f"{written}; out.backward(); {name}.grad")
        for name, grad in zip(names, grads, strict=True)
    ]
    model, model_leaves, _ = build(Node)
    expected = run(model, post_order(model, reverse=False)[::-1], model_leaves)
    shown = mistakes_giving(got, model, model_leaves)
    if close(got, expected):
        return None, shown
    message = f"{written}; out.backward(): " + ", ".join(
        f"{name}.grad should be {want:.10g}, got {value:.10g}"
        for name, want, value in zip(names, expected, got, strict=True)
    )
    return message, shown


def mistakes_giving(got, model, model_leaves):
    """The hints of ``known_mistakes`` whose mistake gives the leaves' grads ``got``."""
    return {
        hint
        for hint, candidates in known_mistakes(model, model_leaves).items()
        if any(close(got, candidate) for candidate in candidates)
    }


def sums_twice(make: Any) -> tuple[Any, list[Any]]:
    """a = Value(1); b = a + a; c = b + b."""
    a = make(1.0)
    b = a + a
    return b + b, [a]


# What sums_twice's message says of each mistake of the graph checks that gives its a.grad.
SUMS_TWICE_WORDS = {
    OVERWRITE: "each use of a Value adds to its grad: use +=, not =",
    BREADTH_FIRST: BREADTH_FIRST,
    RAN_AGAIN: RAN_AGAIN,
}


@check(points=1)
def test_gradients_accumulate(student):
    """Each grad sums every path to it, each _backward running once after every node built from
    it: a = Value(1); b = a + a; c = b + b gives a.grad == 4, and so do larger graphs."""
    with mistakes.naming(mistakes.Seen(student)) as seen:
        a = student.Value(1.0)
        b = a + a
        c = b + b
        c.backward()
        grad = a.grad
        seen.add(sums_twice, leaf_grads, [grad])
        got = expect_number(grad, "a.grad")
        # Every graph is read before any comparison, so that a mistake charged earlier that one
        # comparison shows cannot keep the others from running (mistakes.comparing).
        readings = [graph_reading(student, build, seen) for build in GRAPHS]
        failures = [message for message, _ in readings if message]

        @functools.cache
        def hint():
            """The one mistake of the graph checks that gives every grad this check read, on
            every graph, right or wrong (asked once, and only of a wrong answer): a hint that
            fits one graph only (a walk that follows each node's first child, say) names no
            mistake the code makes."""
            if not single_uses_right(student):
                return None
            model, model_leaves = sums_twice(Node)
            fitting = set.intersection(
                mistakes_giving([got], model, model_leaves), *(shown for _, shown in readings)
            )
            return next(iter(fitting)) if len(fitting) == 1 else None

        with mistakes.comparing(seen):
            expect_close(
                got,
                4.0,
                "a = Value(1); b = a + a; c = b + b; c.backward(); a.grad",
                rtol=1e-12,
                mistakes={SUMS_TWICE_WORDS[hint()]: got} if got != 4.0 and hint() else None,
            )
        # Every graph is tried; the first wrong one is reported, with the graph checks' hint
        # where one fits (then failed), else as the diagnosed mistake of the Value, if any.
        if failures and hint():
            fail(with_hint(failures[0], hint()))
        if failures:
            with mistakes.comparing(seen):
                fail(failures[0])


def cube(make: Any) -> tuple[Any, list[Any]]:
    x = make(0.7)
    return x**3, [x]


def tanh_of_one(make: Any) -> tuple[Any, list[Any]]:
    z = make(0.3)
    return z.tanh(), [z]


@check(points=1)
def test_power_and_tanh(student):
    """x ** 3 and tanh have the right values and local derivatives."""
    with mistakes.naming(mistakes.Seen(student)) as seen:
        x = student.Value(0.7)
        y = x**3
        y.backward()
        numbers = [y.data, x.grad]
        seen.add(cube, data_and_leaf_grads, numbers)
        with mistakes.comparing(seen):
            expect_close(
                expect_number(numbers[0], "(x ** 3).data"), 0.343, "Value(0.7) ** 3", rtol=1e-12
            )
        with mistakes.comparing(seen):
            expect_close(
                expect_number(numbers[1], "x.grad"),
                3 * 0.49,
                "Value.__pow__: x.grad after (x ** 3).backward()",
                rtol=1e-12,
                mistakes={POW: 3 * 0.7},
            )
        z = student.Value(0.3)
        t = z.tanh()
        t.backward()
        numbers = [t.data, z.grad]
        seen.add(tanh_of_one, data_and_leaf_grads, numbers)
        with mistakes.comparing(seen):
            expect_close(
                expect_number(numbers[0], "tanh(0.3).data"),
                math.tanh(0.3),
                "Value(0.3).tanh()",
                rtol=1e-12,
            )
        with mistakes.comparing(seen):
            expect_close(
                expect_number(numbers[1], "z.grad"),
                1 - math.tanh(0.3) ** 2,
                "Value.tanh: z.grad after Value(0.3).tanh().backward()",
                rtol=1e-12,
                mistakes={TANH: 1 - 0.3**2},
            )


def of_leaves(build: Any, values: list[float]) -> Any:
    """A graph maker for ``mistakes.Seen``: ``build`` applied to leaves holding ``values``."""

    def make_graph(make: Any) -> tuple[Any, list[Any]]:
        leaves = [make(value) for value in values]
        return build(*leaves), leaves

    return make_graph


@check(points=1)
def test_backward_against_finite_differences(student, rng):
    """backward() gives the gradient of tanh(a·b + c²)·a - b/c + 3 that central differences give."""
    values = [float(v) for v in rng.uniform(0.5, 1.5, size=3) * rng.choice([-1, 1], size=3)]
    with mistakes.naming(mistakes.Seen(student)) as seen:
        out, nodes = of_leaves(expression, values)(student.Value)
        out.backward()
        data, grads = out.data, [node.grad for node in nodes]
        seen.add(of_leaves(expression, values), data_and_leaf_grads, [data, *grads])
        call = (
            f"tanh(a·b + c²)·a - b/c + 3 at (a, b, c) = ({', '.join(f'{v:.4g}' for v in values)})"
        )
        with mistakes.comparing(seen):
            expect_close(expect_number(data, call), expression(*values), call, rtol=1e-12)
        step = 6e-6
        follows = mistakes.following(mistakes.local_mistakes(student), values, expression)
        for index, name in enumerate("abc"):
            above = list(values)
            below = list(values)
            above[index] += step
            below[index] -= step
            numeric = (expression(*above) - expression(*below)) / (2 * step)
            with mistakes.comparing(seen):
                expect_close(
                    expect_number(grads[index], f"{name}.grad"),
                    numeric,
                    f"{call}: {name}.grad",
                    rtol=1e-6,
                    atol=1e-8,
                    mistakes={mistake: grads[index] for mistake, grads in follows.items()},
                )
        if not all(isinstance(grad, float) for grad in grads):
            fail(f"{call}: grads should be floats")
