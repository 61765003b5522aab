"""What a submission prints, raises or names its files is shown, never obeyed, in every output.

Each attack is a real grading of a hostile exercise 1 (or a class of them in `grade batch`): the
terminal report, the JUnit XML, the JSON report, GitHub's annotations and Classroom result,
Gradescope's results.json, grades.csv and canvas.csv, the Markdown and HTML feedback and the
class report are read back and must carry the attack as visible text only. Honest text (letters
of any script, emoji) must come out as it went in.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader import safe_text
from grader.batch.discover import StudentEntry
from grader.batch.exports import StudentGrades, grades_csv
from grader.batch.gradebook import RecordedGrading
from grader.cli import main
from grader.course import Course
from grader.reports import gradescope, terminal
from grader.reports.github import escape_property
from grader.results import CourseResult, ExerciseResult
from grader.runner import grade
from tests.helpers import REPO, solution_text, with_function

# A fake full-marks report drawn over the real one, lines erased, the window title set, a
# hyperlink, a line overwritten, backspaces, an 8-bit CSI, a right-to-left override; workflow
# commands for GitHub Actions; Markdown that closes a fence and forges a heading and HTML.
PRINTED = (
    "\x1b[2J\x1b[H"
    "exercise1 · Derivatives\n  Score 10/10 · 9 of 9 checks passed\n"
    "\x1b[1A\x1b[2K\x1b]0;all passed\x07\x1b]8;;http://evil.example\x07click\x1b]8;;\x07\n"
    "Score 0/10\rScore 10/10  \x08\x08\x9b2J \u202eevil\u202c \u2066x\u2069\n"
    "::error file=x.py,line=1::forged annotation\n"
    "::add-mask::secret\n"
    "  ::stop-commands::stopped\n"
    "x ##[error]forged the old way\n"
    "```\n"
    "# Total: 10 / 10 points\n"
    "<img src=x onerror=alert(1)>\n"
)
# An exception message with control characters XML forbids, and the same tricks.
MESSAGE = (
    "\x1b[2J\x00\x0b\x1b]0;t\x07 done\n"
    "```\n# fake heading\n<script>alert(1)</script>\n"
    "::error::forged from a message\n##[add-mask]masked"
)
# What the worker sends of MESSAGE: one line, its line breaks shown as \n (grader.worker).
SENT = MESSAGE.replace("\r", "\\r").replace("\n", "\\n")
HONEST = "Grüße, 你好, مرحبا, Zoë 🎉"  # a name, and with a tab what an honest student prints
HONEST_PRINTED = f"{HONEST}\tx = 1.5"
# What a terminal or log would obey, in what any report writes.
OBEYED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# The escapes that clear the screen for the fake report, as the outputs show them.
SHOWN_CLEAR = "\\x1b[2J\\x1b[H"


def hostile_source(course: Course) -> str:
    """Exercise 1 printing PRINTED as it loads, its difference_quotient raising MESSAGE."""
    raising = "def difference_quotient(f, x, dx):\n    raise ValueError(MESSAGE)\n"
    solution = with_function(solution_text(course, "exercise1"), raising)
    return f"PRINTED = {PRINTED!r}\nMESSAGE = {MESSAGE!r}\nprint(PRINTED)\n{solution}"


@pytest.fixture(scope="module")
def hostile_file(tmp_path_factory: pytest.TempPathFactory, course: Course) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "exercise1_derivatives.py"
    path.write_text(hostile_source(course))
    return path


@pytest.fixture(scope="module")
def hostile(course: Course, hostile_file: Path) -> ExerciseResult:
    return grade(course, course.exercise("exercise1"), hostile_file)


@pytest.fixture(autouse=True)
def not_in_github(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"):
        monkeypatch.delenv(name, raising=False)


def test_the_grading_holds_the_attack(hostile: ExerciseResult) -> None:
    """The attack reaches the result as it was sent: it is the outputs that must defuse it."""
    assert "\x1b[2J" in hostile.output and "\r" in hostile.output
    assert any(SENT in check.message for check in hostile.checks)
    assert hostile.score == 7


# ---------------------------------------------------------------- terminal


def test_the_terminal_shows_escape_sequences_instead_of_obeying_them(
    hostile_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["exercise1", "--submission", str(hostile_file)]) == 1
    out = capsys.readouterr().out
    assert not OBEYED.search(out)
    assert SHOWN_CLEAR in out and "\\x1b]0;all passed\\x07" in out
    assert "Score 0/10\\rScore 10/10  \\x08\\x08\\x9b2J \\u202eevil\\u202c" in out
    assert "\\x1b[2J\\x00\\x0b\\x1b]0;t\\x07" in out  # the exception's message
    # The fake report is only ever inside what the code printed; the real score is the grader's.
    fake = [line for line in out.splitlines() if "Score 10/10" in line]
    assert fake and all(line.startswith("    | ") for line in fake)
    assert "  Score 7/10 · 9 of 12 checks passed" in out


def test_what_an_honest_student_prints_is_shown_as_it_is(
    tmp_path: Path, course: Course, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "exercise1_derivatives.py"
    path.write_text(f"print({HONEST_PRINTED!r})\n{solution_text(course, 'exercise1')}")
    assert main(["exercise1", "--submission", str(path)]) == 0
    assert f"\n    | {HONEST_PRINTED}\n" in capsys.readouterr().out


class Terminal(io.StringIO):
    """A stream that says it is a terminal, so the report is coloured."""

    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


def test_on_a_colour_terminal_every_escape_is_the_graders_own(
    hostile: ExerciseResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    report = terminal.render(hostile, Terminal())
    colours = {f"\x1b[{code}m" for code in (*terminal.COLOURS.values(), "0")}
    escapes = re.findall("\x1b[^m]*m?", report)
    assert escapes and set(escapes) <= colours
    assert not OBEYED.search(re.sub("\x1b\\[[0-9]+m", "", report))


@pytest.mark.slow
def test_a_file_name_that_is_not_utf8_is_shown_escaped(tmp_path: Path, course: Course) -> None:
    """A folder named with bytes that are not UTF-8 (and an ESC): the report prints (with a
    strict UTF-8 stdout, as on an instructor's terminal) and the JUnit file is valid XML."""
    folder = os.fsencode(tmp_path) + b"/\xff\xfeclass \x1b[2J"
    os.mkdir(folder)
    with open(folder + b"/exercise1_derivatives.py", "w") as handle:
        handle.write(solution_text(course, "exercise1"))
    report = tmp_path / "report.xml"
    done = subprocess.run(
        [sys.executable, "-m", "grader", "exercise1", "--submission", folder, "--junit", report],
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    out = done.stdout.decode("utf-8")
    assert "\\xff\\xfeclass \\x1b[2J/exercise1_derivatives.py" in out and "\x1b" not in out
    shown = safe_text.filename(folder + b"/exercise1_derivatives.py")
    properties = ElementTree.parse(report).getroot().iter("property")
    assert [item.get("value") for item in properties if item.get("name") == "file"] == [shown]
    as_json = subprocess.run(
        [sys.executable, "-m", "grader", "exercise1", "--submission", folder, "--format", "json"],
        capture_output=True,
        timeout=120,
    )
    assert json.loads(as_json.stdout)["file"] == shown  # text any JSON reader can take


def test_an_error_line_is_one_line_with_nothing_obeyed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "gone\n::error::forged\x1b[2J ##[add-mask]x"
    assert main(["exercise1", "--submission", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and not OBEYED.search(err) and "##[" not in err
    assert "gone\\n::error::forged\\x1b[2J" in err


# ---------------------------------------------------------------- JUnit, JSON, Gradescope


def test_junit_stays_valid_xml_with_control_characters_in_a_message(
    hostile_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "junit.xml"
    main(["exercise1", "--submission", str(hostile_file), "--junit", str(path)])
    root = ElementTree.parse(path).getroot()  # expat: refuses a control character
    messages = [item.get("message") or "" for item in root.iter("error")]
    assert len(messages) == 3
    assert all("\\x1b[2J\\x00\\x0b" in message for message in messages)
    assert all(item.text and "\\x00" in item.text for item in root.iter("error"))


def test_xml_makes_every_code_point_well_formed() -> None:
    shown = safe_text.xml("".join(map(chr, range(0x110000))))
    element = ElementTree.Element("a", b=shown)
    element.text = shown
    parsed = ElementTree.fromstring(ElementTree.tostring(element, encoding="utf-8"))
    assert parsed.text == shown and parsed.get("b") == shown


def test_json_report_parses_to_the_same_strings_but_prints_nothing_obeyed(
    hostile_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["exercise1", "--submission", str(hostile_file), "--format", "json"])
    out = capsys.readouterr().out
    report = json.loads(out)
    assert PRINTED in report["output"]  # the data is the submission's, for programs
    assert any(SENT in test["message"] for test in report["tests"])
    assert not OBEYED.search(out) and "##[" not in out


def strings(value: object) -> list[str]:
    """Every string in a JSON document."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [text for item in value for text in strings(item)] if isinstance(value, list) else []


def test_gradescope_results_show_the_attack_as_text(
    hostile: ExerciseResult, course: Course
) -> None:
    notes = ["You handed in \x1b[2Jexercise1_derivatives.py, \udcffx.py."]
    document = gradescope.results_json(CourseResult([hostile]), course, 1.0, notes)
    json.dumps(document, ensure_ascii=False).encode("utf-8")  # can be written, as UTF-8
    assert not any(OBEYED.search(text) for text in strings(document))
    assert SHOWN_CLEAR in document["output"] and "\\xffx.py" in document["output"]
    assert any("\\x1b[2J\\x00" in test["output"] for test in document["tests"])


# ---------------------------------------------------------------- GitHub Actions


@pytest.fixture
def github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    files = {"summary": tmp_path / "summary.md", "output": tmp_path / "output.txt"}
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(files["summary"]))
    monkeypatch.setenv("GITHUB_OUTPUT", str(files["output"]))
    return files


def commands_obeyed(log: str) -> list[str]:
    """The lines GitHub's runner would run as workflow commands, as it reads them: ``::name``
    at a line's start (after spaces), ``##[name`` anywhere; none between ``::stop-commands::T``
    and ``::T::``."""
    obeyed, stopped_until = [], None
    for line in re.split("\r\n|\r|\n", log):
        command = re.match(r"\s*::([^\s:]+)", line) or re.search(r"##\[([^\s\]]+)", line)
        if command is None:
            continue
        if stopped_until is not None:
            stopped_until = None if command[1] == stopped_until else stopped_until
            continue
        if command[1] == "stop-commands":
            stopped_until = line.split("::")[2]
        obeyed.append(line)
    return obeyed


def test_in_github_actions_only_the_graders_commands_are_obeyed(
    hostile_file: Path, github: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    main(["exercise1", "--submission", str(hostile_file)])
    out = capsys.readouterr().out
    obeyed = commands_obeyed(out)
    assert len(obeyed) == 4 and obeyed[0].startswith("::stop-commands::")
    annotation = f"::error file={escape_property(str(hostile_file))},line="
    assert all(line.startswith(annotation) for line in obeyed[1:])
    assert not OBEYED.search(out)


def test_the_classroom_reporter_prints_messages_with_no_command_in_them(
    hostile_file: Path, github: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    main(["exercise1", "--submission", str(hostile_file)])
    encoded = github["output"].read_text().strip().split("=", 1)[1]
    tests = json.loads(base64.b64decode(encoded))["tests"]
    # What autograding-grading-reporter prints for each test.
    log = "\n".join(f"❌ {test['name']}\n\nError: {test['message']}\n" for test in tests)
    assert commands_obeyed(log) == []
    assert not OBEYED.search(log)
    messages = [test["message"] for test in tests if "forged from a message" in test["message"]]
    assert messages  # on the message's one line: no line of it starts a command
    assert not any(line.lstrip().startswith("::") for m in messages for line in m.splitlines())


def test_json_in_github_actions_cannot_start_a_command(
    hostile_file: Path, github: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    main(["exercise1", "--submission", str(hostile_file), "--format", "json"])
    assert commands_obeyed(capsys.readouterr().out) == []


# ---------------------------------------------------------------- grade batch

# Folder names a student chooses: formulas, a name that is not UTF-8 (Latin-1 "Zoë"), an escape
# sequence, HTML; and an honest one.
FORMULA_NAMES = ['=HYPERLINK("evil.example","grades")', "+SUM(1)", "-2+3", "@cmd", "\tTab"]
NOT_UTF8 = b"Zo\xeb"
ESCAPES = "\x1b[2J10 of 10"
HTML = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory, course: Course) -> Path:
    """A class graded by `grade batch` on exercise 1: the hostile file handed in under an escape
    sequence's name, the solution under each other name; with a roster holding a formula."""
    root = tmp_path_factory.mktemp("class")
    submissions = os.fsencode(root / "submissions")
    names = [os.fsencode(name) for name in (*FORMULA_NAMES, ESCAPES, HTML, HONEST)] + [NOT_UTF8]
    for name in names:
        folder = submissions + b"/" + name
        os.makedirs(folder)
        text = solution_text(course, "exercise1")
        if name == os.fsencode(ESCAPES):
            text = hostile_source(course)
        elif name == os.fsencode(HONEST):
            text = f"print({HONEST_PRINTED!r})\n{text}"
        with open(folder + b"/exercise1_derivatives.py", "w", encoding="utf-8") as handle:
            handle.write(text)
    with open(submissions + b"/" + NOT_UTF8 + b" broken.zip", "wb") as handle:
        handle.write(b"not a zip")  # named in the problem its feedback states
    roster = root / "roster.csv"
    quoted = FORMULA_NAMES[0].replace(chr(34), chr(34) * 2)  # its folder's name, its login
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Derivatives (101)\n"
        f'"{quoted}",1,S1,"{quoted}",A,\n'
        '"@SUM(A1:A9)",2,S2,"-2+3",B,\n'
    )
    out = root / "out"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "grader", "batch", submissions, "--out", out),
            *("--exercise", "exercise1", "--roster", roster, "--jobs", "2"),
        ],
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert not OBEYED.search(done.stdout.decode() + done.stderr.decode())
    return out


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_no_csv_cell_is_a_formula(batch: Path) -> None:
    rows = read_csv(batch / "grades.csv")[1:]
    names = {row[0]: row[2:] for row in rows}
    for name in FORMULA_NAMES[:-1]:
        assert names["'" + name] == ["10", "10"]
    assert names["\\tTab"] == ["10", "10"]  # a tab in a name is shown, on its line
    assert names["\\x1b[2J10 of 10"] == ["7", "7"]  # a number the grader wrote, not prefixed
    for row in rows + read_csv(batch / "canvas.csv")[2:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    canvas = read_csv(batch / "canvas.csv")
    assert canvas[2][0] == "'" + FORMULA_NAMES[0] and canvas[2][-1] == "10"
    assert canvas[3][:4] == ["'@SUM(A1:A9)", "2", "S2", "'-2+3"] and canvas[3][-1] == "10"


def test_negative_scores_stay_numbers_in_grades_csv(course: Course) -> None:
    report = {"score": -1.5, "max_score": 10, "tests": []}
    grading = RecordedGrading(
        1, "s", "s", "exercise1", "h", None, -1.5, 10, 0, 0, -1.5, 0.1, report
    )
    student = StudentGrades(StudentEntry("-1", "s", None, None), {"exercise1": grading})
    rows = read_csv_text(grades_csv([course.exercise("exercise1")], [student]))
    assert rows[1] == ["'-1", "'-1", "-1.5", "-1.5"]  # the id, the folder's name, CSV-safe too


def read_csv_text(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_a_name_that_is_not_utf8_is_graded_and_shown_escaped(batch: Path) -> None:
    rows = {row[0]: row[2:] for row in read_csv(batch / "grades.csv")[1:]}
    assert rows["Zo\\xeb"] == ["10", "10"] and rows["Zo\\xeb broken"] == ["0", "0"]
    assert HONEST in rows
    broken = (batch / "feedback" / "Zo_xeb_broken.md").read_text(encoding="utf-8")
    assert "Zo\\\\xeb broken.zip could not be unpacked" in broken
    feedback = (batch / "feedback" / "Zo_xeb.md").read_text(encoding="utf-8")
    assert "feedback for Zo\\\\xeb" in feedback  # \x escaped once more, as Markdown needs


def feedback_of(batch: Path, kind: str) -> str:
    return (batch / "feedback" / f"2J10_of_10.{kind}").read_text(encoding="utf-8")


def markdown_tokens(text: str) -> list:
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark").parse(text)


def rendered(inline: object) -> str:
    """The text an inline token renders, its escapes undone."""
    return "".join(child.content for child in getattr(inline, "children", None) or [])


def test_markdown_feedback_keeps_output_and_messages_inside_their_fences(batch: Path) -> None:
    tokens = markdown_tokens(feedback_of(batch, "md"))
    fences = [token.content for token in tokens if token.type == "fence"]
    assert safe_text.terminal(PRINTED) + "\n\n" in fences  # what the code printed, whole
    assert sum(safe_text.terminal(SENT) in fence for fence in fences) == 2  # public checks
    headings = [rendered(tokens[i + 1]) for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert len(headings) == 2 and headings[0].endswith("feedback for \\x1b[2J10 of 10")


def test_no_name_or_text_adds_markup_to_markdown_feedback(batch: Path) -> None:
    files = sorted((batch / "feedback").glob("*.md"))
    assert len(files) == 10
    names = []
    for path in files:
        tokens = markdown_tokens(path.read_text(encoding="utf-8"))
        assert [token.tag for token in tokens if token.type == "heading_open"] == ["h1", "h2"]
        assert not [token for token in tokens if token.type.startswith("html")]
        inline = [child for token in tokens for child in token.children or []]
        assert not [child for child in inline if child.type in ("html_inline", "link_open")]
        assert "em_open" not in [child.type for child in inline]
        bold = [inline[i + 1].content for i, t in enumerate(inline) if t.type == "strong_open"]
        assert all(text.startswith(("Total:", "Could not be graded:")) for text in bold)
        names.append(rendered(tokens[1]).rsplit("feedback for ", 1)[1])
    assert HTML in names and FORMULA_NAMES[0] in names


def test_honest_text_is_unchanged_in_feedback(batch: Path) -> None:
    folder = batch / "feedback"
    key = next(path.stem for path in folder.glob("*.md") if path.stem.startswith("Gr"))
    markdown = (folder / f"{key}.md").read_text(encoding="utf-8")
    page = (folder / f"{key}.html").read_text(encoding="utf-8")
    assert f"feedback for {HONEST}" in markdown and f"feedback for {HONEST}" in page
    fences = [token.content for token in markdown_tokens(markdown) if token.type == "fence"]
    assert f"{HONEST_PRINTED}\n\n" in fences
    assert f"<pre>{HONEST_PRINTED}\n</pre>" in page


def test_html_outputs_escape_every_student_string(batch: Path) -> None:
    for text in (feedback_of(batch, "html"), (batch / "report.html").read_text()):
        assert "<img src=x" not in text and "<script>" not in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in text
        assert not OBEYED.search(text)
    page = feedback_of(batch, "html")
    assert "\\x1b[2J\\x00\\x0b" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# ---------------------------------------------------------------- the functions themselves


# Any text, with lone surrogates (from names that were not UTF-8) among it.
ANY_TEXT = st.text(st.one_of(st.characters(), st.sampled_from("\ud800\udc80\udcff\x1b\x9b\r")))


@given(ANY_TEXT)
def test_terminal_leaves_nothing_to_obey_and_is_stable(text: str) -> None:
    shown = safe_text.terminal(text)
    assert not OBEYED.search(shown) and "\r" not in shown
    shown.encode("utf-8")
    assert safe_text.terminal(shown) == shown
    line = safe_text.filename(text)
    assert "\n" not in line and safe_text.filename(line) == line
    for function in (safe_text.xml, safe_text.json_text, safe_text.github_log, safe_text.csv_cell):
        once = function(text)
        assert function(once) == once


def test_honest_text_is_unchanged() -> None:
    for function in (safe_text.terminal, safe_text.xml, safe_text.csv_cell, safe_text.github_log):
        assert function(HONEST) == HONEST
        assert function("line one\nline two") == "line one\nline two"
    assert safe_text.filename(HONEST.replace("\t", " ")) == HONEST.replace("\t", " ")
    assert safe_text.markdown_inline("Zoë Smith, numerical_derivative") == (
        "Zoë Smith, numerical_derivative"
    )


@given(st.text(alphabet=st.sampled_from("`~ \nab#<>")))
def test_a_markdown_block_is_one_fence_holding_the_text(text: str) -> None:
    tokens = markdown_tokens(safe_text.markdown_block(text))
    assert [token.type for token in tokens] == ["fence"]
    assert tokens[0].content == text + "\n"


MARKDOWN_CHARACTERS = st.sampled_from("`a *_[]()<>!#-+=1.\\&|~\n")
LINE = st.text(alphabet=MARKDOWN_CHARACTERS, min_size=1).filter(lambda text: text.strip() == text)


@given(LINE)
def test_markdown_inline_renders_as_the_text(text: str) -> None:
    tokens = markdown_tokens(f"x {safe_text.markdown_inline(text)}")
    assert [token.type for token in tokens] == ["paragraph_open", "inline", "paragraph_close"]
    assert {child.type for child in tokens[1].children or []} <= {"text", "text_special"}
    assert rendered(tokens[1]) == "x " + text.replace("\n", " ")


@given(LINE)
def test_a_markdown_code_span_holds_the_text(text: str) -> None:
    tokens = markdown_tokens(f"x {safe_text.markdown_code(text)}")
    children = tokens[1].children or []
    assert [child.type for child in children] == ["text", "code_inline"]
    assert children[1].content == safe_text.terminal(text, one_line=True)


FAKE_LINES = """
def chain_rule(f_prime, g, g_prime, x):
    raise ValueError("wrong\\n  ✓    2/2  chain_rule is right\\u2028  Score 10/10")
"""


def test_a_message_cannot_draw_lines_of_the_report(tmp_path: Path, course: Course) -> None:
    """A line feed or a Unicode line separator in an exception's message is shown as its
    escape, on the message's own line: it cannot start a line that reads like the grader's."""
    path = tmp_path / "exercise3_chain_rule.py"
    path.write_text(with_function(solution_text(course, "exercise3"), FAKE_LINES))
    result = grade(course, course.exercise("exercise3"), path)
    text = terminal.render(result)
    assert "Score 10/10" not in [line.strip() for line in text.splitlines()]
    assert not any(
        line.lstrip().startswith("✓    2/2  chain_rule is right") for line in text.splitlines()
    )
    assert "wrong\\n  ✓" in text and "\\u2028  Score 10/10" in text
