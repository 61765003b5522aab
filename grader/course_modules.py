"""Importing a course's own Python files (check files, the modules they share, solutions) by
path, under a name unique to its path: two courses may both have a checks/exercise1_public.py.

A file is imported once per process for each content it has: the cache is keyed by a hash of
its bytes (and, for a check file, of the ``_*.py`` modules beside it, which it may share), so a
process that lives across runs (a Dask worker's) imports an edited check file again and never
grades with a stale one."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
import traceback
import zlib
from pathlib import Path
from types import ModuleType

from grader.errors import CourseError

_imported: dict[Path, tuple[str, ModuleType]] = {}  # by path: its content's hash, its module


def content_hash(path: Path, kind: str) -> str:
    """A hash of ``path``'s bytes and, for checks, of the shared ``_*.py`` modules beside it."""
    digest = hashlib.sha256(path.read_bytes())
    if kind == "checks":
        for shared_path in sorted(path.parent.glob("_*.py")):
            if shared_path != path:
                digest.update(b"\0" + shared_path.name.encode() + b"\0")
                digest.update(shared_path.read_bytes())
    return digest.hexdigest()


def import_file(path: Path, kind: str) -> ModuleType:
    """Import a course file (checks or solution) by path, once for each content it has (the
    module of its last content is kept); CourseError if it is broken or cannot be read.

    kind: "checks" or "solutions", the first part of the module's name.
    """
    path = path.resolve()
    try:
        source = path.read_bytes()
        digest = content_hash(path, kind)
    except OSError as error:
        raise CourseError(f"{path}: cannot be read ({error.strerror or error})") from None
    known = _imported.get(path)
    if known is not None and known[0] == digest:
        return known[1]
    if known is not None:
        sys.modules.pop(known[1].__name__, None)
    # Unique per path and content: two courses may both have a checks/exercise1_public.py.
    module_name = f"course_{kind}.{path.stem}_{zlib.crc32(str(path).encode()):08x}_{digest[:12]}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        # The bytes read above, whose hash keys the cache, not the file read again.
        exec(compile(source, str(path), "exec", dont_inherit=True), module.__dict__)
    except Exception as error:
        del sys.modules[module_name]
        frames = [
            frame
            for frame in traceback.extract_tb(error.__traceback__)
            if frame.filename == str(path)
        ]
        line = getattr(error, "lineno", None) or (frames[-1].lineno if frames else "?")
        raise CourseError(
            f"{path}:{line}: cannot be imported ({type(error).__name__}: "
            f"{error}); fix the course file"
        ) from None
    _imported[path] = (digest, module)
    return module


def shared(beside: str, name: str) -> ModuleType:
    """The module ``name`` (e.g. "_exercise1_mistakes") in the folder of the file ``beside``
    (a check file passes its ``__file__``): what several check files share, such as the mistakes
    public and hidden checks name in the same words. Its name starts with ``_``, so that no
    grading collects it as a check file; it is shipped with the public checks."""
    if not re.fullmatch(r"_\w+", name, flags=re.ASCII):
        raise CourseError(f"{beside}: shared({name!r}): a shared module's name starts with _")
    path = Path(beside).resolve().parent / f"{name}.py"
    if not path.is_file():
        raise CourseError(f"{beside}: shared({name!r}): there is no {path}")
    return import_file(path, "checks")
