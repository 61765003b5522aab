"""The students in a submissions folder, where each one's exercise files are, and when they were
handed in.

SUBMISSIONS holds one entry per student, named after the student:

- a folder: a clone of the student's repository (with ``exercises/`` inside, or the files at its
  top, or one folder holding either); each exercise's time is its file's in the instructor's
  copy, or with ``--commit-dates`` the last commit changing it (grader.batch.submit_times);
- a ``.zip`` of the same: unpacked (only .py and .ipynb files, each capped in size, no path
  leaving the folder, so many bytes per student and per batch) into the batch's work folder; its
  time is the zip file's own (when it was collected), never its entries' dates (the student's).

Or SUBMISSIONS is a Gradescope "export submissions" folder: a ``submission_metadata.yml`` naming,
for each ``submission_<id>`` folder, its submitters and the time it was made.

Everything a student handed in is read defensively (grader.submission.read_capped): looked at
before it is opened, opened only if it is a regular file, read up to a size. A student whose zip or
clone cannot be read gets one line saying why (``StudentEntry.problem``), and the rest of the class
is graded: a FIFO, socket or device (or a link to one) where a zip or a clone's git files should
be, a zip that unpacks past its cap, that uses a compression other than deflate, or that holds a
name that is not UTF-8 though it says so, a disk that fills while unpacking. A name that is not
UTF-8 (a student's folder, say) is shown and stored escaped (grader.submission.shown_name).
"""

from __future__ import annotations

import errno
import io
import os
import re
import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from grader.batch.clone_times import CloneRefused, last_commit_time
from grader.course import Course
from grader.errors import UsageError
from grader.submission import (
    MAX_SUBMISSION_BYTES,
    SUFFIXES,
    NotAFile,
    file_kind,
    handed_in,
    open_regular,
    read_capped,
    shown_name,
)

GRADESCOPE_METADATA = "submission_metadata.yml"
MAX_METADATA_BYTES = 64 * 2**20  # Gradescope writes about half a KB per submission
MAX_ZIP_MEMBERS = 10_000  # entries looked at in one zip; a real submission has a few dozen
# What one student's zip may unpack to, counted as it is written, never taken from the sizes the
# zip declares (they are the zip's word, and its entries may share their data: the overlapping
# zip bomb). Only .py and .ipynb files are unpacked, each cut at MAX_SUBMISSION_BYTES + 1; a
# course's dozen exercises take a few MB as scripts or notebooks, so 64 MB leaves room for large
# notebooks with their pictures and stops a bomb before it costs the disk anything.
MAX_UNPACKED_PER_STUDENT = 64 * 2**20
# What the zips of one run may unpack to together, so that a class of bombs just under the cap
# above cannot fill the disk OUT is on either: 4 GB is 64 students at that cap, or a class of a
# thousand at 4 MB each. Past it each remaining zip is refused with one line. Folders in
# SUBMISSIONS are not unpacked and do not count.
MAX_UNPACKED_PER_BATCH = 4 * 2**30
# The most zipfile may read from a zip at once. It reads a zip's table of contents (the central
# directory) whole and makes an object of each entry, some 250 bytes each: a submission's table
# takes a few KB, a repository zipped with its virtual environment a few MB, and a crafted one of
# 45 MB, a million entries with one-letter names, 300 MB of memory. 16 MB of table make at most
# some 100 MB of objects.
MAX_ZIP_READ = 16 * 2**20
# Folders above a file kept from a zip: exercise files are looked for three folders deep at most,
# and a deeper path (thousands of folders) would only cost time and risk the name-length limit.
MAX_ZIP_DEPTH = 8
MAX_NAME_BYTES = 255  # a file name's limit on Linux and macOS
# Compression methods unpacked: what every zip tool writes. zipfile decompresses bzip2 and LZMA
# without a bound on what one read makes (and LZMA takes the memory its header asks for).
ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA", 9: "Deflate64"}
COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class StudentEntry:
    """One student's submission.

    name: as the gradebook and grades.csv show it (the entry's name, or Gradescope's; escaped if
    it is not UTF-8);
    key: unique in the class and safe as a file name (feedback/<key>.md);
    folder: where the exercise files are (a zip's unpacked copy), None if nothing is readable;
    root: the entry's own folder (a zip's unpacked copy), which file names are shown from; for
    a submission that could not be read (folder None), the zip or folder handed in;
    submitted_at: when it was handed in (timezone-aware), None if unknown or only per exercise;
    problem: why nothing could be read (a broken zip, a FIFO for a .git), one line for the
    student's feedback;
    details: what else is known (Gradescope's sid and email, where the time came from);
    kind: "clone" (a folder), "zip" or "gradescope";
    times: each exercise's time by id where known per exercise (submit_times.timed);
    own_dates: some time is the student's own commit date (``--commit-dates``): say so.
    """

    name: str
    key: str
    folder: Path | None
    submitted_at: datetime | None
    root: Path | None = None
    problem: str | None = None
    details: dict[str, str] = field(default_factory=dict)
    kind: str = "clone"
    times: dict[str, datetime] = field(default_factory=dict)
    own_dates: bool = False

    def time_of(self, exercise_id: str) -> datetime | None:
        """When this student's ``exercise_id`` was handed in, None if unknown."""
        return self.times.get(exercise_id, self.submitted_at)


