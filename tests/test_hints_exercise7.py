"""Exercise 7's hints: a wrong linear layer is named by the value its mistake gives at the check's
own point, or, where it raises there, at the square points of checks/_exercise7_mistakes.py
(or by the shapes its error reports); the hidden checks name it in the same words, from the same
module, and a wrong cache costs the forward's points only."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from grader.course import Course
from tests.helpers import REPO, failed, grade_text, message_of, solution_text, with_function

FORWARD = "linear_forward"
FORWARD_HIDDEN = "linear_forward_matches_reference"
BACKWARD = "linear_backward_by_finite_differences"
BACKWARD_HIDDEN = "linear_backward_matches_reference"


def module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / "checks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def graded(course: Course, tmp_path: Path, code: str):
    text = "import numpy as np\n\n" + with_function(solution_text(course, "exercise7"), code)
    return grade_text(course, "exercise7", text, tmp_path)


def test_the_public_and_hidden_checks_share_one_module_of_mistakes() -> None:
    public, hidden = module("exercise7_public"), module("exercise7_hidden")
    assert public.mistakes.__file__ == hidden.mistakes.__file__
    assert Path(public.mistakes.__file__).name == "_exercise7_mistakes.py"
    assert public.NO_BIAS == hidden.NO_BIAS == ("linear_forward", "the bias b is missing")


def backward(body: str) -> str:
    return "def linear_backward(dout, cache):\n    x, W, b = cache\n" + body


# One mistake per submission: each check named holds the words.
CASES = {
    "dW = np.dot(dout, x.T)": (
        backward("    return dout @ W.T, np.dot(dout, x.T), dout.sum(axis=0)\n"),
        {BACKWARD: "this is dout @ x.T, the product in the wrong order", BACKWARD_HIDDEN: "(7, 2)"},
    ),
    "dW = x @ dout": (
        backward("    return dout @ W.T, x @ dout, dout.sum(axis=0)\n"),
        {BACKWARD: "dW must have W's shape (5, 3): this is x @ dout, x without its transpose"},
    ),
    "dW = x.T * dout": (
        backward("    return dout @ W.T, x.T * dout, dout.sum(axis=0)\n"),
        {BACKWARD: "an elementwise product where the matrix product belongs"},
    ),
    "dW from 1-D rows": (
        backward(
            "    dW = np.zeros_like(W)\n    for n in range(len(x)):\n"
            "        dW = dW + x[n] @ dout[n]\n    return dout @ W.T, dW, dout.sum(axis=0)\n"
        ),
        {BACKWARD: "their dot product, one number"},
    ),
    "dW from 1-D rows entry by entry": (
        backward(
            "    dW = np.zeros_like(W)\n    for n in range(len(x)):\n"
            "        dW = dW + np.multiply(x[n], dout[n])\n    return dout @ W.T, dW, dout.sum(0)\n"
        ),
        {BACKWARD: "multiplies two 1-D rows entry by entry"},
    ),
    "dx = dout.dot(W)": (
        backward("    return dout.dot(W), x.T @ dout, dout.sum(axis=0)\n"),
        {BACKWARD: "dx must have x's shape (4, 5): this is dout @ W, W without its transpose"},
    ),
    "dx = W.T @ dout": (
        backward("    return W.T @ dout, x.T @ dout, dout.sum(axis=0)\n"),
        {BACKWARD: "the formula for examples in columns"},
    ),
    "the cache read as (W, x, b)": (
        "def linear_backward(dout, cache):\n    W, x, b = cache\n"
        "    return dout @ W.T, x.T @ dout, dout.sum(axis=0)\n",
        {BACKWARD: "takes the cache as (W, x, b)"},
    ),
    "the cache read as two items": (
        "def linear_backward(dout, cache):\n    x, W = cache\n"
        "    return dout @ W.T, x.T @ dout, dout.sum(axis=0)\n",
        {BACKWARD: "takes the cache as two items (x, W)", BACKWARD_HIDDEN: "two items"},
    ),
    "db summed over every axis": (
        backward("    return dout @ W.T, x.T @ dout, dout.sum()\n"),
        {BACKWARD: "db is one number, the sum of all of dout"},
    ),
    "db not summed": (
        backward("    return dout @ W.T, x.T @ dout, dout.copy()\n"),
        {BACKWARD: "db is dout itself"},
    ),
    "db = 1": (
        backward("    return dout @ W.T, x.T @ dout, np.ones(W.shape[1])\n"),
        {BACKWARD: "db is 1 for every bias", BACKWARD_HIDDEN: "db is 1 for every bias"},
    ),
    "db from the last example": (
        backward("    return dout @ W.T, x.T @ dout, dout[-1]\n"),
        {BACKWARD: "db is one example's dout[n]"},
    ),
    "dW from the last example": (
        backward(
            "    for n in range(len(x)):\n        dW = np.outer(x[n], dout[n])\n"
            "    return dout @ W.T, dW, dout.sum(axis=0)\n"
        ),
        {BACKWARD: "dW is one example's np.outer(x[n], dout[n])"},
    ),
    "dW with weight decay": (
        backward("    return dout @ W.T, x.T @ dout + 0.01 * W, dout.sum(axis=0)\n"),
        {BACKWARD: "an extra term 0.01·W", BACKWARD_HIDDEN: "an extra term 0.01·W"},
    ),
    "dW averaged": (
        backward("    return dout @ W.T, x.T @ dout / len(x), dout.sum(axis=0)\n"),
        {BACKWARD: "dW is divided by N", "linear_backward_large_values": "dW is divided by N"},
    ),
    "dx aliases x": (
        backward(
            "    dx = x\n    dx *= 0\n    dx += dout @ W.T\n"
            "    return dx, x.T @ dout, dout.sum(axis=0)\n"
        ),
        {BACKWARD: "dx where x belongs: where dx = x made them one array"},
    ),
    "dW aliases W": (
        backward(
            "    dW = W\n    dW[...] = x.T @ dout\n    return dout @ W.T, dW, dout.sum(axis=0)\n"
        ),
        {BACKWARD: "dW where W belongs: where dW = W made them one array"},
    ),
    "dx averaged": (
        backward("    return dout @ W.T / dout.shape[0], x.T @ dout, dout.sum(axis=0)\n"),
        {BACKWARD: "dx is divided by N"},
    ),
    "dx upstream missing": (
        backward("    return np.ones_like(dout) @ W.T, x.T @ dout, dout.sum(axis=0)\n"),
        {BACKWARD: "the upstream gradient dout is missing"},
    ),
    "dx from the first example": (
        backward(
            "    dx = np.zeros_like(x)\n    for n in range(len(x)):\n"
            "        dx[n] = W @ dout[n]\n        return dx, x.T @ dout, dout.sum(axis=0)\n"
        ),
        {BACKWARD: "right for the first example and 0 for every other"},
    ),
    "the forward's W transposed": (
        "def linear_forward(x, W, b):\n    return np.matmul(x, W.T) + b, (x, W, b)\n",
        {FORWARD: "W is stored as (D, M) already", FORWARD_HIDDEN: "no transpose"},
    ),
    "W @ x": (
        "def linear_forward(x, W, b):\n    return np.dot(W, x) + b, (x, W, b)\n",
        {FORWARD: "this is W @ x + b, the product in the wrong order"},
    ),
    "the bias as a column": (
        "def linear_forward(x, W, b):\n    return x @ W + b[:, np.newaxis], (x, W, b)\n",
        {FORWARD: "the bias is added as a column", FORWARD_HIDDEN: "added as a column"},
    ),
    "no cache": (
        "def linear_forward(x, W, b):\n    return np.dot(x, W) + b\n",
        {FORWARD: "return the pair out, cache"},
    ),
    "the output cached": (
        "def linear_forward(x, W, b):\n    out = x @ W + b\n    return out, [out, W, b]\n",
        {FORWARD: "the cache holds the output out where the input x belongs"},
    ),
    "the cache in another order": (
        "def linear_forward(x, W, b):\n    return x @ W + b, (b, W, x)\n",
        {FORWARD: "the cache holds (b, W, x): keep the order (x, W, b)"},
    ),
    "the cache's items returned one by one": (
        "def linear_forward(x, W, b):\n    return x @ W + b, x, W, b\n",
        {FORWARD: "the cache is one item"},
    ),
    "x's shape for the output": (
        "def linear_forward(x, W, b):\n    out = np.empty_like(x)\n"
        "    for n in range(len(x)):\n        out[n] = x[n] @ W + b\n    return out, (x, W, b)\n",
        {FORWARD: "x's shape (N, D) = (4, 5), where out is (N, M) = (4, 3)"},
    ),
    "float32 products": (
        "def linear_forward(x, W, b):\n"
        "    return (x.astype(np.float32) @ W.astype(np.float32)) + b, (x, W, b)\n",
        {FORWARD: "float32's precision"},
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_a_mistake_is_named_in_its_checks(course: Course, tmp_path: Path, case: str) -> None:
    code, says = CASES[case]
    result = graded(course, tmp_path, code)
    for check_id, words in says.items():
        text = message_of(result, check_id)
        if check_id != BACKWARD and check_id not in failed(result):
            # A later check met the mistake the first one charged: noted, not charged again.
            assert any(words in note and "charged in" in note for note in result.notes)
            continue
        assert words in text, (check_id, text)
        assert "\nHint:" in text or ". Hint:" in text


# Correct code in other forms: full marks, and not one message or hint.
CORRECT = {
    "loops and a list cache": """
