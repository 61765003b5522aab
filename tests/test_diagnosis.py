"""A failing check names the mistake: numpy's shape errors explained by the operands' shapes, the
sub-expression that raised, and what would fit; messages in two lines, what is wrong and a hint."""

from __future__ import annotations

import linecache
from pathlib import Path

import pytest

from grader.course import Course
from grader.shape_clues import called_from, shape_clue
from grader.student_code.shape_words import explain
from grader.wire import Operand, ShapeClue
from tests.helpers import grade_text, message_of, solution_text, with_function

FILENAME = "<submission>"


def raised(code: str, call: str) -> BaseException:
    """The exception ``call`` raises after ``code`` ran as the submission ``FILENAME``."""
    linecache.cache[FILENAME] = (len(code), None, code.splitlines(True), FILENAME)
    namespace: dict = {}
    exec(compile(code, FILENAME, "exec"), namespace)
    with pytest.raises(Exception) as caught:
        eval(call, namespace)
    return caught.value


BACKWARD = """
import numpy as np
def backward(dout, x, W):
    return dout @ W.T, dout @ x.T
"""


def test_the_product_that_raised_is_found_on_a_line_of_two_products() -> None:
    error = raised(BACKWARD, "backward(np.ones((4, 3)), np.ones((4, 5)), np.ones((5, 3)))")
    clue = shape_clue(error, FILENAME)
    assert clue == ShapeClue("dout @ x.T", "@", [Operand("dout", [4, 3]), Operand("x.T", [5, 4])])


def test_an_operand_that_is_a_call_is_not_run_again() -> None:
    code = """
import numpy as np
calls = []
def make():
    calls.append(1)
    return np.ones((2, 2))
def f(a):
    return a @ make()
"""
    linecache.cache[FILENAME] = (len(code), None, code.splitlines(True), FILENAME)
    namespace: dict = {}
    exec(compile(code, FILENAME, "exec"), namespace)
    with pytest.raises(ValueError) as caught:
        namespace["f"](namespace["np"].ones((3, 3)))
    clue = shape_clue(caught.value, FILENAME)
    assert clue is not None and clue.operands == [Operand("a", [3, 3]), Operand("make()", None)]
    assert namespace["calls"] == [1]


def test_a_broadcast_error_names_both_shapes() -> None:
    code = "import numpy as np\ndef f(a, b):\n    total = a.sum(axis=0) + b\n    return total\n"
    error = raised(code, "f(np.ones((4, 3)), np.ones(4))")
    clue = shape_clue(error, FILENAME)
    assert clue is not None
    what, todo = explain(clue) or ("", "")
    assert "a.sum(axis=0) + b" in what and "(3,)" in what and "(4,)" in what
    assert "broadcast" in what and "from the last axis back" in todo


def test_an_error_in_a_helper_says_where_the_helper_was_called_from() -> None:
    code = (
        "import numpy as np\n"
        "def helper(a, b):\n"
        "    return a * b\n"
        "def backward(x):\n"
        "    return helper(x, np.ones(7))\n"
    )
    error = raised(code, "backward(np.ones(3))")
    place = called_from(error, FILENAME)
    assert place is not None and place.line == 5 and place.code == "return helper(x, np.ones(7))"


def test_no_clue_for_errors_that_are_not_about_arrays() -> None:
    error = raised("def f(x):\n    return int(x)\n", "f('three')")
    assert shape_clue(error, FILENAME) is None
    # sizes that agree explain nothing: the error was about something else
    assert explain(ShapeClue("a @ b", "@", [Operand("a", [2, 3]), Operand("b", [3, 4])])) is None


def test_a_product_in_the_wrong_order_is_named_in_the_report(
    course: Course, tmp_path: Path
) -> None:
    wrong = with_function(
        solution_text(course, "exercise7"),
        "def linear_backward(dout, cache):\n"
        "    x, W, b = cache\n"
        "    dx = dout @ W.T\n"
        "    dW = dout @ x.T\n"
        "    db = dout.sum(axis=0)\n"
        "    return dx, dW, db\n",
    )
    result = grade_text(course, "exercise7", wrong, tmp_path)
    text = message_of(result, "linear_backward_by_finite_differences")
    what, todo = text.split("\n")
    assert what.startswith("linear_backward raised ValueError (line ")
    assert "`dout @ x.T` multiplies dout (4, 3) by x.T (5, 4)" in what
    assert "gufunc" not in text
    assert todo.startswith("(n, k) @ (k, m) gives (n, m): compare these shapes")


def test_a_hint_is_the_message_s_second_line(course: Course, tmp_path: Path) -> None:
    uphill = with_function(
        solution_text(course, "exercise4"),
        "def gradient_step(x, grad, rate):\n    return x + rate * grad\n",
    )
    result = grade_text(course, "exercise4", uphill, tmp_path)
    what, hint = message_of(result, "gradient_step").split("\n")
    assert what.startswith("gradient_step(") and "expected" in what
    assert hint.startswith("Hint: you stepped uphill")
