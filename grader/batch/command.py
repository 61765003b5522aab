"""`grade batch SUBMISSIONS --out OUT`: grade a whole class, resumably, and write its outputs.

    grade batch SUBMISSIONS --out OUT [--exercise ID ...] [--jobs N] [--dask ADDRESS]
                [--roster CSV] [--extensions CSV] [--adjustments CSV] [--course PATH]
                [--times CSV] [--commit-dates]

The run: find the students (grader.batch.discover); for each student and exercise, the file to
grade and its hash; grade every (file, checks version) the gradebook does not hold yet, in
parallel, recording each grading the moment it ends; then mark the current gradings and write the
outputs from the gradebook, with the adjustments (grader.batch.adjustments). Stopped at any
point, the next run of the same command grades only what is still missing.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from grader import safe_text
from grader.batch import submit_times, timing
from grader.batch.options import parser
from grader.batch.versions import checks_version
from grader.course import Course, Exercise
from grader.errors import UsageError

if TYPE_CHECKING:
    from grader.batch.adjustments import AdjustmentRow
    from grader.batch.dask_pool import DaskPool
    from grader.batch.discover import StudentEntry
    from grader.batch.gradebook import Gradebook, GradingKey, RecordedGrading
    from grader.batch.pool import LocalPool, Outcome, Task
    from grader.batch.roster import Matching, Roster

GRADEBOOK_FILE = "gradebook.sqlite"
NOT_SUBMITTED = "none"  # the file hash recorded when a student handed in nothing
NEEDED = ("jinja2", "matplotlib", "tqdm")


@dataclass(frozen=True)
class Planned:
    """One student's exercise: its gradebook key, and the task if it must be graded now.

    refused: what was handed in cannot be graded (a FIFO, a link out, a zip bomb): ``missing``
    says why in one line, and ``shown`` names what was refused, for the report."""

    entry: StudentEntry
    exercise: Exercise
    key: GradingKey
    task: Task | None  # None: nothing handed in (graded 0 without a worker)
    missing: str = ""  # why nothing was found, for the student's feedback
    refused: bool = False
    shown: str | None = None


def _check_installed() -> None:
    import importlib.util

    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            f"grade batch needs {', '.join(missing)}: pip install 'gradients-by-hand[batch]' "
            "(in a clone of the course: pip install -e '.[batch]')"
        )


@contextlib.contextmanager
def _only_run(out: Path) -> Iterator[None]:
    """Hold OUT's lock: two batches writing one gradebook would each redo the other's work."""
    with open(out / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                f"{out}: another `grade batch` is writing there; wait for it or pick another --out"
            ) from None
        yield


def _plan(course: Course, exercises: list[Exercise], entries: list[StudentEntry]) -> list[Planned]:
    """Each student's exercise: the file to grade and its hash, or why there is none. Files are
    only looked at here until they are known to be regular files inside the student's folder
    (grader.submission.not_gradable), then read with a cap to be hashed."""
    versions = {exercise.id: checks_version(course, exercise) for exercise in exercises}
    return [
        _plan_one(entry, exercise, versions[exercise.id])
        for entry in entries
        for exercise in exercises
    ]


def _plan_one(entry: StudentEntry, exercise: Exercise, version: str) -> Planned:
    from grader.batch.pool import Task
    from grader.folder_policy import NotSubmitted, pick
    from grader.submission import MAX_SUBMISSION_BYTES, NotAFile, read_capped

    none = (entry.key, exercise.id, NOT_SUBMITTED, version)
    if entry.folder is None:
        shown = safe_text.filename(entry.root.name) if entry.root is not None else None
        return Planned(entry, exercise, none, None, entry.problem or "", True, shown)
    root = entry.root or entry.folder
    found = pick(
        exercise,
        entry.folder,
        root,
        not_found=f"no {exercise.file_name} (or .ipynb) was handed in",
        only_regular_files=True,
    )
    if isinstance(found, NotSubmitted):
        if found.refused is None:
            return Planned(entry, exercise, none, None, found.reason)
        shown = safe_text.filename(f"{entry.name}/{found.refused.relative_to(root)}")
        return Planned(entry, exercise, none, None, found.reason, True, shown)
    path = found.path
    shown = safe_text.filename(f"{entry.name}/{path.relative_to(root)}")
    try:
        # Past the size the grader accepts, the hash is of what it reads: it refuses the file.
        data = read_capped(path, MAX_SUBMISSION_BYTES + 1)
    except NotAFile as refused:
        problem = f"{path.name} is {refused}, not a file; hand in the file itself"
        return Planned(entry, exercise, none, None, problem, True, shown)
    except (OSError, ValueError) as error:
        why = getattr(error, "strerror", None) or str(error)
        problem = f"{path.name} cannot be read ({why}); hand in the file itself"
        return Planned(entry, exercise, none, None, problem, True, shown)
    task = Task(entry.key, exercise.id, str(path), shown, found.note, version)
    file_hash = hashlib.sha256(data).hexdigest()
    return Planned(entry, exercise, (entry.key, exercise.id, file_hash, version), task)


def refusals(planned: list[Planned]) -> list[str]:
    """One line per refusal, "alice: exercise3_chain_rule.py is a FIFO, not a file; ...": once
    per student for what refused all of their work (a zip bomb), once per file otherwise."""
    lines = [f"{item.entry.name}: {item.missing}" for item in planned if item.refused]
    return list(dict.fromkeys(lines))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _record_missing(
    course: Course, book: Gradebook, item: Planned, failures: list[str], replace: bool = False
) -> None:
    """Record ``item``, graded 0 for having nothing to grade (``replace``: over the recorded
    grading of its key, whose reason was another); a gradebook that cannot be written (a full
    disk) costs a line in ``failures``, and the next run records it."""
    from grader.reports.json_report import exercise_object
    from grader.runner import not_submitted

    # Why nothing was graded may name the student's files (a zip, a link): shown escaped.
    result = not_submitted(course, item.exercise, safe_text.terminal(item.missing))
    result.file = item.shown  # a refused file is named, so the report lists it as not graded
    report = exercise_object(result)
    try:
        book.record(item.key, item.entry.name, None, report, 0.0, _now(), replace=replace)
    except sqlite3.Error as error:
        failures.append(f"{item.entry.name}'s {item.exercise.id}: not recorded ({error})")


def _reason_changed(book: Gradebook, item: Planned) -> bool:
    """Whether the gradebook gives another reason for ``item``'s nothing-to-grade than it has
    now: a zip refused on a full disk last time, with no exercise file in it this time."""
    recorded = book.gradings([item.key])
    if not recorded:
        return False
    report = recorded[0].report
    return (report.get("problem"), report.get("file")) != (item.missing, item.shown)


def _submitted_at(item: Planned) -> str | None:
    moment = item.entry.time_of(item.exercise.id)
    return moment.isoformat() if moment else None


def run(
    argv: Sequence[str],
    parent: type[argparse.ArgumentParser],
    load: Callable[[Path | None], Course],
) -> int:
    """`grade batch`: the exit status (0 done, 1 some gradings failed, 130 interrupted).

    parent: the command line's parser class (one-line errors); load: how the command line finds
    and loads the course from --course.
    """
    args = parser(parent).parse_args(list(argv))
    _check_installed()
    if args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: give at least 1")
    course = load(args.course)
    exercises = (
        list(course.exercises)
        if not args.exercise
        else [course.exercise(exercise_id) for exercise_id in dict.fromkeys(args.exercise)]
    )
    exercises.sort(key=course.exercises.index)
    from grader.batch.adjustments import AdjustmentsRefused, read_adjustments
    from grader.batch.roster import read_roster

    try:
        extensions = timing.read_extensions(args.extensions, course) if args.extensions else {}
        args.sources = submit_times.read_sources(args, course)
        roster = read_roster(args.roster, exercises) if args.roster else None
        adjusting = (
            read_adjustments(args.adjustments, course, exercises) if args.adjustments else None
        )
        out: Path = args.out
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsageError(f"--out {out}: cannot be made ({error.strerror})") from None
        with _only_run(out):
            return _run_batch(args, course, exercises, extensions, roster, adjusting, out)
    except (AdjustmentsRefused, submit_times.TimesRefused) as refused:  # a line per mistake
        for line in refused.lines:
            print(f"grade: {safe_text.github_log(line)}", file=sys.stderr)
        raise


def _run_batch(
    args: argparse.Namespace,
    course: Course,
    exercises: list[Exercise],
    extensions: timing.Extensions,
    roster: Roster | None,
    adjusting: list[AdjustmentRow] | None,
    out: Path,
) -> int:
    from grader.batch.adjustments import match_students
    from grader.batch.discover import discover
    from grader.batch.gradebook import Gradebook
    from grader.batch.progress import Progress
    from grader.batch.roster import match_and_list

    started = time.monotonic()
    # Names come from folder and zip names: shown escaped when not UTF-8 (the gradebook, every
    # output and every encoder needs text it can write).
    entries = [
        replace(entry, name=safe_text.filename(entry.name))
        for entry in discover(course, args.submissions, out / ".work" / "unpacked")
    ]
    matching = match_and_list(roster, entries)  # the unmatched printed first
    if adjusting is not None:  # every student named is in the run, before the gradebook opens
        adjusting = match_students(args.adjustments, adjusting, [(e.name, e.key) for e in entries])
    book = Gradebook(out / GRADEBOOK_FILE)
    try:
        if adjusting is not None:
            _record_adjustments(book, adjusting, entries, exercises, args.adjustments)
        planned = _plan(course, exercises, entries)  # each exercise's time from its file:
        planned, entries = submit_times.timed(planned, entries, args.sources)
        for line in refusals(planned):
            print(f"grade: {line}", file=sys.stderr)
        known = book.keys()
        failures: list[str] = []
        missing = [item for item in planned if item.task is None and item.key not in known]
        for item in missing:
            _record_missing(course, book, item, failures)
        for item in planned:
            if item.task is None and item.key in known and _reason_changed(book, item):
                _record_missing(course, book, item, failures, replace=True)
        to_grade = [item for item in planned if item.task is not None and item.key not in known]
        print(
            f"{len(entries)} students, {len(exercises)} exercises: {len(to_grade)} to grade, "
            f"{len(missing)} with nothing handed in, "
            f"{len(planned) - len(to_grade) - len(missing)} already in the gradebook",
            file=sys.stderr,
        )
        progress = Progress(len(to_grade))
        by_task = {item.task: item for item in to_grade}
        pool = _pool(args, course)
        try:
            for outcome in pool.run([item.task for item in to_grade if item.task]):
                _keep(book, by_task[outcome.task], outcome, failures)
                progress.advance()
        except KeyboardInterrupt:
            progress.close()
            pool.close(wait=False)
            print(
                f"grade: stopped; {book.count()} gradings are in {out / GRADEBOOK_FILE}. Run the "
                "same command again to grade the rest.",
                file=sys.stderr,
            )
            return 130
        progress.close()
        pool.close()
        unwritten = _write_outputs(
            course, exercises, entries, planned, book, extensions, matching, failures, out
        )
    finally:
        book.close()
    print(
        f"graded {len(to_grade) - len(failures)} in {time.monotonic() - started:.1f} s; "
        f"gradebook, grades.csv, feedback/ and report.html are in {out}"
    )
    for failure in failures:
        print(f"grade: could not grade {failure}", file=sys.stderr)
    for line in unwritten:
        print(f"grade: {line}; free some space and run grade batch again", file=sys.stderr)
    return 1 if failures or unwritten else 0


def _record_adjustments(
    book: Gradebook,
    rows: list[AdjustmentRow],
    entries: list[StudentEntry],
    exercises: list[Exercise],
    path: Path,
) -> None:
    """Record the adjustments file in the gradebook with who gave it and when, before grading."""
    from grader.batch.adjustments import current_user

    names = {entry.key: entry.name for entry in entries}
    scope = {(key, exercise.id) for key in names for exercise in exercises}
    made = (str(path.absolute()), current_user(), _now())
    try:
        changed, removed = book.sync_adjustments(rows, names, scope, *made)
    except sqlite3.Error as error:
        raise UsageError(f"{path}: not recorded in the gradebook ({error})") from None
    print(f"adjustments: {changed} new or changed, {removed} removed", file=sys.stderr)


def _pool(args: argparse.Namespace, course: Course) -> LocalPool | DaskPool:
    from grader.batch.dask_pool import DaskPool
    from grader.batch.pool import LocalPool

    if args.dask:
        return DaskPool(course, args.dask)
    return LocalPool(course, args.jobs)


def _keep(book: Gradebook, item: Planned, outcome: Outcome, failures: list[str]) -> None:
    if outcome.report is None:
        failures.append(f"{item.entry.name}'s {item.exercise.id}: {outcome.failure}")
        return
    try:
        book.record(
            item.key,
            item.entry.name,
            _submitted_at(item),
            outcome.report,
            outcome.seconds,
            _now(),
        )
    except sqlite3.Error as error:  # a full disk: the next run grades it again
        failures.append(f"{item.entry.name}'s {item.exercise.id}: not recorded ({error})")


def _write_outputs(
    course: Course,
    exercises: list[Exercise],
    entries: list[StudentEntry],
    planned: list[Planned],
    book: Gradebook,
    extensions: timing.Extensions,
    matching: Matching | None,
    failures: list[str],
    out: Path,
) -> list[str]:
    """Write every output from the gradebook; what could not be written (a full disk), one line
    each, which the report lists with ``failures``: the rest is written all the same."""
    from grader.batch import class_report, feedback, similarity
    from grader.batch.exports import StudentGrades, adjustments_csv, canvas_csv, grades_csv
    from grader.batch.exports import unmatched_csv as unmatched_text
    from grader.files import write_atomically

    ids = matching.ids if matching else {}
    students = {e.key: StudentGrades(e, id=ids.get(e.key, "")) for e in entries}
    updates = []
    for grading in book.gradings(item.key for item in planned):
        student = students[grading.student]
        exercise = course.exercise(grading.exercise)
        moment = student.entry.time_of(exercise.id)
        late = timing.lateness(course, exercise, student.entry.name, moment, extensions)
        if grading.file_hash == NOT_SUBMITTED:
            late = timing.ON_TIME
        score = late.apply(grading.raw_score)
        updates.append((grading.id, late.days_late, late.penalty, score))
        student.gradings[exercise.id] = _with_lateness(grading, late.days_late, late.penalty, score)
    unwritten: list[str] = []
    try:
        book.set_lateness(updates)
        book.mark_current(item.key for item in planned)  # the gradings the outputs show
    except sqlite3.Error as error:  # the outputs below still show them
        unwritten.append(f"the late penalties and current marks: not stored ({error})")
    for (key, exercise_id), adjustment in book.adjustments().items():
        if key in students:
            students[key].adjustments[exercise_id] = adjustment
    ordered = list(students.values())

    def write(path: Path, content: str, what: str) -> None:
        try:
            write_atomically(path, content)
        except OSError as error:
            unwritten.append(f"{what}: not written ({error.strerror or error})")

    write(out / "grades.csv", grades_csv(exercises, ordered), "grades.csv")
    write(out / "adjustments.csv", adjustments_csv(exercises, ordered), "adjustments.csv")
    if matching is not None:
        write(out / "canvas.csv", canvas_csv(matching, exercises, ordered), "canvas.csv")
        write(out / "unmatched.csv", unmatched_text(matching), "unmatched.csv")
    unmatched = matching.lines() if matching else []
    similar = similarity.find(
        exercises,
        [similarity.Handed(i.entry.name, i.exercise, Path(i.task.path)) for i in planned if i.task],
    )
    write(out / "similarity.csv", similarity.csv_text(similar), "similarity.csv")
    for student in ordered:
        view = feedback.student_view(course, exercises, student)
        for kind in ("md", "html"):
            write(
                out / "feedback" / f"{student.entry.key}.{kind}",
                feedback.render(view, kind),
                f"{student.entry.name}'s feedback/{student.entry.key}.{kind}",
            )
    files = [p.name for p in out.iterdir() if matching is not None or p.name != "canvas.csv"]
    report = class_report.render(
        course, exercises, ordered, unmatched, failures + unwritten, similar, files
    )
    write(out / "report.html", report, "report.html")
    return unwritten


def _with_lateness(
    grading: RecordedGrading, days: int, penalty: float, score: float
) -> RecordedGrading:
    return replace(grading, late_days=days, penalty=penalty, score=score)
