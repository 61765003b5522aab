"""The grading environment is defined and named: the package requires the numpy its checks were
written for, every report names the versions it graded with, and code that fails on what that
numpy removed is told so."""

from __future__ import annotations

import json
import platform
import tomllib
from pathlib import Path

import numpy as np
import pytest
from packaging.requirements import Requirement

from grader import numpy_changes
from grader.course import Course
from grader.reports import gradescope, json_report, terminal
from grader.results import CourseResult
from tests.helpers import REPO, grade_text, solution_text, with_function


def test_the_installed_numpy_is_the_range_the_package_requires() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    [numpy] = [Requirement(item) for item in project["dependencies"] if item.startswith("numpy")]
    assert np.__version__ in numpy.specifier
    assert "2.3.5" not in numpy.specifier  # a closed range: not "numpy>=1.24"
    assert platform.python_version() in Requirement(f"python{project['requires-python']}").specifier


def test_every_report_names_the_versions(course: Course, tmp_path: Path) -> None:
    result = grade_text(course, "exercise6", solution_text(course, "exercise6"), tmp_path)
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    assert result.environment == versions
    assert json.loads(json_report.render(result))["environment"] == versions
    shown = terminal.render(result)
    assert f"graded with Python {versions['python']}, numpy {versions['numpy']}" in shown
    results = gradescope.results_json(CourseResult([result]), course, 1.0)
    assert results["extra_data"]["environment"] == versions


REMOVED = [
    ("np.reshape(z, newshape=z.shape)", "`newshape=` was removed in numpy 2.4", "`shape=`"),
    ("np.product(z) * 0 + z", "`np.product` was removed in numpy 2.0", "`np.prod`"),
    ("z * float(np.ones(1))", "removed in numpy 2.4", "`a.item()`"),
    ("np.asarray(z, dtype=np.float)", "`np.float` was removed in numpy 1.24", "builtin `float`"),
]


@pytest.mark.parametrize(("expression", "said", "advice"), REMOVED, ids=[r[0] for r in REMOVED])
def test_code_using_what_numpy_removed_is_told_so(
    course: Course, tmp_path: Path, expression: str, said: str, advice: str
) -> None:
    code = f"""
def relu_forward(z):
    out = np.maximum({expression}, 0)
    return out, z
"""
    source = with_function(solution_text(course, "exercise6"), code)
    result = grade_text(course, "exercise6", source, tmp_path)
    [relu] = [check for check in result.checks if check.id == "relu"]
    assert relu.status == "error"
    assert said in relu.message and advice in relu.message
    assert f"the course grades with numpy {np.__version__}" in relu.message


def test_other_errors_get_no_such_line() -> None:
    assert (
        numpy_changes.explain("TypeError: unsupported operand type(s) for +: 'int' and 'str'")
        is None
    )
    assert numpy_changes.explain("AttributeError: module 'numpy' has no attribute 'prodd'") is None


def test_each_removal_matches_the_error_numpy_raises() -> None:
    """The patterns are checked against the installed numpy's own errors."""
    attempts = {
        "newshape": lambda: np.reshape(np.arange(4), newshape=(2, 2)),
        "in1d": lambda: np.in1d,
        "trapz": lambda: np.trapz,
        "cumproduct": lambda: np.cumproduct,
        "scalar": lambda: float(np.ones(1)),
        "generator": lambda: np.sum(x for x in range(3)),
        "interpolation": lambda: np.percentile([1.0, 2.0], 50, interpolation="linear"),
    }
    for name, attempt in attempts.items():
        with pytest.raises((TypeError, AttributeError)) as caught:
            attempt()
        assert numpy_changes.explain(f"{caught.type.__name__}: {caught.value}"), name
