"""`grade export otter DEST`: the part students receive, DEST/<exercise>/student/. It holds no
solution and no hidden check, its notebook checks itself with otter's ``grader.check`` (real
otter, in a real kernel), and the instructor's autograder still grades that notebook as `grade`
does."""

from __future__ import annotations

import ast
import json
import shutil
import zipfile
from pathlib import Path

import nbformat
import otter.test_files as otter_test_files
import pytest
from nbclient import NotebookClient

from grader.course import Course, load_course
from grader.integrations.otter_student import public_shared_modules, student_notebook
from grader.runner import load_checks
from tests.helpers import failed, grade_text, solution_text
from tests.test_otter_export import FAILED_CASE, export, otter, wrong_code
from tests.test_release import solution_bodies, texts

INIT = 'grader = otter.Notebook(tests_dir="tests")'


def student(dest: Path, exercise_id: str) -> Path:
    return dest / exercise_id / "student"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole course exported for otter."""
    return export(tmp_path_factory.mktemp("otter") / "otter")


def cells(path: Path) -> list[nbformat.NotebookNode]:
    return list(nbformat.read(path, as_version=4).cells)


def course_notebook(course: Course, exercise_id: str) -> Path:
    return course.exercise(exercise_id).student_file.with_suffix(".ipynb")


def as_student(book: nbformat.NotebookNode, exercise_id: str = "exercise3") -> list:
    """The cells of ``book`` made a student's otter notebook."""
    text = (nbformat.writes(book) + "\n").encode("utf-8")
    return list(nbformat.reads(student_notebook(text, exercise_id, 4).decode(), 4).cells)


def sources(book_cells: list[nbformat.NotebookNode]) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in book_cells]


def readable(folder: Path) -> dict[str, str]:
    """Every file of ``folder`` as text, by its path; a notebook also as its cells' sources, as
    a student reads them (its JSON escapes quotes and line ends)."""
    found = texts(folder)
    for name, text in list(found.items()):
        if name.endswith(".ipynb"):
            book = nbformat.reads(text, as_version=4)
            found[f"{name} (cells)"] = "\n".join(cell.source for cell in book.cells)
    return found


class TestTheStudentFolder:
    def test_it_holds_the_notebook_the_public_tests_and_what_they_import(
        self, exported: Path, course: Course
    ) -> None:
        for exercise in course.exercises:
            folder = student(exported, exercise.id)
            parsed = otter_test_files.ExceptionTestFile.from_file(
                str(folder / "tests" / f"{exercise.id}.py")
            )
            public = [check for check in load_checks(course, exercise) if not check.hidden]
            assert parsed.name == exercise.id
            assert [(case.name, case.points, case.hidden) for case in parsed.test_cases] == [
                (check.id, check.points, False) for check in public
            ]
            assert (folder / course_notebook(course, exercise.id).name).is_file()
            assert (folder / "course_support" / "grader" / "kernel_worker.py").is_file()
            requirements = (folder / "requirements.txt").read_text()
            assert "otter-grader" in requirements and "numpy" in requirements
            # the instructor's part is as it was: every check, the solution
            instructor = exported / exercise.id
            assert (
                instructor / "course_support" / relative_solution(course, exercise.id)
            ).is_file()
            assert len(
                otter_test_files.ExceptionTestFile.from_file(
                    str(instructor / "tests" / f"{exercise.id}.py")
                ).test_cases
            ) == len(load_checks(course, exercise))

    def test_its_course_has_the_public_checks_only_and_loads_them_all(
        self, exported: Path, course: Course
    ) -> None:
        for exercise in course.exercises:
            support = student(exported, exercise.id) / "course_support"
            document = (support / "course.yaml").read_text()
            assert "solution_file" not in document and "hidden_checks:" not in document
            theirs = load_course(support / "course.yaml")
            (mine,) = theirs.exercises
            assert mine.solution_file is None and mine.hidden_checks is None
            public = [check for check in load_checks(course, exercise) if not check.hidden]
            # the shared modules they load are there: loading the checks imports them
            assert [check.id for check in load_checks(theirs, mine)] == [c.id for c in public]
            assert mine.points + (mine.hidden_points or 0) == exercise.points
            assert theirs.seed == course.seed and mine.limits == exercise.limits

    def test_it_holds_no_solution_and_no_hidden_check(self, exported: Path, course: Course) -> None:
        contents = {
            f"{exercise.id}/{name}": text
            for exercise in course.exercises
            for name, text in readable(student(exported, exercise.id)).items()
        }
        # What the course gives students on purpose is no leak (as in the student release):
        # the public checks and their shared modules, the stubs.
        given = [
            path
            for exercise in course.exercises
            for path in (
                exercise.checks,
                *exercise.shared_check_modules,
                exercise.student_file,
                exercise.student_file.with_suffix(".ipynb"),
            )
            if path.is_file()
        ]
        public = "\n".join(path.read_text() for path in given)
        bodies = [(name, body) for name, body in solution_bodies() if body not in public]
        assert len(bodies) > 30
        for name, body in bodies:
            leaks = [path for path, text in contents.items() if body in text]
            assert leaks == [], f"the body of {name} is in {leaks}"
        hidden = {
            name
            for exercise in course.exercises
            for check in load_checks(course, exercise)
            if check.hidden
            for name in (check.function.__name__, check.id)
        }
        assert len(hidden) > 20
        for name in sorted(hidden):
            leaks = [path for path, text in contents.items() if name in text]
            assert leaks == [], f"the hidden check {name} is in {leaks}"
        assert not any("solution" in path or "hidden" in path for path in contents)

    def test_a_leak_would_be_found(self, exported: Path, course: Course, tmp_path: Path) -> None:
        """The search above finds what it looks for: the instructor's part holds both, and a
        solution in a notebook's cell is found too."""
        instructor = readable(exported / "exercise3")
        hidden = [c.id for c in load_checks(course, course.exercise("exercise3")) if c.hidden]
        assert all(any(name in text for text in instructor.values()) for name in hidden)
        body = dict(solution_bodies())["compose"]
        assert any(body in text for text in instructor.values())
        book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(body)])
        nbformat.write(book, tmp_path / "solved.ipynb")
        assert body not in (tmp_path / "solved.ipynb").read_text()  # escaped in the JSON
        assert body in readable(tmp_path)["solved.ipynb (cells)"]


