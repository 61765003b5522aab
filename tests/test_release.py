"""`grade release student DEST`: what students receive holds no answer, grades the public checks
as the full course does, and is the same, byte for byte, every time."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

from grader.cli import main
from grader.course import CourseError, load_course
from grader.notebooks import notebook_text
from grader.runner import grade, load_checks
from grader.stubs import GIVEN
from tests.helpers import REPO, solution_text, with_function


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("release") / "student"
    assert main(["release", "student", str(dest), "--course", str(REPO)]) == 0
    return dest


def texts(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def solution_bodies() -> list[tuple[str, str]]:
    """(function, the source of its body) for every function of every solution that is the
    student's work (not a helper the exercise gives)."""
    found = []
    course = load_course(REPO / "course.yaml")
    for exercise in course.exercises:
        assert exercise.solution_file is not None
        source = exercise.solution_file.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.FunctionDef):
                continue
            if (ast.get_docstring(node) or "").startswith(GIVEN):
                continue
            body = node.body[1:] if ast.get_docstring(node) else node.body
            if body:
                segment = "\n".join(
                    source.splitlines()[body[0].lineno - 1 : body[-1].end_lineno]
                ).strip()
                found.append((node.name, segment))
    return found


def test_the_release_holds_no_solution_and_no_hidden_check(release: Path) -> None:
    contents = texts(release)
    course = load_course(REPO / "course.yaml")
    # What the course gives students on purpose is no leak: a public check may state an answer as
    # its expected value (exercise 3's -sin(x² - 1)·2x is the lesson's own; so may the modules the
    # public checks share), and a later
    # exercise's stub gives an earlier exercise's functions as helpers (relu_forward in 9).
    given = [
        path
        for exercise in course.exercises
        for path in (exercise.checks, *exercise.shared_check_modules)
    ] + [
        path
        for exercise in course.exercises
        for path in (exercise.student_file, exercise.student_file.with_suffix(".ipynb"))
        if path.is_file()
    ]
    public = "\n".join(path.read_text() for path in given)
    bodies = [(name, body) for name, body in solution_bodies() if body not in public]
    assert len(bodies) > 30  # every exercise's work, found
    for name, body in bodies:
        leaks = [path for path, text in contents.items() if body in text]
        assert leaks == [], f"the body of {name} is in {leaks}"
    hidden = [
        check.function.__name__
        for exercise in course.exercises
        for check in load_checks(course, exercise)
        if check.hidden
    ]
    assert len(hidden) > 10
    for name in hidden:
        assert not any(name in text for text in contents.values()), name
    assert not any("solution" in path or "hidden" in path for path in contents)


@pytest.mark.slow
def test_public_checks_grade_as_in_the_full_course(release: Path, tmp_path: Path) -> None:
    full = load_course(REPO / "course.yaml")
    released = load_course(release / "course.yaml")
    wrong = tmp_path / "exercise3_chain_rule.py"
    wrong.write_text(
        with_function(
            solution_text(full, "exercise3"),
            "def chain_rule(f_prime, g, g_prime, x):\n    return f_prime(g(x))\n",
        )
    )
    cases = [(exercise.id, exercise.solution_file) for exercise in full.exercises]
    cases.append(("exercise3", wrong))
    for exercise_id, path in cases:
        assert path is not None
        ours = grade(full, full.exercise(exercise_id), path)
        theirs = grade(released, released.exercise(exercise_id), path)
        public = [
            (check.id, check.score, check.status, check.message)
            for check in ours.checks
            if not check.hidden
        ]
        assert public == [
            (check.id, check.score, check.status, check.message) for check in theirs.checks
        ]
        assert theirs.max_score + theirs.hidden_points == ours.max_score
        assert theirs.hidden_points == sum(c.max_score for c in ours.checks if c.hidden) > 0


def test_the_release_grades_with_its_own_grader_and_names_the_hidden_points(
    release: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "grader", "exercise3"],
        cwd=release,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1  # the untouched stub
    assert "Score 0/6" in done.stdout
    assert "+ 4 more points from hidden checks, graded after you hand in" in done.stdout


