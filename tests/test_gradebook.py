"""The gradebook file: never seen without its tables, even by a reader that opens it the moment it
appears (as one watching a running `grade batch` does), and made without leaving anything beside
it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from grader.batch.gradebook import SCHEMA_VERSION, Gradebook

REPORT = {
    "score": 1,
    "max_score": 2,
    "file": "ann/exercise1.py",
    "tests": [
        {"id": "a", "name": "a", "status": "failed", "score": 1, "max_score": 2,
         "hidden": False, "message": ""},
    ],
}  # fmt: skip
KEY = ("ann", "exercise1", "hash", "version")


def test_a_reader_finds_the_tables_as_soon_as_the_gradebook_appears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader looks at the gradebook's path after every step SQLite takes to make it: as each
    connection is opened and before each statement. Whenever the file is there, its tables are."""
    path = tmp_path / "gradebook.sqlite"
    connect = sqlite3.connect
    seen: list[str] = []

    def look(_: object = None) -> None:
        if not path.exists():
            return
        reader = connect(path, timeout=30)
        try:
            reader.execute("SELECT count(*) FROM gradings").fetchone()
            reader.execute("SELECT count(*) FROM check_results").fetchone()
            seen.append(reader.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone())
        except sqlite3.Error as error:  # raised in a trace callback, it would be swallowed
            seen.append(f"error: {error}")
        finally:
            reader.close()

    def watched(*args: object, **kwargs: object) -> sqlite3.Connection:
        db = connect(*args, **kwargs)  # type: ignore[arg-type]
        look()
        db.set_trace_callback(look)
        return db

    monkeypatch.setattr(sqlite3, "connect", watched)
    book = Gradebook(path)
    look()
    book.record(KEY, "ann", None, REPORT, 0.1, "now")
    book.close()
    monkeypatch.undo()
    assert seen, "the reader never looked at the gradebook"
    assert all(found == (SCHEMA_VERSION,) for found in seen), seen


def test_making_a_gradebook_leaves_only_the_gradebook(tmp_path: Path) -> None:
    book = Gradebook(tmp_path / "gradebook.sqlite")
    book.record(KEY, "ann", None, REPORT, 0.1, "now")
    book.close()
    assert [path.name for path in tmp_path.iterdir()] == ["gradebook.sqlite"]
    with sqlite3.connect(tmp_path / "gradebook.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT student FROM gradings").fetchall() == [("ann",)]


def test_a_gradebook_made_meanwhile_is_kept(tmp_path: Path) -> None:
    """Two makers at once (create finds the path taken when it links): the first one's gradebook
    stays, with what it holds, and the second leaves no temporary file."""
    from grader.batch.gradebook import create

    path = tmp_path / "gradebook.sqlite"
    book = Gradebook(path)
    book.record(KEY, "ann", None, REPORT, 0.1, "now")
    create(path)
    assert book.keys() == {KEY}
    book.close()
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["gradebook.sqlite"]


def test_an_empty_file_gets_the_tables(tmp_path: Path) -> None:
    """An empty gradebook.sqlite, as a grader that made the file first and its tables after left
    when stopped in between, is taken as a new gradebook."""
    path = tmp_path / "gradebook.sqlite"
    path.touch()
    book = Gradebook(path)
    assert book.count() == 0
    book.record(KEY, "ann", None, REPORT, 0.1, "now")
    assert book.keys() == {KEY}
    book.close()
