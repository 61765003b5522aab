"""`grade batch SUBMISSIONS --out OUT`: grade a whole class, resumably, and write its outputs.

    grade batch SUBMISSIONS --out OUT [--exercise ID ...] [--jobs N] [--dask ADDRESS]
                [--roster CSV] [--extensions CSV] [--course PATH]

The run: find the students (grader.batch.discover); for each student and exercise, the file to
grade and its hash; grade every (file, checks version) the gradebook does not hold yet, in
parallel, recording each grading the moment it ends; then write the outputs from the gradebook:
grades.csv, canvas.csv (with --roster), feedback/, report.html. Stopped at any point, the next
run of the same command grades only what is still missing.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from grader import __version__, safe_text
from grader.batch import timing
from grader.course import COURSE_FILE, Course, Exercise
from grader.errors import SubmissionNotFound, UsageError

if TYPE_CHECKING:
    from grader.batch.discover import StudentEntry
    from grader.batch.gradebook import Gradebook, Grading, GradingKey
    from grader.batch.pool import DaskPool, LocalPool, Outcome, Task

GRADEBOOK_FILE = "gradebook.sqlite"
NOT_SUBMITTED = "none"  # the file hash recorded when a student handed in nothing
NEEDED = ("jinja2", "matplotlib", "tqdm")


@dataclass(frozen=True)
class Planned:
    """One student's exercise: its gradebook key, and the task if it must be graded now."""

    entry: StudentEntry
    exercise: Exercise
    key: GradingKey
    task: Task | None  # None: nothing handed in (graded 0 without a worker)
    missing: str = ""  # why nothing was found, for the student's feedback


