"""Points rest on the answer: code that gives none earns none.

Each submission here gives no answer to one function, in a way a careless check would reward,
and must score exactly as its honest counterpart does: the same file with that function left as
``raise NotImplementedError``.

- A forward pass that recognises the points a finite difference is taken at, with a backward pass
  of zeros. It returns its cached output for inputs within 1e-4 of its last call (or of any
  earlier call): had the expected derivative come from central differences of the student's
  forward, the zeros would have matched it.
- A trivial version of one function: zeros of the right shape, its input returned, its cache
  returned (and for compose, the identity whatever the chain). Every check whose points rest on
  that function's answer must be lost by the trivial version too: repeating a call, or a zero
  upstream gradient giving a zero gradient, is no answer. Those checks are the ones its honest
  counterpart loses; for a forward pass, only those it loses also when it hands the right cache
  on and no output (a backward's check uses the cache alone, and scores the backward).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from grader.course import Course
from tests.helpers import failed, grade_text, solution_text, with_function

# ---------------------------------------------------------------- probe-recognising forwards

RECOGNISING = '''

import numpy as _np

_SEEN = {}


def _leaves(value):
    if isinstance(value, dict):
        return [leaf for key in sorted(value) for leaf in _leaves(value[key])]
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [_np.array(value, dtype=float)]


def _near(old, new):
    return len(old) == len(new) and all(
        a.shape == b.shape and bool(_np.all(_np.abs(a - b) <= 1e-4)) for a, b in zip(old, new)
    )


def _recognising(function):
    """function, answering from its cache for inputs near those of an earlier call."""
    seen = _SEEN.setdefault(function.__name__, [])

    def wrapped(*args):
        leaves = _leaves(args)
        for old, answer in reversed(seen[-1:] if LAST_ONLY else seen):
            if _near(old, leaves):
                return answer
        answer = function(*args)
        seen.append((leaves, answer))
        return answer

    return wrapped
'''

# exercise -> (code defining the forward, the forwards to wrap, the backward: zeros)
PROBING = {
    "exercise1": (
        "",
        ["two_x_squared", "three_x"],
        """
def two_x_squared_derivative(x):
    return _np.zeros_like(x, dtype=float) if isinstance(x, _np.ndarray) else 0.0


def three_x_derivative(x):
    return _np.zeros_like(x, dtype=float) if isinstance(x, _np.ndarray) else 0.0
""",
    ),
    "exercise3": (
        "",
        ["cos_of_square_minus_one"],
        """
def cos_of_square_minus_one_derivative(x):
    return _np.zeros_like(x, dtype=float) if isinstance(x, _np.ndarray) else 0.0
""",
    ),
    "exercise6": (
        "",
        ["sigmoid_forward", "tanh_forward", "relu_forward"],
        """
def sigmoid_backward(dout, cache):
    return _np.zeros_like(dout)


def tanh_backward(dout, cache):
    return _np.zeros_like(dout)


def relu_backward(dout, cache):
    return _np.zeros_like(dout)
""",
    ),
    "exercise7": (
        "",
        ["linear_forward"],
        """
def linear_backward(dout, cache):
    x, W, b = cache
    return _np.zeros_like(x), _np.zeros_like(W), _np.zeros_like(b)
""",
    ),
    # A loss and its gradient come from one function: the loss is the forward.
    "exercise8": (
        """
def _mse_value(pred, target):
    return float(_np.mean((pred - target) ** 2))


def _cross_entropy_value(scores, labels):
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - _np.log(_np.exp(shifted).sum(axis=1, keepdims=True))
    return -float(_np.mean(log_probs[_np.arange(scores.shape[0]), labels]))


def mse_loss(pred, target):
    return _mse_value(pred, target), _gradient(pred)


def softmax_cross_entropy(scores, labels):
    return _cross_entropy_value(scores, labels), _gradient(scores)
""",
        ["_mse_value", "_cross_entropy_value"],
        """
def _gradient(value):
    return _np.zeros_like(value)
""",
    ),
    # loss_and_gradients calls the recognising network_forward, then network_backward.
    "exercise9": (
        "",
        ["network_forward"],
        """
def network_backward(dscores, caches):
    grads = {}
    for k, (linear_cache, _) in enumerate(caches, start=1):
        _, W, b = linear_cache
        grads[f"W{k}"], grads[f"b{k}"] = _np.zeros_like(W), _np.zeros_like(b)
    return grads