def linear_forward(x, W, b):
    out = np.zeros((x.shape[0], W.shape[1]))
    for n in range(x.shape[0]):
        for m in range(W.shape[1]):
            out[n, m] = float(x[n] @ W[:, m]) + float(b[m])
    return out, [x, W, b]

def linear_backward(dout, cache):
    x, W, b = cache
    dx = np.zeros_like(x)
    dW = np.zeros_like(W)
    db = np.zeros_like(b)
    for n in range(x.shape[0]):
        dx[n] = W @ dout[n]
        dW += np.outer(x[n], dout[n])
        db += dout[n]
    return dx, dW, db
""",
    "a dict cache, einsum and an output array": """
def linear_forward(x, W, b):
    return np.einsum("nd,dm->nm", x, W) + b, {"x": x, "W": W, "b": b}

def linear_backward(dout, cache):
    dx = np.empty(cache["x"].shape)
    np.matmul(dout, cache["W"].T, out=dx)
    return dx, np.einsum("nd,nm->dm", cache["x"], dout), np.add.reduce(dout, axis=0)
""",
    "copies in the cache, the transposes of transposes": """
def linear_forward(x, W, b):
    return (W.T @ x.T).T + b, (x.copy(), W.copy(), b.copy())

def linear_backward(dout, cache):
    x, W, b = cache
    return (W @ dout.T).T, (dout.T @ x).T, np.ones(dout.shape[0]) @ dout