def parser(parent: type[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """The `grade batch` arguments; ``parent`` is the command line's parser class."""
    from grader.batch.pool import usable_cpus

    cpus = len(usable_cpus())
    result = parent(
        prog="grade batch",
        description="Grade every student's submission, record each grading in a gradebook, "
        "and write grades.csv, feedback per student and a class report. Run it again to "
        "grade only what changed.",
    )
    result.add_argument(
        "submissions",
        metavar="SUBMISSIONS",
        type=Path,
        help="a folder with one folder or .zip per student (named after the student), or a "
        "Gradescope export folder (with submission_metadata.yml)",
    )
    result.add_argument("--out", metavar="OUT", type=Path, required=True, help="output folder")
    result.add_argument(
        "--exercise",
        metavar="ID",
        action="extend",
        nargs="+",
        help="grade only these exercises (default: all)",
    )
    result.add_argument(
        "--jobs",
        metavar="N",
        type=int,
        default=cpus,
        help=f"grading processes (default: one per CPU, {cpus} here, each kept to its CPU with "
        "its workers)",
    )
    result.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="send the gradings to the Dask scheduler at ADDRESS (e.g. tcp://scheduler-host:8786) "
        "instead of local processes",
    )
    result.add_argument(
        "--roster",
        metavar="CSV",
        type=Path,
        help="Canvas roster (its gradebook export) to write canvas.csv for import",
    )
    result.add_argument(
        "--extensions",
        metavar="CSV",
        type=Path,
        help="extensions: student,exercise,days per line (see the docs on late work)",
    )
    result.add_argument(
        "--course",
        metavar="PATH",
        type=Path,
        help=f"the course's {COURSE_FILE} or its folder (default: the nearest one)",
    )
    return result


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


def checks_version(course: Course, exercise: Exercise) -> str:
    """A hash of everything that decides a grading's result besides the submission: the grader's
    version, the checks, the solution, the points, the limits and the course seed."""
    digest = hashlib.sha256()
    settings = f"{__version__}|{course.seed}|{exercise.points}|{exercise.limits}"
    digest.update(settings.encode())
    for path in (exercise.checks, exercise.hidden_checks, exercise.solution_file):
        digest.update(b"\0" + (path.read_bytes() if path is not None else b"-"))
    return digest.hexdigest()[:16]


def _plan(course: Course, exercises: list[Exercise], entries: list[StudentEntry]) -> list[Planned]:
    from grader.batch.pool import Task
    from grader.submission import leads_out, locate

    versions = {exercise.id: checks_version(course, exercise) for exercise in exercises}
    planned = []
    for entry in entries:
        for exercise in exercises:
            version = versions[exercise.id]
            if entry.folder is None:
                key = (entry.key, exercise.id, NOT_SUBMITTED, version)
                planned.append(Planned(entry, exercise, key, None, entry.problem or ""))
                continue
            try:
                found = locate(exercise, entry.folder)
            except (SubmissionNotFound, UsageError):
                key = (entry.key, exercise.id, NOT_SUBMITTED, version)
                missing = f"no {exercise.file_name} (or .ipynb) was handed in"
                planned.append(Planned(entry, exercise, key, None, missing))
                continue
            link = leads_out(found.path, entry.root or entry.folder)
            if link is not None:
                key = (entry.key, exercise.id, NOT_SUBMITTED, version)
                planned.append(Planned(entry, exercise, key, None, link))
                continue
            file_hash = hashlib.sha256(found.path.read_bytes()).hexdigest()
            inside = found.path.relative_to(entry.root or entry.folder)
            shown = safe_text.filename(f"{entry.name}/{inside}")
            task = Task(entry.key, exercise.id, str(found.path), shown, found.note)
            planned.append(
                Planned(entry, exercise, (entry.key, exercise.id, file_hash, version), task)
            )
    return planned


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _record_missing(course: Course, book: Gradebook, item: Planned) -> None:
    from grader.reports.json_report import exercise_object
    from grader.runner import not_submitted

    # Why nothing was graded may name the student's files (a zip, a link): shown escaped.
    report = exercise_object(not_submitted(course, item.exercise, safe_text.terminal(item.missing)))
    book.record(item.key, item.entry.name, None, report, 0.0, _now())


def _submitted_at(entry: StudentEntry) -> str | None:
    return entry.submitted_at.isoformat() if entry.submitted_at else None


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
    from grader.batch.exports import read_roster

    extensions = timing.read_extensions(args.extensions, course) if args.extensions else {}
    roster = read_roster(args.roster) if args.roster else None
    out: Path = args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--out {out}: cannot be made ({error.strerror})") from None
    with _only_run(out):
        return _run_batch(args, course, exercises, extensions, roster, out)


def _run_batch(
    args: argparse.Namespace,
    course: Course,
    exercises: list[Exercise],
    extensions: timing.Extensions,
    roster: list[dict[str, str]] | None,
    out: Path,
) -> int:
    from grader.batch.discover import discover
    from grader.batch.gradebook import Gradebook
    from grader.batch.progress import Progress

    started = time.monotonic()
    # Names come from folder and zip names: shown escaped when not UTF-8 (the gradebook, every
    # output and every encoder needs text it can write).
    entries = [
        replace(entry, name=safe_text.filename(entry.name))
        for entry in discover(course, args.submissions, out / ".work" / "unpacked")
    ]
    book = Gradebook(out / GRADEBOOK_FILE)
    try:
        planned = _plan(course, exercises, entries)
        known = book.keys()
        missing = [item for item in planned if item.task is None and item.key not in known]
        for item in missing:
            _record_missing(course, book, item)
        to_grade = [item for item in planned if item.task is not None and item.key not in known]
        print(
            f"{len(entries)} students, {len(exercises)} exercises: {len(to_grade)} to grade, "
            f"{len(missing)} with nothing handed in, "
            f"{len(planned) - len(to_grade) - len(missing)} already in the gradebook",
            file=sys.stderr,
        )
        failures: list[str] = []
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
        _write_outputs(course, exercises, entries, planned, book, extensions, roster, failures, out)
    finally:
        book.close()
    print(
        f"graded {len(to_grade) - len(failures)} in {time.monotonic() - started:.1f} s; "
        f"gradebook, grades.csv, feedback/ and report.html are in {out}"
    )
    for failure in failures:
        shown = safe_text.terminal(failure, one_line=True)  # it names the student
        print(f"grade: could not grade {shown}", file=sys.stderr)
    return 1 if failures else 0


def _pool(args: argparse.Namespace, course: Course) -> LocalPool | DaskPool:
    from grader.batch.pool import DaskPool, LocalPool

    if args.dask:
        return DaskPool(course, args.dask)
    return LocalPool(course, args.jobs)


def _keep(book: Gradebook, item: Planned, outcome: Outcome, failures: list[str]) -> None:
    if outcome.report is None:
        failures.append(f"{item.entry.name}'s {item.exercise.id}: {outcome.failure}")
        return
    book.record(
        item.key,
        item.entry.name,
        _submitted_at(item.entry),
        outcome.report,
        outcome.seconds,
        _now(),
    )


def _write_outputs(
    course: Course,
    exercises: list[Exercise],
    entries: list[StudentEntry],
    planned: list[Planned],
    book: Gradebook,
    extensions: timing.Extensions,
    roster: list[dict[str, str]] | None,
    failures: list[str],
    out: Path,
) -> None:
    from grader.batch import class_report, feedback
    from grader.batch.exports import StudentGrades, canvas_csv, grades_csv
    from grader.batch.files import write_atomically

    students = {entry.key: StudentGrades(entry) for entry in entries}
    updates = []
    for grading in book.gradings(item.key for item in planned):
        student = students[grading.student]
        exercise = course.exercise(grading.exercise)
        late = timing.lateness(
            course, exercise, student.entry.name, student.entry.submitted_at, extensions
        )
        if grading.file_hash == NOT_SUBMITTED:
            late = timing.ON_TIME
        score = late.apply(grading.raw_score)
        updates.append((grading.id, late.days_late, late.penalty, score))
        student.gradings[exercise.id] = _with_lateness(grading, late.days_late, late.penalty, score)
    book.set_lateness(updates)
    ordered = list(students.values())
    write_atomically(out / "grades.csv", grades_csv(exercises, ordered))
    unmatched: list[str] = []
    if roster is not None:
        text, unmatched = canvas_csv(roster, exercises, ordered)
        write_atomically(out / "canvas.csv", text)
    for student in ordered:
        view = feedback.student_view(course, exercises, student)
        for kind in ("md", "html"):
            write_atomically(
                out / "feedback" / f"{student.entry.key}.{kind}", feedback.render(view, kind)
            )
    write_atomically(
        out / "report.html", class_report.render(course, exercises, ordered, unmatched, failures)
    )


def _with_lateness(grading: Grading, days: int, penalty: float, score: float) -> Grading:
    return replace(grading, late_days=days, penalty=penalty, score=score)