""",
    ),
}


def unanswered(code: str) -> str:
    """``code`` with every function it defines giving no answer."""
    names = [node.name for node in ast.parse(code).body if isinstance(node, ast.FunctionDef)]
    return "".join(f"\n\ndef {name}(*args):\n    raise NotImplementedError\n" for name in names)


def probing(course: Course, exercise_id: str, last_only: bool, honest: bool) -> str:
    forward, wrapped, backward = PROBING[exercise_id]
    text = solution_text(course, exercise_id) + RECOGNISING.replace("LAST_ONLY", str(last_only))
    text += forward
    text += "".join(f"\n{name} = _recognising({name})\n" for name in wrapped)
    return text + (unanswered(backward) if honest else backward)


@pytest.mark.slow
@pytest.mark.parametrize("last_only", [True, False], ids=["its last call", "any earlier call"])
@pytest.mark.parametrize("exercise_id", list(PROBING))
def test_a_forward_that_recognises_the_probes_earns_nothing_for_a_zero_backward(
    course: Course, tmp_path: Path, exercise_id: str, last_only: bool
) -> None:
    attack = grade_text(
        course, exercise_id, probing(course, exercise_id, last_only, False), tmp_path
    )
    honest = grade_text(
        course, exercise_id, probing(course, exercise_id, last_only, True), tmp_path
    )
    assert failed(attack) == failed(honest)
    assert attack.score == honest.score < attack.max_score


# ---------------------------------------------------------------- trivial answers

ZERO = "_np.zeros_like(x, dtype=float) if isinstance(x, _np.ndarray) else 0.0"
# exercise -> function -> {kind of trivial answer: its body}
TRIVIAL: dict[str, dict[str, dict[str, str]]] = {
    "exercise1": {
        "difference_quotient(f, x, dx)": {"zeros": f"return {ZERO}", "its input": "return x"},
        "numerical_derivative(f, x, h=1e-5)": {"zeros": f"return {ZERO}", "its input": "return x"},
        "two_x_squared(x)": {"zeros": f"return {ZERO}", "its input": "return x"},
        "two_x_squared_derivative(x)": {"zeros": f"return {ZERO}", "its input": "return x"},
        "three_x(x)": {"zeros": f"return {ZERO}", "its input": "return x"},
        "three_x_derivative(x)": {"zeros": f"return {ZERO}", "its input": "return x"},
    },
    "exercise3": {
        "chain_rule(f_prime, g, g_prime, x)": {"zeros": f"return {ZERO}", "its input": "return x"},
        "compose(pairs)": {
            "zeros": f"return lambda x: ({ZERO}, {ZERO})",
            "its input": "return pairs",
            "the identity": "return lambda x: (x, 1.0)",
        },
        "cos_of_square_minus_one(x)": {"zeros": f"return {ZERO}", "its input": "return x"},
        "cos_of_square_minus_one_derivative(x)": {
            "zeros": f"return {ZERO}",
            "its input": "return x",
        },
    },
    "exercise6": {
        **{
            f"{kind}_forward(z)": {
                "zeros": "return _np.zeros_like(z), _np.zeros_like(z)",
                "its input": "return z, z",
            }
            for kind in ("sigmoid", "tanh", "relu")
        },
        **{
            f"{kind}_backward(dout, cache)": {
                "zeros": "return _np.zeros_like(dout)",
                "its input": "return dout",
                "its cache": "return cache",
            }
            for kind in ("sigmoid", "tanh", "relu")
        },
    },
    "exercise7": {
        "linear_forward(x, W, b)": {
            "zeros": "return _np.zeros((x.shape[0], W.shape[1])), (0 * x, 0 * W, 0 * b)",
            "its input": "return x, (x, W, b)",
        },
        "linear_backward(dout, cache)": {
            "zeros": "x, W, b = cache\n    return 0 * x, 0 * W, 0 * b",
            "its cache": "return cache",
        },
    },
    "exercise8": {
        "mse_loss(pred, target)": {
            "zeros": "return 0.0, _np.zeros_like(pred)",
            "its input": "return float(_np.mean(pred)), pred",
        },
        "softmax(scores)": {"zeros": "return _np.zeros_like(scores)", "its input": "return scores"},
        "softmax_cross_entropy(scores, labels)": {
            "zeros": "return 0.0, _np.zeros_like(scores)",
            "its input": "return float(_np.mean(scores)), scores",
        },
    },
    "exercise9": {
        "network_forward(x, params)": {
            "zeros": "count = len(params) // 2\n"
            '    return _np.zeros((x.shape[0], params[f"b{count}"].size)), []',
            "its input": "return x, [x]",
        },
        "network_backward(dscores, caches)": {
            "zeros": "return {f'{name}{k}': 0 * cache[0][1 if name == 'W' else 2] "
            "for k, cache in enumerate(caches, 1) for name in 'Wb'}",
            "its cache": "return caches",
        },
        "loss_and_gradients(x, labels, params)": {
            "zeros": "return 0.0, {key: 0 * value for key, value in params.items()}",
            "its input": "return 0.0, params",
        },
    },
}

TRIVIAL_CASES = [
    (exercise_id, signature, kind)
    for exercise_id, functions in TRIVIAL.items()
    for signature, kinds in functions.items()
    for kind in kinds
]
_counted: dict[tuple[str, str], set[str]] = {}


CACHING = {"sigmoid_forward", "tanh_forward", "relu_forward", "linear_forward", "network_forward"}


def swapped(course: Course, exercise_id: str, signature: str, body: str) -> str:
    code = f"def {signature}:\n    {body}\n"
    return with_function(solution_text(course, exercise_id), code) + "\nimport numpy as _np\n"


def cache_only(course: Course, exercise_id: str, name: str) -> str:
    """The solution, with ``name`` (a forward pass) giving the right cache and no output."""
    return solution_text(course, exercise_id) + (
        f"\n\n_answer = {name}\n\n\ndef {name}(*args):\n    return None, _answer(*args)[1]\n"
    )


def counted_in(course: Course, exercise_id: str, signature: str, folder: Path) -> set[str]:
    """The checks whose points rest on the answer of the function ``signature`` names."""
    key = (exercise_id, signature)
    if key not in _counted:
        honest = swapped(course, exercise_id, signature, "raise NotImplementedError")
        _counted[key] = failed(grade_text(course, exercise_id, honest, folder))
        name = signature.split("(")[0]
        if name in CACHING:
            text = cache_only(course, exercise_id, name)
            _counted[key] &= failed(grade_text(course, exercise_id, text, folder))
    return _counted[key]


@pytest.mark.parametrize(
    ("exercise_id", "signature", "kind"),
    TRIVIAL_CASES,
    ids=[
        f"{exercise}-{signature.split('(')[0]}-{kind}"
        for exercise, signature, kind in TRIVIAL_CASES
    ],
)
@pytest.mark.slow
def test_a_trivial_answer_loses_every_check_its_function_counts_in(
    course: Course, tmp_path: Path, exercise_id: str, signature: str, kind: str
) -> None:
    counted = counted_in(course, exercise_id, signature, tmp_path)
    assert counted, f"{signature} counts in no check"
    body = TRIVIAL[exercise_id][signature][kind]
    result = grade_text(
        course, exercise_id, swapped(course, exercise_id, signature, body), tmp_path
    )
    earned = counted - failed(result)
    assert not earned, f"{signature} returning {kind} passes {sorted(earned)}"


# ---------------------------------------------------------------- answers the inputs give away

# exercise -> (what the submission does, the functions it adds to the untouched stub). Each one
# gives no answer of its own: it hard-codes what the check's inputs make it (the lesson's bowl,
# whose gradient is 2x), reuses the functions the exercise gives whole (a train that never
# trains), or returns one class for every row. It must score what the stub scores: nothing.
GIVEN_AWAY = [
    (
        "exercise4",
        "the bowl's gradient at x0 hard-coded in every step, as a named mistake's path looks",
        """
