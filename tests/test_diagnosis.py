"""A failing check names the mistake: numpy's shape errors explained by the operands' shapes, the
sub-expression that raised, and what would fit; messages in two lines, what is wrong and a hint."""

from __future__ import annotations

import linecache
import warnings
from pathlib import Path

import numpy as np
import pytest

from grader.course import Course
from grader.results import CheckResult, ExerciseResult
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


def graded_with(course: Course, exercise_id: str, code: str, folder: Path) -> ExerciseResult:
    """``exercise_id``'s reference solution graded with the function in ``code`` swapped in."""
    return grade_text(
        course, exercise_id, with_function(solution_text(course, exercise_id), code), folder
    )


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


def test_an_array_subclass_s_own_code_is_not_run_again() -> None:
    code = """
import numpy as np
calls = []
class Sneaky(np.ndarray):
    @property
    def T(self):
        calls.append(1)
        return np.asarray(self).T
def f(a):
    return a.T @ np.ones((5, 2))
"""
    linecache.cache[FILENAME] = (len(code), None, code.splitlines(True), FILENAME)
    namespace: dict = {}
    exec(compile(code, FILENAME, "exec"), namespace)
    with pytest.raises(ValueError) as caught:
        namespace["f"](np.ones((3, 4)).view(namespace["Sneaky"]))
    assert shape_clue(caught.value, FILENAME) == ShapeClue(
        "a.T @ np.ones((5, 2))", "@", [Operand("a.T", None), Operand("np.ones((5, 2))", [5, 2])]
    )
    assert namespace["calls"] == [1]


def test_a_broadcast_error_names_both_shapes() -> None:
    code = "import numpy as np\ndef f(a, b):\n    total = a.sum(axis=0) + b\n    return total\n"
    error = raised(code, "f(np.ones((4, 3)), np.ones(4))")
    clue = shape_clue(error, FILENAME)
    assert clue is not None
    what, todo = explain(clue) or ("", "")
    assert "a.sum(axis=0) + b" in what and "(3,)" in what and "(4,)" in what
    assert "broadcast" in what and "from the last axis back" in todo


@pytest.mark.parametrize(
    "reduction", ["scores.max(axis=1)", "np.sum(scores, axis=-1)", "scores.mean(axis = 1)"]
)
def test_a_reduction_that_dropped_its_axis_is_told_keepdims(reduction: str) -> None:
    code = f"import numpy as np\ndef f(scores):\n    return scores - {reduction}\n"
    clue = shape_clue(raised(code, "f(np.ones((3, 4)))"), FILENAME)
    assert clue is not None
    what, todo = explain(clue) or ("", "")
    assert "(3, 4)" in what and "(3,)" in what
    assert "keepdims=True keeps it as (3, 1)" in todo


@pytest.mark.parametrize(
    ("code", "call"),
    [
        # The same shapes, but not a reduction of the last axis: nothing says keepdims.
        ("def f(scores, labels):\n    return scores - labels\n", "f(np.ones((3, 4)), np.ones(3))"),
        (
            "def f(scores):\n    return scores - scores.max(axis=0)[:3]\n",
            "f(np.ones((3, 4)))",
        ),
    ],
)
def test_other_broadcast_errors_are_not_told_keepdims(code: str, call: str) -> None:
    clue = shape_clue(raised("import numpy as np\n" + code, call), FILENAME)
    assert clue is not None
    what, todo = explain(clue) or ("", "")
    assert "broadcast" in what and "keepdims" not in todo


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


def test_a_named_mistake_that_gives_the_right_answer_here_is_not_named() -> None:
    from grader.hints import hint_for

    # -sin(x² - 1) without its inner derivative is 0 at x = 1, as the right answer is
    assert hint_for(-2e-10, -0.0, {"the inner derivative is missing": 0.0}) is None
    assert hint_for(0.5, 1.0, {"halved": 0.5}) == "halved"