def relative_solution(course: Course, exercise_id: str) -> str:
    solution = course.exercise(exercise_id).solution_file
    assert solution is not None
    return solution.relative_to(course.root).as_posix()


class TestTheNotebook:
    def test_otter_is_initialized_first_and_checks_where_the_course_checked(
        self, exported: Path, course: Course
    ) -> None:
        for exercise in course.exercises:
            theirs = cells(
                student(exported, exercise.id) / course_notebook(course, exercise.id).name
            )
            ours = cells(course_notebook(course, exercise.id))
            assert theirs[0].cell_type == "code" and "import otter" in theirs[0].source
            assert INIT in theirs[0].source
            assert sources(theirs[-1:]) == [("code", f'grader.check("{exercise.id}")')]
            assert theirs[-2].source.startswith("## Check your work")
            assert "Run the cell below" in theirs[-2].source
            everything = "\n".join(cell.source for cell in theirs)
            assert "In a terminal" not in everything and f"grade {exercise.id}" not in everything
            # the course's cells, in order, but the closing section (its intro names the check)
            assert [cell.source for cell in theirs[1:-2]][1:] == [
                cell.source for cell in ours[:-2]
            ][1:]
            assert f'`grader.check("{exercise.id}")`' in theirs[1].source
            nbformat.validate(
                nbformat.read(student(exported, exercise.id) / ours_name(course, exercise.id), 4)
            )

    def test_a_closing_check_cell_of_the_grader_is_replaced_wherever_it_is(
        self, course: Course
    ) -> None:
        """The closing section as a `from grader import check` cell (with or without its
        heading, split over two cells, followed by more cells): replaced by otter's check where
        it stood, and only that."""
        book = nbformat.read(course_notebook(course, "exercise3"), as_version=4)
        body = book.cells[:-2]  # the course's closing section: its heading, its check cell
        after = nbformat.v4.new_markdown_cell("## Going further\n\nTry a chain of three.")
        forms = [
            [
                nbformat.v4.new_markdown_cell("## Check your work\n\nRun the cell below."),
                nbformat.v4.new_code_cell('from grader import check\n\ncheck("exercise3")'),
            ],
            [nbformat.v4.new_code_cell('from grader import check\ncheck("exercise3")')],
            [
                nbformat.v4.new_markdown_cell("### Check your work"),
                nbformat.v4.new_code_cell("# grade it\nfrom grader import check"),
                nbformat.v4.new_code_cell("check('exercise3')"),
            ],
            [nbformat.v4.new_code_cell('import grader\ngrader.check("exercise3")')],
        ]
        for form in forms:
            book.cells = [*body, *form, after]
            theirs = as_student(book)
            expected = [("code", 'grader.check("exercise3")'), ("markdown", after.source)]
            assert sources(theirs[-2:]) == expected
            assert sources(theirs[1 : len(body) + 1])[1:] == sources(body)[1:]
            assert len(theirs) == len(body) + 4  # init, the note, the check, after
            everything = "\n".join(cell.source for cell in theirs)
            assert "from grader" not in everything and "import grader" not in everything

    def test_other_code_of_a_check_cell_is_kept(self, course: Course) -> None:
        book = nbformat.read(course_notebook(course, "exercise3"), as_version=4)
        book.cells = [
            *book.cells[:-2],
            nbformat.v4.new_code_cell("%matplotlib inline\nx = 1"),
            nbformat.v4.new_code_cell(
                '%load_ext autoreload\nfrom grader import check\nLIMIT = 3\ncheck("exercise3")'
            ),
        ]
        theirs = as_student(book)
        assert sources(theirs[-4:-2]) == [
            ("code", "%matplotlib inline\nx = 1"),
            ("code", "%load_ext autoreload\nLIMIT = 3"),
        ]
        assert theirs[-1].source == 'grader.check("exercise3")'

    def test_without_a_closing_section_the_check_goes_last(self, course: Course) -> None:
        book = nbformat.read(course_notebook(course, "exercise3"), as_version=4)
        book.cells = book.cells[:-2]
        theirs = as_student(book)
        assert len(theirs) == len(book.cells) + 3
        assert theirs[-1].source == 'grader.check("exercise3")'
        assert len({cell.id for cell in theirs}) == len(theirs)

    def test_a_notebook_of_an_older_format_gets_cell_ids(self, course: Course) -> None:
        book = nbformat.read(course_notebook(course, "exercise3"), as_version=4)
        book.nbformat_minor = 4
        for cell in book.cells:
            del cell["id"]
        theirs = as_student(book)
        ids = [cell.id for cell in theirs]
        assert all(ids) and len(set(ids)) == len(ids)
        assert theirs[-1].source == 'grader.check("exercise3")'


