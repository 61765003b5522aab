"""`grade submit`: the zip a student hands in, holding the file worked in for each exercise.

The zip holds, per exercise, the file or files course.yaml's ``hand_in`` asks for, each at its
path relative to the course folder (``exercises/exercise3_chain_rule.ipynb``), so that `grade
batch` finds them in it as it finds them in a clone of the course (grader.batch.discover):

- ``worked`` (the default): the file `grade` grades, the .py or the notebook, chosen by
  grader.submission.locate (the one with fewer unfinished functions, else the one saved last);
- ``notebooks`` or ``scripts``: the .ipynb, or the .py;
- ``both``: the .py and the .ipynb.

Refused with one line (UsageError, exit 2), and nothing written, when a file asked for is
missing, is no regular file, is or lies behind a symbolic link out of the course folder
(grader.submission.not_gradable), or is larger than a submission may be (MAX_SUBMISSION_BYTES
each, MAX_UNPACKED_PER_STUDENT together, as `grade batch` unpacks zips). An exercise still
unfinished (functions raising NotImplementedError) or that grading could not read is handed in
as it is, with one warning line.

The zip is written whole or not at all (grader.files.write_atomically: a temporary file beside
it, then renamed) and is reproducible: entries in the course's order, the .py before the
notebook, with a fixed date and mode, so the same files give the same bytes.
"""

from __future__ import annotations

import ast
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.batch.discover import MAX_UNPACKED_PER_STUDENT
from grader.course import Course, Exercise
from grader.definitions import unfinished_names
from grader.errors import SubmissionNotFound, UsageError
from grader.files import write_atomically
from grader.submission import (
    MAX_SUBMISSION_BYTES,
    NotAFile,
    Source,
    code_cells,
    handed_in,
    locate,
    not_gradable,
    read_capped,
    read_source,
    shown_name,
)

DEFAULT_NAME = "submission.zip"  # written in the course folder, beside course.yaml
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip can hold: the same bytes every time
FILE_MODE = 0o100644  # a regular file, readable by all
HOW_TO_CHOOSE = "as grade does; to hand in the other, finish it, or move this one away"


@dataclass(frozen=True)
class HandIn:
    """What `grade submit` wrote.

    path: the zip written;
    files: its entries, the paths inside the course folder (POSIX), in the zip's order;
    warnings: one line per exercise handed in unfinished or that grading cannot read;
    notes: one line per exercise whose .py and notebook were both there, saying which was taken;
    where: the line on where to hand the zip in.
    """

    path: Path
    files: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    where: str = ""


