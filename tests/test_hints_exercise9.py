"""Exercise 9's hints: a wrong forward, backward or loss is named by the value its mistake gives
at the check's own point (or, where the code raises, on a network whose layers all have one
size), charged once in the check of the function that made it; the hidden checks name it in the
same words, from the module both share; correct code in other forms gets no hint."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from grader.course import Course
from tests.helpers import REPO, failed, grade_text, message_of, solution_text, with_function


def module(name: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, REPO / "checks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def test_the_hidden_checks_share_the_public_mistakes_word_for_word() -> None:
    public, hidden = module("exercise9_public"), module("exercise9_hidden")
    assert Path(public.mistakes.__file__).name == "_exercise9_mistakes.py"
    assert Path(public.losses.__file__).name == "_exercise9_loss.py"
    assert Path(public.mistakes.__file__) == Path(hidden.mistakes.__file__)
    assert Path(public.losses.__file__) == Path(hidden.losses.__file__)
    for name in ("LAST_LAYER_RELU", "NO_RELU_GATE", "FORWARD_ORDER", "PENALTY"):
        assert not hasattr(public, name) and not hasattr(hidden, name)
    # one job each: the network's and the backward's mistakes, and loss_and_gradients'
    assert hasattr(public.mistakes, "NO_RELU_GATE") and not hasattr(public.mistakes, "PENALTY")
    assert hasattr(public.losses, "PENALTY") and not hasattr(public.losses, "NO_RELU_GATE")
    # the probe that swallows every failure does not shadow grader.checks.answer_or_none
    assert not hasattr(public.mistakes, "answer_or_none")
    assert not hasattr(public.losses, "answer_or_none")


BACKWARD = {"network_backward_by_finite_differences", "network_backward_matches_reference"}
LOSS = {"loss_and_gradients", "backprop_matches_reference"}

# An error the student's code raises gives no answer to check: it fails every check that meets
# it, each naming the mistake it shows (a loss's, "this follows the mistake in ..."), never excused.
RAISED_IN_FORWARD = {
    "network_forward",
    "network_forward_matches_reference",
    "loss_and_gradients",
    "backprop_matches_reference",
}
RAISED_IN_BACKWARD = {
    "network_backward_by_finite_differences",
    "network_backward_matches_reference",
    "loss_and_gradients",
    "backprop_matches_reference",
}
RAISED_IN_LOSS = {"loss_and_gradients", "backprop_matches_reference"}
# A loss_and_gradients that gives what a wrong forward's own caches make of the backward: no
# excuse unless every gradient is what that mistake gives, as the checks compute it.
LOSS_CHECKS = RAISED_IN_LOSS

# code, {check id: words its message holds}, the checks that lose points (None: not pinned);
# where a later check meets the same mistake in an answer, a note says so ("not again here")
CASES = [
    (  # KeyError 'W3': failed wherever met, the backward checked on other caches
        """
def network_forward(x, params):
    caches, h = [], x
    for k in range(1, len(params) + 1):
        z, linear_cache = linear_forward(h, params[f"W{k}"], params[f"b{k}"])
        relu_cache = None
        if k < len(params) // 2:
            z, relu_cache = relu_forward(z)
        caches.append((linear_cache, relu_cache))
        h = z
    return h, caches
""",
        {"network_forward": "the number of layers is len(params) // 2"},
        RAISED_IN_FORWARD,
    ),
    (
        """
