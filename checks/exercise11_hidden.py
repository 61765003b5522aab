"""Hidden checks for exercise 11: a 2,000-deep chain (no recursion limit), and random expressions
against the reference Value."""

from grader.checks import check, expect_close, expect_number, fail
from grader.student_code.errors import StudentRaised

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
                f"{error}. Hint: build the topological order with a loop and an explicit "
                "stack, not a recursive function"
            )
        raise
    expect_close(
        expect_number(x.grad, "x.grad"),
        1.0001**DEPTH,
        f"x.grad after {DEPTH:,} multiplications by 1.0001",
        rtol=1e-9,
    )


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
                nodes.append(
                    apply(operation, nodes[left], nodes[right], lambda value: value.tanh())
                )
            nodes[-1].backward()
            results.append((nodes[-1].data, [node.grad for node in nodes[:3]]))
        (data, grads), (expected_data, expected_grads) = results
        call = f"an expression of {len(plan)} operations on {values}"
        expect_close(expect_number(data, call), expected_data, call, rtol=1e-10, atol=1e-12)
        for name, got, want in zip("abc", grads, expected_grads, strict=True):
            expect_close(
                expect_number(got, f"{name}.grad"),
                want,
                f"{call}: {name}.grad",
                rtol=1e-9,
                atol=1e-12,
            )
