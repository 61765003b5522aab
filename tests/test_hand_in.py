"""`grade submit`: the zip a student hands in holds the files worked in, is refused whole when one
is missing, is the same bytes for the same files, and `grade batch` grades it as `grade all`
grades the course."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from grader.cli import main
from grader.course import Course, load_course
from grader.errors import CourseError, UsageError
from grader.hand_in import ZIP_TIME, write_hand_in
from grader.notebooks import notebook_text
from tests.helpers import REPO, solution_text, with_function

SUBMISSION = "submission.zip"


def make_course(folder: Path, exercise_ids: list[str] | None = None, **top: object) -> Path:
    """A copy of the course in ``folder`` (its exercises, solutions and checks), with only the
    exercises ``exercise_ids`` if given and the top-level keys ``top`` added to course.yaml."""
    for part in ("exercises", "solutions", "checks"):
        shutil.copytree(REPO / part, folder / part)
    data = yaml.safe_load((REPO / "course.yaml").read_text())
    if exercise_ids is not None:
        data["exercises"] = [item for item in data["exercises"] if item["id"] in exercise_ids]
    data.update(top)
    (folder / "course.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return folder


def work_in(course: Course, exercise_id: str, text: str, notebook: bool = False) -> Path:
    """Write ``text`` as the student's work on ``exercise_id``, in its .py or its notebook; the
    other file keeps the stub. The file written."""
    exercise = course.exercise(exercise_id)
    if not notebook:
        exercise.student_file.write_text(text)
        return exercise.student_file
    path = exercise.student_file.with_suffix(".ipynb")
    path.write_text(notebook_text(text, exercise_id))
    return path


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def leftovers(folder: Path) -> list[str]:
    """Temporary files of a zip written in ``folder`` (grader.files.write_atomically's)."""
    return sorted(path.name for path in folder.iterdir() if path.name.startswith(f".{SUBMISSION}"))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_course(tmp_path / "course")


@pytest.fixture
def worked(folder: Path, course: Course) -> Course:
    """The course copy with exercise1 done in its .py, exercise2 in its notebook, the rest not
    begun."""
    copy = load_course(folder / "course.yaml")
    work_in(copy, "exercise1", solution_text(course, "exercise1"))
    work_in(copy, "exercise2", solution_text(course, "exercise2"), notebook=True)
    return copy


# ---------------------------------------------------------------- what the zip holds


def test_the_zip_holds_each_file_worked_in_at_its_path_in_the_course(
    worked: Course, folder: Path
) -> None:
    handed = write_hand_in(worked)
    assert handed.path == folder / SUBMISSION
    names = [f"exercises/{exercise.file_name}" for exercise in worked.exercises]
    names[1] = "exercises/exercise2_gradients.ipynb"  # the notebook was worked in, not the .py
    assert list(handed.files) == names
    inside = entries(handed.path)
    assert list(inside) == names
    for name, content in inside.items():
        assert content == (folder / name).read_bytes(), name
    # Where the .py and the notebook differ, which one was taken; not where both are the stub.
    assert [note.split(":")[0] for note in handed.notes] == ["exercise1", "exercise2"]
    assert "took exercise1_derivatives.py, not exercise1_derivatives.ipynb" in handed.notes[0]
    assert "took exercise2_gradients.ipynb, not exercise2_gradients.py" in handed.notes[1]


def test_unfinished_exercises_are_handed_in_with_one_warning_each(worked: Course) -> None:
    handed = write_hand_in(worked)
    warned = [warning.split(":")[0] for warning in handed.warnings]
    assert warned == [exercise.id for exercise in worked.exercises[2:]]
    assert all("\n" not in warning for warning in handed.warnings)
    assert (
        "exercise3: 4 functions in exercise3_chain_rule.py still raise NotImplementedError"
        in (handed.warnings[0])
    )
    assert "chain_rule, compose" in handed.warnings[0]
    assert len(handed.files) == len(worked.exercises)


def test_a_half_finished_exercise_names_only_what_is_left(worked: Course, course: Course) -> None:
    text = with_function(
        solution_text(course, "exercise3"),
        "def compose(f, g):\n    raise NotImplementedError\n",
    )
    work_in(worked, "exercise3", text)
    handed = write_hand_in(worked, exercises=["exercise3"])
    assert handed.files == ("exercises/exercise3_chain_rule.py",)
    assert handed.warnings == (
        "exercise3: 1 function in exercise3_chain_rule.py still raises NotImplementedError "
        "(compose); handed in unfinished",
    )


def test_grade_submit_prints_the_zip_its_files_and_where_to_hand_it_in(
    worked: Course, folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.chdir(folder / "exercises")  # the course is found upward, as for grade
    status, out, err = run(["submit", "--exercise", "exercise2", "--exercise", "exercise3"], capsys)
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == f"wrote {folder / SUBMISSION}, 2 files:"
    assert lines[1:3] == [
        "  exercises/exercise2_gradients.ipynb",
        "  exercises/exercise3_chain_rule.py",
    ]
    assert lines[-1].startswith("hand it in: upload submission.zip ")
    assert err.startswith("warning: exercise3: ") and len(err.splitlines()) == 1
    assert [f"  {name}" for name in entries(folder / SUBMISSION)] == lines[1:3]


def test_the_due_date_is_said_when_course_yaml_gives_one(tmp_path: Path) -> None:
    folder = make_course(tmp_path / "course", ["exercise1"])
    data = yaml.safe_load((folder / "course.yaml").read_text())
    data["exercises"][0]["due"] = "2026-12-01T23:59:00+00:00"
    (folder / "course.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    handed = write_hand_in(load_course(folder / "course.yaml"))
    assert handed.where.endswith("by 2026-12-01 23:59+00:00")


def test_output_elsewhere(worked: Course, tmp_path: Path) -> None:
    handed = write_hand_in(worked, tmp_path / "out" / "mine.zip")
    assert handed.path == tmp_path / "out" / "mine.zip" and handed.path.is_file()
    assert not (worked.root / SUBMISSION).exists()
    with pytest.raises(UsageError, match="is a folder; give --output the path of the zip"):
        write_hand_in(worked, tmp_path)
    with pytest.raises(UsageError, match=r"the hand-in is a \.zip file"):
        write_hand_in(worked, tmp_path / "mine.tar")


@pytest.mark.parametrize(
    ("kind", "suffixes"),
    [("notebooks", [".ipynb"]), ("scripts", [".py"]), ("both", [".py", ".ipynb"])],
)
def test_course_yaml_says_what_is_handed_in(tmp_path: Path, kind: str, suffixes: list[str]) -> None:
    copy = load_course(make_course(tmp_path / "course", hand_in=kind) / "course.yaml")
    assert copy.hand_in == kind
    handed = write_hand_in(copy)
    assert list(handed.files) == [
        f"exercises/{exercise.student_file.stem}{suffix}"
        for exercise in copy.exercises
        for suffix in suffixes
    ]


# ---------------------------------------------------------------- refused whole


def test_a_missing_exercise_file_is_refused_with_one_line_and_nothing_written(
    worked: Course, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for suffix in (".py", ".ipynb"):
        (folder / "exercises" / f"exercise4_gradient_descent{suffix}").unlink()
    status, out, err = run(["submit", "--course", str(folder)], capsys)
    assert (status, out) == (2, "")
    assert err.startswith("grade: exercises/exercise4_gradient_descent.py not found, nor ")
    assert "put the file you worked in for exercise4 there" in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (folder / SUBMISSION).exists() and leftovers(folder) == []


def test_a_refusal_leaves_the_zip_written_before_as_it_was(worked: Course, folder: Path) -> None:
    before = write_hand_in(worked).path.read_bytes()
    (folder / "exercises" / "exercise1_derivatives.py").unlink()
    copy = dataclasses.replace(load_course(folder / "course.yaml"), hand_in="scripts")
    with pytest.raises(UsageError) as refused:
        write_hand_in(copy)
    assert str(refused.value).startswith("exercises/exercise1_derivatives.py not found: ")
    assert "hand_in: scripts" in str(refused.value)
    assert (folder / SUBMISSION).read_bytes() == before and leftovers(folder) == []


def test_a_failed_write_leaves_no_temporary_file(
    worked: Course, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(UsageError, match=r"cannot be written \(No space left on device\)"):
        write_hand_in(worked)
    assert not (folder / SUBMISSION).exists() and leftovers(folder) == []


@pytest.mark.parametrize("which", [".py", ".ipynb"])
def test_a_link_out_of_the_course_folder_is_refused(
    worked: Course, folder: Path, tmp_path: Path, course: Course, which: str
) -> None:
    """The exercise's .py or its notebook linking out of the course (the notebook one further
    along than the .py, so that it is the one taken)."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    work_in(load_course(make_course(outside / "copy") / "course.yaml"), "exercise3",
            solution_text(course, "exercise3"), notebook=which == ".ipynb")  # fmt: skip
    link = folder / "exercises" / f"exercise3_chain_rule{which}"
    link.unlink()
    link.symlink_to(outside / "copy" / "exercises" / link.name)
    with pytest.raises(UsageError) as refused:
        write_hand_in(load_course(folder / "course.yaml"))
    assert "symbolic link" in str(refused.value)
    assert not (folder / SUBMISSION).exists() and leftovers(folder) == []


def test_a_file_larger_than_a_submission_is_refused(worked: Course, folder: Path) -> None:
    (folder / "exercises" / "exercise1_derivatives.py").write_text("# " + "x" * 6_000_000)
    with pytest.raises(UsageError, match=r"exercise1_derivatives\.py is over 5 MB"):
        write_hand_in(worked)
    assert not (folder / SUBMISSION).exists()


def test_an_unknown_exercise_gets_the_one_meant(
    worked: Course, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(["submit", "--course", str(folder), "--exercise", "ex3"], capsys)
    assert status == 2 and "did you mean exercise3?" in err and len(err.splitlines()) == 1


# ---------------------------------------------------------------- the same bytes


def test_the_same_files_give_the_same_bytes(worked: Course, folder: Path) -> None:
    first = write_hand_in(worked).path.read_bytes()
    for path in (folder / "exercises").iterdir():
        os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 3600))
    second = write_hand_in(worked).path.read_bytes()
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        infos = archive.infolist()
    assert {info.date_time for info in infos} == {ZIP_TIME}
    assert {info.compress_type for info in infos} == {zipfile.ZIP_DEFLATED}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}
    (folder / "exercises" / "exercise1_derivatives.py").write_text("# changed\n")
    assert write_hand_in(worked).path.read_bytes() != first


# ---------------------------------------------------------------- course.yaml's hand_in


def test_hand_in_defaults_to_the_file_worked_in(worked: Course) -> None:
    assert worked.hand_in == "worked"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (
            "notebook",
            "hand_in: 'notebook' is not what to hand in; did you mean "
            "`hand_in: notebooks`? write one of `hand_in: worked`",
        ),
        ("everything", "hand_in: 'everything' is not what to hand in; write one of "),
        (3, "hand_in: expected text, got a whole number; write e.g. `hand_in: worked`"),
    ],
)
def test_hand_in_is_validated_in_one_line(tmp_path: Path, value: object, words: str) -> None:
    folder = make_course(tmp_path / "course", ["exercise1"], hand_in=value)
    path = folder / "course.yaml"
    line = next(
        number
        for number, text in enumerate(path.read_text().splitlines(), start=1)
        if text.startswith("hand_in:")
    )
    with pytest.raises(CourseError) as caught:
        load_course(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: {words}")
    assert "\n" not in message


def test_hand_in_misspelled_is_an_unknown_key(tmp_path: Path) -> None:
    folder = make_course(tmp_path / "course", ["exercise1"], handin="both")
    with pytest.raises(CourseError, match="handin: unknown key; did you mean `hand_in`"):
        load_course(folder / "course.yaml")


# ---------------------------------------------------------------- graded as grade grades it


@pytest.mark.slow
def test_grade_batch_grades_the_zip_as_grade_all_grades_the_course(
    tmp_path: Path, course: Course, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = ["exercise1", "exercise2", "exercise3"]
    folder = make_course(tmp_path / "course", ids)
    copy = load_course(folder / "course.yaml")
    work_in(copy, "exercise1", solution_text(course, "exercise1"))
    broken = with_function(
        solution_text(course, "exercise2"),
        "def bowl_gradient(x, y):\n    return np.array([2 * x, y])\n",
    )
    work_in(copy, "exercise2", broken, notebook=True)
    # exercise3: the stub, handed in unfinished

    status, out, _ = run(["all", "--course", str(folder), "--format", "json"], capsys)
    assert status == 1
    expected = {item["exercise"]: item["score"] for item in json.loads(out)["exercises"]}
    assert expected["exercise1"] == 10 and 0 < expected["exercise2"] < 10
    assert expected["exercise3"] == 0

    status, _, _ = run(["submit", "--course", str(folder)], capsys)
    assert status == 0
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    shutil.copy(folder / SUBMISSION, submissions / "alice.zip")
    done = subprocess.run(
        [sys.executable, "-m", "grader", "batch", str(submissions), "--out",
         str(tmp_path / "out"), "--course", str(folder), "--jobs", "1"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with (tmp_path / "out" / "grades.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["student"] for row in rows] == ["alice"]
    assert {exercise: float(rows[0][exercise]) for exercise in ids} == expected