""",
}


@pytest.mark.slow
@pytest.mark.parametrize("style", list(CORRECT))
def test_correct_code_gets_full_marks_and_no_hint(
    course: Course, tmp_path: Path, style: str
) -> None:
    result = graded(course, tmp_path, CORRECT[style])
    assert [check.message for check in result.checks if check.status != "passed"] == []
    assert result.score == result.max_score
    assert not any("Hint" in text for text in result.notes)


def test_a_cache_mistake_the_backward_follows_costs_the_forward_s_points_once(
    course: Course, tmp_path: Path
) -> None:
    code = """
def linear_forward(x, W, b):
    return x @ W + b, (x, W)

def linear_backward(dout, cache):
    x, W = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)
"""
    result = graded(course, tmp_path, code)
    assert failed(result) == {FORWARD}
    assert result.score == result.max_score - 2
    assert "the cache holds only (x, W)" in message_of(result, FORWARD)
    assert any("not again here" in text for text in result.notes)


def test_a_backward_right_from_its_forward_s_own_wrong_cache_loses_nothing(
    course: Course, tmp_path: Path
) -> None:
    code = """
def linear_forward(x, W, b):
    out = x @ W + b
    return out, (x, W, b, out)

def linear_backward(dout, cache):
    x, W, b, _ = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)
