"""`grade batch` on a class with one hostile submission among honest ones.

Each test makes a small class, ann and bob handing in the solution of exercise 1 and one other
student handing in something made to hurt the grader: a name that is not UTF-8, a FIFO or a
device where a file or a clone's `.git` should be, a zip bomb, a full disk. Each runs the real
`grade batch` in a separate process, with its address space limited (MEMORY_LIMIT) and a timeout,
and asserts that the hostile student gets one clear line, in the run's output and in their
feedback, that ann and bob are graded 10, and that grades.csv, the feedback and the report exist.
"""

from __future__ import annotations

import contextlib
import csv
import html
import io
import os
import resource
import shutil
import socket
import sqlite3
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.submission import MAX_SUBMISSION_BYTES
from tests.helpers import REPO

SOLUTION1 = (REPO / "solutions" / "exercise1_derivatives.py").read_bytes()
EXERCISE1 = "exercise1_derivatives.py"
# The batch's address space, children included: the class below is graded in about 400 MB, and
# reading /dev/zero whole, or a .git that is a link to it, would pass it in a second.
MEMORY_LIMIT = 1 << 30
RUN_SECONDS = 120  # a batch of three takes a few seconds; a FIFO opened for reading, forever
PER_STUDENT_CAP = 64 * 2**20  # grader.batch.discover.MAX_UNPACKED_PER_STUDENT


def honest_class(tmp_path: Path) -> Path:
    """SUBMISSIONS with ann and bob, each handing in the solution of exercise 1."""
    submissions = tmp_path / "submissions"
    for name in ("ann", "bob"):
        (submissions / name / "exercises").mkdir(parents=True)
        (submissions / name / "exercises" / EXERCISE1).write_bytes(SOLUTION1)
    return submissions


def _limit_memory() -> None:
    # Only the soft limit: a worker raises its own to the course's memory_mb.
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, resource.RLIM_INFINITY))


def run_batch(
    submissions: Path, out: Path, *, before: str = "", status: int = 0
) -> subprocess.CompletedProcess[str]:
    """`grade batch SUBMISSIONS --out OUT` for exercise 1, as a command, under MEMORY_LIMIT;
    ``before``: Python run in that process first (a fault to inject); it must exit ``status``."""
    program = f"import sys\n{before}\nfrom grader.cli import main\nsys.exit(main())\n"
    done = subprocess.run(
        [
            *(sys.executable, "-c", program, "batch", str(submissions), "--out", str(out)),
            *("--exercise", "exercise1", "--jobs", "1", "--course", str(REPO / "course.yaml")),
        ],
        capture_output=True,
        text=True,
        errors="backslashreplace",
        timeout=RUN_SECONDS,
        preexec_fn=_limit_memory,
    )
    assert done.returncode == status, done.stderr
    return done


def grades(out: Path) -> dict[str, str]:
    text = (out / "grades.csv").read_text(encoding="utf-8")
    return {row["student"]: row["exercise1"] for row in csv.DictReader(io.StringIO(text))}


def assert_refused(
    done: subprocess.CompletedProcess[str], out: Path, name: str, key: str, line: str
) -> None:
    """``name`` (feedback/``key``.md) got one line holding ``line``, on the run's output, in their
    feedback and in the report; ann and bob were graded."""
    said = [text for text in done.stderr.splitlines() if text.startswith(f"grade: {name}: ")]
    assert len(said) == 1 and line in said[0], done.stderr
    assert grades(out) == {"ann": "10", "bob": "10", name: "0"}
    assert line in (out / "feedback" / f"{key}.md").read_text(encoding="utf-8")
    assert "10 / 10" in (out / "feedback" / "ann.md").read_text()
    assert html.escape(line) in (out / "report.html").read_text(encoding="utf-8")