def gradient_descent(grad_f, x0, rate, steps):
    x0 = np.asarray(x0, dtype=float)
    return x0 - np.arange(steps + 1)[:, None] * rate * 2 * x0
""",
    ),
    (
        "exercise4",
        "the bowl's gradient hard-coded, grad_f never called",
        """
def gradient_descent(grad_f, x0, rate, steps):
    return np.asarray(x0, dtype=float) * (1 - 2 * rate) ** np.arange(steps + 1)[:, None]


def descend_until_flat(grad_f, x0, rate, tolerance, max_steps):
    x = np.array(x0, dtype=float)
    for steps in range(max_steps):
        if np.linalg.norm(2 * x) < tolerance:
            return x, steps
        x = x - rate * 2 * x
    return x, max_steps
""",
    ),
    (
        "exercise10",
        "a train that returns init_network's parameters and their loss, never training",
        """
def train(x, labels, layer_sizes, rate, epochs, seed):
    params = init_network(layer_sizes, seed)
    loss, _ = loss_and_gradients(x, labels, params)
    return params, np.full(epochs, loss)
""",
    ),
    (
        "exercise10",
        "a predict that gives class 1 for every row, never running the network",
        """
def predict(x, params):
    return np.ones(x.shape[0], dtype=int)


def accuracy(x, labels, params):
    return float(np.mean(predict(x, params) == labels))
