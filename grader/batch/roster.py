"""The roster (Canvas's gradebook export) and which of its rows is whose submission.

A roster row is matched to a submission by ids an LMS or Gradescope issued, never by a display
name: the row's ``ID`` (Canvas's), ``SIS User ID``, ``SIS Login ID`` (and, for a login that is an
email, the part before the ``@``) and ``Integration ID``, against a Gradescope submitter's sid and
email (and the email's part before the ``@``), or, for a submission that is a folder or a zip of
its own, the folder's name, which counts only when it equals one of the row's ids. Canvas's own
``ID`` is matched by folder names only (Gradescope never sees it). Any case.

A submission that matches no row, matches two rows, or shares its one row with another submission
is listed (Matching.unmatched) and gets no row: a row two submissions claim stays empty.

The roster's assignment columns are Canvas's ``Title (assignment id)``; each exercise is given
one by its ``canvas:`` key in course.yaml (the column's title or its id number) or, without the
key, by the column whose title equals the exercise's title or id. None, or more than one, is a
mistake reported on one line.
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from grader import safe_text
from grader.batch.discover import StudentEntry
from grader.course import Exercise
from grader.errors import UsageError

REQUIRED_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
IDENTITY_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Section")
ISSUED_COLUMNS = ("SIS User ID", "SIS Login ID", "Integration ID")  # what Gradescope may hold
ASSIGNMENT = re.compile(r"(?P<title>.*?)\s*\((?P<id>\d+)\)")


@dataclass
class Roster:
    """The roster's identity columns (in its order), its students' rows, its Points Possible
    cells by column, and each exercise's assignment column, by exercise id."""

    path: Path
    identity: list[str]
    rows: list[dict[str, str]]
    points: dict[str, str] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Unmatched:
    """A submission given no roster row, and why (one line)."""

    student: str
    reason: str