@contextlib.contextmanager
def fifo_at(path: Path) -> Iterator[Path]:
    os.mkfifo(path)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def socket_at(path: Path) -> Iterator[Path]:
    """A Unix socket bound at ``path`` (by a relative name: a socket's path is at most 107
    bytes, less than a test's folder may take)."""
    server = socket.socket(socket.AF_UNIX)
    here = os.getcwd()
    try:
        os.chdir(path.parent)
        server.bind(path.name)
    finally:
        os.chdir(here)
    try:
        yield path
    finally:
        server.close()
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def special(kind: str, path: Path, fifo_folder: Path | None = None) -> Iterator[None]:
    """Something that is no file at ``path``: a FIFO, a socket, or a link to /dev/zero or to a
    FIFO in ``fifo_folder`` (default: beside it)."""
    if kind == "fifo":
        with fifo_at(path):
            yield
    elif kind == "socket":
        with socket_at(path):
            yield
    elif kind == "link to /dev/zero":
        path.symlink_to("/dev/zero")
        yield
    else:
        with fifo_at((fifo_folder or path.parent) / f"{path.name}.fifo") as fifo:
            path.symlink_to(fifo)
            yield


KINDS = {
    "fifo": "a FIFO",
    "socket": "a socket",
    "link to /dev/zero": "a symbolic link to a character device",
    "link to a fifo": "a symbolic link to a FIFO",
}


# ---------------------------------------------------------------- names


@pytest.mark.slow
def test_a_folder_name_that_is_not_utf8_is_graded_under_its_escaped_name(tmp_path: Path) -> None:
    """A name the file system gives as bytes that are not UTF-8 once stopped the gradebook, and
    the batch with it, on every run."""
    submissions = honest_class(tmp_path)
    folder = os.fsencode(submissions)
    os.mkdir(folder + b"/stud\xff")
    with open(folder + b"/stud\xff/" + EXERCISE1.encode(), "wb") as handle:
        handle.write(SOLUTION1)
    make_zip(tmp_path / "zed.zip", [(EXERCISE1, SOLUTION1)])
    os.rename(tmp_path / "zed.zip", folder + b"/zed\xe9.zip")
    out = tmp_path / "out"
    for _ in range(2):  # and again: the gradebook holds the escaped names
        run_batch(submissions, out)
        assert grades(out) == {"ann": "10", "bob": "10", "stud\\xff": "10", "zed\\xe9": "10"}
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        names = {row[0] for row in db.execute("SELECT name FROM gradings")}
    assert names == {"ann", "bob", "stud\\xff", "zed\\xe9"}
    assert "10 / 10" in (out / "feedback" / "stud_xff.md").read_text()
    assert "stud\\xff" in (out / "report.html").read_text()


# ---------------------------------------------------------------- a clone's .git


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_git_that_is_no_folder_refuses_only_that_student(tmp_path: Path, kind: str) -> None:
    """`.git -> /dev/zero` had the batch read it whole until the kernel killed it; a `.git` FIFO
    had it wait forever."""
    submissions = honest_class(tmp_path)
    (submissions / "carl").mkdir()
    (submissions / "carl" / EXERCISE1).write_bytes(SOLUTION1)
    with special(kind, submissions / "carl" / ".git"):
        done = run_batch(submissions, tmp_path / "out")
    line = f".git is {KINDS[kind]}, not a folder; hand in the repository as git made it"
    assert_refused(done, tmp_path / "out", "carl", "carl", line)


def clone_of(folder: Path) -> Path:
    """A git clone at ``folder`` holding the solution, committed."""
    folder.mkdir(parents=True)
    (folder / EXERCISE1).write_bytes(SOLUTION1)
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(folder),
        "GIT_AUTHOR_NAME": "s",
        "GIT_AUTHOR_EMAIL": "s@x",
        "GIT_COMMITTER_NAME": "s",
        "GIT_COMMITTER_EMAIL": "s@x",
    }
    for command in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "x"]):
        subprocess.run(["git", *command], cwd=folder, env=environment, check=True)
    return folder


@pytest.mark.parametrize(
    ("replaced", "kind"),
    [
        ("HEAD", "fifo"),
        ("HEAD", "link to /dev/zero"),
        ("refs/heads/main", "fifo"),
        ("refs/heads/main", "link to /dev/zero"),
        ("packed-refs", "link to /dev/zero"),
    ],
)
@pytest.mark.slow
def test_git_files_that_are_no_files_refuse_only_that_student(
    tmp_path: Path, replaced: str, kind: str
) -> None:
    submissions = honest_class(tmp_path)
    git = clone_of(submissions / "carl") / ".git"
    if replaced == "packed-refs":
        (git / "refs" / "heads" / "main").unlink()  # HEAD's ref is looked for in packed-refs
    else:
        (git / replaced).unlink()
    with special(kind, git / replaced):
        done = run_batch(submissions, tmp_path / "out")
    line = f".git/{replaced} is {KINDS[kind]}, not a file"
    assert_refused(done, tmp_path / "out", "carl", "carl", line)


