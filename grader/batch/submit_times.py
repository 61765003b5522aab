"""When each student's exercise was handed in, from sources the student does not write.

Per exercise, the first of:

1. ``--times CSV``, the instructor's export of push times (GitHub's, say), one row per student
   (by name, key, or Gradescope's sid or email) and exercise (an empty exercise, or ``*``, for
   all of the student's)::

       student,exercise,submitted_at
       alice,exercise3,2026-12-02T10:15:00+00:00
       bob,*,2026-12-01T22:00:00-05:00

2. Gradescope's ``created_at`` for the submission (submission_metadata.yml);
3. for a zip, the zip file's own modification time (when the instructor's copy was written), for
   every file in it: the dates of its entries are the student's to set, and are never used;
4. for a clone, with ``--commit-dates``, the last commit that changed the exercise's file (the
   student's own dates: the entry says so, ``own_dates``); else, and for a file no commit holds,
   the file's modification time in the instructor's copy (a clone or copy sets it when made).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from grader.batch.clone_times import CloneRefused, last_change_times
from grader.batch.instructor_csv import RowsRefused, read_rows
from grader.course import Course

if TYPE_CHECKING:
    from grader.batch.discover import StudentEntry
    from grader.batch.pool import Task
    from grader.course import Exercise

TIMES_COLUMNS = ("student", "exercise", "submitted_at")
MAX_TIMES_BYTES = 16 * 2**20  # a line per student and exercise: a few MB for a large class
ALL = "*"
OWN_DATES = "the student's own commit dates (--commit-dates)"
COPY_DATES = "the collected copy's file dates"
ZIP_DATE = "the zip file's own date"

Times = dict[tuple[str, str], datetime]  # (student, exercise id or "*") -> when


class PlannedItem(Protocol):
    """A student's exercise as grade batch plans it (grader.batch.command.Planned)."""

    @property
    def entry(self) -> StudentEntry: ...

    @property
    def exercise(self) -> Exercise: ...

    @property
    def task(self) -> Task | None: ...


Item = TypeVar("Item", bound=PlannedItem)


class TimesRefused(RowsRefused):
    """The times file has mistakes: ``lines``, one per bad row."""


@dataclass(frozen=True)
class Sources:
    """Where times come from besides the submissions: the --times file's rows (None without
    one), and whether a clone's commit dates are taken (--commit-dates)."""

    times: Times | None = None
    commit_dates: bool = False


def add_options(parser: argparse.ArgumentParser) -> None:
    """The `grade batch` options for submission times."""
    parser.add_argument(
        "--times",
        metavar="CSV",
        type=Path,
        help="when each student handed in each exercise (push times exported from GitHub): "
        "student,exercise,submitted_at per line, ISO 8601 with a time zone; wins over every "
        "other source",
    )
    parser.add_argument(
        "--commit-dates",
        action="store_true",
        help="take a clone's exercise time from the last commit changing its file: the "
        "student's own dates, which the report then says (default: the file's time in your copy)",
    )


def read_sources(args: argparse.Namespace, course: Course) -> Sources:
    """The Sources the command line asks for; TimesRefused for a --times file with mistakes.
    With --commit-dates, a line on stderr says whose dates the clones' times are."""
    times = read_times(args.times, course) if args.times else None
    if args.commit_dates:
        print(f"times of clones: {OWN_DATES}", file=sys.stderr)
    return Sources(times, bool(args.commit_dates))


def read_times(path: Path, course: Course) -> Times:
    """The times file at ``path``; TimesRefused with one line per bad row, UsageError if it
    cannot be read as a CSV file at all."""
    ids = {exercise.id for exercise in course.exercises}
    rows = read_rows(path, MAX_TIMES_BYTES, TIMES_COLUMNS, "time", label="--times")
    times: Times = {}
    mistakes: list[str] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 3:
            mistakes.append(f"{path}:{number}: expected 3 values (student,exercise,submitted_at)")
            continue
        student, exercise, when = (cell.strip() for cell in row)
        exercise = exercise or ALL
        if not student:
            mistakes.append(f"{path}:{number}: no student")
        elif exercise != ALL and exercise not in ids:
            mistakes.append(
                f"{path}:{number}: no exercise {exercise!r} in the course; use an id from "
                "course.yaml, or * (or nothing) for every exercise"
            )
        elif (moment := _moment(when)) is None:
            mistakes.append(
                f"{path}:{number}: {when!r} is not an ISO 8601 time with a time zone, e.g. "
                "2026-12-02T10:15:00+00:00 or 2026-12-02T10:15:00Z"
            )
        elif (student, exercise) in times:
            mistakes.append(f"{path}:{number}: a second time for {student}'s {exercise}")
        else:
            times[(student, exercise)] = moment
    if mistakes:
        raise TimesRefused(path, mistakes)
    return times


