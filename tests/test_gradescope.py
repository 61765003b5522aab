"""`grade release gradescope autograder.zip`: the zip Gradescope builds, its setup.sh and
run_autograder run against a folder laid out as Gradescope lays out /autograder, and the
results.json they write, checked against a JSON Schema written from Gradescope's specification
and against what `grade` gives the same files."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import nbformat
import pytest
import yaml

from grader.cli import main
from grader.course import Course, CourseError, load_course
from grader.reports.gradescope import results_json
from grader.results import CheckResult, CourseResult, ExerciseResult
from tests.helpers import REPO, solution_text, with_function

SCHEMA = json.loads((Path(__file__).parent / "schemas/gradescope_results.schema.json").read_text())
WRONG_CHAIN_RULE = '''
def chain_rule(f_prime, g, g_prime, x):
    """The chain rule, with the inner derivative forgotten."""
    return f_prime(g(x))
'''
WRONG_SOFTMAX = '''
def softmax(scores):
    """Softmax over the wrong axis."""
    shifted = scores - scores.max(axis=0, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=0, keepdims=True)
'''


def validate(document: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(document)


def build_zip(dest: Path, *extra: str) -> Path:
    assert main(["release", "gradescope", str(dest), "--course", str(REPO), *extra]) == 0
    return dest


def autograder_root(folder: Path, archive: Path, venv: Path | None = None) -> Path:
    """``folder`` laid out as Gradescope lays out /autograder: the zip in source/, run_autograder
    copied beside it, empty submission/ and results/."""
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(folder / "source")
    for name in ("setup.sh", "run_autograder"):  # zipfile does not restore modes: Gradescope does
        (folder / "source" / name).chmod(0o755)
    shutil.copy(folder / "source" / "run_autograder", folder / "run_autograder")
    (folder / "submission").mkdir()
    (folder / "results").mkdir()
    if venv is not None:
        (folder / "venv").symlink_to(venv)
    return folder


def start_run_autograder(root: Path) -> subprocess.CompletedProcess[str]:
    """run_autograder run as Gradescope runs it: from ROOT (moved by AUTOGRADER_ROOT)."""
    return subprocess.run(
        [str(root / "run_autograder")],
        cwd=root,
        env={**os.environ, "AUTOGRADER_ROOT": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def run_autograder(
    root: Path, files: dict[str, str], links: dict[str, Path] | None = None
) -> tuple[dict, str]:
    """Hand in ``files`` (path in the submission -> text) and ``links`` (path -> where the
    symbolic link points) and run run_autograder; results.json and stdout."""
    shutil.rmtree(root / "submission")
    shutil.rmtree(root / "results")
    (root / "results").mkdir()
    for name, text in files.items():
        path = root / "submission" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "submission").mkdir(exist_ok=True)
    for name, target in (links or {}).items():
        (root / "submission" / name).symlink_to(target)
    run = start_run_autograder(root)
    assert run.returncode == 0, run.stderr
    return json.loads((root / "results" / "results.json").read_text()), run.stdout


def grade_json(folder: Path) -> dict:
    """What `grade all --format json` says of the exercise files in ``folder``."""
    run = subprocess.run(
        # the grader of the interpreter running the tests, not whatever `grade` PATH finds
        [
            *(sys.executable, "-m", "grader", "all", "--format", "json"),
            *("--submission", str(folder), "--course", str(REPO)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stdout)


def scores_by_check(document: dict) -> dict[str, float]:
    """``exercise · title`` -> score, for results.json tests or grade's JSON."""
    if "exercises" in document:
        return {
            f"{exercise['exercise']} · " + ("(hidden) " if test["hidden"] else "") + test["name"]: (
                test["score"]
            )
            for exercise in document["exercises"]
            for test in exercise["tests"]
        }
    return {test["name"]: test["score"] for test in document["tests"]}