def network_forward(x, params):
    caches, h = [], x
    for k in range(len(params) // 2):
        z, linear_cache = linear_forward(h, params["W" + str(k)], params["b" + str(k)])
        caches.append((linear_cache, None))
        h = z
    return h, caches
""",
        {"network_forward": "numbered from 1"},
        RAISED_IN_FORWARD,
    ),
    (  # a shape error named by what the code gives where the layers have one size
        """
def network_forward(x, params):
    caches, out = [], x
    layers = len(params) // 2
    for k in range(1, layers + 1):
        out, linear_cache = linear_forward(x, params[f"W{k}"], params[f"b{k}"])
        relu_cache = None
        if k != layers:
            out, relu_cache = relu_forward(out)
        caches.append((linear_cache, relu_cache))
    return out, caches
""",
        {"network_forward": "output of the previous layer"},
        RAISED_IN_FORWARD,
    ),
    (
        """
def network_forward(x, params):
    layers = len(params) // 2
    caches, h = [], x
    for k in range(1, layers):
        z, linear_cache = linear_forward(h, params[f"W{k}"], params[f"b{k}"])
        h, relu_cache = relu_forward(z)
        caches.append((linear_cache, relu_cache))
    return h, caches
""",
        {
            "network_forward": "not all the layers ran",
            "loss_and_gradients": "this follows the mistake in network_forward: not all",
        },
        None,
    ),
    (  # the ReLU's output dropped: scores as with no hidden ReLU, but the caches hold the ReLU's
        # z, so the gradients are not those of a network without ReLUs: the loss checks fail too
        """
def network_forward(x, params):
    layers = len(params) // 2
    caches, h = [], x
    for k in range(1, layers + 1):
        z, linear_cache = linear_forward(h, params[f"W{k}"], params[f"b{k}"])
        relu_cache = None
        if k < layers:
            _, relu_cache = relu_forward(z)
        caches.append((linear_cache, relu_cache))
        h = z
    return h, caches
""",
        {"network_forward": "relu_forward(z_k)"},
        {"network_forward"} | LOSS_CHECKS,
    ),
    (  # right scores, the caches last layer first: the forward's mistake, not the backward's
        """
def network_forward(x, params):
    layers = len(params) // 2
    caches, h = [], x
    for k in range(1, layers + 1):
        z, linear_cache = linear_forward(h, params[f"W{k}"], params[f"b{k}"])
        relu_cache = None
        if k < layers:
            z, relu_cache = relu_forward(z)
        caches = [(linear_cache, relu_cache)] + caches
        h = z
    return h, caches
""",
        {"network_forward": "the caches are not what network_backward reads"},
        {"network_forward"} | RAISED_IN_LOSS,
    ),
    (  # a ReLU on the last layer only: the loss follows it, failed named (no check computes
        # that network's gradients, so none is excused)
        """
def network_forward(x, params):
    layers = len(params) // 2
    caches, h = [], x
    for k in range(1, layers + 1):
        h, linear_cache = linear_forward(h, params[f"W{k}"], params[f"b{k}"])
        relu_cache = None
        if k == layers:
            h, relu_cache = relu_forward(h)
        caches.append((linear_cache, relu_cache))
    return h, caches
""",
        {
            "network_forward": "the ReLU is on the last layer and not on the hidden ones",
            "loss_and_gradients": "this follows the mistake in network_forward: the ReLU is on",
        },
        {"network_forward"} | LOSS_CHECKS,
    ),
    (  # walked first to last: a shape error, named on the square network, charged once
        """
def network_backward(dscores, caches):
    grads, dh = {}, dscores
    for k, (linear_cache, relu_cache) in enumerate(caches, start=1):
        if relu_cache is not None:
            dh = relu_backward(dh, relu_cache)
        dh, grads[f"W{k}"], grads[f"b{k}"] = linear_backward(dh, linear_cache)
    return grads
""",
        {"network_backward_by_finite_differences": "walked first to last"},
        RAISED_IN_BACKWARD,
    ),
    (
        """
def network_backward(dscores, caches):
    grads, dh = {}, dscores
    for k in range(len(caches), 0, -1):
        linear_cache, relu_cache = caches[k - 1]
        dh, grads[f"W{k}"], grads[f"b{k}"] = linear_backward(dh, linear_cache)
        if relu_cache is not None:
            dh = relu_backward(dh, relu_cache)
    return grads
""",
        {"network_backward_by_finite_differences": "applied after its linear_backward"},
        RAISED_IN_BACKWARD,
    ),
    (
        """
def network_backward(dscores, caches):
    grads, upstream = {}, dscores
    for k in range(len(caches), 0, -1):
        linear_cache, relu_cache = caches[k - 1]
        dz = upstream if relu_cache is None else np.where(upstream > 0, upstream, 0.0)
        upstream, grads[f"W{k}"], grads[f"b{k}"] = linear_backward(dz, linear_cache)
    return grads
""",
        {"network_backward_by_finite_differences": "the gradient itself was rectified"},
        {"network_backward_by_finite_differences"},
    ),
    (
        """
def network_backward(dscores, caches):
    grads, dh = {}, dscores
    for k in range(len(caches), 0, -1):
        (x, W, b), _ = caches[k - 1]
        dz = dh * (x @ W + b > 0)
        grads[f"W{k}"], grads[f"b{k}"] = x.T @ dz, dz.sum(axis=0)
        dh = dz @ W.T
    return grads
""",
        {"network_backward_by_finite_differences": "masked at the last layer too"},
        {"network_backward_by_finite_differences"},
    ),
    (
        """
def network_backward(dscores, caches):
    grads, dh = {}, dscores
    for number, (linear_cache, relu_cache) in enumerate(caches[::-1]):
        if relu_cache is not None:
            dh = relu_backward(dh, relu_cache)
        dh, grads[f"W{number + 1}"], grads[f"b{number + 1}"] = linear_backward(dh, linear_cache)
    return grads
""",
        {"network_backward_by_finite_differences": "keyed in reverse"},
        {"network_backward_by_finite_differences"},
    ),
    (
        """
def network_backward(dscores, caches):
    grads, dh = {}, dscores
    for k in range(len(caches) - 1, 0, -1):
        linear_cache, relu_cache = caches[k]
        if relu_cache is not None:
            dh = relu_backward(dh, relu_cache)
        dh, grads[f"W{k + 1}"], grads[f"b{k + 1}"] = linear_backward(dh, linear_cache)
    return grads
""",
        {"network_backward_by_finite_differences": "the gradients of some layers are missing"},
        {"network_backward_by_finite_differences"},
    ),
    (
        """
def network_backward(dscores, caches):
    grads, dh = {}, dscores / len(dscores)
    for k in range(len(caches), 0, -1):
        linear_cache, relu_cache = caches[k - 1]
        if relu_cache is not None:
            dh = relu_backward(dh, relu_cache)
        dh, grads[f"W{k}"], grads[f"b{k}"] = linear_backward(dh, linear_cache)
    return grads
""",
        {"network_backward_by_finite_differences": "divided by N, the batch size, once too"},
        {"network_backward_by_finite_differences"},
    ),
    (
        """
def loss_and_gradients(x, labels, params):
    scores, caches = network_forward(x, params)
    loss, dscores = softmax_cross_entropy(scores, labels)
    grads = network_backward(dscores, caches)
    for key, value in params.items():
        if key[0] == "W":
            loss = loss + 0.05 * np.sum(value**2)
            grads[key] = grads[key] + 0.1 * value
    return loss, grads
""",
        {"loss_and_gradients": "L2 penalty"},
        {"loss_and_gradients"},
    ),
    (
        """
def loss_and_gradients(x, labels, params):
    scores, caches = network_forward(x, params)
    loss, dscores = softmax_cross_entropy(scores, labels)
    return loss * len(labels), network_backward(dscores, caches)
""",
        {"loss_and_gradients": "summed over the batch"},
        {"loss_and_gradients"},
    ),
    (
        """
def loss_and_gradients(x, labels, params):
    scores, caches = network_forward(x, params)
    loss, _ = softmax_cross_entropy(scores, labels)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    return loss, network_backward(probs / x.shape[0], caches)
""",
        {"loss_and_gradients": "the one-hot of the labels is missing"},
        {"loss_and_gradients"},
    ),
    (
        """
def loss_and_gradients(x, labels, params):
    scores, caches = network_forward(x, params)
    loss, _ = softmax_cross_entropy(scores, labels)
    return loss, network_backward(scores, caches)
""",
        {"loss_and_gradients": "network_backward was given the scores"},
        {"loss_and_gradients"},
    ),
    (
        """
def loss_and_gradients(x, labels, params):
    scores, caches = network_forward(x, params)
    loss, dscores = softmax_cross_entropy(scores, labels)
    return network_backward(dscores, caches), loss
""",
        {"loss_and_gradients": "the pair is in the wrong order"},
        {"loss_and_gradients"},
    ),
    (
        """
def loss_and_gradients(x, labels, params):
    scores, caches = network_forward(params, x)
    loss, dscores = softmax_cross_entropy(scores, labels)
    return loss, network_backward(dscores, caches)
""",
        {"loss_and_gradients": "the array x where the dict params belongs"},
        RAISED_IN_LOSS,
    ),
    (
        """
def loss_and_gradients(x, labels, params):
    scores, caches = network_forward(x, params)
    loss, dscores = softmax_cross_entropy(scores, labels)
    return loss, network_backward(caches, dscores)
""",
        {"loss_and_gradients": "the caches where the array dscores belongs"},
        RAISED_IN_LOSS,
    ),
]


@pytest.mark.parametrize(("code", "says", "fails"), CASES)
def test_a_mistake_is_named_and_charged_once(
    course: Course, tmp_path: Path, code: str, says: dict[str, str], fails: set[str] | None
) -> None:
    text = with_function(solution_text(course, "exercise9"), code)
    result = grade_text(course, "exercise9", text, tmp_path)
    for check_id, words in says.items():
        assert words in message_of(result, check_id), (check_id, message_of(result, check_id))
    if fails is not None:
        assert failed(result) == fails
        raised = [check for check in fails if "raised" in message_of(result, check)]
        for check_id in raised:  # named in every check that meets it
            assert "Hint:" in message_of(result, check_id), message_of(result, check_id)
        if not raised:  # met again in an answer: a note, unless it fails there too, unexcused
            repeated = [note for note in result.notes if "not again here" in note]
            noted = {
                check_id: words
                for check_id, words in says.items()
                if not (check_id in LOSS and fails >= LOSS)
            }
            assert all(any(words in note for note in repeated) for words in noted.values())


# A factor that only looks like N at one point, and a mistake no check names: no hint.
UNNAMED = [
    (
        """
def network_backward(dscores, caches):
    grads, dh = {}, dscores / (2 * len(caches))
    for k in range(len(caches), 0, -1):
        linear_cache, relu_cache = caches[k - 1]
        if relu_cache is not None:
            dh = relu_backward(dh, relu_cache)
        dh, grads[f"W{k}"], grads[f"b{k}"] = linear_backward(dh, linear_cache)
    return grads
""",
        "network_backward_by_finite_differences",
    ),
    (
        """
def network_backward(dscores, caches):
    grads, dh = {}, dscores
    for k in range(len(caches), 0, -1):
        linear_cache, relu_cache = caches[k - 1]
        if relu_cache is not None:
            dh = relu_backward(dh, relu_cache)
        grads[f"b{k}"] = dh.mean(axis=0)
        dh, grads[f"W{k}"], _ = linear_backward(dh, linear_cache)
    return grads
""",
        "network_backward_by_finite_differences",
    ),
]


@pytest.mark.parametrize(("code", "check_id"), UNNAMED)
def test_a_mistake_that_is_not_confirmed_is_not_named(
    course: Course, tmp_path: Path, code: str, check_id: str
) -> None:
    text = with_function(solution_text(course, "exercise9"), code)
    result = grade_text(course, "exercise9", text, tmp_path)
    assert check_id in failed(result)
    assert all("Hint:" not in check.message for check in result.checks), [
        check.message for check in result.checks
    ]


CORRECT = {
    "the ReLU's output as its cache": """
def network_forward(x, params):
    layers = len(params) // 2
    caches, h = [], x
    for k in range(1, layers + 1):
        z, linear_cache = linear_forward(h, params[f"W{k}"], params[f"b{k}"])
        if k < layers:
            z, _ = relu_forward(z)
            caches.append((linear_cache, z))
        else:
            caches.append((linear_cache, None))
        h = z
    return h, caches
""",
    "caches kept last layer first, and read in that order": """
def network_forward(x, params):
    layers = len(params) // 2
    caches, h = [], x
    for k in range(1, layers + 1):
        z, linear_cache = linear_forward(h, params[f"W{k}"], params[f"b{k}"])
        relu_cache = None
        if k < layers:
            z, relu_cache = relu_forward(z)
        caches.insert(0, (linear_cache, relu_cache))
        h = z
    return h, caches

def network_backward(dscores, caches):
    grads, dh = {}, dscores
    for k, (linear_cache, relu_cache) in zip(range(len(caches), 0, -1), caches):
        if relu_cache is not None:
            dh = relu_backward(dh, relu_cache)
        dh, grads[f"W{k}"], grads[f"b{k}"] = linear_backward(dh, linear_cache)
    return grads
""",
    "the mask from the next layer's input, and a loss by hand": """
def network_backward(dscores, caches):
    grads, dh = {}, dscores
    for k in range(len(caches), 0, -1):
        (h, W, b), _ = caches[k - 1]
        if k < len(caches):
            dh = dh * (caches[k][0][0] > 0)
        grads["W%d" % k] = h.T @ dh
        grads["b%d" % k] = np.sum(dh, axis=0)
        dh = dh @ W.T
    return grads

def loss_and_gradients(x, labels, params):
    scores, caches = network_forward(x, params)
    e = np.exp(scores - np.max(scores, axis=1, keepdims=True))
    p = e / np.sum(e, axis=1, keepdims=True)
    n = len(labels)
    loss = -np.mean(np.log(p[np.arange(n), labels]))
    p[np.arange(n), labels] -= 1
    return float(loss), network_backward(p / n, caches)
""",
}


@pytest.mark.parametrize("style", list(CORRECT))
def test_correct_code_gets_full_marks_and_no_hint(
    course: Course, tmp_path: Path, style: str
) -> None:
    text = with_function(solution_text(course, "exercise9"), CORRECT[style])
    result = grade_text(course, "exercise9", text, tmp_path)
    assert [check.message for check in result.checks if check.message] == []
    assert result.score == result.max_score


# A dict of gradients with a key that is not text beside the right ones: told as wrong keys, no
# check failing itself on comparing 0 with "W1".
KEY_OF_ANOTHER_TYPE = """
def network_backward(dscores, caches):
    grads = {0: None}
    dh = dscores
    for k in range(len(caches), 0, -1):
        linear_cache, relu_cache = caches[k - 1]
        if relu_cache is not None:
            dh = relu_backward(dh, relu_cache)
        dh, grads[f"W{k}"], grads[f"b{k}"] = linear_backward(dh, linear_cache)
    return grads
"""


def test_a_gradient_key_of_another_type_is_a_wrong_key_not_a_broken_check(
    course: Course, tmp_path: Path
) -> None:
    text = with_function(solution_text(course, "exercise9"), KEY_OF_ANOTHER_TYPE)
    result = grade_text(course, "exercise9", text, tmp_path)
    assert {check.status for check in result.checks} == {"passed", "failed"}, [
        check.message for check in result.checks
    ]
    assert failed(result) == BACKWARD | LOSS
    assert "returned the keys ['W1', 'W2', 'b1', 'b2', 0]" in message_of(
        result, "network_backward_by_finite_differences"
    )
    assert result.score == 3


# The output of the first layers only, charged once, and something else on the same call a second
# time: the excuse of the charged mistake leaves the second call still checked.
TRUNCATED_THEN_ANOTHER = """
def network_forward(x, params, _seen={}):
    layers = len(params) // 2
    caches, h = [], x
    for k in range(1, layers):
        z, linear_cache = linear_forward(h, params[f"W{k}"], params[f"b{k}"])
        h, relu_cache = relu_forward(z)
        caches.append((linear_cache, relu_cache))
    key = x.tobytes()
    _seen[key] = _seen.get(key, 0) + 1
    return (h if _seen[key] == 1 else h * 0), caches
"""


def test_an_excused_truncation_is_still_asked_again(course: Course, tmp_path: Path) -> None:
    text = with_function(solution_text(course, "exercise9"), TRUNCATED_THEN_ANOTHER)
    result = grade_text(course, "exercise9", text, tmp_path)
    assert "not all the layers ran" in message_of(result, "network_forward")
    assert "network_forward_matches_reference" in failed(result)
    assert "the same call a second time" in message_of(result, "network_forward_matches_reference")
