"""Importing a course's own Python files (check files, the modules they share, solutions) by
path, each once per process, under a name unique to its path: two courses may both have a
checks/exercise1_public.py."""

from __future__ import annotations

import importlib.util
import re
import sys
import traceback
import zlib
from pathlib import Path
from types import ModuleType

from grader.errors import CourseError

_imported: dict[Path, ModuleType] = {}


def import_file(path: Path, kind: str) -> ModuleType:
    """Import a course file (checks or solution) by path, once; CourseError if it is broken.

    kind: "checks" or "solutions", the first part of the module's name.
    """
    path = path.resolve()
    if path in _imported:
        return _imported[path]
    # Unique per path: two courses may both have a checks/exercise1_public.py.
    module_name = f"course_{kind}.{path.stem}_{zlib.crc32(str(path).encode()):08x}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
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
    _imported[path] = module
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