@dataclass(frozen=True)
class UnpackCaps:
    """Bytes that zips may unpack to: one student's, and all of one run's together."""

    per_student: int
    per_batch: int


def discover(
    course: Course, submissions: Path, unpack_to: Path, caps: UnpackCaps | None = None
) -> list[StudentEntry]:
    """Every student in ``submissions``, sorted by name; zips are unpacked below ``unpack_to``,
    within ``caps`` (by default MAX_UNPACKED_PER_STUDENT and MAX_UNPACKED_PER_BATCH)."""
    if not submissions.is_dir():
        raise UsageError(
            f"{submissions}: not a folder; pass the folder holding one folder or .zip per student"
        )
    keys = _Keys()
    if (submissions / GRADESCOPE_METADATA).is_file():
        entries = _gradescope(course, submissions, keys)
    else:
        entries = []
        budget = _Budget(caps or UnpackCaps(MAX_UNPACKED_PER_STUDENT, MAX_UNPACKED_PER_BATCH))
        for path in sorted(submissions.iterdir()):
            if path.name.startswith("."):
                continue
            entry = _entry(course, path, keys, unpack_to, budget)
            if entry is not None:
                entries.append(entry)
    if not entries:
        raise UsageError(
            f"{submissions}: no student folders or .zip files in it; each student's work goes "
            "in a folder or .zip named after the student"
        )
    return sorted(entries, key=lambda entry: entry.name.casefold())


def _entry(
    course: Course, path: Path, keys: _Keys, unpack_to: Path, budget: _Budget
) -> StudentEntry | None:
    """The student whose folder or zip ``path`` is; None for a file of another kind (notes.txt).
    Only looked at (lstat, stat) here: a FIFO named ``alice.zip`` is never opened."""
    try:
        refused = file_kind(path)
    except (OSError, ValueError):
        return None  # gone since the folder was listed
    is_folder = refused is not None and _is_folder(path)
    is_zip = not is_folder and path.suffix.lower() == ".zip"
    name = shown_name(path.stem if is_zip else path.name)
    if refused is None:
        return _unzipped(course, path, name, keys.new(name), unpack_to, budget) if is_zip else None
    if is_folder:
        key = keys.new(name)
        try:
            last_commit_time(path)  # a FIFO or device for a git file is refused here, once
        except CloneRefused as error:
            problem = f"{error}; hand in the repository as git made it, or without its .git"
            return StudentEntry(name, key, None, None, root=path, problem=problem)
        # Each exercise's time is its file's, found with the file (submit_times.timed).
        return StudentEntry(name, key, exercise_folder(course, path), None, root=path)
    if not (is_zip or refused.special):
        return None
    what = "a .zip file; hand in the .zip itself" if is_zip else "a folder or a .zip file"
    return StudentEntry(
        name=name,
        key=keys.new(name),
        folder=None,
        submitted_at=None,
        root=path,
        problem=f"{shown_name(path.name)} is {refused}, not {what}",
    )


