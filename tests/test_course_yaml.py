"""Each mistake in course.yaml gives one line naming the file, the place and the fix; exit 2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.cli import main
from grader.course import load_course
from grader.errors import CourseError
from tests.helpers import REPO, write_course


@pytest.fixture
def course_file(tmp_path: Path, course) -> Path:
    return write_course(tmp_path, course)


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, count))


def error_of(path: Path) -> str:
    with pytest.raises(CourseError) as caught:
        load_course(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def line_of(path: Path, text: str) -> int:
    return next(
        number for number, line in enumerate(path.read_text().splitlines(), start=1) if text in line
    )


def test_valid_copy_loads(course_file: Path, course) -> None:
    copy = load_course(course_file)
    assert [exercise.id for exercise in copy.exercises] == [
        exercise.id for exercise in course.exercises
    ]
    assert copy.max_score == course.max_score


def test_unknown_key_suggests_the_right_one(course_file: Path) -> None:
    edit(course_file, "  points: 10", "  pionts: 10")
    message = error_of(course_file)
    assert message == (
        f"{course_file}:{line_of(course_file, 'pionts')}: exercises[0].pionts: "
        "unknown key; did you mean `points`?"
    )


def test_missing_file_names_the_path(course_file: Path) -> None:
    edit(course_file, "exercise2_public.py", "exercise2_publik.py")
    message = error_of(course_file)
    assert message.startswith(
        f"{course_file}:{line_of(course_file, 'publik')}: exercises[1].checks: "
    )
    assert "exercise2_publik.py does not exist; fix the path" in message


def test_duplicate_id_points_at_the_first(course_file: Path) -> None:
    edit(course_file, "id: exercise2", "id: exercise1")
    first = line_of(course_file, "id: exercise1")
    message = error_of(course_file)
    assert f"exercises[1].id: 'exercise1' is already used at line {first}" in message
    assert message.endswith("give each exercise its own id")


def test_wrong_type_says_what_was_expected(course_file: Path) -> None:
    edit(course_file, "  points: 10", "  points: ten")
    message = error_of(course_file)
    assert message == (
        f"{course_file}:{line_of(course_file, 'points: ten')}: "
        "exercises[0].points: expected a number, got text; write e.g. "
        "`points: 10`"
    )


def test_missing_key_gives_an_example(course_file: Path) -> None:
    edit(course_file, "seed: 20261128\n", "")
    assert error_of(course_file) == (
        f"{course_file}:1: the top level: the key `seed` is missing; add e.g. `seed: 20261128`"
    )


def test_limit_out_of_range(course_file: Path) -> None:
    edit(course_file, "call_seconds: 5", "call_seconds: -1")
    message = error_of(course_file)
    assert f":{line_of(course_file, 'call_seconds')}: limits.call_seconds: expected " in message
    assert "> 0" in message


def test_duplicate_key_is_refused(course_file: Path) -> None:
    edit(course_file, "  points: 10", "  points: 10\n  points: 12")
    message = error_of(course_file)
    assert "exercises[0].points: the key appears twice" in message


def test_invalid_yaml_names_the_line(course_file: Path) -> None:
    edit(course_file, "title: Derivatives", "title: Derivatives: [")
    message = error_of(course_file)
    assert message.startswith(f"{course_file}:") and "not valid YAML" in message


def test_id_that_is_a_command_is_refused(course_file: Path) -> None:
    edit(course_file, "id: exercise3", "id: all")
    assert "'all' is a command name" in error_of(course_file)


def test_points_must_match_the_checks(
    course_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(course_file, "  points: 10", "  points: 12")
    status = main(
        ["exercise1", "--course", str(course_file), "--submission", str(REPO / "solutions")]
    )
    assert status == 2
    assert capsys.readouterr().err.strip() == (
        f"grade: {course_file}: exercise1 is worth 12 points but its 12 checks add up to 10; "
        "make the two agree"
    )


def test_public_check_may_not_use_the_solution(
    course_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checks = tmp_path / "exercise1_public.py"
    shutil.copy(REPO / "checks/_exercise1_mistakes.py", tmp_path)  # the module it loads
    checks.write_text(
        (REPO / "checks/exercise1_public.py")
        .read_text()
        .replace("def test_three_x(student, rng):", "def test_three_x(student, solution, rng):")
    )
    edit(course_file, str(REPO / "checks/exercise1_public.py"), str(checks))
    status = main(["exercise1", "--course", str(course_file)])
    assert status == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"grade: {checks}:") and "test_three_x asks for solution" in error
    assert "put this check in the hidden file" in error


def test_course_error_through_the_command_line(
    course_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(course_file, "  points: 10", "  pionts: 10")
    assert main(["exercise1", "--course", str(course_file)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