def _moment(text: str) -> datetime | None:
    """An ISO 8601 time with its zone; None if it is not one, or has no zone."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


def timed(
    planned: list[Item], entries: list[StudentEntry], sources: Sources
) -> tuple[list[Item], list[StudentEntry]]:
    """``planned`` and ``entries`` with each entry's per-exercise times (``times``) found from
    the file planned for it, where it came from (``details["time from"]``), and ``own_dates``;
    a line on stderr for each student of the --times file not in the run (their rows unused)."""
    for student in unmatched(sources.times or {}, entries):
        print(f"grade: --times names {student!r}, who is not in SUBMISSIONS", file=sys.stderr)
    times: dict[str, dict[str, datetime]] = {entry.key: {} for entry in entries}
    said: dict[str, set[str]] = {entry.key: set() for entry in entries}
    files: dict[str, list[tuple[str, Path]]] = {entry.key: [] for entry in entries}
    by_key = {entry.key: entry for entry in entries}
    for item in planned:
        if item.task is not None:  # nothing handed in: on time, whatever the time
            files[item.entry.key].append((item.exercise.id, Path(item.task.path)))
    for key, handed in files.items():
        entry = by_key[key]
        committed = _committed(entry, [path for _, path in handed]) if sources.commit_dates else {}
        for exercise_id, path in handed:
            found = _time(entry, exercise_id, path, sources, committed)
            if found is not None:
                times[key][exercise_id] = found[0]
                said[key].add(found[1])
    updated = {}
    for entry in entries:
        details = dict(entry.details)
        if said[entry.key]:
            details["time from"] = "; ".join(sorted(said[entry.key]))
        updated[entry.key] = replace(
            entry,
            times=times[entry.key],
            details=details,
            own_dates=OWN_DATES in said[entry.key],
        )
    # Planned is a dataclass, which the protocol cannot say.
    items = [replace(cast(Any, item), entry=updated[item.entry.key]) for item in planned]
    return items, list(updated.values())


def _names(entry: StudentEntry) -> list[str]:
    """What a --times row may call ``entry``: its name, key, Gradescope's sid or email."""
    names = (entry.name, entry.key, entry.details.get("sid"), entry.details.get("email"))
    return [name for name in names if name]


def unmatched(times: Times, entries: list[StudentEntry]) -> list[str]:
    """The students of --times rows that name no student of the run, sorted."""
    known = {name for entry in entries for name in _names(entry)}
    return sorted({student for student, _ in times if student not in known})


def _committed(entry: StudentEntry, paths: list[Path]) -> dict[Path, datetime]:
    """For a clone, each of ``paths``' last commit's time (those any commit changed), read in
    one go (clone_times.last_change_times); empty for a zip, an export or no clone."""
    root = entry.root or entry.folder
    if entry.kind != "clone" or root is None:
        return {}
    relatives = {}
    for path in paths:
        try:
            relatives[path.relative_to(root).as_posix()] = path
        except ValueError:
            continue  # not below the clone's top: its date in the copy
    try:
        found = last_change_times(root, list(relatives))
    except CloneRefused:
        return {}
    return {relatives[relative]: moment for relative, moment in found.items()}


def _time(
    entry: StudentEntry,
    exercise_id: str,
    path: Path,
    sources: Sources,
    committed: dict[Path, datetime],
) -> tuple[datetime, str] | None:
    """When ``entry`` handed in ``exercise_id`` (its file at ``path``) and where that is from;
    ``committed``: the last commit's time of each of a clone's files, with --commit-dates."""
    if sources.times is not None:  # the exercise's own row first, then the student's `*`
        for which in (exercise_id, ALL):
            for student in _names(entry):
                if (student, which) in sources.times:
                    return sources.times[(student, which)], "the --times file"
    if entry.kind == "gradescope":
        return (entry.submitted_at, "Gradescope") if entry.submitted_at else None
    if entry.kind == "zip":
        return (entry.submitted_at, ZIP_DATE) if entry.submitted_at else None
    if path in committed:
        return committed[path], OWN_DATES
    try:
        moment = datetime.fromtimestamp(os.lstat(path).st_mtime, tz=UTC)
        return moment, COPY_DATES
    except (OSError, ValueError, OverflowError):
        return None