@pytest.mark.slow
def test_the_release_is_the_same_every_time(release: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert main(["release", "student", str(again), "--course", str(REPO)]) == 0
    first = {p.relative_to(release): p.read_bytes() for p in release.rglob("*") if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert first == second


def test_the_release_has_a_workflow_that_grades_every_push(release: Path) -> None:
    workflow = (release / ".github" / "workflows" / "classroom.yml").read_text()
    assert "on: [push, workflow_dispatch]" in workflow
    assert "grade all --junit" in workflow and "autograding-grading-reporter" in workflow


def test_the_release_installs_jupyterlab_with_its_jupyter_extra(release: Path) -> None:
    """`pip install -e ".[jupyter]"` in the release installs what the course's own jupyter
    extra does: JupyterLab 4 or later."""
    released = tomllib.loads((release / "pyproject.toml").read_text())["project"]
    ours = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extra = released["optional-dependencies"]["jupyter"]
    assert extra == ours["optional-dependencies"]["jupyter"] == ["jupyterlab>=4", "jinja2>=3.1"]
    assert set(released["optional-dependencies"]) == {"jupyter"}  # nothing of the course's own


def test_the_student_readme_says_how_to_work_in_jupyter(release: Path) -> None:
    readme = (release / "README.md").read_text()
    _, _, jupyter = readme.partition("\n## Working in Jupyter\n")
    assert jupyter, "no Working in Jupyter section"
    commands = re.findall(r"```sh\n(.*?)```", jupyter, re.DOTALL)
    assert commands and commands[0].splitlines() == [
        'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[jupyter]"',
        "jupyter lab exercises",
    ]
    for words in (
        "fill in the functions",
        "save the notebook",
        "run the check cell at the end",
        "the report appears under the cell",
        'check("all")',
        "grade submit",
        'check("submit")',
    ):
        assert words in jupyter, words


def test_the_release_notebooks_end_with_their_check_cell(release: Path) -> None:
    released = load_course(release / "course.yaml")
    for exercise in released.exercises:
        notebook = json.loads(exercise.student_file.with_suffix(".ipynb").read_text())
        *_, closing, check_cell = notebook["cells"]
        assert closing["cell_type"] == "markdown"
        assert "".join(closing["source"]).startswith("## Check your work")
        assert check_cell["cell_type"] == "code"
        assert "".join(check_cell["source"]) == (
            f'from grader import check\n\ncheck("{exercise.id}")'
        )


def run_in_kernel(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path`` run top to bottom as Jupyter runs it, in its folder."""
    from jupyter_client.kernelspec import KernelSpecManager

    if "python3" not in KernelSpecManager().find_kernel_specs():
        pytest.skip("no python3 Jupyter kernel installed (pip install ipykernel)")
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    return notebook


def check_cell_shows(notebook: nbformat.NotebookNode) -> str:
    [output] = [item for item in notebook.cells[-1].outputs if item.get("data")]
    return output["data"]["text/plain"]


@pytest.mark.slow
def test_a_release_notebook_checks_itself_with_its_own_last_cell(
    release: Path, tmp_path: Path
) -> None:
    """Exercise 7's notebook as released, untouched and then solved and saved, run top to bottom:
    its check cell grades it and shows the report under it."""
    release = Path(shutil.copytree(release, tmp_path / "repository"))
    path = release / "exercises" / "exercise7_linear.ipynb"
    shown = check_cell_shows(run_in_kernel(path))
    assert "Score 0/6" in shown and "linear_forward is not implemented yet" in shown
    solution = (REPO / "solutions" / "exercise7_linear.py").read_text()
    path.write_text(notebook_text(solution, "exercise7"))
    shown = check_cell_shows(run_in_kernel(path))
    assert "Score 6/6" in shown and "+ 4 more points from hidden checks" in shown


def test_a_non_empty_destination_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["release", "student", str(tmp_path), "--course", str(REPO)]) == 2
    err = capsys.readouterr().err.strip()
    assert "exists and is not an empty folder" in err and "\n" not in err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_hidden_points_and_hidden_checks_together_are_refused(tmp_path: Path) -> None:
    text = (
        (REPO / "course.yaml")
        .read_text()
        .replace(
            "    hidden_checks: checks/exercise1_hidden.py\n",
            "    hidden_checks: checks/exercise1_hidden.py\n    hidden_points: 3\n",
            1,
        )
    )
    path = REPO / "course.yaml"
    copy = tmp_path / "course.yaml"
    copy.write_text(text)
    for folder in ("checks", "exercises", "solutions"):
        (tmp_path / folder).symlink_to(path.parent / folder)
    with pytest.raises(CourseError, match="give hidden_points only where"):
        load_course(copy)


@pytest.mark.slow
def test_the_workflow_grade_step_writes_what_github_reads(release: Path, tmp_path: Path) -> None:
    """The workflow's grade step, run as GitHub runs it: the environment variables set."""
    import base64
    import json
    import os
    import shutil

    import yaml

    release = Path(shutil.copytree(release, tmp_path / "repository"))  # the shared one stays as is
    workflow = yaml.safe_load((release / ".github" / "workflows" / "classroom.yml").read_text())
    step = next(step for step in workflow["jobs"]["grade"]["steps"] if step.get("id") == "grade")
    command = step["run"].split()
    assert command[:2] == ["grade", "all"]
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    environment = {
        **os.environ,
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
    }
    done = subprocess.run(
        [sys.executable, "-m", "grader", *command[1:]],
        cwd=release,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0  # the stubs: no points, but not a broken build
    assert (release / "reports" / "grades.xml").read_text().startswith("<testsuites")
    assert "**Total: 0 / 66**" in summary.read_text()
    result = json.loads(base64.b64decode(output.read_text().strip().split("=", 1)[1]))
    assert result["max_score"] == 66 and len(result["tests"]) > 30
    assert done.stdout.count("::error file=exercises/") == len(result["tests"])


def test_the_release_keeps_what_the_course_wants_handed_in(tmp_path: Path) -> None:
    for folder in ("exercises", "solutions", "checks"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    course_file = tmp_path / "course.yaml"
    data = yaml.safe_load((REPO / "course.yaml").read_text())
    course_file.write_text(yaml.safe_dump({**data, "hand_in": "notebooks"}, sort_keys=False))
    dest = tmp_path / "student"
    assert main(["release", "student", str(dest), "--course", str(course_file)]) == 0
    assert load_course(dest / "course.yaml").hand_in == "notebooks"
