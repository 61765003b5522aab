"""Writing output files whole or not at all: a reader, or a run killed midway, never sees half a
file. Each file is written to a temporary name beside it, flushed to disk, then renamed over the
old one (rename is atomic within a folder)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from grader.submission import shown_name


def write_atomically(path: Path, content: str | bytes) -> None:
    """Replace ``path`` with ``content`` (text is written as UTF-8, any byte of a name that was
    not UTF-8 escaped: see shown_name). On an error (a full disk) the temporary file is removed
    and the old file, if any, is left as it was."""
    data = shown_name(content).encode("utf-8") if isinstance(content, str) else content
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(descriptor, 0o666 & ~_umask())  # mkstemp makes it private; a report is not
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current