# ---------------------------------------------------------------- the exercise file


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(KINDS))
def test_an_exercise_file_that_is_no_file_is_refused(tmp_path: Path, kind: str) -> None:
    submissions = honest_class(tmp_path)
    (submissions / "carl" / "exercises").mkdir(parents=True)
    with special(kind, submissions / "carl" / "exercises" / EXERCISE1):
        done = run_batch(submissions, tmp_path / "out")
    line = f"exercises/{EXERCISE1} is {KINDS[kind]}, not a file; hand in the file itself"
    assert_refused(done, tmp_path / "out", "carl", "carl", line)


@pytest.mark.slow
def test_a_huge_exercise_file_is_read_only_up_to_the_size_graded(tmp_path: Path) -> None:
    """10 GB (sparse: nothing is written) that the batch once read whole to hash it."""
    submissions = honest_class(tmp_path)
    (submissions / "carl").mkdir()
    with (submissions / "carl" / EXERCISE1).open("wb") as handle:
        handle.truncate(10 * 2**30)
    run_batch(submissions, tmp_path / "out")
    assert grades(tmp_path / "out") == {"ann": "10", "bob": "10", "carl": "0"}
    feedback = (tmp_path / "out" / "feedback" / "carl.md").read_text()
    assert f"{EXERCISE1} is 10240.0 MB; a submission is at most 5 MB" in feedback


@pytest.mark.slow
def test_deep_folders_cost_nothing(tmp_path: Path) -> None:
    """A clone with folders 300 deep, and a zip with an entry 1,500 deep: making its folders
    once ran out of Python's recursion and stopped the batch."""
    submissions = honest_class(tmp_path)
    carl = submissions / "carl"
    carl.mkdir()
    (carl / EXERCISE1).write_bytes(SOLUTION1)
    deep = carl
    for _ in range(300):
        deep = deep / "d"
    deep.mkdir(parents=True)
    (deep / "x.py").write_text("x = 1\n")
    make_zip(
        submissions / "dana.zip",
        [(EXERCISE1, SOLUTION1), ("a/" * 1500 + "deep.py", b"x = 1\n")],
    )
    run_batch(submissions, tmp_path / "out")
    assert grades(tmp_path / "out") == {"ann": "10", "bob": "10", "carl": "10", "dana": "10"}


# ---------------------------------------------------------------- what SUBMISSIONS holds


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_zip_that_is_no_file_is_refused(tmp_path: Path, kind: str) -> None:
    """A FIFO named carl.zip had zipfile wait on it forever; /dev/zero, read it whole."""
    submissions = honest_class(tmp_path)
    with special(kind, submissions / "carl.zip", fifo_folder=tmp_path):
        done = run_batch(submissions, tmp_path / "out")
    line = f"carl.zip is {KINDS[kind]}, not a .zip file; hand in the .zip itself"
    assert_refused(done, tmp_path / "out", "carl", "carl", line)


# ---------------------------------------------------------------- zips


def _dos_time() -> tuple[int, int]:
    return 12 << 11, (2026 - 1980) << 9 | 11 << 5 | 30  # 2026-11-30 12:00


def _local_header(
    name: bytes, method: int, crc: int, compressed: int, size: int, flags: int = 0
) -> bytes:
    time, date = _dos_time()
    return struct.pack(
        "<4sHHHHHLLLHH", b"PK\x03\x04", 20, flags, method, time, date, crc, compressed, size,
        len(name), 0,
    ) + name  # fmt: skip


