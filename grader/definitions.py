"""What a script or a notebook's cells define, the last definition of each name winning, as it
does when the cells run in order: which functions are still unfinished (`grade`'s choice between
a .py and a notebook, `grade submit`'s warning), and each function's code (whether the kernel ran
what the saved file holds, grader.unsaved).
"""

from __future__ import annotations

import ast

from grader.ipython_lines import python_lines

Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def _trees(sources: list[str]) -> list[ast.Module | None]:
    """Each source parsed (IPython syntax commented out); None where it does not parse."""
    trees: list[ast.Module | None] = []
    for source in sources:
        lines, is_python = python_lines(source)
        try:
            trees.append(ast.parse("\n".join(lines)) if is_python else None)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            trees.append(None)
    return trees


def last_functions(sources: list[str]) -> dict[str, str]:
    """Each function, class and lambda defined at top level in ``sources`` (a script, or cells
    in the order they ran), and its last definition as ``ast.dump`` text: two definitions are
    the same code when their texts are equal, whatever lines they are on. Constants are left
    out: a notebook sets ``h`` or ``x`` again and again as it tries things."""
    found: dict[str, str] = {}
    for tree in _trees(sources):
        for node in tree.body if tree else ():
            try:
                if isinstance(node, Definition):
                    found[node.name] = ast.dump(node)
                elif (
                    isinstance(node, ast.Assign)
                    and isinstance(node.value, ast.Lambda)
                    and all(isinstance(target, ast.Name) for target in node.targets)
                ):
                    for target in node.targets:
                        assert isinstance(target, ast.Name)
                        found[target.id] = ast.dump(node.value)
            except RecursionError:  # nested too deep to compare: not what a student writes
                continue
    return found


def unfinished_names(sources: list[str]) -> list[str]:
    """The functions of ``sources`` still raising NotImplementedError in their own body, in
    their last definition (a later cell's redefinition replaces a stub); a class's as
    ``Class.method``. A source that does not parse counts its ``raise NotImplementedError``
    lines, as unknown functions."""
    last: dict[str, list[str]] = {}
    unparsed = 0
    for source, tree in zip(sources, _trees(sources), strict=True):
        if tree is None:
            unparsed += source.count("raise NotImplementedError")
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                last[node.name] = [node.name] if raises_not_implemented(node) else []
            elif isinstance(node, ast.ClassDef):
                last[node.name] = [
                    f"{node.name}.{method.name}"
                    for method in node.body
                    if isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef)
                    and raises_not_implemented(method)
                ]
    names = [name for names in last.values() for name in names]
    return names + ["(a part that does not parse)"] * unparsed


def raises_not_implemented(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether ``function``'s own body (not a function inside it) raises NotImplementedError."""
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(node, ast.Raise) and node.exc is not None:
            raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(raised, ast.Name) and raised.id == "NotImplementedError":
                return True
        stack.extend(ast.iter_child_nodes(node))
    return False
