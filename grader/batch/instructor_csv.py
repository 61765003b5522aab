"""The CSV files an instructor gives `grade batch` (--extensions, --times, --adjustments): read
only as a regular file, capped, as UTF-8, with the header each must have; and the refusal that
lists their bad rows, one line each, before anything is graded."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from grader.errors import UsageError
from grader.submission import NotAFile, read_capped


def read_rows(
    path: Path, limit: int, columns: tuple[str, ...], noun: str, label: str = ""
) -> list[list[str]]:
    """Every row of the CSV file at ``path``, its header first, checked to be ``columns``.

    limit: the most bytes read; noun: what one line holds ("extension"), for the header's
    message; label: what prefixes ``path`` in a message ("--times"). UsageError with one line
    if the file is not a regular file, too large, not UTF-8 CSV, or has another header."""
    shown = f"{label} {path}" if label else str(path)
    try:
        data = read_capped(path, limit + 1)
        if len(data) > limit:
            raise ValueError(f"larger than {limit // 2**20} MB")
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    except NotAFile as refused:
        raise UsageError(f"{shown}: is {refused}, not a CSV file") from None
    except UnicodeDecodeError as error:
        raise UsageError(
            f"{shown}: cannot be read as a CSV file ({error}); save it as CSV UTF-8"
        ) from None
    except (OSError, ValueError, csv.Error) as error:
        raise UsageError(f"{shown}: cannot be read as a CSV file ({error})") from None
    if not rows or tuple(cell.strip().lower() for cell in rows[0]) != columns:
        raise UsageError(
            f"{path}:1: the first line must be `{','.join(columns)}`; one {noun} per line follows"
        )
    return rows


class RowsRefused(UsageError):
    """The file has mistakes: ``lines``, one per mistake; str() is the one line that ends them."""

    def __init__(self, path: Path, lines: list[str]) -> None:
        self.lines = lines
        count = len(lines)
        super().__init__(
            f"{path}: {count} mistake{'s' if count != 1 else ''} above; fix the file and run "
            "grade batch again (nothing was graded)"
        )