@pytest.mark.parametrize(
    ("shape", "got", "says"),
    [
        ((3, 1), (3,), "lacks a dimension of size 1"),
        ((3,), (3, 1), "extra dimension of size 1"),
        ((1, 2), (2,), "the axis of size 1 at the front is missing"),
        ((2, 3), (3, 2), "transposed"),
    ],
)
def test_a_shape_off_by_an_axis_of_size_1_says_which_way(
    shape: tuple[int, ...], got: tuple[int, ...], says: str
) -> None:
    from grader.check_outcome import CheckFailed
    from grader.checks import expect_array

    with pytest.raises(CheckFailed) as caught:
        expect_array(np.zeros(got), "f(x)", shape)
    assert says in str(caught.value).split("\n")[1]


def test_a_sum_that_gives_the_right_operand_nothing_is_not_told_to_accumulate(
    course: Course, tmp_path: Path
) -> None:
    """Exercise 11: in c = a·b + a, a lost grad looks like `=` for `+=`; when a + b alone is
    already wrong (b gets nothing) that hint would mislead, and none is given."""
    from tests.helpers import with_method

    only_self = """
    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad

        out._backward = _backward
        return out
"""
    result = grade_text(
        course, "exercise11", with_method(solution_text(course, "exercise11"), only_self), tmp_path
    )
    assert result.score < result.max_score
    assert not any("+=" in check.message for check in result.checks if check.status != "passed")


def _check(id_: str, score: float, message: str = "") -> CheckResult:
    from grader.results import CheckResult

    status = "passed" if not message else "failed"
    return CheckResult(id_, f"{id_} works", score, 2.0, status, False, message)  # type: ignore[arg-type]


def test_the_same_failure_in_several_checks_is_told_once() -> None:
    from grader.reports.terminal import render
    from grader.results import ExerciseResult

    error = "f raised ValueError (line {}): `a @ b` multiplies a ({}, 3) by b (5, 4)\nrule"
    result = ExerciseResult(
        "exercise7",
        "The linear layer",
        8.0,
        None,
        [
            _check("one", 0, error.format(4, 4)),
            _check("two", 2),
            _check("three", 0, error.format(4, 1)),
            _check("four", 0, "g(x): expected 1, got 2."),
            _check("five", 0, "g(x): expected 1, got 3."),
        ],
    )
    text = render(result)
    assert text.count("multiplies") == 1 and "(the same in 1 more check)" in text
    assert text.count("the same as above") == 1
    # bare mismatches may have different causes: each keeps its own message
    assert "got 2." in text and "got 3." in text


def test_grade_all_ends_with_what_to_fix_first_then_the_total() -> None:
    from grader.reports.terminal import render
    from grader.results import CourseResult, ExerciseResult

    small = ExerciseResult("exercise1", "One", 2.0, None, [_check("a", 1, "a(1): expected 1.")])
    large = ExerciseResult("exercise2", "Two", 2.0, None, [_check("b", 0, "b(2): expected 2.")])
    full = ExerciseResult("exercise3", "Three", 2.0, None, [_check("c", 2)])
    lines = render(CourseResult([small, large, full])).splitlines()
    first = lines.index("Fix first:")
    assert lines[first + 1 : first + 3] == [
        "  exercise2 (-2): b(2): expected 2.",
        "  exercise1 (-1): a(1): expected 1.",
    ]
    assert lines[-1] == "Total 3/6"


def test_counts_read_as_english() -> None:
    from grader.checks import describe
    from grader.submission import _functions

    assert [_functions(n) for n in (0, 1, 4)] == [
        "no function is",
        "1 of its functions is",
        "4 of its functions are",
    ]
    assert describe([1.0]) == "a list of 1 item" and describe([1.0, 2.0]) == "a list of 2 items"


def test_float32_arithmetic_is_named_and_float64_rounding_is_not() -> None:
    from grader.hints import FLOAT32, hint_for

    expected = np.array([0.1234567891, -2.718281828, 3.14159265358])
    assert hint_for(expected.astype(np.float32).astype(np.float64), expected) == FLOAT32
    assert hint_for(expected * (1 + 1e-9), expected) is None
    # round numbers float32 holds exactly: nothing to tell
    assert hint_for(np.array([1.5, 2.0]), np.array([1.5, 2.25])) is None


