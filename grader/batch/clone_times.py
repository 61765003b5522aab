"""When a student's clone was last committed to, or an exercise's file last changed in it, read
without letting the clone run anything.

A clone handed in is the student's, configuration and all: git is never run on it. HEAD is
resolved here from the clone's files, each read capped and refused if it is a FIFO, socket or
device (CloneRefused), and the commit (or the file's history) is read by git in an empty
repository of the grader's that borrows the clone's objects. These are the student's own dates:
grade batch uses them only with ``--commit-dates`` (grader.batch.submit_times).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grader.submission import NotAFile, file_kind, read_capped, shown_name

GIT_SECONDS = 10.0
GIT = ("git", "--no-pager")
GIT_FILE_BYTES = 4096  # a .git file (worktree pointer), HEAD or a loose ref: one line
MAX_PACKED_REFS = 4 * 2**20  # a student's clone packs a few refs; the Linux kernel's: 200 KB
MAX_COMMIT_BYTES = 1 << 20  # a commit object: a few headers and a message


class CloneRefused(Exception):
    """A file of a clone that git reads is a FIFO, a socket or a device, or a link to one.
    str() says which, e.g. ".git/HEAD is a FIFO, not a file"."""


def last_commit_time(folder: Path) -> datetime | None:
    """The committer time of the last commit of the clone at ``folder``, None if it is no clone
    (or a broken one); CloneRefused if a file of it to read is a FIFO, socket or device.

    The clone is the student's, and so is its configuration: a `.git/config` can make git run
    programs of its choosing (``gpg.program`` with ``log.showSignature``, a promisor remote's
    transport). So git never reads it: HEAD is resolved here from the clone's files (each read
    with read_capped: a ``.git`` linked to ``/dev/zero`` or made a FIFO is refused, never read),
    and the commit is read by ``git cat-file`` in an empty repository of ours whose object store
    borrows the clone's (``objects/info/alternates``), with no user or system configuration
    either, after ``git cat-file -s`` says it is of a commit's size.
    """
    found = _in_scratch(folder, None)
    return found.get(None)


def last_change_times(folder: Path, relatives: Sequence[str]) -> dict[str, datetime]:
    """For each path of ``relatives`` (from the clone's top, with ``/``), the committer time of
    the last commit, from HEAD back, that changed it; a path no commit changed, or a ``folder``
    that is no clone, is left out. CloneRefused as for last_commit_time, and read as safely:
    ``git log`` runs in the same empty repository of ours (one for all the paths), borrowing the
    clone's objects, with each path taken literally (no pathspec magic) and replacement objects
    ignored, each within GIT_SECONDS."""
    found = _in_scratch(folder, list(relatives))
    return {relative: moment for relative, moment in found.items() if relative is not None}


def _in_scratch(folder: Path, relatives: list[str] | None) -> dict[str | None, datetime]:
    """HEAD's committer time (under None, ``relatives`` None), or that of the last commit
    changing each of ``relatives``, read in a scratch repository borrowing the clone's objects."""
    git_dir = _git_dir(folder)
    commit = _head_commit(git_dir, folder) if git_dir is not None else None
    if git_dir is None or commit is None or shutil.which("git") is None:
        return {}
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_NO_REPLACE_OBJECTS": "1",
        "GIT_LITERAL_PATHSPECS": "1",
        "HOME": os.devnull,
    }
    found: dict[str | None, datetime] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="grade-git-") as scratch:
            run: dict[str, Any] = {
                "cwd": scratch,
                "env": environment,
                "capture_output": True,
                "timeout": GIT_SECONDS,
                "stdin": subprocess.DEVNULL,
            }
            subprocess.run([*GIT, "init", "--bare", "--quiet", scratch], check=True, **run)
            alternates = Path(scratch, "objects", "info", "alternates")
            alternates.write_text(f"{os.path.realpath(git_dir / 'objects')}\n")
            asked = [*GIT, f"--git-dir={scratch}"]
            size = subprocess.run([*asked, "cat-file", "-s", commit], **run)
            if size.returncode != 0 or not size.stdout.strip().isdigit():
                return {}
            if int(size.stdout) > MAX_COMMIT_BYTES:
                return {}
            if relatives is None:
                done = subprocess.run([*asked, "cat-file", "commit", commit], **run)
                moment = _time(done, rb"^committer .* (\d{1,18}) [+-]\d{4}$")
                if moment is not None:
                    found[None] = moment
            log = ["log", "-1", "--format=%ct", "--no-show-signature", "--no-renames", commit]
            for relative in relatives or []:
                done = subprocess.run([*asked, *log, "--", relative], **run)
                moment = _time(done, rb"^(\d{1,18})$")
                if moment is not None:
                    found[relative] = moment
    except (OSError, subprocess.SubprocessError):
        pass  # what was found before git failed (or took too long) is kept
    return found


def _time(done: subprocess.CompletedProcess[bytes], pattern: bytes) -> datetime | None:
    """The Unix time ``pattern`` finds in git's answer, as UTC; None if git failed or said
    none."""
    found = re.search(pattern, done.stdout, re.MULTILINE)
    if done.returncode != 0 or found is None:
        return None
    try:
        return datetime.fromtimestamp(int(found[1]), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _git_read(path: Path, folder: Path, limit: int) -> bytes | None:
    """At most ``limit`` bytes of a file of the clone at ``folder``; None if there is none, or it
    cannot be read; CloneRefused if it is a FIFO, socket or device, or a link to one."""
    try:
        return read_capped(path, limit)
    except NotAFile as refused:
        if refused.special:
            try:
                shown = str(path.relative_to(folder))
            except ValueError:
                shown = str(path)
            raise CloneRefused(f"{shown_name(shown)} is {refused}, not a file") from None
        return None
    except (OSError, ValueError):
        return None


def _git_dir(folder: Path) -> Path | None:
    """The clone's git folder: ``.git``, or where a ``.git`` file (a worktree) points."""
    dot_git = folder / ".git"
    if os.path.isdir(dot_git):
        return dot_git
    try:
        refused = file_kind(dot_git)
    except (OSError, ValueError):
        return None
    if refused is not None:
        if refused.special:
            raise CloneRefused(f".git is {refused}, not a folder")
        return None
    data = _git_read(dot_git, folder, GIT_FILE_BYTES)
    text = (data or b"").decode("utf-8", errors="replace")
    if not text.startswith("gitdir:"):
        return None
    target = Path(os.path.realpath(folder / text.removeprefix("gitdir:").strip()))
    return target if os.path.isdir(target) else None


def _head_commit(git_dir: Path, folder: Path) -> str | None:
    """The commit id HEAD names, following one symbolic ref (loose or packed)."""
    commit = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")

    def text(name: str, limit: int) -> str | None:
        data = _git_read(git_dir / name, folder, limit)
        return None if data is None else data.decode("utf-8", errors="replace")

    head = (text("HEAD", GIT_FILE_BYTES) or "").strip()
    if commit.match(head):
        return head
    if not head.startswith("ref: refs/"):
        return None
    ref = head.removeprefix("ref: ").strip()
    if ".." in ref.split("/") or "\0" in ref:
        return None
    loose = text(ref, GIT_FILE_BYTES)
    if loose is not None:
        value = loose.strip()
        return value if commit.match(value) else None
    packed = text("packed-refs", MAX_PACKED_REFS + 1)
    if packed is None or len(packed) > MAX_PACKED_REFS:
        return None
    for line in packed.splitlines():
        value, _, name = line.partition(" ")
        if name.strip() == ref and commit.match(value):
            return value
    return None
