"""The course as notebooks: built from the same source as the .py stubs, valid, runnable in a real
Jupyter kernel when solved, and graded like the .py files."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from grader.build import student_files
from grader.cli import main
from grader.course import Course
from grader.notebooks import notebook_text
from tests.helpers import REPO


def test_student_files_are_built_from_the_solutions(course: Course) -> None:
    """exercises/*.py and *.ipynb are exactly what `grade build` writes."""
    files = student_files(course)
    assert len(files) == 2 * len(course.exercises)
    for path, text in files.items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} is out of date: run `grade build`"
        )


def test_notebooks_validate(course: Course) -> None:
    for exercise in course.exercises:
        notebook = nbformat.read(exercise.student_file.with_suffix(".ipynb"), as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata["kernelspec"]["name"] == "python3"


def test_build_is_reproducible(course: Course) -> None:
    exercise = course.exercises[0]
    source = exercise.student_file.read_text()
    assert notebook_text(source, exercise.id) == notebook_text(source, exercise.id)


def check_cell_source(exercise_id: str) -> str:
    return f'from grader import check\n\ncheck("{exercise_id}")'


def test_every_notebook_ends_with_how_to_check_it_and_the_check_cell(course: Course) -> None:
    """The closing Markdown says to save and run the cell below, what that grades and where;
    the last cell checks this exercise with the notebook API."""
    for exercise in course.exercises:
        notebook = nbformat.read(exercise.student_file.with_suffix(".ipynb"), as_version=4)
        *_, closing, check_cell = notebook.cells
        assert closing.cell_type == "markdown"
        text = closing.source
        assert text.startswith("## Check your work\n\n")
        for words in (
            "Save the notebook (Ctrl+S / Cmd+S)",
            "run the cell below",
            "the saved notebook, in a separate process",
            "the imports, definitions and assignments",
            "a try-out call, a loop or a plot is left out",
        ):
            assert words in text, (exercise.id, words)
        assert "`grade " not in text  # the notebook's own way, not the terminal's
        assert check_cell.cell_type == "code"
        assert check_cell.source == check_cell_source(exercise.id)
        assert check_cell.outputs == [] and check_cell.execution_count is None
        assert [cell.id for cell in notebook.cells] == [
            f"cell-{index}" for index in range(len(notebook.cells))
        ]
        code_cells = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
        assert sum(check_cell_source(exercise.id) in code for code in code_cells) == 1


def test_the_check_cell_names_the_exercise_it_is_built_for(course: Course) -> None:
    """The same source built for another exercise id checks that one: the id comes from the
    course, not from the file."""
    source = course.exercise("exercise3").student_file.read_text()
    other = nbformat.reads(notebook_text(source, "exercise9"), as_version=4)
    assert other.cells[-1].source == check_cell_source("exercise9")


def solved_notebook(course: Course, exercise_id: str) -> str:
    exercise = course.exercise(exercise_id)
    assert exercise.solution_file is not None
    return notebook_text(exercise.solution_file.read_text(), exercise_id)


@pytest.fixture(scope="module")
def kernel_available() -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    if "python3" not in KernelSpecManager().find_kernel_specs():
        pytest.skip("no python3 Jupyter kernel installed (pip install ipykernel)")


@pytest.mark.slow
def test_solved_notebooks_run_top_to_bottom_in_a_kernel(
    course: Course, tmp_path: Path, kernel_available: None
) -> None:
    """Every solved notebook runs in a real kernel, its check cell (which grades the saved
    notebook, and this one is saved nowhere) replaced by a cell that lists what it defined."""
    for exercise in course.exercises:
        notebook = nbformat.reads(solved_notebook(course, exercise.id), as_version=4)
        assert notebook.cells.pop().source == check_cell_source(exercise.id)
        notebook.cells.append(
            nbformat.v4.new_code_cell(
                "import types\n"
                "defined = [name for name, value in dict(globals()).items()\n"
                "           if isinstance(value, (types.FunctionType, type))\n"
                "           and not name.startswith('_')]\n"
                "assert defined, 'no functions defined'\n"
                "print(len(defined))"
            )
        )
        NotebookClient(
            notebook,
            timeout=60,
            kernel_name="python3",
            resources={"metadata": {"path": str(tmp_path)}},
        ).execute()
        printed = notebook.cells[-1].outputs[0]["text"]
        assert int(printed) >= 2


def test_the_whole_course_in_notebooks_scores_full_marks(
    course: Course, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Solved notebooks beside untouched .py stubs: every exercise grades its notebook."""
    for exercise in course.exercises:
        shutil.copy(exercise.student_file, tmp_path / exercise.file_name)
        (tmp_path / exercise.file_name).with_suffix(".ipynb").write_text(
            solved_notebook(course, exercise.id)
        )
    status = main(["all", "--course", str(REPO), "--submission", str(tmp_path), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert status == 0 and report["score"] == 100
    for item in report["exercises"]:
        assert item["file"].endswith(".ipynb")
        assert "unfinished" in item["notes"][0]
        assert not any("check(" in note for note in item["notes"])  # the check cell, quiet


def notebook_with(cells: list[str]) -> str:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(code) for code in cells]
    return nbformat.writes(notebook)


def test_running_code_in_a_notebook_is_left_out_and_reported(
    course: Course, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    solution = course.exercise("exercise4").solution_file
    assert solution is not None
    path = tmp_path / "exercise4_gradient_descent.ipynb"
    path.write_text(
        notebook_with(
            [
                solution.read_text(),
                "RATE = 0.1\nprint('training...')\nwhile True:\n    pass",
            ]
        )
    )
    status = main(
        ["exercise4", "--course", str(REPO), "--submission", str(path), "--format", "json"]
    )
    report = json.loads(capsys.readouterr().out)
    assert status == 0 and report["score"] == 8
    assert report["output"] == ""
    [note] = report["notes"]
    assert "cell 2, line 2: `print('training...')`" in note
    assert "cell 2, line 3: `while True:`" in note
    assert "RATE" not in note


def test_run_all_cells_runs_everything(
    course: Course, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    solution = course.exercise("exercise4").solution_file
    assert solution is not None
    path = tmp_path / "exercise4_gradient_descent.ipynb"
    path.write_text(notebook_with([solution.read_text(), "print('trying it out')"]))
    status = main(
        [
            "exercise4",
            "--course",
            str(REPO),
            "--submission",
            str(path),
            "--format",
            "json",
            "--run-all-cells",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert status == 0
    assert report["output"].startswith("trying it out") and report["notes"] == []


def copy_pair(course: Course, exercise_id: str, folder: Path) -> tuple[Path, Path]:
    exercise = course.exercise(exercise_id)
    script = folder / exercise.file_name
    shutil.copy(exercise.student_file, script)
    notebook = script.with_suffix(".ipynb")
    shutil.copy(exercise.student_file.with_suffix(".ipynb"), notebook)
    return script, notebook


def graded_file(folder: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    main(["exercise3", "--course", str(REPO), "--submission", str(folder), "--format", "json"])
    return json.loads(capsys.readouterr().out)


def test_untouched_pair_grades_the_script_without_a_note(
    course: Course, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script, notebook = copy_pair(course, "exercise3", tmp_path)
    os.utime(notebook, (script.stat().st_mtime + 100,) * 2)
    report = graded_file(tmp_path, capsys)
    assert report["file"].endswith(".py") and report["notes"] == []


def test_pair_grades_the_file_worked_in(
    course: Course, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script, _ = copy_pair(course, "exercise3", tmp_path)
    solution = course.exercise("exercise3").solution_file
    assert solution is not None
    script.write_text(solution.read_text())
    report = graded_file(tmp_path, capsys)
    assert report["file"].endswith(".py") and report["score"] == 10
    assert "no function is unfinished, against 4" in report["notes"][0]


def test_pair_with_equal_progress_grades_the_newer(
    course: Course, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script, notebook = copy_pair(course, "exercise3", tmp_path)
    notebook_data = nbformat.read(notebook, as_version=4)
    notebook_data.cells.append(nbformat.v4.new_code_cell("EXTRA = 1"))
    nbformat.write(notebook_data, notebook)
    os.utime(script, (notebook.stat().st_mtime - 100,) * 2)
    report = graded_file(tmp_path, capsys)
    assert report["file"].endswith(".ipynb")
    assert "it was saved last" in report["notes"][0]