@pytest.mark.parametrize(
    ("draw", "says"),
    [
        ("rng.normal(0.0, 1.0 / n_in, size=(n_in, n_out))", "1 / n_in is the variance"),
        ("rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))", "He's"),
        ("rng.normal(0.0, 1.0 / np.sqrt(n_out), size=(n_in, n_out))", "the layer feeding it"),
    ],
)
def test_an_initialisation_drawn_at_another_scale_is_named(
    course: Course, tmp_path: Path, draw: str, says: str
) -> None:
    code = (
        "def init_network(layer_sizes, seed):\n"
        "    rng = np.random.default_rng(seed)\n"
        "    params = {}\n"
        "    for k in range(1, len(layer_sizes)):\n"
        "        n_in, n_out = layer_sizes[k - 1], layer_sizes[k]\n"
        f"        params['W' + str(k)] = {draw}\n"
        "        params['b' + str(k)] = np.zeros(n_out)\n"
        "    return params\n"
    )
    result = graded_with(course, "exercise5", code, tmp_path)
    assert says in message_of(result, "init_network")


@pytest.mark.parametrize(
    ("returned", "says"),
    [
        ("return dout @ W.T, x.T @ dout, dout.sum(axis=1)", "its first axis"),
        ("return x.T @ dout, dout @ W.T, dout.sum(axis=0)", "in the order (dx, dW, db)"),
    ],
)
def test_linear_backward_s_order_and_db_s_axis_are_named(
    course: Course, tmp_path: Path, returned: str, says: str
) -> None:
    code = f"def linear_backward(dout, cache):\n    x, W, b = cache\n    {returned}\n"
    result = graded_with(course, "exercise7", code, tmp_path)
    assert says in message_of(result, "linear_backward_by_finite_differences")


def test_a_worker_s_clue_is_held_to_short_code() -> None:
    import msgspec

    from grader.wire import Raised

    long = Raised(
        kind="raised",
        message="ValueError: x",
        clue=ShapeClue("a" * 5000, "@", [Operand("a", [2, 3])]),
    )
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(msgspec.json.encode(long), type=Raised)


def test_a_reshape_error_keeps_numpy_s_words_and_adds_the_shape(
    course: Course, tmp_path: Path
) -> None:
    code = (
        "def linear_forward(x, W, b):\n"
        "    flat = x.reshape(7)\n"
        "    return flat @ W + b, (x, W, b)\n"
    )
    result = graded_with(course, "exercise7", code, tmp_path)
    what, todo = message_of(result, "linear_forward").split("\n")
    assert "cannot reshape array of size 20 into shape (7,)" in what
    assert "`x.reshape(7)`: x has shape (4, 5), 20 entries" in what
    assert "multiply to 20" in todo


@pytest.mark.parametrize(
    ("step", "says"),
    [
        ("params[key] - grads[key]", "the rate is left out"),
        ("params[key] - rate * rate * grads[key]", "the rate is applied twice"),
        (
            "params[key] if key.startswith('b') else params[key] - rate * grads[key]",
            "b1 did not move",
        ),
    ],
)
def test_an_update_that_misuses_the_rate_or_skips_a_parameter_is_named(
    course: Course, tmp_path: Path, step: str, says: str
) -> None:
    code = f"def sgd_update(params, grads, rate):\n    return {{key: {step} for key in params}}\n"
    result = graded_with(course, "exercise10", code, tmp_path)
    assert says in message_of(result, "sgd_update")


def test_a_diverging_answer_prints_no_warning_of_the_checks_arithmetic(
    course: Course, tmp_path: Path
) -> None:
    """Uphill steps overflow to inf in the checks' own arithmetic: the check fails the answer,
    and no numpy warning reaches the student's terminal besides the report."""
    code = "def gradient_step(x, grad, rate):\n    return x * 1e300 + rate * grad * 1e300\n"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = graded_with(course, "exercise4", code, tmp_path)
    assert result.score < result.max_score
    assert [str(warning.message) for warning in caught] == []
