"""Hidden checks for exercise 11: a 2,000-deep chain (no recursion limit), and random expressions
against the reference Value. A named mistake in a local derivative, charged in the public
checks, is not charged again where an expression's grads follow it. A failing check names the
mistake of the Value it shows in the public checks' words (checks/_exercise11_mistakes.py)."""

from typing import Any

from grader.checks import check, expect_close, expect_number, fail, shared, with_hint
from grader.student_code.errors import StudentRaised

# As in the public checks, word for word: the same mistake, named alike and charged once.
mistakes = shared(__file__, "_exercise11_mistakes")

# Twice Python's recursion limit (1,000 frames): a recursive topological sort fails here.
DEPTH = 2000


def chain(make: Any) -> tuple[Any, list[Any]]:
    """x multiplied by 1.0001, 2,000 times."""
    x = make(0.5)
    y = x
    for _ in range(DEPTH):
        y = y * 1.0001
    return y, [x]


def leaf_grads(out: Any, leaves: list[Any]) -> list[Any]:
    return [leaf.grad for leaf in leaves]


def data_and_leaf_grads(out: Any, leaves: list[Any]) -> list[Any]:
    return [out.data, *(leaf.grad for leaf in leaves)]


@check(points=1)
def test_deep_chain_does_not_recurse(student):
    """A chain of 2,000 multiplications backpropagates without hitting the recursion limit."""
    with mistakes.naming(mistakes.Seen(student)) as seen:
        y, (x,) = chain(student.Value)
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
        grad = x.grad
        seen.add(chain, leaf_grads, [grad])
        with mistakes.comparing(seen):
            expect_close(
                expect_number(grad, "x.grad"),
                1.0001**DEPTH,
                f"x.grad after {DEPTH:,} multiplications by 1.0001",
                rtol=1e-9,
            )


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


def planned(values: list[float], plan: list[tuple[str, int, int]]) -> Any:
    """A graph maker for ``mistakes.Seen``: the expression ``plan`` on leaves holding ``values``."""

    def make_graph(make: Any) -> tuple[Any, list[Any]]:
        nodes = [make(value) for value in values]
        for operation, left, right in plan:
            nodes.append(apply(operation, nodes[left], nodes[right], tanh_of))
        return nodes[-1], nodes[:3]

    return make_graph


@check(points=1)
def test_random_expressions_match_reference(student, solution, rng):
    """Random expressions reusing their inputs give the reference's data and grads."""
    with mistakes.naming(mistakes.Seen(student)) as seen:
        named = mistakes.local_mistakes(student)
        for _ in range(4):
            values = [float(v) for v in rng.uniform(-1.5, 1.5, size=3)]
            plan = [
                (
                    str(rng.choice(OPERATIONS)),
                    int(rng.integers(0, 3 + k)),
                    int(rng.integers(0, 3 + k)),
                )
                for k in range(8)
            ]
            results = []
            for make in (student.Value, solution.Value):
                out, leaves = planned(values, plan)(make)
                out.backward()
                results.append((out.data, [node.grad for node in leaves]))
            (data, grads), (expected_data, expected_grads) = results
            seen.add(planned(values, plan), data_and_leaf_grads, [data, *grads])

            def build(*leaves, plan=plan):
                nodes = list(leaves)
                for operation, left, right in plan:
                    nodes.append(apply(operation, nodes[left], nodes[right], tanh_of))
                return nodes[-1]

            follows = mistakes.following(named, values, build)
            call = f"an expression of {len(plan)} operations on {values}"
            # Each comparison in a block of its own: a mistake charged earlier that one shows
            # is noted, and the later comparisons and expressions still run.
            with mistakes.comparing(seen):
                expect_close(expect_number(data, call), expected_data, call, rtol=1e-10, atol=1e-12)
            for index, (name, got, want) in enumerate(
                zip("abc", grads, expected_grads, strict=True)
            ):
                with mistakes.comparing(seen):
                    expect_close(
                        expect_number(got, f"{name}.grad"),
                        want,
                        f"{call}: {name}.grad",
                        rtol=1e-9,
                        atol=1e-12,
                        mistakes={mistake: grads[index] for mistake, grads in follows.items()},
                    )
