"""What a docstring allows scores full marks.

A dict subclass is a dict: init_network may return an OrderedDict, a defaultdict or its own
subclass of dict (what arrives is the data it holds: tests/test_protocol.py). "A function applied
entry by entry" may be applied to the whole array, row by row or entry by entry; using another
function than the one given still fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.course import Course
from tests.helpers import grade_text, solution_text, with_function

BUILT_AS = {
    "OrderedDict": "collections.OrderedDict()",
    "defaultdict": "collections.defaultdict(lambda: None)",
    "a subclass of dict": "type('Params', (dict,), {})()",
}

INIT_NETWORK = """
def init_network(layer_sizes, seed):
    import collections
    rng = np.random.default_rng(seed)
    params = {made}
    for k in range(1, len(layer_sizes)):
        n_in, n_out = layer_sizes[k - 1], layer_sizes[k]
        params[f"W{{k}}"] = rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_out))
        params[f"b{{k}}"] = np.zeros(n_out)
    return params
"""


@pytest.mark.slow
@pytest.mark.parametrize("made", list(BUILT_AS.values()), ids=list(BUILT_AS))
def test_init_network_returning_a_dict_subclass_scores_full(
    course: Course, tmp_path: Path, made: str
) -> None:
    code = with_function(solution_text(course, "exercise5"), INIT_NETWORK.format(made=made))
    result = grade_text(course, "exercise5", code, tmp_path)
    assert result.score == result.max_score, [c.message for c in result.checks if c.message]


APPLIED = {
    "entry by entry": """
def layer_forward(h, W, b, activation):
    z = h @ W + b
    if activation is None:
        return z
    out = np.empty_like(z)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            out[i, j] = activation(float(z[i, j]))
    return out
""",
    "row by row": """
def layer_forward(h, W, b, activation):
    z = h @ W + b
    if activation is None:
        return z
    return np.array([activation(row) for row in z])
""",
}


@pytest.mark.slow
@pytest.mark.parametrize("code", list(APPLIED.values()), ids=list(APPLIED))
def test_an_activation_applied_in_pieces_scores_full(
    course: Course, tmp_path: Path, code: str
) -> None:
    result = grade_text(
        course, "exercise5", with_function(solution_text(course, "exercise5"), code), tmp_path
    )
    assert result.score == result.max_score, [c.message for c in result.checks if c.message]


def test_an_activation_of_its_own_instead_of_the_one_given_fails(
    course: Course, tmp_path: Path
) -> None:
    code = """
def layer_forward(h, W, b, activation):
    z = h @ W + b
    return z if activation is None else np.tanh(z)
"""
    result = grade_text(
        course, "exercise5", with_function(solution_text(course, "exercise5"), code), tmp_path
    )
    messages = {check.id: check.message for check in result.checks if check.status != "passed"}
    assert "forward_flows_layer_by_layer" in messages
    assert "call activation(...)" in messages["forward_flows_layer_by_layer"]


def test_a_namedtuple_cache_comes_back_to_the_backward_pass_as_itself(
    course: Course, tmp_path: Path
) -> None:
    code = """
def linear_forward(x, W, b):
    import collections
    Cache = collections.namedtuple("Cache", "x W b")
    return x @ W + b, Cache(x, W, b)


def linear_backward(dout, cache):
    return dout @ cache.W.T, cache.x.T @ dout, dout.sum(axis=0)
"""
    result = grade_text(
        course, "exercise7", with_function(solution_text(course, "exercise7"), code), tmp_path
    )
    assert result.score == result.max_score, [c.message for c in result.checks if c.message]