""",
    ),
]


def stub_text(course: Course, exercise_id: str) -> str:
    return course.exercise(exercise_id).student_file.read_text()


@pytest.mark.parametrize(
    ("exercise_id", "what", "code"),
    GIVEN_AWAY,
    ids=[f"{case[0]}: {case[1]}" for case in GIVEN_AWAY],
)
def test_an_answer_the_inputs_give_away_earns_what_the_stub_earns(
    course: Course, tmp_path: Path, exercise_id: str, what: str, code: str
) -> None:
    stub = grade_text(course, exercise_id, stub_text(course, exercise_id), tmp_path)
    attack = grade_text(
        course, exercise_id, with_function(stub_text(course, exercise_id), code), tmp_path
    )
    earned = {check.id: check.score for check in attack.checks if check.score > 0}
    assert attack.score == stub.score == 0, f"{what} earns {earned}"


# ---------------------------------------------------------------- an error is never excused

# Exercise 9: a network_forward that only raises the KeyError of a layer numbered from 0, and a
# loss_and_gradients that only calls it. The error shows a named mistake, charged in
# network_forward's check; it is still no answer, so no later check may keep its points for it
# (with network_backward left unwritten or written out, as its honest counterpart has it).
RAISES_A_NAMED_MISTAKE = """
def network_forward(x, params):
    return params["W0"]


def loss_and_gradients(x, labels, params):
    return network_forward(x, params)
"""
UNWRITTEN = """
def network_forward(x, params):
    raise NotImplementedError


def loss_and_gradients(x, labels, params):
    raise NotImplementedError
"""
RAISED_BACKWARDS = {
    "network_backward returning {}": """
def network_backward(dscores, caches):
    return {}
""",
    "network_backward as the solution's": "",
}


@pytest.mark.parametrize(
    "backward", list(RAISED_BACKWARDS), ids=[f"exercise9: {name}" for name in RAISED_BACKWARDS]
)
def test_an_error_charged_before_earns_what_unwritten_code_earns(
    course: Course, tmp_path: Path, backward: str
) -> None:
    solution = solution_text(course, "exercise9")
    if RAISED_BACKWARDS[backward]:
        solution = with_function(solution, RAISED_BACKWARDS[backward])
    attack = grade_text(
        course, "exercise9", with_function(solution, RAISES_A_NAMED_MISTAKE), tmp_path
    )
    honest = grade_text(course, "exercise9", with_function(solution, UNWRITTEN), tmp_path)
    earned = {check.id: check.score for check in attack.checks if check.score > 0}
    assert attack.score == honest.score, f"{backward}: earns {earned}"
    assert failed(attack) >= {
        "network_forward",
        "network_forward_matches_reference",
        "loss_and_gradients",
        "backprop_matches_reference",
    }


# Exercise 9: a network_forward with a ReLU on its last layer too (a named mistake the checks
# follow), and a network_backward of zeros: a loss_and_gradients that gives what they give is
# excused the forward's mistake only where its gradients are what that mistake gives, checked
# here; zeros are no gradients, and earn what a backward left unwritten earns.
LAST_RELU_FORWARD = """
def network_forward(x, params):
    layers = len(params) // 2
    caches, h = [], x
    for k in range(1, layers + 1):
        z, linear_cache = linear_forward(h, params[f"W{k}"], params[f"b{k}"])
        h, relu_cache = relu_forward(z)
        caches.append((linear_cache, relu_cache))
    return h, caches
"""
ZEROS_BACKWARD = """
def network_backward(dscores, caches):
    grads = {}
    for k, ((x, W, b), _) in enumerate(caches, start=1):
        grads[f"W{k}"] = np.zeros_like(W)
        grads[f"b{k}"] = np.zeros_like(b)
    return grads