@dataclass
class Matching:
    """Which roster row is whose: ``rows``, roster row index to student key; ``ids``, student
    key to the issued id it was matched by; ``unmatched``, the students given no row."""

    roster: Roster
    rows: dict[int, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    unmatched: list[Unmatched] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The unmatched, one ``student: reason`` line each (as report.html lists them)."""
        return [f"{problem.student}: {problem.reason}" for problem in self.unmatched]


def read_roster(path: Path, exercises: list[Exercise]) -> Roster:
    """The roster, each of ``exercises`` given its column; UsageError (one line) if it lacks
    Canvas's columns or an exercise has no column, or more than one."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            table = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise UsageError(f"{path}: cannot be read as a CSV file ({error})") from None
    header = [name.strip() for name in table[0]] if table else []
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise UsageError(
            f"{path}:1: the roster lacks the column(s) {', '.join(missing)}; export the "
            "gradebook from Canvas (Grades > Export) and pass that file"
        )
    roster = Roster(path, [name for name in header if name in IDENTITY_COLUMNS], [])
    for cells in table[1:]:
        raw = dict(zip(header, cells, strict=False))
        row = {name: cell.strip() for name, cell in raw.items()}
        if row.get("Student", "").lower().startswith("points possible"):
            roster.points = row
        elif row.get("Student") and not raw["Student"].startswith("    "):  # muting rows
            roster.rows.append(row)
    taken: dict[str, str] = {}
    for exercise in exercises:
        column = _column(path, header, exercise)
        if column in taken:
            raise UsageError(
                f"{path}:1: exercises {taken[column]} and {exercise.id} both match the column "
                f"{column!r}; give each its own with `canvas:` in course.yaml"
            )
        taken[column] = exercise.id
        roster.columns[exercise.id] = column
    return roster


def _column(path: Path, header: list[str], exercise: Exercise) -> str:
    """The roster's assignment column for ``exercise``; UsageError if none or several."""
    assignments = [(name, ASSIGNMENT.fullmatch(name)) for name in header]
    if exercise.canvas is not None:
        wanted = exercise.canvas
        found = [name for name, m in assignments if m and wanted in (name, m["id"])]
        how = f"named by its `canvas: {wanted}`"
    else:
        titles = (exercise.title.casefold(), exercise.id.casefold())
        found = [name for name, m in assignments if m and m["title"].casefold() in titles]
        how = f"titled {exercise.title!r} or {exercise.id!r}"
    if len(found) == 1:
        return found[0]
    if not found:
        raise UsageError(
            f"{path}:1: no assignment column {how} for exercise {exercise.id}; set its "
            '`canvas: "Title (id)"` in course.yaml to the roster\'s column'
        )
    raise UsageError(
        f"{path}:1: exercise {exercise.id}: the columns {' and '.join(map(repr, found))} are "
        f'all {how}; pick one with `canvas: "Title (id)"` in course.yaml'
    )


def _row_ids(row: dict[str, str], gradescope: bool) -> set[str]:
    found = {row.get(name, "") for name in ISSUED_COLUMNS if row.get(name)}
    if not gradescope and row.get("ID"):
        found.add(row["ID"])
    login = row.get("SIS Login ID", "")
    if "@" in login:
        found.add(login.split("@")[0])
    return {item.casefold() for item in found if item}


def student_ids(entry: StudentEntry) -> list[str]:
    """The ids ``entry`` may be matched by, best first: a Gradescope submitter's sid, email and
    the email's user part; otherwise the folder (or zip) name."""
    if "submission" not in entry.details:
        return [entry.name]
    email = entry.details.get("email", "")
    found = [entry.details.get("sid", ""), email, email.split("@")[0] if "@" in email else ""]
    return [item for item in dict.fromkeys(found) if item]


def entry_id(entry: StudentEntry) -> str:
    """The id grades.csv shows for a student with no roster row: the first of student_ids, or
    the name."""
    return next(iter(student_ids(entry)), entry.name)


def match(roster: Roster, entries: list[StudentEntry]) -> Matching:
    """Each submission's roster row, by issued ids only; the ambiguous and unmatched listed."""
    matching = Matching(roster)
    by_id: dict[tuple[bool, str], set[int]] = {}
    for index, row in enumerate(roster.rows):
        for gradescope in (False, True):
            for item in _row_ids(row, gradescope):
                by_id.setdefault((gradescope, item), set()).add(index)
    claims: dict[int, list[StudentEntry]] = {}
    for entry in entries:
        gradescope = "submission" in entry.details
        hits = {
            item: by_id.get((gradescope, item.casefold()), set()) for item in student_ids(entry)
        }
        rows = set().union(*hits.values())
        if not rows:
            shown = ", ".join(hits) or "none"
            why = f"no roster row has its id ({shown}); names are not matched"
            matching.unmatched.append(Unmatched(entry.name, why))
        elif len(rows) > 1:
            names = " and ".join(roster.rows[i]["Student"] for i in sorted(rows))
            why = f"ambiguous: its ids match the roster rows of {names}"
            matching.unmatched.append(Unmatched(entry.name, why))
        else:
            (index,) = rows
            claims.setdefault(index, []).append(entry)
            matching.ids[entry.key] = next(item for item, found in hits.items() if found)
    for index, claimed in claims.items():
        if len(claimed) == 1:
            matching.rows[index] = claimed[0].key
            continue
        student = roster.rows[index]["Student"]
        for entry in claimed:
            others = ", ".join(other.name for other in claimed if other is not entry)
            why = f"ambiguous: {student}'s roster row is matched by {others} too"
            matching.unmatched.append(Unmatched(entry.name, why))
            del matching.ids[entry.key]
    order = {entry.name: place for place, entry in enumerate(entries)}
    matching.unmatched.sort(key=lambda problem: order.get(problem.student, 0))
    return matching


def match_and_list(roster: Roster | None, entries: list[StudentEntry]) -> Matching | None:
    """match, with the unmatched printed one line each (the run's first lines); None without a
    roster."""
    if roster is None:
        return None
    matching = match(roster, entries)
    for line in matching.lines():
        print(f"grade: no roster row: {safe_text.github_log(line)}", file=sys.stderr)
    return matching
