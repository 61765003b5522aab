"""Exercise 2: a failing check names the mistake a realistic wrong answer makes, from the value
that mistake's formula or loop gives at the check's own inputs; steepest_ascent_direction that
follows a named mistake of numerical_gradient says so and keeps its points; a value that only
resembles a mistake at (1, 1) is told none."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.course import Course
from tests.helpers import assert_both_check_files_share, message_of
from tests.test_diagnosis import graded_with

PD = "partial_derivative"
NG = "numerical_gradient"
NG_HIDDEN = "numerical_gradient_matches_reference"
SAD = "steepest_ascent_direction"


def partial(body: str, h: str = "1e-5") -> str:
    return (
        f"def partial_derivative(f, point, axis, h={h}):\n"
        "    step = np.zeros_like(point, dtype=np.float64)\n"
        "    step[axis] = h\n"
        f"    {body}\n"
    )


def gradient(body: str, before: str = "", h: str = "1e-5") -> str:
    return (
        f"def numerical_gradient(f, x, h={h}):\n"
        "    grad = np.zeros_like(x, dtype=np.float64)\n"
        f"    {before}\n"
        "    for index in np.ndindex(x.shape):\n"
        f"        {body}\n"
        "    return grad\n"
    )


def direction(length: str, guard: str = "1e-12") -> str:
    return (
        "def steepest_ascent_direction(f, x, h=1e-5):\n"
        "    grad = numerical_gradient(f, x, h)\n"
        f"    length = {length}\n"
        f"    if length < {guard}:\n"
        "        return np.zeros_like(grad)\n"
        "    return grad / length\n"
    )


STEP = "step = np.zeros_like(x, dtype=np.float64)\n        step[index] = h\n        "
CENTRAL = "(f(x + step) - f(x - step)) / (2 * h)"

# (what the code does, the check whose message names it, words that message holds, the code)
CASES = [
    ("one-sided", PD, "one-sided", partial("return (f(point + step) - f(point)) / h")),
    ("backwards", PD, "backwards only", partial("return (f(point) - f(point - step)) / h")),
    (
        "every axis",
        PD,
        "every coordinate at once",
        partial("return (f(point + h) - f(point - h)) / (2 * h)"),
    ),
    ("over h", PD, "instead of 2h", partial("return (f(point + step) - f(point - step)) / h")),
    (
        "sign",
        PD,
        "the sign is flipped",
        partial("return (f(point - step) - f(point + step)) / (2 * h)"),
    ),
    (
        "/ 2 * h",
        PD,
        "put 2h in parentheses",
        partial("return (f(point + step) - f(point - step)) / 2 * h"),
    ),
    (
        "another axis",
        PD,
        "derivative along axis",
        partial(
            "step[axis] = 0\n"
            "    step[axis - 1] = h\n"
            "    return (f(point + step) - f(point - step)) / (2 * h)"
        ),
    ),
    (
        "float32 step",
        PD,
        "float32 array",
        "def partial_derivative(f, point, axis, h=1e-5):\n"
        "    step = np.zeros(point.shape, dtype=np.float32)\n"
        "    step[axis] = h\n"
        "    return (f(point + step) - f(point - step)) / (2 * h)\n",
    ),
    (
        "default 0.01",
        PD,
        "the default step is 0.01",
        partial("return (f(point + step) - f(point - step)) / (2 * h)", h="0.01"),
    ),
    (
        "h ignored",
        PD,
        "h is ignored",
        "def partial_derivative(f, point, axis, h=1e-5):\n"
        "    step = np.zeros_like(point, dtype=np.float64)\n"
        "    step[axis] = 1e-3\n"
        "    return (f(point + step) - f(point - step)) / 2e-3\n",
    ),
    (
        "one point twice",
        PD,
        "same point",
        "def partial_derivative(f, point, axis, h=1e-5):\n"
        "    plus = point\n"
        "    plus[axis] += h\n"
        "    minus = point\n"
        "    minus[axis] -= 2 * h\n"
        "    return (f(plus) - f(minus)) / (2 * h)\n",
    ),
    (
        "step up only",
        PD,
        "subtracts f(x - h·e)",
        "def partial_derivative(f, point, axis, h=1e-5):\n"
        "    point[axis] += h\n"
        "    above = f(point)\n"
        "    point[axis] -= h\n"
        "    return (above - f(point)) / (2 * h)\n",
    ),
    (
        "one coordinate",
        PD,
        "f takes the whole point",
        "def partial_derivative(f, point, axis, h=1e-5):\n"
        "    return (f(point[axis] + h) - f(point[axis] - h)) / (2 * h)\n",
    ),
    (
        "rows",
        NG,
        "whole row",
        "def numerical_gradient(f, x, h=1e-5):\n"
        "    grad = np.zeros_like(x, dtype=np.float64)\n"
        "    for i in range(len(x)):\n"
        "        step = np.zeros_like(x, dtype=np.float64)\n"
        "        step[i] = h\n"
        "        grad[i] = (f(x + step) - f(x - step)) / (2 * h)\n"
        "    return grad\n",
    ),
    (
        "step not reset",
        NG,
        "step is not reset",
        gradient(
            f"step[index] = h\n        grad[index] = {CENTRAL}",
            "step = np.zeros_like(x, dtype=np.float64)",
        ),
    ),
    (
        "sign",
        NG,
        "the sign is flipped",
        gradient(STEP + "grad[index] = (f(x - step) - f(x + step)) / (2 * h)"),
    ),
    (
        "h ignored",
        NG,
        "h is ignored",
        gradient(
            STEP.replace("= h", "= 1e-3") + "grad[index] = (f(x + step) - f(x - step)) / 2e-3"
        ),
    ),
    (
        "default 0.1",
        NG_HIDDEN,
        "the default step is 0.1",
        gradient(STEP + f"grad[index] = {CENTRAL}", h="0.1"),
    ),
    (
        "not restored",
        NG_HIDDEN,
        "not put back",
        gradient(
            "old = x[index]\n"
            "        x[index] = old + h\n"
            "        above = f(x)\n"
            "        x[index] = old - h\n"
            "        grad[index] = (above - f(x)) / (2 * h)"
        ),
    ),
    (
        "grad is x",
        SAD,
        "follows the mistake in numerical_gradient: grad is x itself",
        "def numerical_gradient(f, x, h=1e-5):\n"
        "    grad = x\n"
        "    for index in np.ndindex(x.shape):\n"
        f"        {STEP}grad[index] = {CENTRAL}\n"
        "    return grad\n",
    ),
    (
        "x never stepped",
        NG,
        "only evaluated at x itself",
        gradient(
            "flat = x.flatten()\n"
            "        flat[0] += h\n"
            "        grad[index] = (f(x) - f(x)) / (2 * h)"
        ),
    ),
    (
        "every entry at once",
        NG,
        "every entry is one number",
        "def numerical_gradient(f, x, h=1e-5):\n"
        "    return np.full(x.shape, (f(x + h) - f(x - h)) / (2 * h))\n",
    ),
    ("L1 length", SAD, "L1 length", direction("np.sum(np.abs(grad))")),
    ("squared length", SAD, "squared length", direction("grad @ grad")),
    ("largest entry", SAD, "largest entry", direction("np.max(np.abs(grad))")),
    ("entry count", SAD, "number of entries", direction("grad.size + 0 * np.linalg.norm(grad)")),
    (
        "threshold too large",
        SAD,
        "length is 0.005",
        direction("np.linalg.norm(grad)", guard="1e-2"),
    ),
    ("3x + 2x", "plane_and_bowl", "y is not used", "def plane(x, y):\n    return 3 * x + 2 * x\n"),
    (
        "3x · 2y",
        "plane_and_bowl",
        "the terms are added",
        "def plane(x, y):\n    return 3 * x * 2 * y\n",
    ),
    ("(x + y)²", "plane_and_bowl", "cross term", "def bowl(x, y):\n    return (x + y) ** 2\n"),
    (
        "root",
        "plane_and_bowl",
        "no square root",
        "def bowl(x, y):\n    return np.sqrt(x**2 + y**2)\n",
    ),
    ("xor", "plane_and_bowl", "bitwise xor", "def bowl(x, y):\n    return x ^ 2 + y ^ 2\n"),
    (
        "[3x, 2y]",
        "plane_and_bowl_gradients",
        "not their slopes",
        "def plane_gradient(x, y):\n    return np.array([3 * x, 2 * y])\n",
    ),
    (
        "np.gradient",
        "exact_gradients_at_edge_cases",
        "np.gradient differences",
        "def bowl_gradient(x, y):\n    return np.gradient(np.array([x**2, y**2]))\n",
    ),
    (
        "[x², y²]",
        "plane_and_bowl_gradients",
        "[x², y²]",
        "def bowl_gradient(x, y):\n    return np.array([x**2, y**2])\n",
    ),
    (
        "[2, 2]",
        "plane_and_bowl_gradients",
        "the x and y are missing",
        "def bowl_gradient(x, y):\n    return np.array([2.0, 2.0])\n",
    ),
    (
        "[2x, 2x]",
        "plane_and_bowl_gradients",
        "∂z/∂y is 2y",
        "def bowl_gradient(x, y):\n    return np.array([2 * x, 2 * x])\n",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("check_id", "words", "code"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_the_mistake_is_named(
    course: Course, tmp_path: Path, check_id: str, words: str, code: str
) -> None:
    result = graded_with(course, "exercise2", code, tmp_path)
    assert words in message_of(result, check_id), message_of(result, check_id)
    assert result.score < result.max_score


def test_a_direction_following_numerical_gradient_s_mistake_keeps_its_points(
    course: Course, tmp_path: Path
) -> None:
    code = gradient(f"step[index] = h\n        grad[index] = {CENTRAL}", "step = np.zeros_like(x)")
    result = graded_with(course, "exercise2", code, tmp_path)
    lost = {check.id for check in result.checks if check.status != "passed"}
    assert lost == {NG}
    assert "step is not reset" in message_of(result, NG)


def test_a_value_that_only_resembles_a_mistake_at_1_1_is_told_none(
    course: Course, tmp_path: Path
) -> None:
    # 3x + 2y + 1 is 6xy at (1, 1) only
    result = graded_with(
        course, "exercise2", "def plane(x, y):\n    return 3 * x + 2 * y + 1\n", tmp_path
    )
    message = message_of(result, "plane_and_bowl")
    assert message.startswith("plane(1, 1)") and "Hint:" not in message


def test_the_hidden_checks_name_each_mistake_in_the_public_checks_words() -> None:
    assert_both_check_files_share(
        "exercise2",
        {
            "gradient_mistakes",
            "direction_mistakes",
            "surface_gradient_named",
            "default_step_of",
            "only_at_x",
        },
    )
