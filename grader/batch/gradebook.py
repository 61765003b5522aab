"""The gradebook: an SQLite database in the batch's output folder recording every grading.

A grading is known by (student, exercise, file hash, checks version): the same file graded by the
same checks is never graded again, which is what makes `grade batch` resumable. Each grading is
written in one transaction with its checks, so a run stopped at any moment (Ctrl-C, ``kill -9``,
a power cut) leaves every grading either recorded whole or not at all; the next run grades what
is missing.

A new gradebook is made whole before it is put in place: its schema is written in a temporary file
beside it, which is then linked to its name, so that ``gradebook.sqlite`` never exists without its
tables, even to a reader that opens it the moment it appears (see create).

Tables (see SCHEMA): ``gradings``, one row per grading with its scores and the grading's JSON
report; ``check_results``, one row per check of a grading; ``adjustments``, every change an
instructor made to a score (grader.batch.adjustments), kept by student and exercise with who made
it and when, a later row replacing an earlier one; ``meta``, the schema version. Views (see
VIEWS): ``current_gradings``, the current grading of each student and exercise with its
adjustment and the adjusted score; ``current_adjustments``, the adjustments that count now.

The current grading of a student's exercise (``gradings.current``) is the one the outputs show:
the grading of the file handed in, by the checks, of the last run that wrote its outputs. It is
marked in one transaction just before the outputs are written (mark_current), so a run stopped
before then (Ctrl-C, ``kill -9``) leaves the marks of the outputs on disk, and the run that
finishes the job marks its own. A gradebook of schema 1 gets the column, marked by the next run.

Text is stored as UTF-8. A name read from the disk that is not UTF-8 (a student's folder named
``stud\\xff``) reaches Python with lone surrogates, which SQLite cannot take: every text is stored
with such characters escaped (grader.submission.shown_name), so that one name cannot stop the
gradebook, and the same name gives the same key on every run.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.batch.adjustments import Adjustment, AdjustmentRow
from grader.errors import UsageError
from grader.submission import shown_name

SCHEMA_VERSION = "2"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS gradings (
    id INTEGER PRIMARY KEY,
    student TEXT NOT NULL,          -- the student's key (unique in the class, a file-name part)
    name TEXT NOT NULL,             -- the student's name as shown
    exercise TEXT NOT NULL,         -- the exercise id from course.yaml
    file_hash TEXT NOT NULL,        -- sha256 of the graded file; 'none' if nothing was handed in
    checks_version TEXT NOT NULL,   -- sha256 of the checks, solution and settings that graded it
    file TEXT,                      -- the graded file, as the student's feedback names it
    submitted_at TEXT,              -- ISO 8601 with zone, when known
    raw_score REAL NOT NULL,        -- points from the checks
    max_score REAL NOT NULL,
    late_days INTEGER NOT NULL DEFAULT 0,
    penalty REAL NOT NULL DEFAULT 0,  -- percent of raw_score taken for lateness
    score REAL NOT NULL,            -- raw_score less the penalty
    seconds REAL NOT NULL,          -- wall time of the grading
    graded_at TEXT NOT NULL,        -- ISO 8601, UTC
    result TEXT NOT NULL,           -- the grading's JSON report (grader.reports.json_report)
    current INTEGER NOT NULL DEFAULT 0,  -- 1: the grading the outputs show (see mark_current)
    UNIQUE (student, exercise, file_hash, checks_version)
);
CREATE TABLE IF NOT EXISTS check_results (
    grading_id INTEGER NOT NULL REFERENCES gradings (id) ON DELETE CASCADE,
    check_id TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,           -- passed, failed or error
    kind TEXT NOT NULL,             -- for an error: timeout, crash, raised... (results.ERROR_KINDS)
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    hidden INTEGER NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (grading_id, check_id)
);
CREATE TABLE IF NOT EXISTS adjustments (
    id INTEGER PRIMARY KEY,         -- in the order made: the last per student and exercise counts
    student TEXT NOT NULL,          -- the student's key, as in gradings
    name TEXT NOT NULL,             -- the student's name as shown
    exercise TEXT NOT NULL,
    points REAL NOT NULL,           -- added to the score (negative: taken); 0 when removed
    comment TEXT NOT NULL,          -- shown to the student; empty when removed
    removed INTEGER NOT NULL DEFAULT 0,  -- 1: the row left the adjustments file
    source_file TEXT NOT NULL,      -- the adjustments file it was read from
    who TEXT NOT NULL,              -- the OS user who ran grade batch
    changed_at TEXT NOT NULL        -- ISO 8601, UTC
);
CREATE INDEX IF NOT EXISTS adjustments_by_student ON adjustments (student, exercise, id);
"""
# After SCHEMA, and after a gradebook of an older schema has its columns (see _upgrade).
VIEWS = """
CREATE VIEW IF NOT EXISTS current_adjustments AS
    SELECT * FROM adjustments AS a
    WHERE NOT a.removed AND a.id = (
        SELECT max(b.id) FROM adjustments AS b
        WHERE b.student = a.student AND b.exercise = a.exercise
    );
CREATE VIEW IF NOT EXISTS current_gradings AS
    SELECT g.*,
        coalesce(a.points, 0) AS adjustment,
        a.comment AS adjustment_comment,
        max(0.0, min(g.max_score, g.score + coalesce(a.points, 0))) AS adjusted_score
    FROM gradings AS g
    LEFT JOIN current_adjustments AS a ON a.student = g.student AND a.exercise = g.exercise
    WHERE g.current = 1;
"""

