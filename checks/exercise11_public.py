"""Public checks for exercise 11, a scalar autograd Value: the lesson's small examples, gradients
that accumulate, and backward() against central differences of the same expression on floats."""

import math

from grader.checks import check, expect_close, expect_number, fail


def tanh(value):
    """tanh of a float, or of a Value (through its method)."""
    return math.tanh(value) if isinstance(value, (int, float)) else value.tanh()


def expression(a, b, c):
    """An expression using every operation; it runs on floats and on Values alike."""
    return tanh(a * b + c**2) * a - b / c + 3


def data_and_grads(student, values):
    nodes = [student.Value(value) for value in values]
    out = expression(*nodes)
    out.backward()
    return out.data, [node.grad for node in nodes]


@check(points=1)
def test_add_and_multiply(student):
    """c = a·b + a gives c.data = -4 and, after backward, a.grad = b + 1 = -2, b.grad = a = 2."""
    a, b = student.Value(2.0), student.Value(-3.0)
    c = a * b + a
    expect_close(expect_number(c.data, "(a·b + a).data"), -4.0, "(a·b + a).data", rtol=1e-12)
    c.backward()
    expect_close(
        expect_number(a.grad, "a.grad"),
        -2.0,
        "after c.backward(), a.grad",
        rtol=1e-12,
        mistakes={"the grad from a's second use is lost: accumulate with +=, don't overwrite": 1.0},
    )
    expect_close(expect_number(b.grad, "b.grad"), 2.0, "after c.backward(), b.grad", rtol=1e-12)


@check(points=1)
def test_gradients_accumulate(student):
    """a = Value(1); b = a + a; c = b + b; c.backward() gives a.grad == 4."""
    a = student.Value(1.0)
    b = a + a
    c = b + b
    c.backward()
    expect_close(
        expect_number(a.grad, "a.grad"),
        4.0,
        "a = Value(1); b = a + a; c = b + b; c.backward(); a.grad",
        rtol=1e-12,
        mistakes={
            "each use of a Value adds to its grad: use +=, not =": 1.0,
            "each node's _backward must run once, after every node built from it": 2.0,
        },
    )


@check(points=1)
def test_power_and_tanh(student):
    """x ** 3 and tanh have the right values and local derivatives."""
    x = student.Value(0.7)
    y = x**3
    y.backward()
    expect_close(expect_number(y.data, "(x ** 3).data"), 0.343, "Value(0.7) ** 3", rtol=1e-12)
    expect_close(
        expect_number(x.grad, "x.grad"), 3 * 0.49, "x.grad after (x ** 3).backward()", rtol=1e-12
    )
    z = student.Value(0.3)
    t = z.tanh()
    t.backward()
    expect_close(
        expect_number(t.data, "tanh(0.3).data"), math.tanh(0.3), "Value(0.3).tanh()", rtol=1e-12
    )
    expect_close(
        expect_number(z.grad, "z.grad"),
        1 - math.tanh(0.3) ** 2,
        "z.grad after Value(0.3).tanh().backward()",
        rtol=1e-12,
        mistakes={"tanh'(z) = 1 - t², with t = tanh(z)": 1 - 0.3**2},
    )


@check(points=1)
def test_backward_against_finite_differences(student, rng):
    """backward() gives the gradient of tanh(a·b + c²)·a - b/c + 3 that central differences give."""
    values = [float(v) for v in rng.uniform(0.5, 1.5, size=3) * rng.choice([-1, 1], size=3)]
    data, grads = data_and_grads(student, values)
    call = f"tanh(a·b + c²)·a - b/c + 3 at (a, b, c) = ({', '.join(f'{v:.4g}' for v in values)})"
    expect_close(expect_number(data, call), expression(*values), call, rtol=1e-12)
    step = 6e-6
    for index, name in enumerate("abc"):
        above = list(values)
        below = list(values)
        above[index] += step
        below[index] -= step
        numeric = (expression(*above) - expression(*below)) / (2 * step)
        expect_close(
            expect_number(grads[index], f"{name}.grad"),
            numeric,
            f"{call}: {name}.grad",
            rtol=1e-6,
            atol=1e-8,
        )
    if not all(isinstance(grad, float) for grad in grads):
        fail(f"{call}: grads should be floats")
