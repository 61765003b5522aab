"""Exercise notebooks made from the same source as the .py stubs, so the two never drift apart.

A notebook holds, in order: the module docstring as a Markdown introduction, the imports, then for
each function or class a Markdown heading with its summary and a code cell with its code, and a
closing note on how to check the work followed by the cell that does it (``check("exercise3")``,
from the grader's notebook API). Cell ids are derived from their position, so building twice
gives byte-identical files.
"""

from __future__ import annotations

import ast

import nbformat

KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}


def _markdown(text: str, index: int) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(text)
    cell["id"] = f"cell-{index}"
    return cell


def _code(text: str, index: int) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(text)
    cell["id"] = f"cell-{index}"
    return cell


def closing_cells(exercise_id: str) -> list[tuple[str, str]]:
    """The notebook's last two cells: how to check the work, and the cell that checks it."""
    return [
        (
            "markdown",
            "## Check your work\n\n"
            "Save the notebook (Ctrl+S / Cmd+S), then run the cell below. It grades the saved "
            "notebook, in a separate process, and shows the report under the cell. What it "
            "grades is the imports, definitions and assignments of the code cells; a try-out "
            "call, a loop or a plot is left out.",
        ),
        ("code", f'from grader import check\n\ncheck("{exercise_id}")'),
    ]


def notebook_from_source(source: str, exercise_id: str) -> nbformat.NotebookNode:
    """A notebook of the Python module ``source`` (a stub or a solution)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    docstring = ast.get_docstring(tree) or ""
    title, _, body = docstring.partition("\n")
    texts: list[tuple[str, str]] = [("markdown", f"# {title}\n{body}".rstrip())]
    definitions = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    first = definitions[0].lineno if definitions else len(lines) + 1
    preamble = [
        line
        for node in tree.body[1:]
        if node.lineno < first
        for line in lines[node.lineno - 1 : node.end_lineno]
    ]
    if preamble:
        texts.append(("code", "\n".join(preamble)))
    for node in definitions:
        summary = (ast.get_docstring(node) or node.name).splitlines()[0]
        start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
        texts.append(("markdown", f"## `{node.name}`\n\n{summary}"))
        texts.append(("code", "\n".join(lines[start - 1 : node.end_lineno])))
    texts += closing_cells(exercise_id)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {"kernelspec": KERNEL, "language_info": {"name": "python"}}
    notebook.cells = [
        _markdown(text, index) if kind == "markdown" else _code(text, index)
        for index, (kind, text) in enumerate(texts)
    ]
    return notebook


def notebook_text(source: str, exercise_id: str) -> str:
    """The .ipynb file's text for ``source``: validated, ending in a newline."""
    notebook = notebook_from_source(source, exercise_id)
    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"
