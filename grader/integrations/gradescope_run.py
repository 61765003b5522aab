"""What the Gradescope autograder's run_autograder runs:
``python -m grader.integrations.gradescope_run ROOT``.

ROOT is laid out as Gradescope lays out /autograder: ``source/`` (the unpacked autograder zip,
grader.integrations.gradescope), ``submission/`` (what the student handed in), ``results/``.
Every exercise of ``source/course.yaml`` is graded, public and hidden checks, each in its own
limited worker as `grade` does it; an exercise with no file scores 0 and says which file it
wanted. The results go to ``results/results.json`` (grader.reports.gradescope), written whole;
the full report, with hidden checks' messages and suspicious-code flags, goes to stdout, which
only instructors see.

A student who uploads one file under another name (``exercise3 (1).ipynb``) for an autograder of
one exercise is graded on it, with a note. Exit status 0 once results.json is written; 2 when the
autograder itself is broken (course.yaml, a check file), with one line saying what to fix: then
no results.json is written, and Gradescope shows the run as failed instead of a wrong score.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from grader.batch.discover import exercise_folder
from grader.course import Course, Exercise, load_course
from grader.errors import UsageError
from grader.files import write_atomically
from grader.folder_policy import NotSubmitted, pick
from grader.results import CourseResult, ExerciseResult
from grader.submission import SUFFIXES, Located


def _uploaded_files(folder: Path) -> list[Path]:
    """The gradable files anywhere in the submission; hidden folders left out, and linked
    folders not followed (a link to its own parent would never end)."""
    found = []
    for top, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        found += [Path(top, name) for name in files if Path(name).suffix in SUFFIXES]
    return sorted(found)


def _located(course: Course, exercise: Exercise, submission: Path) -> Located | NotSubmitted:
    """The student's file for ``exercise``: by its name where the exercise files are; for a
    course of one exercise, else the one gradable file handed in, whatever its name. Or why
    there is none to grade (grader.folder_policy)."""
    stem = Path(exercise.file_name).stem

    def any_name() -> Located | None:
        uploaded = _uploaded_files(submission)
        if len(course.exercises) != 1 or len(uploaded) != 1:
            return None
        shown = uploaded[0].relative_to(submission)
        return Located(uploaded[0], f"graded {shown} as {exercise.file_name}")

    return pick(
        exercise,
        exercise_folder(course, submission),
        submission,
        how_to_choose="hand in only the one to grade",
        not_found=f"not handed in: {exercise.file_name} (or {stem}.ipynb) was not found",
        otherwise=any_name,
    )


def handed_in(submission: Path) -> str:
    """One line naming the gradable files handed in, for the top of the student's output."""
    uploaded = [str(path.relative_to(submission)) for path in _uploaded_files(submission)]
    if not uploaded:
        return "You handed in no .py file and no notebook (.ipynb)."
    shown = ", ".join(uploaded[:20])
    if len(uploaded) > 20:
        shown += f" and {len(uploaded) - 20} more"
    return f"You handed in {shown}."


def grade_submission(course: Course, submission: Path) -> CourseResult:
    """Every exercise of ``course`` graded on the files in ``submission``."""
    from grader.runner import Grading, not_submitted

    results: list[ExerciseResult] = []
    for exercise in course.exercises:
        found = _located(course, exercise, submission)
        if isinstance(found, NotSubmitted):
            results.append(not_submitted(course, exercise, found.reason))
            continue
        shown = str(found.path.relative_to(submission))
        notes = (found.note,) if found.note else ()
        results.append(Grading(course, exercise, found.path, shown, notes).run())
    return CourseResult(results)


def run(root: Path) -> int:
    """Grade ``root``/submission, write ``root``/results/results.json; the exit status."""
    from grader.reports import gradescope, terminal

    started = time.monotonic()
    course = load_course(root / "source" / "course.yaml")
    submission = root / "submission"
    if not submission.is_dir():
        raise UsageError(f"{submission} does not exist: is AUTOGRADER_ROOT ({root}) right?")
    result = grade_submission(course, submission)
    document = gradescope.results_json(
        result, course, time.monotonic() - started, [handed_in(submission)]
    )
    write_atomically(
        root / "results" / "results.json", json.dumps(document, indent=2, ensure_ascii=False)
    )
    # For the instructor (Gradescope shows stdout to instructors only): everything, hidden too.
    print(terminal.render(result, sys.stdout))
    for exercise in result.exercises:
        if exercise.flags:
            print(f"{exercise.exercise}: flagged: {'; '.join(exercise.flags)}")
    layers = sorted({layer for exercise in result.exercises for layer in exercise.sandbox})
    print(f"protection layers active: {', '.join(layers) or 'none beyond the worker process'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if len(arguments) != 1:
        print("usage: python -m grader.integrations.gradescope_run ROOT", file=sys.stderr)
        return 2
    try:
        return run(Path(arguments[0]))
    except UsageError as error:
        print(f"grade (Gradescope autograder): {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
