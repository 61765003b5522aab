"""The roster: rows matched by issued ids only, canvas.csv in Canvas's import format, grades.csv's
id column, unmatched.csv, and course.yaml's ``canvas:`` key."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import pytest

from grader.batch.discover import StudentEntry
from grader.batch.exports import StudentGrades, canvas_csv, grades_csv, unmatched_csv
from grader.batch.gradebook import RecordedGrading
from grader.batch.roster import Matching, match, read_roster
from grader.course import Course, Exercise, load_course
from grader.errors import CourseError, UsageError
from tests.helpers import write_course

# Canvas's gradebook export: the identity columns, assignment columns "Title (assignment id)",
# columns Canvas computes, and the Points Possible row under the header.
HEADER = (
    "Student,ID,SIS User ID,SIS Login ID,Integration ID,Section,"
    "Derivatives (1001),Partial derivatives and gradients (1002),Quiz 1 (1003),"
    "Current Score,Final Score\n"
)
POINTS = "    Points Possible,,,,,,10.00,10.00,5.00,(read only),(read only)\n"
ROWS = (
    '"Park, Gina",21,S1001,gpark,I1,Sec A,,,4,80,80\n'
    '"Ito, Hal",22,S1002,hito,I2,Sec A,,,5,90,90\n'
    '"Ng, Ida",23,S1003,ida@uni.edu,,Sec B,,,3,70,70\n'
    '"Ng, Ida",24,S1004,ing2,,Sec B,,,2,60,60\n'
)


def write_roster(folder: Path, text: str = HEADER + POINTS + ROWS) -> Path:
    path = folder / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


def gradescope(name: str, sid: str = "", email: str = "", folder: str = "s") -> StudentEntry:
    """A Gradescope submitter as discover makes one."""
    details = {"time from": "Gradescope", "submission": folder}
    details.update({key: value for key, value in (("sid", sid), ("email", email)) if value})
    return StudentEntry(name, name.replace(" ", "_"), None, None, details=details)


def folder(name: str) -> StudentEntry:
    """A submission handed in as a folder of its own, named ``name``."""
    return StudentEntry(name, name, None, None)


def grading(exercise: str, score: float) -> RecordedGrading:
    report = {"exercise": exercise, "score": score, "max_score": 10, "tests": []}
    return RecordedGrading(1, "s", "s", exercise, "h", None, score, 10, 0, 0, score, 0.1, report)


def graded(entry: StudentEntry, matching: Matching, score: float) -> StudentGrades:
    return StudentGrades(
        entry, {"exercise1": grading("exercise1", score)}, id=matching.ids.get(entry.key, "")
    )


def table(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def exercises(course: Course) -> list[Exercise]:
    return list(course.exercises[:2])


def test_canvas_csv_is_in_canvas_import_format(tmp_path: Path, exercises: list[Exercise]) -> None:
    roster = read_roster(write_roster(tmp_path), exercises)
    gina = gradescope("Gina Park", sid="S1001", email="gina@uni.edu")
    matching = match(roster, [gina])
    rows = table(canvas_csv(matching, exercises, [graded(gina, matching, 7.5)]))
    # Canvas's identity columns as the roster has them, then the roster's own assignment
    # columns, "Title (id)": Canvas fills those assignments, and creates none.
    assert rows[0] == [
        *("Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Section"),
        *("Derivatives (1001)", "Partial derivatives and gradients (1002)"),
    ]
    assert rows[1] == ["Points Possible", "", "", "", "", "", "10.00", "10.00"]
    assert rows[2] == ["Park, Gina", "21", "S1001", "gpark", "I1", "Sec A", "7.5", ""]
    assert rows[3] == ["Ito, Hal", "22", "S1002", "hito", "I2", "Sec A", "", ""]
    assert len(rows) == 6  # every roster row, none added; Quiz 1 and computed columns left out


def test_roster_without_integration_id_keeps_its_columns(
    tmp_path: Path, exercises: list[Exercise]
) -> None:
    text = "Student,ID,SIS User ID,SIS Login ID,Section,Derivatives (7)\nAnn,1,S1,ann,A,\n"
    roster = read_roster(write_roster(tmp_path, text), exercises[:1])
    ann = folder("ann")
    matching = match(roster, [ann])
    rows = table(canvas_csv(matching, exercises[:1], [graded(ann, matching, 9)]))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Derivatives (7)"]
    assert rows[1] == ["Points Possible", "", "", "", "", "10"]  # no row: the course's points
    assert rows[2] == ["Ann", "1", "S1", "ann", "A", "9"]


def test_gradescope_name_equal_to_a_login_does_not_take_over(
    tmp_path: Path, exercises: list[Exercise]
) -> None:
    roster = read_roster(write_roster(tmp_path), exercises)
    intruder = gradescope("hito", sid="S9999", email="zed@uni.edu", folder="sub_1")
    hal = gradescope("Hal Ito", sid="S1002", folder="sub_2")
    matching = match(roster, [intruder, hal])
    students = [graded(intruder, matching, 1), graded(hal, matching, 10)]
    rows = table(canvas_csv(matching, exercises, students))
    assert rows[3][:2] == ["Ito, Hal", "22"] and rows[3][6] == "10"
    assert [problem.student for problem in matching.unmatched] == ["hito"]
    assert "names are not matched" in matching.unmatched[0].reason


def test_last_first_names_match_by_ids(tmp_path: Path, exercises: list[Exercise]) -> None:
    """Canvas's "Last, First" names match nothing, and need not: the ids match."""
    roster = read_roster(write_roster(tmp_path), exercises)
    gina = gradescope("Gina Park", email="gpark@uni.edu")  # the email's user part, the login
    ida = gradescope("Ida Ng", email="IDA@uni.edu")  # the login is an email; any case
    by_folder = folder("S1004")  # a folder named by the SIS User ID
    matching = match(roster, [gina, ida, by_folder])
    assert matching.unmatched == []
    assert matching.rows == {0: gina.key, 2: ida.key, 3: by_folder.key}
    assert matching.ids == {gina.key: "gpark", ida.key: "IDA@uni.edu", "S1004": "S1004"}