def _central_header(
    name: bytes, method: int, crc: int, compressed: int, size: int, offset: int, flags: int = 0
) -> bytes:
    time, date = _dos_time()
    return struct.pack(
        "<4sHHHHHHLLLHHHHHLL", b"PK\x01\x02", 20, 20, flags, method, time, date, crc, compressed,
        size, len(name), 0, 0, 0, 0, 0o100644 << 16, offset,
    ) + name  # fmt: skip


def _end(entries: int, directory: bytes, offset: int) -> bytes:
    return directory + struct.pack(
        "<4sHHHHLLH", b"PK\x05\x06", 0, 0, entries, entries, len(directory), offset, 0
    )


Entry = tuple[bytes, int, bytes, int, int, int]  # name, method, data, CRC, size, flags


def raw_zip(entries: list[Entry], bad_date: bytes = b"") -> bytes:
    """A zip written byte by byte: what zipfile will not write (a name that is not UTF-8 flagged
    as UTF-8, an encrypted entry); the entry named ``bad_date`` dated 2026-00-30."""
    body, directory = b"", b""
    for name, method, data, crc, size, flags in entries:
        header = _central_header(name, method, crc, len(data), size, len(body), flags)
        if name == bad_date:
            header = header[:14] + struct.pack("<H", (2026 - 1980) << 9 | 30) + header[16:]
        directory += header
        body += _local_header(name, method, crc, len(data), size, flags) + data
    return body + _end(len(entries), directory, len(body))


def make_zip(path: Path, members: list[tuple[str, bytes]]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 11, 30, 12, 0, 0)), data)


