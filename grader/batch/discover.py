"""The students in a submissions folder, where each one's exercise files are, and when they were
handed in.

SUBMISSIONS holds one entry per student, named after the student:

- a folder: a clone of the student's repository (with ``exercises/`` inside, or the files at its
  top, or one folder holding either); its submission time is its last commit's;
- a ``.zip`` of the same: unpacked (only .py and .ipynb files, each capped in size, no path
  leaving the folder) into the batch's work folder; its submission time is its newest entry's.

Or SUBMISSIONS is a Gradescope "export submissions" folder: a ``submission_metadata.yml`` naming,
for each ``submission_<id>`` folder, its submitters and the time it was made.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from grader.course import Course
from grader.errors import UsageError
from grader.submission import MAX_SUBMISSION_BYTES, SUFFIXES

GRADESCOPE_METADATA = "submission_metadata.yml"
MAX_ZIP_MEMBERS = 10_000  # entries looked at in one zip; a real submission has a few dozen
GIT_SECONDS = 10.0
GIT = ("git", "--no-pager")


@dataclass(frozen=True)
class StudentEntry:
    """One student's submission.

    name: as the gradebook and grades.csv show it (the entry's name, or Gradescope's);
    key: unique in the class and safe as a file name (feedback/<key>.md);
    folder: where the exercise files are (a zip's unpacked copy), None if nothing is readable;
    root: the entry's own folder (a zip's unpacked copy), which file names are shown from;
    submitted_at: when it was handed in (timezone-aware), None if unknown;
    problem: why nothing could be read (a broken zip), for the student's feedback;
    details: what else is known (Gradescope's sid and email, where the time came from).
    """

    name: str
    key: str
    folder: Path | None
    submitted_at: datetime | None
    root: Path | None = None
    problem: str | None = None
    details: dict[str, str] = field(default_factory=dict)


def discover(course: Course, submissions: Path, unpack_to: Path) -> list[StudentEntry]:
    """Every student in ``submissions``, sorted by name; zips are unpacked below ``unpack_to``."""
    if not submissions.is_dir():
        raise UsageError(
            f"{submissions}: not a folder; pass the folder holding one folder or .zip per student"
        )
    keys = _Keys()
    if (submissions / GRADESCOPE_METADATA).is_file():
        entries = _gradescope(course, submissions, keys)
    else:
        entries = []
        for path in sorted(submissions.iterdir()):
            if path.name.startswith("."):
                continue
            if path.is_dir():
                key = keys.new(path.name)
                entries.append(
                    StudentEntry(
                        name=path.name,
                        key=key,
                        folder=exercise_folder(course, path),
                        root=path,
                        submitted_at=last_commit_time(path),
                        details={"time from": "last commit"} if (path / ".git").exists() else {},
                    )
                )
            elif path.suffix.lower() == ".zip":
                key = keys.new(path.stem)
                entries.append(_unzipped(course, path, path.stem, key, unpack_to / key))
    if not entries:
        raise UsageError(
            f"{submissions}: no student folders or .zip files in it; each student's work goes "
            "in a folder or .zip named after the student"
        )
    return sorted(entries, key=lambda entry: entry.name.casefold())


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
    repository's folder); ``exercises/`` or ``root`` if none holds any."""
    names = {
        Path(exercise.file_name).stem + suffix
        for exercise in course.exercises
        for suffix in SUFFIXES
    }

    def holds_any(folder: Path) -> bool:
        return any((folder / name).is_file() for name in names)

    folder = root
    for _ in range(2):
        for candidate in (folder / "exercises", folder):
            if holds_any(candidate):
                return candidate
        inside = [
            path for path in folder.iterdir() if path.is_dir() and not path.name.startswith(".")
        ]
        if len(inside) != 1:
            break
        folder = inside[0]
    return root / "exercises" if (root / "exercises").is_dir() else root


# ---------------------------------------------------------------- zips


def _unzipped(course: Course, path: Path, name: str, key: str, into: Path) -> StudentEntry:
    """Unpack the .py and .ipynb files of the zip at ``path`` into ``into`` (emptied first)."""
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    try:
        newest = _unpack(path, into)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as error:
        return StudentEntry(
            name=name,
            key=key,
            folder=None,
            submitted_at=None,
            problem=f"{path.name} could not be unpacked ({error}); hand in a .zip file",
        )
    return StudentEntry(
        name=name,
        key=key,
        folder=exercise_folder(course, into),
        root=into,
        submitted_at=newest,
        details={"time from": "newest file in the zip"},
    )


def _unpack(path: Path, into: Path) -> datetime | None:
    """Extract the graded kinds of file, each at most one byte over the size the grader accepts
    (so that it is refused with its size, not cut silently); the newest entry's time (a zip keeps
    no time zone: taken as UTC)."""
    newest: datetime | None = None
    with zipfile.ZipFile(path) as archive:
        for number, info in enumerate(archive.infolist()):
            if number >= MAX_ZIP_MEMBERS:
                break
            if info.is_dir() or Path(info.filename).suffix not in SUFFIXES:
                continue
            parts = Path(info.filename.replace("\\", "/")).parts
            if info.filename.startswith(("/", "\\")) or ".." in parts or ":" in info.filename:
                continue  # would land outside the folder
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                continue  # a symbolic link
            target = into.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source:
                data = source.read(MAX_SUBMISSION_BYTES + 1)
            target.write_bytes(data)
            moment = datetime(*info.date_time, tzinfo=timezone.utc)
            os.utime(target, (moment.timestamp(), moment.timestamp()))
            newest = moment if newest is None else max(newest, moment)
    return newest


# ---------------------------------------------------------------- git


def last_commit_time(folder: Path) -> datetime | None:
    """The committer time of the last commit of the clone at ``folder``, None if it is no clone.

    The clone is the student's, and so is its configuration: a `.git/config` can make git run
    programs of its choosing (``gpg.program`` with ``log.showSignature``, a promisor remote's
    transport). So git never reads it: HEAD is resolved here from the clone's files, and the
    commit is read by ``git cat-file`` in an empty repository of ours whose object store borrows
    the clone's (``objects/info/alternates``), with no user or system configuration either.
    """
    git_dir = _git_dir(folder)
    commit = _head_commit(git_dir) if git_dir is not None else None
    if git_dir is None or commit is None or shutil.which("git") is None:
        return None
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "HOME": os.devnull,
    }
    with tempfile.TemporaryDirectory(prefix="grade-git-") as scratch:
        run = {
            "cwd": scratch,
            "env": environment,
            "capture_output": True,
            "text": True,
            "timeout": GIT_SECONDS,
            "stdin": subprocess.DEVNULL,
        }
        try:
            subprocess.run([*GIT, "init", "--bare", "--quiet", scratch], check=True, **run)
            alternates = Path(scratch, "objects", "info", "alternates")
            alternates.write_text(f"{(git_dir / 'objects').resolve()}\n")
            done = subprocess.run(
                [*GIT, f"--git-dir={scratch}", "cat-file", "commit", commit], **run
            )
        except (OSError, subprocess.SubprocessError):
            return None
    found = re.search(r"^committer .* (\d+) [+-]\d{4}$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or found is None:
        return None
    return datetime.fromtimestamp(int(found[1]), tz=timezone.utc)


def _git_dir(folder: Path) -> Path | None:
    """The clone's git folder: ``.git``, or where a ``.git`` file (a worktree) points."""
    dot_git = folder / ".git"
    if dot_git.is_dir():
        return dot_git
    try:
        text = dot_git.read_text(encoding="utf-8", errors="replace")[:4096]
    except OSError:
        return None
    if not text.startswith("gitdir:"):
        return None
    target = (folder / text.removeprefix("gitdir:").strip()).resolve()
    return target if target.is_dir() else None


def _head_commit(git_dir: Path) -> str | None:
    """The commit id HEAD names, following one symbolic ref (loose or packed)."""
    commit = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
    try:
        head = (git_dir / "HEAD").read_text(encoding="utf-8", errors="replace")[:4096].strip()
        if commit.match(head):
            return head
        if not head.startswith("ref: refs/"):
            return None
        ref = head.removeprefix("ref: ").strip()
        if ".." in ref.split("/"):
            return None
        loose = git_dir / ref
        if loose.is_file():
            value = loose.read_text(encoding="utf-8", errors="replace")[:200].strip()
            return value if commit.match(value) else None
        packed = git_dir / "packed-refs"
        lines = packed.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        value, _, name = line.partition(" ")
        if name.strip() == ref and commit.match(value):
            return value
    return None


# ---------------------------------------------------------------- Gradescope


def _gradescope(course: Course, submissions: Path, keys: _Keys) -> list[StudentEntry]:
    """One entry per submitter of each submission folder the metadata names."""
    metadata_path = submissions / GRADESCOPE_METADATA
    try:
        metadata = yaml.safe_load(metadata_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise UsageError(
            f"{metadata_path}: cannot be read ({str(error).splitlines()[0]}); download the "
            "export from Gradescope again"
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
        moment = _moment(record.get(":created_at"))
        submitters = record.get(":submitters") or []
        for submitter in submitters if isinstance(submitters, list) else []:
            if not isinstance(submitter, dict):
                continue
            name = str(submitter.get(":name") or submitter.get(":email") or folder_name)
            details = {
                label: str(submitter[key])
                for label, key in (("sid", ":sid"), ("email", ":email"))
                if submitter.get(key)
            }
            details["time from"] = "Gradescope"
            details["submission"] = str(folder_name)
            entries.append(
                StudentEntry(
                    name=name,
                    key=keys.new(name),
                    folder=exercise_folder(course, folder) if folder.is_dir() else None,
                    root=folder,
                    submitted_at=moment,
                    problem=None if folder.is_dir() else f"{folder_name} is not in the export",
                    details=details,
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
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