GradingKey = tuple[str, str, str, str]  # student, exercise, file hash, checks version


@dataclass(frozen=True)
class RecordedGrading:
    """One recorded grading, as outputs read it back. ``report`` is its JSON report (a dict)."""

    id: int
    student: str
    name: str
    exercise: str
    file_hash: str
    submitted_at: str | None
    raw_score: float
    max_score: float
    late_days: int
    penalty: float
    score: float
    seconds: float
    report: dict[str, Any]


class Gradebook:
    """The database at ``path``, created if missing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            if not path.exists():
                create(path)
            # isolation_level=None: transactions are opened explicitly, one per grading.
            self._db = sqlite3.connect(path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, atomic
            self._db.execute("PRAGMA foreign_keys=ON")
            # A no-op on a gradebook made by create; an empty file left by an older grader
            # stopped as it made one gets its tables here.
            self._db.executescript(SCHEMA)
            found = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if found is not None and found[0] == "1":
                found = self._upgrade()
            if found is None or found[0] == SCHEMA_VERSION:
                self._db.executescript(VIEWS)
        except OSError as error:
            if error.errno == errno.ENOSPC:
                raise UsageError(
                    f"{path}: cannot be written, the disk is full; free some space and run "
                    "grade batch again"
                ) from None
            raise UsageError(f"{path}: cannot be made ({error.strerror})") from None
        except sqlite3.DatabaseError as error:
            if "full" in str(error):
                raise UsageError(
                    f"{path}: cannot be written, the disk is full; free some space and run "
                    "grade batch again"
                ) from None
            raise UsageError(
                f"{path}: not a gradebook this grader can use ({error}); pass another --out "
                "folder or move the file away"
            ) from None
        if found is None:
            self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        elif found[0] != SCHEMA_VERSION:
            raise UsageError(
                f"{path}: a gradebook of schema {found[0]}, this grader writes {SCHEMA_VERSION}; "
                "pass another --out folder"
            )

    def _upgrade(self) -> tuple[str]:
        """A gradebook of schema 1 made schema 2: the ``current`` column (marked by the run)."""
        with self._transaction():
            self._db.execute("ALTER TABLE gradings ADD COLUMN current INTEGER NOT NULL DEFAULT 0")
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (SCHEMA_VERSION,))
        return (SCHEMA_VERSION,)

    def keys(self) -> set[GradingKey]:
        """Every grading recorded so far."""
        rows = self._db.execute(
            "SELECT student, exercise, file_hash, checks_version FROM gradings"
        ).fetchall()
        return {tuple(row) for row in rows}

    def record(
        self,
        key: GradingKey,
        name: str,
        submitted_at: str | None,
        report: dict[str, Any],
        seconds: float,
        graded_at: str,
        replace: bool = False,
    ) -> None:
        """Record one grading and its checks in one transaction: nothing if its key is known, or
        with ``replace``, in place of the grading recorded with its key."""
        student, exercise, file_hash, version = (storable(part) for part in key)
        name = storable(name)
        report = storable(report)
        score = float(report["score"])
        with self._transaction():
            if replace:
                self._db.execute(  # its check_results go with it (ON DELETE CASCADE)
                    "DELETE FROM gradings WHERE student = ? AND exercise = ? AND file_hash = ? "
                    "AND checks_version = ?",
                    (student, exercise, file_hash, version),
                )
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO gradings (student, name, exercise, file_hash, "
                "checks_version, file, submitted_at, raw_score, max_score, score, seconds, "
                "graded_at, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    student,
                    name,
                    exercise,
                    file_hash,
                    version,
                    report.get("file"),
                    submitted_at,
                    score,
                    float(report["max_score"]),
                    score,
                    seconds,
                    graded_at,
                    json.dumps(report, ensure_ascii=False),
                ),
            )
            if cursor.rowcount == 0:
                return
            grading_id = cursor.lastrowid
            self._db.executemany(
                "INSERT INTO check_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        grading_id,
                        test["id"],
                        test["name"],
                        test["status"],
                        test.get("kind", ""),
                        float(test["score"]),
                        float(test["max_score"]),
                        int(bool(test["hidden"])),
                        test["message"],
                    )
                    for test in report["tests"]
                ],
            )

    def gradings(self, keys: Iterable[GradingKey]) -> list[RecordedGrading]:
        """The recorded gradings with these keys, in the order given (missing ones left out)."""
        found = []
        for key in keys:
            row = self._db.execute(
                "SELECT id, student, name, exercise, file_hash, submitted_at, raw_score, "
                "max_score, late_days, penalty, score, seconds, result FROM gradings WHERE "
                "student = ? AND exercise = ? AND file_hash = ? AND checks_version = ?",
                key,
            ).fetchone()
            if row is not None:
                grading_id, student, name, exercise, file_hash, submitted_at = row[:6]
                raw_score, max_score, late_days, penalty, score, seconds, result = row[6:]
                found.append(
                    RecordedGrading(
                        grading_id,
                        student,
                        name,
                        exercise,
                        file_hash,
                        submitted_at,
                        raw_score,
                        max_score,
                        late_days,
                        penalty,
                        score,
                        seconds,
                        json.loads(result),
                    )
                )
        return found

    def set_lateness(self, updates: Iterable[tuple[int, int, float, float]]) -> None:
        """Store (grading id, days late, penalty percent, score after it), in one transaction."""
        with self._transaction():
            self._db.executemany(
                "UPDATE gradings SET late_days = ?, penalty = ?, score = ? WHERE id = ?",
                [
                    (days, penalty, score, grading_id)
                    for grading_id, days, penalty, score in updates
                ],
            )

    def mark_current(self, keys: Iterable[GradingKey]) -> None:
        """Mark, for each key's student and exercise, the grading with that key as the current
        one and every other as not, in one transaction (a key not recorded leaves none current:
        the outputs show no grading for it). Students and exercises without a key are left as
        they are (an exercise this run does not grade keeps its mark)."""
        with self._transaction():
            self._db.executemany(
                "UPDATE gradings SET current = (file_hash = ? AND checks_version = ?) "
                "WHERE student = ? AND exercise = ?",
                [
                    (file_hash, version, student, exercise)
                    for student, exercise, file_hash, version in (
                        tuple(storable(part) for part in key) for key in keys
                    )
                ],
            )

    def sync_adjustments(
        self,
        rows: Iterable[AdjustmentRow],
        names: dict[str, str],
        scope: set[tuple[str, str]],
        source: str,
        who: str,
        when: str,
    ) -> tuple[int, int]:
        """Record the adjustments file's ``rows`` (each with its student's key), in one
        transaction: a row whose points or comment differ from the last recorded for its student
        and exercise adds a row; an adjustment that counts now, of a (student key, exercise) in
        ``scope`` but no longer in the file, adds a row marking it removed. ``names``: each
        student's name by key. How many were added or changed, and how many removed."""
        latest = {
            (student, exercise): (points, comment, bool(removed))
            for student, exercise, points, comment, removed in self._db.execute(
                "SELECT student, exercise, points, comment, removed FROM adjustments AS a "
                "WHERE a.id = (SELECT max(b.id) FROM adjustments AS b "
                "WHERE b.student = a.student AND b.exercise = a.exercise)"
            )
        }
        source, who, when = storable(source), storable(who), storable(when)
        names = {key: storable(name) for key, name in names.items()}
        added: list[tuple[str, str, float, str, int]] = []
        given: set[tuple[str, str]] = set()
        for row in rows:
            pair = (storable(row.key), storable(row.exercise))
            given.add(pair)
            comment = storable(row.comment)
            if latest.get(pair) != (row.points, comment, False):
                added.append((pair[0], pair[1], row.points, comment, 0))
        changed = len(added)
        for pair, (_, _, removed) in latest.items():
            if not removed and pair in scope and pair not in given:
                added.append((pair[0], pair[1], 0.0, "", 1))
        with self._transaction():
            self._db.executemany(
                "INSERT INTO adjustments (student, name, exercise, points, comment, removed, "
                "source_file, who, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (student, names.get(student, student), *change, source, who, when)
                    for student, *change in added
                ],
            )
        return changed, len(added) - changed

    def adjustments(self) -> dict[tuple[str, str], Adjustment]:
        """The adjustments that count now, by (student key, exercise)."""
        return {
            (student, exercise): Adjustment(points, comment, who, when)
            for student, exercise, points, comment, who, when in self._db.execute(
                "SELECT student, exercise, points, comment, who, changed_at "
                "FROM current_adjustments"
            )
        }

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM gradings").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK if the block raised."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if kind is None:
            self._db.execute("COMMIT")
            return
        # SQLite may have rolled back itself (a full disk, say): then there is nothing to end.
        with contextlib.suppress(sqlite3.OperationalError):
            self._db.execute("ROLLBACK")