"""
UNWRITTEN_BACKWARD = """
def network_backward(dscores, caches):
    raise NotImplementedError
"""


def test_exercise9_a_loss_following_a_forward_mistake_checks_its_gradients(
    course: Course, tmp_path: Path
) -> None:
    forward = with_function(solution_text(course, "exercise9"), LAST_RELU_FORWARD)
    attack = grade_text(course, "exercise9", with_function(forward, ZEROS_BACKWARD), tmp_path)
    honest = grade_text(course, "exercise9", with_function(forward, UNWRITTEN_BACKWARD), tmp_path)
    earned = {check.id: check.score for check in attack.checks if check.score > 0}
    assert attack.score == honest.score, f"zeros earn {earned}"
    assert {"loss_and_gradients", "backprop_matches_reference"} <= failed(attack)


# ---------------------------------------------------------------- an error charged earlier

# (exercise, what, the code swapped into the solution, the function that gives no answer). That
# function calls one whose error names a mistake an earlier check charged: a later check that
# meets the error has no answer to verify, and fails. The submission scores no more than with
# the function left as ``raise NotImplementedError``, the rest of the code as it is.
RAISED_AGAIN = [
    (
        "exercise8",
        "softmax sums without keepdims, a cross-entropy calling it with a gradient of zeros",
        """
def softmax(scores):
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1)


def softmax_cross_entropy(scores, labels):
    n = scores.shape[0]
    p = softmax(scores)
    loss = -float(np.mean(np.log(p[np.arange(n), labels])))
    return loss, np.zeros_like(scores)
""",
        "softmax_cross_entropy(scores, labels)",
    ),
    (
        "exercise8",
        "softmax maxima without keepdims, a cross-entropy calling it with its input as gradient",
        """
def softmax(scores):
    e = np.exp(scores - np.max(scores, axis=1))
    return e / e.sum(axis=1, keepdims=True)


def softmax_cross_entropy(scores, labels):
    p = softmax(scores)
    return -float(np.mean(np.log(p[np.arange(scores.shape[0]), labels]))), scores
""",
        "softmax_cross_entropy(scores, labels)",
    ),
]


@pytest.mark.parametrize(
    ("exercise_id", "what", "code", "signature"),
    RAISED_AGAIN,
    ids=[f"{case[0]}: {case[1]}" for case in RAISED_AGAIN],
)
@pytest.mark.slow
def test_an_error_charged_earlier_earns_no_points_later(
    course: Course, tmp_path: Path, exercise_id: str, what: str, code: str, signature: str
) -> None:
    text = with_function(solution_text(course, exercise_id), code)
    honest = with_function(text, f"def {signature}:\n    raise NotImplementedError\n")
    attack = grade_text(course, exercise_id, text, tmp_path)
    counterpart = grade_text(course, exercise_id, honest, tmp_path)
    earned = failed(counterpart) - failed(attack)
    assert not earned, f"{what} passes {sorted(earned)}"
    assert attack.score <= counterpart.score


# ---------------------------------------------------------------- answers that need no work

# exercise -> (what the submission does, its function, the same function with zeros there). A
# named mistake whose value is a constant, whatever the inputs' values, is no answer to verify:
# charged once and excused later, it would earn what zeros never do.
NO_WORK = [
    (
        "exercise7",
        "db = 1 for every bias",
        """
def linear_backward(dout, cache):
    x, W, b = cache
    return dout @ W.T, x.T @ dout, np.ones(W.shape[1])
""",
        """
def linear_backward(dout, cache):
    x, W, b = cache
    return dout @ W.T, x.T @ dout, np.zeros(W.shape[1])
""",
    ),
]


@pytest.mark.parametrize(
    ("exercise_id", "what", "code", "zeros"),
    NO_WORK,
    ids=[f"{case[0]}: {case[1]}" for case in NO_WORK],
)
def test_a_constant_a_mistake_names_earns_no_more_than_zeros(
    course: Course, tmp_path: Path, exercise_id: str, what: str, code: str, zeros: str
) -> None:
    solution = "import numpy as np\n" + solution_text(course, exercise_id)
    attack = grade_text(course, exercise_id, with_function(solution, code), tmp_path)
    honest = grade_text(course, exercise_id, with_function(solution, zeros), tmp_path)
    earned = failed(honest) - failed(attack)
    assert not earned, f"{what} passes {sorted(earned)}"
    assert attack.score <= honest.score < attack.max_score
