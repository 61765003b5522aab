"""report.html answering an instructor's questions, on a real batch of a small class.

The class of five: ann hands in both exercises in a zip, exercise 1 two days late; a student named
``<script>alert(1)`` hands in exercise 1; carl hands in exercise 1 and, for exercise 2, a link to
a file outside his folder; dora's folder is empty and ed's zip is broken. So 2 of the 5 hand
nothing in.

And the Markdown feedback's fence: what a student's code printed, backticks and all, stays inside
its block.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from grader import safe_text
from grader.batch import feedback
from grader.course import Course, load_course
from tests.helpers import REPO, write_course
from tests.test_batch_outputs import browser, run_batch

SOLUTION1 = (REPO / "solutions" / "exercise1_derivatives.py").read_bytes()
SOLUTION2 = (REPO / "solutions" / "exercise2_gradients.py").read_bytes()
EXERCISE1 = "exercise1_derivatives.py"
EXERCISE2 = "exercise2_gradients.py"
DUE = datetime(2026, 11, 30, 12, tzinfo=UTC)
SCRIPT_NAME = "<script>alert(1)"


class Tables(HTMLParser):
    """The report's tables by id: rows of cell texts, and each row's links."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[dict]] = {}
        self.details = 0
        self.ids: set[str] = set()
        self.links: list[str] = []
        self._table: str | None = None
        self._row: dict | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag == "details":
            self.details += 1
        elif tag == "table" and found.get("id"):
            self._table = str(found["id"])
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = {"cells": [], "links": [], "header": False}
        elif tag in ("td", "th") and self._row is not None:
            self._row["header"] = self._row["header"] or tag == "th"
            self._cell = []
        elif tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
            if self._row is not None:
                self._row["links"].append(str(found["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row["cells"].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._table is not None and self._row is not None:
            if not self._row["header"]:
                self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> Tables:
    parsed = Tables()
    parsed.feed(html)
    return parsed


def late_course(folder: Path, course: Course) -> Course:
    """The course with exercise 1 due at DUE, 10 % off per day late."""
    path = write_course(folder, course)
    data = yaml.safe_load(path.read_text())
    data["late"] = {"penalty_per_day": 10, "max_penalty": 30, "grace_minutes": 15}
    data["exercises"][0]["due"] = DUE.isoformat()
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_course(path)


def make_submissions(folder: Path) -> Path:
    submissions = folder / "submissions"
    for name, files in (
        (SCRIPT_NAME, {EXERCISE1: SOLUTION1}),
        ("carl", {EXERCISE1: SOLUTION1}),
    ):
        (submissions / name).mkdir(parents=True)
        for file_name, data in files.items():
            (submissions / name / file_name).write_bytes(data)
            # collected before the due date: a file's time is its mtime in the collected copy
            on_time = (DUE - timedelta(hours=1)).timestamp()
            os.utime(submissions / name / file_name, (on_time, on_time))
    outside = folder / "outside" / EXERCISE2
    outside.parent.mkdir()
    outside.write_bytes(SOLUTION2)
    (submissions / "carl" / EXERCISE2).symlink_to(outside)
    (submissions / "dora").mkdir()
    (submissions / "ed.zip").write_bytes(b"PK\x03\x04 this is no zip")
    moment = (DUE + timedelta(days=1, hours=2)).timetuple()[:6]
    with zipfile.ZipFile(submissions / "ann.zip", "w") as archive:
        archive.writestr(zipfile.ZipInfo(EXERCISE1, date_time=moment), SOLUTION1)
        archive.writestr(zipfile.ZipInfo(EXERCISE2, date_time=moment), SOLUTION2)
    # A zip's time is when it was collected (its own mtime), not its entries' dates.
    collected = (DUE + timedelta(days=1, hours=2)).timestamp()
    os.utime(submissions / "ann.zip", (collected, collected))
    return submissions


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory, course: Course) -> Path:
    folder = tmp_path_factory.mktemp("report_class")
    graded = folder / "out"
    run_batch(
        late_course(folder, course),
        make_submissions(folder),
        graded,
        *("--exercise", "exercise1", "exercise2"),
    )
    return graded


@pytest.fixture(scope="module")
def report(out: Path) -> Tables:
    return tables((out / "report.html").read_text())


def students(report: Tables) -> dict[str, dict]:
    return {row["cells"][0]: row for row in report.tables["students"]}


@pytest.mark.slow
def test_pass_rates_count_only_who_handed_in(report: Tables) -> None:
    """Exercise 1: ann, <script> and carl hand it in, dora and ed do not; exercise 2: only ann
    (carl's is a link out). Every check of the solutions passes: 100 %, not 60 % (3 of 5)."""
    rows = report.tables["checks"]
    assert {row["cells"][0] for row in rows} == {"exercise1", "exercise2"}
    for row in rows:
        exercise, passed = row["cells"][0], row["cells"][2]
        handed, absent = (3, 2) if exercise == "exercise1" else (1, 4)
        assert passed.startswith("100%"), passed
        assert f"{handed} of {handed} handed in" in passed
        assert f"{absent} did not hand in" in passed


@pytest.mark.slow
def test_each_student_has_a_row_linking_to_their_feedback(out: Path, report: Tables) -> None:
    rows = students(report)
    assert set(rows) == {"ann", SCRIPT_NAME, "carl", "dora", "ed"}
    for name, row in rows.items():
        (link,) = row["links"]
        assert not link.startswith(("/", "file:")) and link.endswith(".html")
        target = (out / link).resolve()
        assert target.is_file() and target.parent == (out / "feedback").resolve()
        assert f"feedback for {name}" in html.unescape(target.read_text())  # theirs
    assert rows["ann"]["cells"][1:4] == ["18", "8", "10"]
    assert rows["dora"]["cells"][1:4] == ["0", "–", "–"]
    assert rows["carl"]["cells"][1:4] == ["10", "10", "–"]
    assert rows["carl"]["cells"][5].startswith("exercise2: not graded: ")
    assert "symbolic link" in rows["carl"]["cells"][5]
    assert rows["ed"]["cells"][5].startswith("not read: ed.zip could not be unpacked")
    assert rows["ed"]["cells"][5].count("ed.zip") == 1  # once, not once per exercise
    assert rows["dora"]["cells"][5] == "nothing handed in"
    assert rows["ann"]["cells"][4] == "exercise1: 2 days late, -20%"
    assert rows["carl"]["cells"][4] == ""


@pytest.mark.slow
def test_problem_submissions_are_listed_with_their_reason(report: Tables) -> None:
    problems = {row["cells"][0]: row["cells"][1:] for row in report.tables["problem-list"]}
    assert set(problems) == {"carl", "dora", "ed"}
    assert problems["carl"][0] == f"carl/{EXERCISE2}"
    assert "link" in problems["carl"][1]
    assert problems["ed"][0] == "ed.zip" and "zip" in problems["ed"][1]
    assert "no exercise file" in problems["dora"][1]


@pytest.mark.slow
def test_the_outputs_are_linked_at_the_top(out: Path, report: Tables) -> None:
    top = report.links[: report.links.index("feedback/")]
    assert top == ["grades.csv", "gradebook.sqlite", "similarity.csv", "adjustments.csv"]
    assert all((out / name).is_file() for name in top)
    assert "canvas.csv" not in report.links  # no --roster: not written


@pytest.mark.slow
def test_a_name_holding_a_script_is_text(out: Path) -> None:
    text = (out / "report.html").read_text()
    assert "<script" not in text
    assert "&lt;script&gt;alert(1)" in text


@pytest.mark.slow
@pytest.mark.skipif(browser() is None, reason="no headless Chromium here")
def test_the_browser_builds_the_rows_and_the_details(out: Path) -> None:
    command = [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access"]
    dom = subprocess.run(
        [*command, "--dump-dom", (out / "report.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    seen = tables(dom)
    assert set(students(seen)) == {"ann", SCRIPT_NAME, "carl", "dora", "ed"}
    assert {"checks-details", "students-details", "problems"} <= seen.ids
    assert seen.details >= 3
    assert len(seen.tables["problem-list"]) == 3
    assert "<script>alert" not in dom


def test_output_with_backticks_stays_inside_its_markdown_block() -> None:
    """A student's code printing ``` then a heading and a link cannot end the fenced block."""
    printed = "before\n```\n# Full marks\n[click](https://example.com)\n````` and more"
    view = {
        "course_title": "Course",
        "name": "ann",
        "show_total": True,
        "total": "0",
        "max_total": "10",
        "exercises": [
            {
                "id": "exercise1",
                "title": "Derivatives",
                "score": "0",
                "max_score": "10",
                "raw_score": "0",
                "late_days": 0,
                "penalty": "0",
                "file": None,
                "problem": None,
                "notes": [],
                "checks": [],
                "hidden_total": None,
                "hidden_max": "0",
                "output": printed,
                "adjustment": None,
            }
        ],
    }
    text = feedback.render(view, "md")
    lines = text.split("\n")
    opening = next(i for i, line in enumerate(lines) if re.fullmatch("`{3,}text", line))
    fence = lines[opening].removesuffix("text")
    assert len(fence) == 6  # longer than the longest run inside
    closing = next(i for i in range(opening + 1, len(lines)) if lines[i] == fence)
    inside = lines[opening + 1 : closing]
    assert inside == printed.split("\n")
    assert "# Full marks" not in lines[closing:]
    assert safe_text.markdown_block("a ``` b").startswith("````text\n")


@pytest.mark.slow
def test_canvas_csv_is_linked_when_written(tmp_path: Path, course: Course) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Derivatives (501)\nann,1,u1,ann,A,\n"
    )
    graded = tmp_path / "out"
    run_batch(
        late_course(tmp_path, course),
        make_submissions(tmp_path),
        graded,
        *("--exercise", "exercise1", "--roster", str(roster)),
    )
    links = tables((graded / "report.html").read_text()).links
    assert "canvas.csv" in links and (graded / "canvas.csv").is_file()