def ours_name(course: Course, exercise_id: str) -> str:
    return course_notebook(course, exercise_id).name


def test_only_the_shared_modules_the_public_checks_load_go(course: Course, tmp_path: Path) -> None:
    names = {e.id: [p.name for p in public_shared_modules(e)] for e in course.exercises}
    assert names["exercise9"] == ["_exercise9_loss.py", "_exercise9_mistakes.py"]
    assert names["exercise3"] == ["_exercise3_mistakes.py"]
    # a name the source does not spell out: every module beside the checks goes
    checks = tmp_path / "checks"
    checks.mkdir()
    for name in ("_a.py", "_b.py"):
        (checks / name).write_text("")
    (checks / "one_public.py").write_text('NAME = "_a"\nmodule = shared(__file__, NAME)\n')
    (checks / "two_public.py").write_text('first = shared(__file__, "_b")\n')
    (tmp_path / "one.py").write_text("")
    for exercise, expected in (("one", ["_a.py", "_b.py"]), ("two", ["_b.py"])):
        (tmp_path / "course.yaml").write_text(
            "title: t\nseed: 1\nexercises:\n"
            f"  - {{id: {exercise}, title: T, student_file: one.py,\n"
            f"     checks: checks/{exercise}_public.py, points: 1}}\n"
        )
        (found,) = load_course(tmp_path / "course.yaml").exercises
        assert [path.name for path in public_shared_modules(found)] == expected


# ---------------------------------------------------------------- real otter, as students run it


def filled(path: Path, code: str) -> nbformat.NotebookNode:
    """The student notebook at ``path`` with each of its functions and classes replaced by the
    one of the same name in ``code``: the notebook a student filled in."""
    book = nbformat.read(path, as_version=4)
    tree = ast.parse(code)
    definitions = {
        node.name: ast.get_source_segment(code, node)
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.ClassDef))
    }
    replaced = set()
    for cell in book.cells:
        if cell.cell_type != "code":
            continue
        names = [
            node.name
            for node in ast.parse(cell.source).body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))
        ]
        if len(names) == 1 and names[0] in definitions:
            cell.source = definitions[names[0]]
            replaced.add(names[0])
    assert replaced == set(definitions), set(definitions) - replaced
    return book