class _Keys:
    """File-name-safe keys, unique within one class."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def new(self, name: str) -> str:
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")[:80] or "student"
        key, number = base, 2
        while key.casefold() in self._used:
            key, number = f"{base}-{number}", number + 1
        self._used.add(key.casefold())
        return key


def exercise_folder(course: Course, root: Path) -> Path:
    """The folder in ``root`` holding the exercise files: ``exercises/`` or ``root`` itself,
    whichever holds any, else the same inside ``root``'s only subfolder (a zip made of the
    repository's folder); ``exercises/`` or ``root`` if none holds any. Links to folders are not
    followed into, and nothing found is opened."""
    names = {
        Path(exercise.file_name).stem + suffix
        for exercise in course.exercises
        for suffix in SUFFIXES
    }

    def holds_any(folder: Path) -> bool:
        return any(handed_in(folder / name) for name in names)

    folder = root
    for _ in range(2):
        for candidate in (folder / "exercises", folder):
            if _is_folder(candidate) and holds_any(candidate):
                return candidate
        inside = _only_subfolder(folder)
        if inside is None:
            break
        folder = inside
    return root / "exercises" if _is_folder(root / "exercises") else root


def _is_folder(path: Path) -> bool:
    """A folder, or a link to one (a link to a FIFO is neither, and is not followed)."""
    return os.path.isdir(path)


def _only_subfolder(folder: Path) -> Path | None:
    """``folder``'s one subfolder (not a link, not hidden), None if it has none or several; the
    listing stops at the second, however many it holds."""
    found: Path | None = None
    try:
        with os.scandir(folder) as listing:
            for item in listing:
                if item.name.startswith(".") or not item.is_dir(follow_symlinks=False):
                    continue
                if found is not None:
                    return None
                found = folder / item.name
    except OSError:
        return None
    return found


# ---------------------------------------------------------------- zips


class _Budget:
    """The bytes the zips of one run have unpacked so far, against its caps."""

    def __init__(self, caps: UnpackCaps) -> None:
        self.caps = caps
        self.used = 0


class _Refused(Exception):
    """Why a zip is not unpacked; str() ends the student's line (after the zip's name)."""


class _ZipReads(io.FileIO):
    """A zip as zipfile reads it, each read at most MAX_ZIP_READ bytes: zipfile reads a zip's
    table of contents in one read, of the size the zip gives."""

    def read(self, size: int | None = -1) -> bytes:
        wanted = -1 if size is None else size
        if wanted < 0 or wanted > MAX_ZIP_READ:
            left = os.fstat(self.fileno()).st_size - self.tell()
            if (left if wanted < 0 else min(left, wanted)) > MAX_ZIP_READ:
                raise _Refused(
                    f"lists more files than a submission holds (a table of contents over "
                    f"{_size(MAX_ZIP_READ)}); hand in a zip of your exercise files only"
                )
        return super().read(size)


def _unzipped(
    course: Course, path: Path, name: str, key: str, unpack_to: Path, budget: _Budget
) -> StudentEntry:
    """Unpack the .py and .ipynb files of the zip at ``path`` into ``unpack_to / key`` (emptied
    first); a refusal (a broken zip, a bomb, a full disk) leaves that folder empty."""
    into = unpack_to / key
    zip_name = shown_name(path.name)
    try:
        shutil.rmtree(into, ignore_errors=True)
        into.mkdir(parents=True)
        _unpack(path, into, zip_name, budget)
    except (_Refused, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
            NotImplementedError, RuntimeError, NotAFile) as error:  # fmt: skip
        shutil.rmtree(into, ignore_errors=True)
        return StudentEntry(
            name=name,
            key=key,
            folder=None,
            submitted_at=None,
            root=path,
            problem=f"{zip_name} {_zip_problem(error, unpack_to)}",
            kind="zip",
        )
    try:  # the zip file's own time: when the instructor's copy was made, never a date in it
        collected: datetime | None = datetime.fromtimestamp(os.stat(path).st_mtime, tz=UTC)
    except (OSError, ValueError, OverflowError):
        collected = None
    return StudentEntry(
        name=name,
        key=key,
        folder=exercise_folder(course, into),
        root=into,
        submitted_at=collected,
        details={"time from": "the zip file's own date"} if collected is not None else {},
        kind="zip",
    )


def _zip_problem(error: BaseException, unpack_to: Path) -> str:
    """The end of the student's line for a zip that was not unpacked (after the zip's name)."""
    if isinstance(error, _Refused):
        return str(error)
    if isinstance(error, NotAFile):
        return f"is {error}, not a .zip file; hand in the .zip itself"
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"could not be unpacked: no space left on the disk of {shown_name(str(unpack_to))}; "
            "free some space and run grade batch again"
        )
    if isinstance(error, UnicodeDecodeError):
        return (
            "could not be unpacked: a file name in it is not UTF-8, though the zip says it is; "
            "make the zip again with your system's zip tool"
        )
    why = getattr(error, "strerror", None) if isinstance(error, OSError) else None
    return f"could not be unpacked ({shown_name(why or str(error))}); hand in a .zip file"


def _unpack(path: Path, into: Path, zip_name: str, budget: _Budget) -> None:
    """Extract the graded kinds of file, each at most one byte over the size the grader accepts
    (so that it is refused with its size, not cut silently), counting the bytes as they are
    written against the student's and the run's caps. Entry dates are not kept (the student's)."""
    caps = budget.caps
    written = 0
    with _ZipReads(open_regular(path), "rb") as handle, zipfile.ZipFile(handle) as archive:
        for number, info in enumerate(archive.infolist()):
            if number >= MAX_ZIP_MEMBERS:
                break
            target = _target(info, into)
            if target is None:
                continue
            if info.compress_type not in ZIP_METHODS:
                method = METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
                raise _Refused(
                    f"holds {shown_name(info.filename)} compressed with {method}; make the zip "
                    "again with ordinary (deflate) compression"
                )
            if info.flag_bits & 0x1:
                raise _Refused(
                    f"holds {shown_name(info.filename)} encrypted; hand in a zip without a password"
                )
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                sink = open(target, "wb")  # noqa: SIM115 (closed below, after the copy)
            except (FileExistsError, NotADirectoryError, IsADirectoryError):
                continue  # a file where a folder should be: two entries disagree
            with sink, archive.open(info) as source:
                left = MAX_SUBMISSION_BYTES + 1
                while left > 0:
                    chunk = source.read(min(left, COPY_CHUNK))
                    if not chunk:
                        break
                    left -= len(chunk)
                    written += len(chunk)
                    if written > caps.per_student:
                        raise _Refused(
                            f"unpacks to more than {_size(caps.per_student)} of .py and .ipynb "
                            "files, more than any submission; hand in a zip of your exercise "
                            "files only"
                        )
                    if budget.used + written > caps.per_batch:
                        raise _Refused(
                            f"was not unpacked: the zips of this run came to "
                            f"{_size(caps.per_batch)}, the most grade batch unpacks in one run; "
                            "unzip it into a folder in SUBMISSIONS and run grade batch again"
                        )
                    sink.write(chunk)
    budget.used += written


def _size(count: int) -> str:
    """A number of bytes as "4 GB", "64 MB", "1.5 MB"."""
    if count >= 2**30:
        return f"{count / 2**30:.3g} GB"
    return f"{count / 2**20:.3g} MB"


def _target(info: zipfile.ZipInfo, into: Path) -> Path | None:
    """Where the entry ``info`` is unpacked to below ``into``; None for an entry not kept: not a
    .py or .ipynb file, a path that would land outside ``into`` (``..``, absolute, a drive), a
    link, or a path too deep or too long to be a submission's."""
    name = info.filename.replace("\\", "/")
    if info.is_dir() or Path(name).suffix not in SUFFIXES:
        return None
    parts = Path(name).parts
    if name.startswith("/") or ".." in parts or ":" in name:
        return None  # would land outside the folder
    if (info.external_attr >> 16) & 0o170000 == stat.S_IFLNK:
        return None  # a symbolic link
    if len(parts) > MAX_ZIP_DEPTH + 1:
        return None
    if any(len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES for part in parts):
        return None
    return into.joinpath(*parts)


# ---------------------------------------------------------------- Gradescope


def _gradescope(course: Course, submissions: Path, keys: _Keys) -> list[StudentEntry]:
    """One entry per submitter of each submission folder the metadata names."""
    metadata_path = submissions / GRADESCOPE_METADATA
    try:
        data = read_capped(metadata_path, MAX_METADATA_BYTES + 1)
        if len(data) > MAX_METADATA_BYTES:
            raise ValueError(f"larger than {MAX_METADATA_BYTES // 2**20} MB")
        metadata = yaml.safe_load(data.decode("utf-8"))
    except (OSError, ValueError, NotAFile, yaml.YAMLError, RecursionError) as error:
        why = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UsageError(
            f"{metadata_path}: cannot be read ({why}); download the export from Gradescope again"
        ) from None
    if not isinstance(metadata, dict):
        raise UsageError(
            f"{metadata_path}: expected a mapping of submission folders; download the export "
            "from Gradescope again"
        )
    entries = []
    for folder_name, record in metadata.items():
        if not isinstance(record, dict):
            continue
        folder = submissions / str(folder_name)
        plain = re.fullmatch(r"[^/\\\0]+", str(folder_name)) and str(folder_name) not in (".", "..")
        found = bool(plain) and _is_folder(folder)
        moment = _moment(record.get(":created_at"))
        submitters = record.get(":submitters") or []
        for submitter in submitters if isinstance(submitters, list) else []:
            if not isinstance(submitter, dict):
                continue
            name = shown_name(str(submitter.get(":name") or submitter.get(":email") or folder_name))
            details = {
                label: shown_name(str(submitter[key]))
                for label, key in (("sid", ":sid"), ("email", ":email"))
                if submitter.get(key)
            }
            details["time from"] = "Gradescope"
            details["submission"] = shown_name(str(folder_name))
            entries.append(
                StudentEntry(
                    name=name,
                    key=keys.new(name),
                    folder=exercise_folder(course, folder) if found else None,
                    root=folder,
                    submitted_at=moment,
                    problem=None if found else f"{details['submission']} is not in the export",
                    details=details,
                    kind="gradescope",
                )
            )
    return entries


def _moment(value: Any) -> datetime | None:
    """A Gradescope time (YAML may have read it already, or left it text) as an aware datetime."""
    if isinstance(value, str):
        text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip())  # nanoseconds: Python keeps micro
        text = re.sub(r" ([+-]\d\d):?(\d\d)$", r"\1:\2", text)
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