def notebook_of(code: str) -> str:
    return nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]))


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole course's autograder, set up by its own setup.sh: ROOT with venv/ made."""
    folder = tmp_path_factory.mktemp("gradescope")
    root = autograder_root(folder / "autograder", build_zip(folder / "autograder.zip"))
    setup = subprocess.run(
        ["bash", str(root / "source" / "setup.sh")],
        cwd=root / "source",
        env={**os.environ, "AUTOGRADER_ROOT": str(root)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert setup.returncode == 0, setup.stderr[-3000:]
    assert "Protection layers for student code" in setup.stdout  # grade doctor, in the build log
    return root


class TestTheZip:
    def test_it_holds_the_scripts_at_its_root_the_course_and_the_grader(
        self, tmp_path: Path
    ) -> None:
        with zipfile.ZipFile(build_zip(tmp_path / "autograder.zip")) as archive:
            names = set(archive.namelist())
            modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
            course_yaml = yaml.safe_load(archive.read("course.yaml"))
        assert {"setup.sh", "run_autograder", "pyproject.toml", "course.yaml"} <= names
        assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
        assert "grader/integrations/gradescope_run.py" in names and "grader/worker.py" in names
        course = load_course(REPO / "course.yaml")
        for exercise in course.exercises:
            for path in (exercise.checks, exercise.hidden_checks, exercise.solution_file):
                assert path is not None and path.relative_to(REPO).as_posix() in names
        assert [item["id"] for item in course_yaml["exercises"]] == [
            exercise.id for exercise in course.exercises
        ]
        assert sum(item["points"] for item in course_yaml["exercises"]) == course.max_score

    @pytest.mark.slow
    def test_it_is_the_same_every_time(self, tmp_path: Path) -> None:
        first = build_zip(tmp_path / "a.zip").read_bytes()
        assert build_zip(tmp_path / "b.zip").read_bytes() == first

    def test_exercise_chooses_what_it_grades(self, tmp_path: Path) -> None:
        archive = build_zip(tmp_path / "one.zip", "--exercise", "exercise3")
        with zipfile.ZipFile(archive) as opened:
            names = set(opened.namelist())
            exercises = yaml.safe_load(opened.read("course.yaml"))["exercises"]
        assert [item["id"] for item in exercises] == ["exercise3"]
        assert "solutions/exercise3_chain_rule.py" in names
        assert "solutions/exercise4_gradient_descent.py" not in names

    @pytest.mark.parametrize(
        ("dest", "says"),
        [("folder", "is a folder"), ("autograder.tar", "takes a .zip file")],
    )
    def test_a_bad_destination_gets_one_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], dest: str, says: str
    ) -> None:
        (tmp_path / "folder").mkdir()
        target = tmp_path / dest
        assert main(["release", "gradescope", str(target), "--course", str(REPO)]) == 2
        err = capsys.readouterr().err.strip()
        assert says in err and "\n" not in err
        assert target.is_dir() == (dest == "folder") and not (tmp_path / "autograder.tar").exists()

    def test_an_unknown_exercise_gets_one_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        archive = tmp_path / "a.zip"
        argv = ["release", "gradescope", str(archive), "--course", str(REPO), "--exercise", "ex3"]
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert "no exercise 'ex3'" in err and "\n" not in err and not archive.exists()