def deflated(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def bomb(entries: int, size: int) -> bytes:
    """A zip of ``entries`` files of ``size`` zeros each, about 1,000 times smaller."""
    data = deflated(bytes(size))
    crc = zlib.crc32(bytes(size))
    return raw_zip([(b"f%03d.py" % n, 8, data, crc, size, 0) for n in range(entries)])


def overlapping_bomb(entries: int, size: int) -> bytes:
    """A zip of ``entries`` files that share one deflated kernel of ``size`` zeros, each file's
    data quoting the local headers of the files after it in stored blocks ("a better zip bomb",
    David Fifield, 2019): each file unpacks to ``size`` bytes and more, while the zip holds the
    kernel once. The CRCs are left 0: a file is never read to its end past the grader's cap."""
    kernel = deflated(bytes(size))
    names = [b"f%03d.py" % n for n in range(entries)]
    header_sizes = [30 + len(name) for name in names]
    # Layout: LFH0 Q0 LFH1 Q1 ... LFH(n-1) kernel, Qi a 5-byte stored block quoting LFH(i+1).
    offsets, at = [], 0
    for index, length in enumerate(header_sizes):
        offsets.append(at)
        at += length + (5 if index < entries - 1 else 0)
    end = at + len(kernel)
    body = b""
    directory = b""
    for index, name in enumerate(names):
        compressed = end - offsets[index] - header_sizes[index]
        unpacked = sum(header_sizes[index + 1 :]) + size
        body += _local_header(name, 8, 0, compressed, unpacked)
        directory += _central_header(name, 8, 0, compressed, unpacked, offsets[index])
        if index < entries - 1:
            quoted = header_sizes[index + 1]
            body += struct.pack("<BHH", 0, quoted, quoted ^ 0xFFFF)
    body += kernel
    assert len(body) == end
    return body + _end(entries, directory, len(body))


@pytest.mark.slow
def test_a_zip_bomb_is_stopped_at_the_cap(tmp_path: Path) -> None:
    """1 MB that unpacks to 1 GB: 200 files of 5 MB of zeros, each under the size graded."""
    submissions = honest_class(tmp_path)
    (submissions / "carl.zip").write_bytes(bomb(200, MAX_SUBMISSION_BYTES))
    assert (submissions / "carl.zip").stat().st_size < 2**20
    done = run_batch(submissions, tmp_path / "out")
    line = "carl.zip unpacks to more than 64 MB of .py and .ipynb files"
    assert_refused(done, tmp_path / "out", "carl", "carl", line)
    assert not any((tmp_path / "out" / ".work" / "unpacked").rglob("*.py"))


@pytest.mark.slow
def test_an_overlapping_zip_bomb_is_stopped_at_the_cap(tmp_path: Path) -> None:
    """50 KB that unpacks to 2.5 GB: 420 files sharing one kernel of 6 MB of zeros."""
    submissions = honest_class(tmp_path)
    (submissions / "carl.zip").write_bytes(overlapping_bomb(420, 6 * 2**20))
    assert (submissions / "carl.zip").stat().st_size < 60_000
    with zipfile.ZipFile(submissions / "carl.zip") as archive:  # what it is: a valid zip
        assert sum(info.file_size for info in archive.infolist()) > 2.5e9
    done = run_batch(submissions, tmp_path / "out")
    said = done.stderr.split("grade: carl: carl.zip ", 1)[1].splitlines()[0]
    # Python 3.12 and later refuse it themselves as "Overlapped entries".
    assert said.startswith(("unpacks to more than 64 MB", "could not be unpacked (Overlapped"))
    assert_refused(done, tmp_path / "out", "carl", "carl", said)
    assert not any((tmp_path / "out" / ".work" / "unpacked").rglob("*.py"))


@pytest.mark.parametrize(
    ("entry", "line"),
    [
        (
            (EXERCISE1.encode(), 12, b"\0" * 20, 0, len(SOLUTION1), 0),
            f"carl.zip holds {EXERCISE1} compressed with bzip2; make the zip again with "
            "ordinary (deflate) compression",
        ),
        (
            (EXERCISE1.encode(), 14, b"\0" * 20, 0, len(SOLUTION1), 0),
            f"carl.zip holds {EXERCISE1} compressed with LZMA",
        ),
        (
            (EXERCISE1.encode(), 8, deflated(SOLUTION1), zlib.crc32(SOLUTION1), len(SOLUTION1), 1),
            f"carl.zip holds {EXERCISE1} encrypted; hand in a zip without a password",
        ),
        (
            (b"exercise1\xff.py", 8, deflated(b"x = 1\n"), zlib.crc32(b"x = 1\n"), 6, 0x800),
            "carl.zip could not be unpacked: a file name in it is not UTF-8, though the zip "
            "says it is",
        ),
    ],
    ids=["bzip2", "lzma", "encrypted", "name not utf-8"],
)
@pytest.mark.slow
def test_a_zip_the_grader_will_not_unpack_is_refused(
    tmp_path: Path, entry: Entry, line: str
) -> None:
    """bzip2 and LZMA decompress without a bound on what one read makes (a few KB of bzip2 make
    a GB in the batch's memory); zipfile raised on an encrypted entry, stopping the batch."""
    submissions = honest_class(tmp_path)
    (submissions / "carl.zip").write_bytes(raw_zip([entry]))
    done = run_batch(submissions, tmp_path / "out")
    assert_refused(done, tmp_path / "out", "carl", "carl", line)


@pytest.mark.slow
def test_odd_zip_entries_are_skipped_and_the_rest_graded(tmp_path: Path) -> None:
    """Paths out of the folder, a name that is not UTF-8 (not flagged as UTF-8: read as cp437),
    an entry inside the exercise file as if it were a folder, the exercise file dated with month
    0: the exercise file is still graded, and nothing lands outside."""
    submissions = honest_class(tmp_path)
    other = (deflated(b"x = 1\n"), zlib.crc32(b"x = 1\n"), 6, 0)
    entries: list[Entry] = [
        (b"../escaped.py", 8, *other),
        (b"/absolute.py", 8, *other),
        (b"C:/drive.py", 8, *other),
        (b"caf\xe9/notes.py", 8, *other),
        (EXERCISE1.encode(), 8, deflated(SOLUTION1), zlib.crc32(SOLUTION1), len(SOLUTION1), 0),
        (EXERCISE1.encode() + b"/inside.py", 8, *other),
    ]
    (submissions / "carl.zip").write_bytes(raw_zip(entries, bad_date=EXERCISE1.encode()))
    run_batch(submissions, tmp_path / "out")
    assert grades(tmp_path / "out") == {"ann": "10", "bob": "10", "carl": "10"}
    assert not (tmp_path / "out" / ".work" / "escaped.py").exists()
    assert not Path("/absolute.py").exists()


@pytest.mark.slow
def test_a_zip_with_a_huge_table_of_contents_is_refused(tmp_path: Path) -> None:
    """2.2 million entries sharing one local header, in 100 MB: zipfile made an object of each,
    some 560 MB of them, before a single one was looked at."""
    submissions = honest_class(tmp_path)
    entries = 2_200_000
    header = _local_header(b"a", 0, 0, 0, 0)
    directory = _central_header(b"a", 0, 0, 0, 0, 0) * entries
    (submissions / "carl.zip").write_bytes(header + _end(entries & 0xFFFF, directory, len(header)))
    try:
        done = run_batch(submissions, tmp_path / "out")
    finally:
        (submissions / "carl.zip").unlink()
    line = "carl.zip lists more files than a submission holds (a table of contents over 16 MB)"
    assert_refused(done, tmp_path / "out", "carl", "carl", line)


@pytest.mark.slow
def test_zips_past_the_batch_cap_are_refused_one_by_one(tmp_path: Path) -> None:
    """With the run's cap at 2.5 MB, the third of three 1 MB zips is not unpacked."""
    submissions = honest_class(tmp_path)
    for name in ("carl", "dana", "eve"):
        make_zip(submissions / f"{name}.zip", [(EXERCISE1, SOLUTION1.ljust(2**20, b"#"))])
    cap = "import grader.batch.discover as d\nd.MAX_UNPACKED_PER_BATCH = 5 * 2**19"
    done = run_batch(submissions, tmp_path / "out", before=cap)
    assert grades(tmp_path / "out") == {
        "ann": "10",
        "bob": "10",
        "carl": "10",
        "dana": "10",
        "eve": "0",
    }
    line = "eve.zip was not unpacked: the zips of this run came to 2.5 MB"
    assert_refused_among(done, tmp_path / "out", "eve", line)


def assert_refused_among(
    done: subprocess.CompletedProcess[str], out: Path, name: str, line: str
) -> None:
    said = [text for text in done.stderr.splitlines() if text.startswith("grade: ")]
    refused = [text for text in said if text.startswith(f"grade: {name}: ")]
    assert len(refused) == 1 and line in refused[0], done.stderr
    assert line in (out / "feedback" / f"{name}.md").read_text()
    assert html.escape(line) in (out / "report.html").read_text()


# ---------------------------------------------------------------- a full disk


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``folder``; skips the test where mounting is not allowed."""
    folder.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"tmpfs cannot be mounted here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.slow
def test_a_disk_that_fills_while_unpacking_refuses_only_that_zip(tmp_path: Path) -> None:
    """OUT on a 2 MB disk: carl's zip of 3 MB of code fills it; the others are graded there."""
    submissions = honest_class(tmp_path)
    noise = [(f"part{n}.py", b"# " + os.urandom(2**20).hex().encode()[: 2**20]) for n in range(3)]
    make_zip(submissions / "carl.zip", [(EXERCISE1, SOLUTION1), *noise])
    with small_disk(tmp_path / "disk", "2m") as disk:
        out = disk / "out"
        done = run_batch(submissions, out)
        line = f"carl.zip could not be unpacked: no space left on the disk of {out}"
        assert_refused(done, out, "carl", "carl", line)
        assert not (out / ".work" / "unpacked" / "carl").exists()


@pytest.mark.slow
def test_a_student_whose_feedback_cannot_be_written_costs_one_line(tmp_path: Path) -> None:
    """A full disk as bob's feedback is written (a fault injected at the write): the others'
    feedback, grades.csv and the report are written, and the run says so in one line."""
    submissions = honest_class(tmp_path)
    (submissions / "carl" / "exercises").mkdir(parents=True)
    (submissions / "carl" / "exercises" / EXERCISE1).write_bytes(SOLUTION1)
    fault = """
import errno, os
import grader.files as files
write = files.write_atomically
def failing(path, content):
    if path.name.startswith("bob."):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    write(path, content)
files.write_atomically = failing
"""
    out = tmp_path / "out"
    done = run_batch(submissions, out, before=fault, status=1)
    said = [text for text in done.stderr.splitlines() if "bob" in text]
    assert said == [
        "grade: bob's feedback/bob.md: not written (No space left on device); free some space "
        "and run grade batch again",
        "grade: bob's feedback/bob.html: not written (No space left on device); free some space "
        "and run grade batch again",
    ], done.stderr
    assert grades(out) == {"ann": "10", "bob": "10", "carl": "10"}
    assert (out / "feedback" / "carl.md").is_file() and not (out / "feedback" / "bob.md").exists()
    assert "bob&#39;s feedback/bob.md: not written" in (out / "report.html").read_text()
    again = run_batch(submissions, out)  # with room again, the next run writes it
    assert "already in the gradebook" in again.stderr
    assert (out / "feedback" / "bob.md").is_file()


# ---------------------------------------------------------------- the gradebook itself


def test_the_gradebook_and_outputs_take_any_name(tmp_path: Path) -> None:
    """What discover escapes, the gradebook and the file writer escape again: a lone surrogate
    from anywhere (a name, a message) can stop neither."""
    from grader.batch.gradebook import Gradebook
    from grader.files import write_atomically

    book = Gradebook(tmp_path / "gradebook.sqlite")
    report = {"score": 1, "max_score": 10, "file": "stud\udcff/x.py", "tests": [
        {"id": "a", "name": "t\ud800", "status": "failed", "score": 1, "max_score": 10,
         "hidden": False, "message": "got \udcfe"},
    ]}  # fmt: skip
    book.record(("stud_xff", "exercise1", "h", "v"), "stud\udcff", None, report, 0.1, "now")
    (grading,) = book.gradings([("stud_xff", "exercise1", "h", "v")])
    book.close()
    assert grading.name == "stud\\xff" and grading.report["file"] == "stud\\xff/x.py"
    assert grading.report["tests"][0]["message"] == "got \\xfe"
    assert grading.report["tests"][0]["name"] == "t\\ud800"
    write_atomically(tmp_path / "grades.csv", "student\nstud\udcff\n")
    assert (tmp_path / "grades.csv").read_bytes() == b"student\nstud\\xff\n"


@pytest.mark.slow
def test_a_reason_for_nothing_graded_follows_the_submission(tmp_path: Path) -> None:
    """Refused one run (carl.zip a FIFO), a zip with no exercise file the next: the feedback
    gives the reason of now, not the one recorded then."""
    submissions = honest_class(tmp_path)
    out = tmp_path / "out"
    with fifo_at(submissions / "carl.zip"):
        run_batch(submissions, out)
    assert "is a FIFO" in (out / "feedback" / "carl.md").read_text()
    make_zip(submissions / "carl.zip", [("notes.py", b"x = 1\n")])
    run_batch(submissions, out)
    feedback = (out / "feedback" / "carl.md").read_text()
    assert "FIFO" not in feedback and f"no {EXERCISE1} (or .ipynb) was handed in" in feedback
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        assert db.execute("SELECT count(*) FROM gradings WHERE name = 'carl'").fetchone() == (1,)


@pytest.mark.slow
def test_a_gradescope_export_is_read_as_defensively(tmp_path: Path) -> None:
    """A FIFO as a submitter's exercise file, and metadata naming a folder outside the export."""
    import yaml

    export = tmp_path / "export"
    metadata = {
        "submission_1": {":submitters": [{":name": "ann"}]},
        "submission_2": {":submitters": [{":name": "bob"}]},
        "submission_3": {":submitters": [{":name": "carl"}]},
        "../outside": {":submitters": [{":name": "dana"}]},
    }
    for folder in ("submission_1", "submission_2", "submission_3"):
        (export / folder).mkdir(parents=True)
    export.joinpath("submission_metadata.yml").write_text(yaml.safe_dump(metadata))
    for folder in ("submission_1", "submission_2"):
        (export / folder / EXERCISE1).write_bytes(SOLUTION1)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / EXERCISE1).write_bytes(SOLUTION1)
    out = tmp_path / "out"
    with fifo_at(export / "submission_3" / EXERCISE1):
        done = run_batch(export, out)
    assert grades(out) == {"ann": "10", "bob": "10", "carl": "0", "dana": "0"}
    assert f"grade: carl: {EXERCISE1} is a FIFO, not a file" in done.stderr
    assert "../outside is not in the export" in (out / "feedback" / "dana.md").read_text()