"""
    result = graded(course, tmp_path, code)
    assert failed(result) == {FORWARD}
    assert "the cache is the tuple (x, W, b) the docstring gives" in message_of(result, FORWARD)


def test_the_backward_is_judged_on_the_check_s_own_cache(course: Course, tmp_path: Path) -> None:
    code = "def linear_forward(x, W, b):\n    return x @ W + b, (x @ W + b, W, b)\n"
    result = graded(course, tmp_path, code)
    assert failed(result) == {FORWARD}
    unfinished = "def linear_forward(x, W, b):\n    raise NotImplementedError\n"
    assert failed(graded(course, tmp_path, unfinished)) == {FORWARD, FORWARD_HIDDEN}


def test_where_two_mistakes_fit_neither_is_named() -> None:
    shared = module("_exercise7_mistakes")
    values = {"one": np.ones(3), "the same": np.ones(3), "another": np.arange(3.0)}
    assert list(shared.unambiguous(values)) == ["another"]
    assert shared.only_fit([{"a", "b"}, {"a", "b"}]) is None
    assert shared.only_fit([{"a", "b"}, {"a"}]) == "a"
    assert shared.only_fit([{"a"}, set()]) is None


def test_the_forward_s_error_is_named_by_its_shapes_where_the_square_points_raise(
    course: Course, tmp_path: Path
) -> None:
    code = (
        "def linear_forward(x, W, b):\n    out = W @ x\n"
        "    assert out.shape[0] != out.shape[1]\n    return out + b, (x, W, b)\n"
    )
    text = message_of(graded(course, tmp_path, code), FORWARD)
    assert "multiplies W (5, 3) by x (4, 5)" in text
    assert "Hint: this is W @ x + b, the product in the wrong order" in text


def test_no_product_is_named_from_shapes_that_two_arrays_share() -> None:
    shared = module("_exercise7_mistakes")
    error = (
        "linear_backward raised ValueError (line 3): `dout @ x.T` multiplies dout (3, 3) by "
        "x.T (5, 3): the last size of the left (3) must equal the first size of the right (5)"
    )
    assert shared.operand_error_hint(error, {"dx": (3, 5), "dW": (5, 3)}) == ""
    named = shared.operand_error_hint(
        error.replace("(3, 3)", "(4, 3)").replace("(5, 3)", "(5, 4)"), {"dx": (4, 5), "dW": (5, 3)}
    )
    assert named.startswith("dW must have W's shape (5, 3): this is dout @ x.T")


def test_a_reduction_over_the_batch_is_not_named_one_example(
    course: Course, tmp_path: Path
) -> None:
    # dout.max(axis=0) may take every entry from one row (M = 2, N = 3 in the hidden check); the
    # batch's rows rolled by one, max takes the same values, no longer that row's.
    for reduction in ("dout.max(axis=0)", "dout.min(axis=0)", "np.median(dout, axis=0)"):
        result = graded(
            course, tmp_path, backward(f"    return dout @ W.T, x.T @ dout, {reduction}\n")
        )
        texts = [check.message or "" for check in result.checks] + list(result.notes)
        assert not any("one example's" in text for text in texts), (reduction, texts)
    # Picked by its row, one example is named wherever it fits.
    result = graded(course, tmp_path, backward("    return dout @ W.T, x.T @ dout, dout[0]\n"))
    assert "db is one example's dout[n]" in message_of(result, BACKWARD)


def test_a_weight_decay_is_charged_once_whatever_its_factor(course: Course, tmp_path: Path) -> None:
    code = backward("    return dout @ W.T, x.T @ dout + 0.01 * len(x) * W, dout.sum(axis=0)\n")
    result = graded(course, tmp_path, code)
    assert "an extra term 0.04·W" in message_of(result, BACKWARD)
    assert failed(result) == {BACKWARD}
    again = [note for note in result.notes if "charged in" in note]
    assert any("an extra term 0.01·W" in note for note in again)
    assert any("an extra term 0.03·W" in note for note in again)
    shared = module("_exercise7_mistakes")
    decay = shared.DECAY
    assert shared.kind(decay.format(c="0.04")) == shared.kind(decay.format(c="1e-05")) == decay
    assert shared.kind(shared.DB_WITHOUT_DOUT) == shared.DB_WITHOUT_DOUT