def test_a_folder_named_as_the_student_is_not_matched(
    tmp_path: Path, exercises: list[Exercise]
) -> None:
    roster = read_roster(write_roster(tmp_path), exercises)
    matching = match(roster, [folder("Park, Gina"), folder("Gina Park")])
    assert matching.rows == {}
    assert [problem.student for problem in matching.unmatched] == ["Park, Gina", "Gina Park"]


def test_canvas_id_is_matched_by_folder_names_only(
    tmp_path: Path, exercises: list[Exercise]
) -> None:
    roster = read_roster(write_roster(tmp_path), exercises)
    matching = match(roster, [gradescope("Someone", sid="22"), folder("23")])
    assert matching.rows == {2: "23"}
    assert [problem.student for problem in matching.unmatched] == ["Someone"]


def test_two_students_of_the_same_name_have_distinct_ids(
    tmp_path: Path, exercises: list[Exercise]
) -> None:
    roster = read_roster(write_roster(tmp_path), exercises)
    one = replace(gradescope("Ida Ng", sid="S1003"), key="Ida_Ng")
    two = replace(gradescope("Ida Ng", sid="S1004"), key="Ida_Ng_2")
    matching = match(roster, [one, two])
    students = [graded(one, matching, 4), graded(two, matching, 6)]
    rows = table(grades_csv(exercises, students))
    assert rows[0] == ["student", "id", "exercise1", "exercise2", "total"]
    assert rows[1:] == [["Ida Ng", "S1003", "4", "0", "4"], ["Ida Ng", "S1004", "6", "0", "6"]]
    canvas = table(canvas_csv(matching, exercises, students))
    assert [row[6] for row in canvas[4:]] == ["4", "6"]


def test_grades_csv_id_without_a_roster(exercises: list[Exercise]) -> None:
    students = [StudentGrades(folder("ann")), StudentGrades(gradescope("Bo", email="bo@x.org"))]
    assert [row[1] for row in table(grades_csv(exercises, students))[1:]] == ["ann", "bo@x.org"]


