"""Instructor-facing flags: what a submission imports that coursework has no need for.

Not a penalty and not a defence (the worker's limits are that): a note in the JSON report so an
instructor can look at a submission that reaches for the grader, the answer key, processes,
sockets or raw memory. Found by reading the code's syntax tree in the grader, never by running it.
"""

from __future__ import annotations

import ast
import re

SUSPICIOUS_MODULES = {
    "grader": "the grader itself",
    "solutions": "the reference solutions",
    "checks": "the course's checks",
    "ctypes": "raw memory and C calls",
    "cffi": "raw memory and C calls",
    "subprocess": "starting other programs",
    "multiprocessing": "starting other processes",
    "socket": "network connections",
    "urllib": "network connections",
    "http": "network connections",
    "requests": "network connections",
    "signal": "signal handlers",
    "atexit": "code run at exit",
    "importlib": "importing modules by name",
    "builtins": "replacing Python's builtins",
    "gc": "reaching other objects in memory",
    "inspect": "reading the caller's frames",
    "sys": None,  # common and harmless on its own; its risky uses are flagged below
}
SUSPICIOUS_CALLS = {
    "__import__": "importing modules by name",
    "exec": "running code built at run time",
    "eval": "running code built at run time",
    "compile": "running code built at run time",
    "_exit": "ending the process",
    "setsid": "leaving the process group",
    "fork": "starting other processes",
    "system": "starting other programs",
    "popen": "starting other programs",
    "_getframe": "reading the caller's frames",
}


# Any of the names that can raise a flag, as a word. Code written in ASCII spells out every
# identifier it uses, so where none of them appears there is nothing to find and no need to parse
# (a grading saves about 2 ms). Python reads identifiers in other scripts after normalising them
# (a fullwidth ｅｘｅｃ is exec), so code that is not ASCII is always parsed.
_ANY_NAME = re.compile(
    r"\b(?:"
    + "|".join(
        re.escape(name)
        for name in sorted({*SUSPICIOUS_CALLS, *SUSPICIOUS_MODULES})
        if (SUSPICIOUS_MODULES | SUSPICIOUS_CALLS)[name]
    )
    + r")\b"
)


def suspicious_uses(source: str) -> list[str]:
    """One line per suspicious import or call, with its line: "line 3: imports ctypes (raw
    memory and C calls)". Code that does not parse has nothing to report here."""
    if source.isascii() and not _ANY_NAME.search(source):
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif isinstance(node, ast.Call):
            function = node.func
            name = (
                function.attr
                if isinstance(function, ast.Attribute)
                else getattr(function, "id", "")
            )
            if name in SUSPICIOUS_CALLS:
                found.append(f"line {node.lineno}: calls {name} ({SUSPICIOUS_CALLS[name]})")
            continue
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            why = SUSPICIOUS_MODULES.get(top)
            if why:
                found.append(f"line {node.lineno}: imports {name} ({why})")
    return sorted(set(found), key=lambda text: int(text.split(":")[0].removeprefix("line ")))