def create(path: Path) -> None:
    """Make a gradebook at ``path`` with its schema, in one step as seen from outside: the schema
    is written in a temporary file in the same folder, which is then hard-linked to ``path``. The
    link fails if ``path`` exists meanwhile (another process made it first): that gradebook is
    kept, and this one dropped. Either way the temporary file is removed."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        db = sqlite3.connect(temporary, isolation_level=None)
        try:
            db.executescript(
                f"BEGIN IMMEDIATE; {SCHEMA}; {VIEWS}; "
                f"INSERT INTO meta VALUES ('schema', '{SCHEMA_VERSION}'); COMMIT;"
            )
            # Last, so that the WAL it starts stays empty; the mode is kept in the file's header.
            db.execute("PRAGMA journal_mode=WAL")
        finally:
            db.close()
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        except OSError as error:
            if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EMLINK, errno.EXDEV):
                raise
            # A file system without hard links: a rename is as atomic, but replaces; the
            # folder's lock (grader.batch.command) keeps a second batch from racing it.
            if not path.exists():
                os.replace(temporary, path)
    finally:
        for end in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{temporary}{end}").unlink()


def storable(value: Any) -> Any:
    """``value`` (text, or JSON-like data holding text) with every text as SQLite and UTF-8 files
    take it: see shown_name."""
    if isinstance(value, str):
        return shown_name(value)
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(item) for item in value]
    return value
