"""Student stubs made from the reference solutions, so the two never drift apart.

A stub keeps everything of its solution file (module docstring, imports, signatures, docstrings)
except the body of each top-level function and method of a top-level class, which becomes::

    # YOUR CODE HERE
    raise NotImplementedError

and a line in the module docstring telling the student how to check their work. Functions whose
docstring starts with "Given:" (helpers from earlier exercises) are kept whole.
"""

from __future__ import annotations

import ast

STUB_BODY = ("# YOUR CODE HERE", "raise NotImplementedError")
GIVEN = "Given:"


def _functions(tree: ast.Module) -> list[ast.FunctionDef]:
    """Top-level functions and the methods of top-level classes, in file order."""
    found: list[ast.FunctionDef] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found.append(node)
        elif isinstance(node, ast.ClassDef):
            found += [item for item in node.body if isinstance(item, ast.FunctionDef)]
    return found


def stub_source(solution: str, exercise_id: str) -> str:
    """The stub text for a solution file's text.

    Every top-level function and method must have a docstring. One whose docstring starts with
    "Given:" is kept whole: it is a helper the student uses, not one they write.
    """
    tree = ast.parse(solution)
    lines = solution.splitlines()
    # (first line, last line, new lines), 1-based
    replacements: list[tuple[int, int, list[str]]] = []
    for node in _functions(tree):
        docstring = node.body[0]
        if not (
            isinstance(docstring, ast.Expr)
            and isinstance(docstring.value, ast.Constant)
            and isinstance(docstring.value.value, str)
        ):
            raise ValueError(f"{node.name} has no docstring to keep in the stub")
        if docstring.value.value.startswith(GIVEN):
            continue
        assert docstring.end_lineno is not None and node.end_lineno is not None
        indent = " " * node.body[0].col_offset
        replacements.append(
            (docstring.end_lineno + 1, node.end_lineno, [indent + line for line in STUB_BODY])
        )
    for first, last, new in reversed(replacements):
        lines[first - 1 : last] = new
    module_doc = ast.get_docstring(tree, clean=False)
    if module_doc is None:
        raise ValueError("the solution has no module docstring")
    text = "\n".join(lines) + "\n"
    note = (
        "\n\nFill in each function below where it says `# YOUR CODE HERE`,\n"
        f"then check your work with `grade {exercise_id}`.\n"
    )
    return text.replace(module_doc, module_doc.rstrip("\n") + note, 1)