def write_hand_in(
    course: Course, output: Path | None = None, exercises: Sequence[str] | None = None
) -> HandIn:
    """Write the zip a student hands in for ``course``: to ``output`` (default: submission.zip
    in the course folder), for the exercises with the ids ``exercises`` (default: all).
    UsageError with one line, and nothing written, if it cannot be (see the module)."""
    target = _target(course, output)
    chosen = _chosen(course, exercises)
    entries: dict[str, bytes] = {}
    notes: list[str] = []
    warnings: list[str] = []
    for exercise in chosen:
        paths, graded, note = _files_of(course, exercise)
        if note:
            notes.append(f"{exercise.id}: {note}")
        for path in paths:
            entries.setdefault(_inside(course, path), _read(course, path))
        warning = unfinished(exercise, graded)
        if warning:
            warnings.append(warning)
    total = sum(len(data) for data in entries.values())
    if total > MAX_UNPACKED_PER_STUDENT:
        raise UsageError(
            f"the files to hand in come to {total / 2**20:.1f} MB, more than the "
            f"{MAX_UNPACKED_PER_STUDENT // 2**20} MB a submission may hold; clear the notebooks' "
            "outputs and save them again"
        )
    try:
        write_atomically(target, zip_bytes(entries))
    except OSError as error:
        raise UsageError(
            f"{shown_name(str(target))}: cannot be written ({error.strerror or error}); give "
            "--output a path in a folder you can write"
        ) from None
    return HandIn(
        target, tuple(entries), tuple(warnings), tuple(notes), where_to_hand_in(target, chosen)
    )


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    """A zip of ``entries`` (path inside -> content) in their order, deflated (what `grade batch`
    unpacks), each with the same date and mode, so that the same entries give the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, wherever it is made, so the mode below is read
            info.external_attr = FILE_MODE << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def where_to_hand_in(path: Path, exercises: Sequence[Exercise]) -> str:
    """The line on where to hand in the zip at ``path``, with the first due date of
    ``exercises`` if course.yaml gives them one."""
    line = f"hand it in: upload {path.name} where your course collects work (its assignment page)"
    due = [(exercise.due, exercise.id) for exercise in exercises if exercise.due is not None]
    if not due:
        return line
    first, first_id = min(due)
    when = first.isoformat(" ", "minutes")
    if all(moment == first for moment, _ in due):
        return f"{line}, by {when}"
    return f"{line}; {first_id} is due first, by {when}"


def unfinished(exercise: Exercise, path: Path) -> str | None:
    """One warning line if the file at ``path`` is handed in unfinished (functions that still
    raise NotImplementedError, named) or is one grading cannot read (a SubmissionProblem, a
    syntax error); None if it looks finished."""
    source = read_source(path)
    if not isinstance(source, Source):
        return f"{exercise.id}: {source.message}; it is handed in as it is, and would grade 0"
    try:
        ast.parse(source.text)  # a notebook's cells that do not parse are left out already
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        line = error.lineno if isinstance(error, SyntaxError) else None
        where = f" ({source.place(line)})" if line else ""
        return (
            f"{exercise.id}: {path.name} is not valid Python{where}; it is handed in as it is, "
            "and would grade 0"
        )
    # The last definition of each function counts, as when grade chooses the file.
    names = unfinished_names(code_cells(path) or [source.text])
    if not names:
        return None
    count = (
        f"1 function in {path.name} still raises"
        if len(names) == 1
        else f"{len(names)} functions in {path.name} still raise"
    )
    return f"{exercise.id}: {count} NotImplementedError ({', '.join(names)}); handed in unfinished"


# ---------------------------------------------------------------- choosing and reading


def _target(course: Course, output: Path | None) -> Path:
    """Where the zip goes: ``output``, or submission.zip in the course folder."""
    if output is None:
        return course.root / DEFAULT_NAME
    if output.is_dir():
        raise UsageError(
            f"{shown_name(str(output))} is a folder; give --output the path of the zip to "
            f"write, e.g. {shown_name(str(output / DEFAULT_NAME))}"
        )
    if output.suffix.lower() != ".zip":
        raise UsageError(
            f"{shown_name(str(output))}: the hand-in is a .zip file; name it e.g. {DEFAULT_NAME}"
        )
    return output.absolute()


def _chosen(course: Course, ids: Sequence[str] | None) -> tuple[Exercise, ...]:
    """The exercises with ``ids``, in the course's order (all if none are given); an unknown id
    is refused with the one meant (Course.exercise)."""
    if not ids:
        return course.exercises
    wanted = {course.exercise(exercise_id).id for exercise_id in ids}
    return tuple(exercise for exercise in course.exercises if exercise.id in wanted)


def _files_of(course: Course, exercise: Exercise) -> tuple[list[Path], Path, str | None]:
    """The files of ``exercise`` to hand in, as course.yaml's ``hand_in`` says; the one of them
    `grade` grades (checked for unfinished functions); and, when the .py and the notebook were
    both there, which one `grade` takes and why."""
    folder = exercise.student_file.parent
    stem = Path(exercise.file_name).stem
    script, notebook = folder / f"{stem}.py", folder / f"{stem}.ipynb"
    if course.hand_in in ("scripts", "notebooks"):
        path = script if course.hand_in == "scripts" else notebook
        if not handed_in(path):
            kind = "the .py files" if course.hand_in == "scripts" else "the notebooks"
            raise UsageError(
                f"{_shown(course, path)} not found: this course takes {kind} "
                f"(hand_in: {course.hand_in} in course.yaml); save your work for {exercise.id} "
                f"as {path.name}, or leave it out with --exercise for the others"
            )
        return [path], path, None
    try:
        found = locate(exercise, None, HOW_TO_CHOOSE)
    except SubmissionNotFound:
        raise UsageError(
            f"{_shown(course, script)} not found, nor {notebook.name}: put the file you worked in "
            f"for {exercise.id} there, or leave it out with --exercise for the others"
        ) from None
    note = found.note
    if note and note.startswith("graded "):
        note = "took " + note.removeprefix("graded ")
    if course.hand_in == "worked":
        return [found.path], found.path, note
    for path in (script, notebook):
        if not handed_in(path):
            raise UsageError(
                f"{_shown(course, path)} not found: this course takes both the .py file and the "
                f"notebook of each exercise (hand_in: both in course.yaml); save {exercise.id}'s "
                f"work as {path.name} too"
            )
    return [script, notebook], found.path, note


def _inside(course: Course, path: Path) -> str:
    """``path``'s name inside the zip: relative to the course folder (POSIX). UsageError if it
    lies outside that folder (course.yaml names the file through a symbolic link out of it)."""
    try:
        return path.relative_to(course.root).as_posix()
    except ValueError:
        raise UsageError(
            f"{shown_name(str(path))} is outside the course folder {shown_name(str(course.root))} "
            "(a symbolic link out of it?); put the file itself in the course folder"
        ) from None


def _read(course: Course, path: Path) -> bytes:
    """The bytes of the exercise file at ``path``, read as submissions are read (only a regular
    file, never a link out of the course folder, at most MAX_SUBMISSION_BYTES); UsageError with
    one line otherwise."""
    shown = _shown(course, path)
    refused = not_gradable(path, course.root)
    if refused is not None:
        raise UsageError(refused)
    try:
        data = read_capped(path, MAX_SUBMISSION_BYTES + 1)
    except (OSError, NotAFile, ValueError) as error:
        why = getattr(error, "strerror", None) or str(error)
        raise UsageError(f"{shown} cannot be read ({why}); save it again") from None
    if len(data) > MAX_SUBMISSION_BYTES:
        tip = " (clear its outputs and save it again)" if path.suffix == ".ipynb" else ""
        raise UsageError(
            f"{shown} is over {MAX_SUBMISSION_BYTES // 2**20} MB, more than a submission may "
            f"be; make it smaller{tip}"
        )
    return data


def _shown(course: Course, path: Path) -> str:
    """``path`` relative to the course folder when it lies in it, as the student sees it."""
    try:
        return shown_name(path.relative_to(course.root).as_posix())
    except ValueError:
        return shown_name(str(path))