def run_in_kernel(book: nbformat.NotebookNode, folder: Path) -> str:
    """Run every cell of ``book`` in a Jupyter kernel started in ``folder``, as a student runs
    it; what the last cell (otter's check) shows, and which grader package the kernel used."""
    book.cells.append(
        nbformat.v4.new_code_cell('import sys\nprint("GRADER", sys.modules["grader"].__file__)')
    )
    NotebookClient(
        book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    check, used = book.cells[-2], book.cells[-1]
    shown = "".join(output.get("data", {}).get("text/plain", "") for output in check.outputs)
    shown += "".join(output.get("text", "") for output in check.outputs)
    return shown + "\n" + "".join(output.get("text", "") for output in used.outputs)


@pytest.fixture
def kernel_available() -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    if "python3" not in KernelSpecManager().find_kernel_specs():
        pytest.skip("no python3 Jupyter kernel installed (pip install ipykernel)")


@pytest.fixture(scope="module")
def handed_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Exercises 3 and 11 exported for otter: what the tests below hand out and grade."""
    return export(tmp_path_factory.mktemp("otter") / "otter", "exercise3", "exercise11")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("exercise_id", "variant"),
    [("exercise3", "solved"), ("exercise3", "wrong"), ("exercise11", "wrong")],
)
def test_otter_check_in_the_student_folder_runs_the_public_checks(
    handed_out: Path,
    tmp_path: Path,
    course: Course,
    kernel_available: None,
    exercise_id: str,
    variant: str,
) -> None:
    """In the student folder alone (copied away from the instructor's), the notebook's
    ``grader.check`` cell passes a solved notebook and names each public check a wrong one
    fails: those `grade` fails among the public checks, with its message."""
    folder = shutil.copytree(student(handed_out, exercise_id), tmp_path / "handed-out")
    code = (
        solution_text(course, exercise_id)
        if variant == "solved"
        else wrong_code(course, exercise_id)
    )
    shown = run_in_kernel(filled(folder / ours_name(course, exercise_id), code), folder)
    assert f"GRADER {(folder / 'course_support' / 'grader' / '__init__.py').resolve()}" in shown
    public = {c.id for c in load_checks(course, course.exercise(exercise_id)) if not c.hidden}
    graded = grade_text(course, exercise_id, code, tmp_path)
    failing = failed(graded) & public
    if variant == "solved":
        assert f"{exercise_id} results: All test cases passed!" in shown, shown
        assert not failing
    else:
        assert failing, "the wrong code fails no public check"
        assert set(FAILED_CASE.findall(shown)) == failing, shown
        for check in graded.checks:
            if check.id in failing:
                assert check.message.splitlines()[0] in shown


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["solved", "wrong"])
def test_the_instructors_autograder_grades_the_students_notebook_as_grade_does(
    handed_out: Path, tmp_path: Path, course: Course, variant: str
) -> None:
    """The notebook students hand in, with otter's init and check cells, graded by `otter run`
    with the instructor's autograder: every check, hidden ones too, scored as `grade` does."""
    folder = handed_out / "exercise3"
    if not (folder / "autograder.zip").is_file():
        otter("generate", "course_support", cwd=folder)
        with zipfile.ZipFile(folder / "autograder.zip") as archive:
            assert not [name for name in archive.namelist() if "student" in name.split("/")]
    code = (
        solution_text(course, "exercise3")
        if variant == "solved"
        else wrong_code(course, "exercise3")
    )
    submission = tmp_path / ours_name(course, "exercise3")
    nbformat.write(filled(student(handed_out, "exercise3") / submission.name, code), submission)
    otter("run", "-a", "autograder.zip", str(submission), "-o", str(tmp_path), cwd=folder)
    results = json.loads((tmp_path / "results.json").read_text())
    graded = grade_text(course, "exercise3", code, tmp_path)
    score = sum(test.get("score", 0) for test in results["tests"])
    assert score == graded.score
    assert set(FAILED_CASE.findall(results["tests"][-1]["output"])) == failed(graded)
    assert (score == 10) == (variant == "solved")