def test_setup_refuses_a_python_older_than_3_11_in_one_line(tmp_path: Path) -> None:
    """On an image whose python3 is older, setup.sh stops before it makes anything."""
    root = autograder_root(tmp_path / "autograder", build_zip(tmp_path / "a.zip"))
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python3").write_text(  # an old Python: has venv, fails the version test
        '#!/bin/sh\ncase "$2" in *version_info*) exit 1;; esac\nexit 0\n'
    )
    (fake / "python3").chmod(0o755)
    setup = subprocess.run(
        ["bash", str(root / "source" / "setup.sh")],
        env={**os.environ, "AUTOGRADER_ROOT": str(root), "PATH": f"{fake}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert setup.returncode == 1
    assert "needs Python 3.11 or newer" in setup.stderr and setup.stderr.count("\n") == 1
    assert not (root / "venv").exists()


@pytest.mark.slow
class TestRunAutograder:
    def test_the_solutions_get_full_marks_in_a_valid_results_json(
        self, installed: Path, tmp_path: Path
    ) -> None:
        course = load_course(REPO / "course.yaml")
        files = {
            f"exercises/{exercise.file_name}": solution_text(course, exercise.id)
            for exercise in course.exercises
        }
        document, stdout = run_autograder(installed, files)
        validate(document)
        assert document["score"] == course.max_score == 100
        assert all(test["status"] == "passed" for test in document["tests"])
        assert sum(test["max_score"] for test in document["tests"]) == course.max_score
        assert "Total 100/100" in stdout  # the instructor's log

    def test_wrong_work_scores_as_grade_scores_it(self, installed: Path, tmp_path: Path) -> None:
        course = load_course(REPO / "course.yaml")
        chain = with_function(solution_text(course, "exercise3"), WRONG_CHAIN_RULE)
        losses = with_function(solution_text(course, "exercise8"), WRONG_SOFTMAX)
        files = {
            "exercise3_chain_rule.ipynb": notebook_of(chain),
            "exercise8_losses.py": losses,
            "exercise1_derivatives.py": solution_text(course, "exercise1"),
        }
        document, _ = run_autograder(installed, files)
        validate(document)
        graded = grade_json(installed / "submission")
        assert scores_by_check(document) == scores_by_check(graded)
        assert document["score"] == graded["score"]
        assert 10 < document["score"] < 30  # exercise 1 whole, parts of 3 and 8, nothing else
        by_name = {test["name"]: test for test in document["tests"]}
        lost = [test for test in by_name.values() if test["status"] == "failed"]
        assert any(
            test["name"].startswith("exercise3") and "inner derivative" in test["output"]
            for test in lost
        )
        hidden = [test for test in document["tests"] if "(hidden)" in test["name"]]
        public = [test for test in document["tests"] if "(hidden)" not in test["name"]]
        assert hidden and {test["visibility"] for test in hidden} == {"after_due_date"}
        assert {test["visibility"] for test in public} == {"visible"}
        # status (the default): a hidden check says it did not pass, not why
        assert all("inner derivative" not in test["output"] for test in hidden)
        assert (
            "exercise4_gradient_descent.py (or exercise4_gradient_descent.ipynb)"
            in (document["output"])
        )

    def test_an_empty_submission_scores_zero_and_says_what_to_hand_in(
        self, installed: Path
    ) -> None:
        document, _ = run_autograder(installed, {})
        validate(document)
        assert document["score"] == 0
        assert document["output"].startswith("You handed in no .py file and no notebook")
        assert "exercise3_chain_rule.py (or exercise3_chain_rule.ipynb)" in document["output"]
        assert {test["status"] for test in document["tests"]} == {"failed"}

    def test_one_exercise_takes_the_one_file_handed_in_whatever_its_name(
        self, installed: Path, tmp_path: Path
    ) -> None:
        archive = build_zip(tmp_path / "one.zip", "--exercise", "exercise3")
        root = autograder_root(tmp_path / "autograder", archive, venv=installed / "venv")
        course = load_course(REPO / "course.yaml")
        solved = notebook_of(solution_text(course, "exercise3"))
        document, _ = run_autograder(root, {"exercise3 (1).ipynb": solved})
        validate(document)
        assert document["score"] == 10
        assert "graded exercise3 (1).ipynb as exercise3_chain_rule.py" in document["output"]

    def test_of_a_script_and_a_notebook_the_one_worked_in_is_graded(self, installed: Path) -> None:
        course = load_course(REPO / "course.yaml")
        files = {
            "exercise3_chain_rule.py": (REPO / "exercises/exercise3_chain_rule.py").read_text(),
            "exercise3_chain_rule.ipynb": notebook_of(solution_text(course, "exercise3")),
        }
        document, _ = run_autograder(installed, files)
        assert (
            sum(
                test["score"] for test in document["tests"] if test["name"].startswith("exercise3 ")
            )
            == 10
        )
        assert (
            "graded exercise3_chain_rule.ipynb, not exercise3_chain_rule.py" in (document["output"])
        )
        assert "(hand in only the one to grade)" in document["output"]
        assert "--submission" not in document["output"]

    def test_a_link_to_the_answer_key_is_not_graded(self, installed: Path) -> None:
        """A symbolic link to the solution, the file or its folder, scores nothing: the grader,
        which can read the answer key, would otherwise grade the key as the student's work."""
        solutions = installed / "source" / "solutions"
        for links in (
            {"exercise3_chain_rule.py": solutions / "exercise3_chain_rule.py"},
            {"exercises": solutions},
        ):
            document, _ = run_autograder(installed, {}, links)
            validate(document)
            assert document["score"] == 0
            assert "is a symbolic link to a file outside what was handed in" in (document["output"])

    def test_a_broken_autograder_fails_the_run_instead_of_scoring_zero(
        self, installed: Path, tmp_path: Path
    ) -> None:
        root = autograder_root(
            tmp_path / "autograder", build_zip(tmp_path / "a.zip"), venv=installed / "venv"
        )
        course_yaml = root / "source" / "course.yaml"
        course_yaml.write_text(course_yaml.read_text().replace("points:", "pionts:", 1))
        (root / "submission" / "exercise1_derivatives.py").write_text("x = 1\n")
        run = start_run_autograder(root)
        assert run.returncode == 2
        assert "did you mean `points`?" in run.stderr and run.stderr.count("\n") == 1
        assert not (root / "results" / "results.json").exists()


def _graded(course: Course) -> CourseResult:
    """An exercise with one public and two hidden checks: one passed, two not."""
    checks = [
        CheckResult("a", "public one", 2, 2, "passed", False, ""),
        CheckResult("b", "hidden one", 0, 3, "failed", True, "got 1, expected 2"),
        CheckResult("c", "hidden two", 1, 1, "passed", True, ""),
    ]
    return CourseResult([ExerciseResult("exercise1", "Derivatives", 6, "e1.py", checks)])


class TestVisibilityFollowsCourseYaml:
    @pytest.mark.parametrize(
        ("hidden", "tests"),
        [
            (
                "full",
                [("visible", ""), ("after_due_date", "got 1, expected 2"), ("after_due_date", "")],
            ),
            (
                "status",
                [("visible", ""), ("after_due_date", "did not pass"), ("after_due_date", "")],
            ),
            ("total", [("visible", ""), ("after_due_date", "1 of 2 hidden checks passed")]),
            ("none", [("visible", ""), ("hidden", "1 of 2 hidden checks passed")]),
        ],
    )
    def test_what_hidden_checks_show(
        self, course: Course, hidden: str, tests: list[tuple[str, str]]
    ) -> None:
        setting = dataclasses.replace(course, hidden_feedback=hidden)
        document = results_json(_graded(setting), setting, 1.2)
        validate(document)
        got = [(test["visibility"], test["output"]) for test in document["tests"]]
        assert [visibility for visibility, _ in got] == [visibility for visibility, _ in tests]
        for (_, output), (_, expected) in zip(got, tests, strict=True):
            assert expected in output and (expected or output == "")
        assert document["score"] == 3 and document["execution_time"] == 2
        assert sum(test["max_score"] for test in document["tests"]) == 6

    @pytest.mark.parametrize("when", ["visible", "after_published"])
    def test_gradescope_visibility_says_from_when(self, course: Course, when: str) -> None:
        setting = dataclasses.replace(course, gradescope_visibility=when)
        document = results_json(_graded(setting), setting, 0.1)
        assert [test["visibility"] for test in document["tests"]] == ["visible", when, when]

    def test_course_yaml_sets_it_and_refuses_a_wrong_value(self, tmp_path: Path) -> None:
        text = (REPO / "course.yaml").read_text()
        for folder in ("checks", "exercises", "solutions"):
            (tmp_path / folder).symlink_to(REPO / folder)
        (tmp_path / "course.yaml").write_text(
            text + "\nfeedback:\n  hidden: full\n  gradescope_visibility: after_published\n"
        )
        loaded = load_course(tmp_path / "course.yaml")
        assert (loaded.hidden_feedback, loaded.gradescope_visibility) == ("full", "after_published")
        (tmp_path / "course.yaml").write_text(
            text + "\nfeedback:\n  gradescope_visibility: later\n"
        )
        with pytest.raises(CourseError, match=r"feedback\.gradescope_visibility"):
            load_course(tmp_path / "course.yaml")