def test_ambiguous_and_unmatched_are_listed(tmp_path: Path, exercises: list[Exercise]) -> None:
    roster = read_roster(write_roster(tmp_path), exercises)
    both = gradescope("Both", sid="S1001", email="hito@uni.edu")  # Gina's sid, Hal's login
    twin_a = gradescope("Twin A", sid="S1003")
    twin_b = folder("ida@uni.edu")  # the same row as Twin A
    nobody = gradescope("=HYPERLINK(1)", sid="S0")
    matching = match(roster, [both, twin_a, twin_b, nobody])
    assert matching.rows == {}
    listed = {problem.student: problem.reason for problem in matching.unmatched}
    assert list(listed) == ["Both", "Twin A", "ida@uni.edu", "=HYPERLINK(1)"]
    assert "Park, Gina and Ito, Hal" in listed["Both"]
    assert "ida@uni.edu" in listed["Twin A"] and "Twin A" in listed["ida@uni.edu"]
    rows = table(unmatched_csv(matching))
    assert rows[0] == ["student", "reason"]
    assert rows[4][0] == "'=HYPERLINK(1)"  # CSV-safe
    canvas = table(canvas_csv(matching, exercises, [graded(both, matching, 3)]))
    assert all(row[6:] == ["", ""] for row in canvas[2:])  # nobody gets someone else's row


def test_the_canvas_key_picks_the_column(tmp_path: Path, course: Course) -> None:
    path = write_course(tmp_path, course)
    text = path.read_text().replace(
        "title: Derivatives", 'title: Derivatives\n  canvas: "Quiz 1 (1003)"'
    )
    path.write_text(text)
    first = load_course(path).exercises[0]
    assert first.canvas == "Quiz 1 (1003)"
    assert read_roster(write_roster(tmp_path), [first]).columns == {"exercise1": "Quiz 1 (1003)"}
    by_number = replace(first, canvas="1002")
    roster = read_roster(write_roster(tmp_path), [by_number])
    assert roster.columns == {"exercise1": "Partial derivatives and gradients (1002)"}


@pytest.mark.parametrize("value", ['"Quiz 1"', "-3", "[1]", '""'])
def test_the_canvas_key_is_validated(tmp_path: Path, course: Course, value: str) -> None:
    path = write_course(tmp_path, course)
    path.write_text(
        path.read_text().replace("title: Derivatives", f"title: Derivatives\n  canvas: {value}")
    )
    with pytest.raises(CourseError) as caught:
        load_course(path)
    message = str(caught.value)
    assert "\n" not in message and "exercises[0].canvas" in message
    assert 'canvas: "Exercise 1 (1001)"' in message


def test_the_canvas_key_as_a_number(tmp_path: Path, course: Course) -> None:
    path = write_course(tmp_path, course)
    path.write_text(
        path.read_text().replace("title: Derivatives", "title: Derivatives\n  canvas: 1003")
    )
    assert load_course(path).exercises[0].canvas == "1003"


def test_ambiguous_or_missing_column_is_refused(tmp_path: Path, exercises: list[Exercise]) -> None:
    text = "Student,ID,SIS User ID,SIS Login ID,Section,Derivatives (1),exercise1 (2)\n"
    with pytest.raises(UsageError) as caught:
        read_roster(write_roster(tmp_path, text), exercises[:1])
    assert "\n" not in str(caught.value) and "'Derivatives (1)' and 'exercise1 (2)'" in str(
        caught.value
    )
    text = "Student,ID,SIS User ID,SIS Login ID,Section,Derivatives\n"  # no assignment id
    with pytest.raises(UsageError) as caught:
        read_roster(write_roster(tmp_path, text), exercises[:1])
    assert "no assignment column" in str(caught.value) and "canvas:" in str(caught.value)
    with pytest.raises(UsageError, match=r"Quiz 1 \(9\)"):
        read_roster(write_roster(tmp_path), [replace(exercises[0], canvas="Quiz 1 (9)")])
