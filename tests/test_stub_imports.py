"""Every stub and notebook imports the modules its docstrings' examples use: an example that says
``linear_forward(np.ones((2, 3)), ...)`` is one the student tries in that file, so the file must
bind ``np`` (``import numpy as np``) before the student has written a line.

The examples are read from every docstring (the module's, each function's, class's and
method's): lines starting with ``>>>`` or ``...``, blocks indented under the text, and paragraphs
starting with ``Example:``. Every ``name.attribute`` in them whose ``name`` is not bound by the
example itself (``x = ...``, ``lambda u: ...``), a parameter of the function, a name the file
defines or a builtin must be bound by an import of the file.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterator

import nbformat
import pytest

from grader.course import Course
from grader.notebooks import notebook_text

PROMPT = re.compile(r"^\s*(>>>|\.\.\.)( |$)")
EXAMPLE = re.compile(r"^Examples?:")
# `np.ones`, not the `.data` of `Value(2.0).data`, the `.tanh` of `a.tanh` nor the `0` of `1.0`
ATTRIBUTE = re.compile(r"(?<![\w.)\]])([A-Za-z_]\w*)\.[A-Za-z_]")
ASSIGNED = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\s*=(?!=)")
LAMBDA = re.compile(r"\blambda\s+([\w\s,*]*):")
INDENTED = 4  # a block indented this much under the docstring's text is example code


def example_code(docstring: str) -> list[str]:
    """The example code of a (cleaned) docstring, one string per line or paragraph."""
    found: list[str] = []
    paragraph: list[str] | None = None
    for line in docstring.splitlines():
        if not line.strip():
            if paragraph is not None:
                found.append(" ".join(paragraph))
            paragraph = None
            continue
        if paragraph is not None:
            paragraph.append(line.strip())
        elif EXAMPLE.match(line.strip()):
            paragraph = [EXAMPLE.sub("", line.strip())]
        elif PROMPT.match(line):
            found.append(PROMPT.sub("", line))
        elif len(line) - len(line.lstrip()) >= INDENTED:
            found.append(line.strip())
    if paragraph is not None:
        found.append(" ".join(paragraph))
    return found


def _bound_by_example(code: list[str]) -> set[str]:
    names = set()
    for text in code:
        names |= set(ASSIGNED.findall(text))
        for parameters in LAMBDA.findall(text):
            names |= {name.strip(" *") for name in parameters.split(",")}
    return names


def _documented(tree: ast.Module, introduction: str | None) -> Iterator[tuple[str, str, set[str]]]:
    """(where, docstring, the parameters there) for every docstring of ``tree``; a notebook's
    introduction (its Markdown first cell) stands for the module's docstring."""
    module_doc = ast.get_docstring(tree) if introduction is None else introduction
    if module_doc:
        yield "the module docstring", module_doc, set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            docstring = ast.get_docstring(node)
            if not docstring:
                continue
            parameters: set[str] = set()
            if not isinstance(node, ast.ClassDef):
                arguments = node.args
                every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
                every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
                parameters = {argument.arg for argument in every}
            yield node.name, docstring, parameters


def _imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.asname or alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names |= {alias.asname or alias.name for alias in node.names}
    return names


def _defined(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names |= {name.id for name in ast.walk(target) if isinstance(name, ast.Name)}
    return names


def used_modules(source: str, introduction: str | None = None) -> dict[str, set[str]]:
    """Every name an example of ``source``'s docstrings uses as ``name.attribute`` that only an
    import can bind (not the example's own variables, the function's parameters, the file's
    definitions or a builtin), with where it is used."""
    tree = ast.parse(source)
    ignored = _defined(tree) | set(dir(builtins))
    used: dict[str, set[str]] = {}
    for where, docstring, parameters in _documented(tree, introduction):
        code = example_code(docstring)
        local = _bound_by_example(code) | parameters | {"self", "cls"}
        for text in code:
            for name in ATTRIBUTE.findall(text):
                if name not in local and name not in ignored:
                    used.setdefault(name, set()).add(where)
    return used


def missing_imports(source: str, introduction: str | None = None) -> dict[str, set[str]]:
    """The names ``used_modules`` finds that no import of ``source`` binds, with where."""
    imported = _imported(ast.parse(source))
    return {
        name: where
        for name, where in used_modules(source, introduction).items()
        if name not in imported
    }


def notebook_parts(text: str) -> tuple[str, str]:
    """A notebook's code cells as one source, and its introduction (the first Markdown cell,
    its heading's ``#`` taken off)."""
    notebook = nbformat.reads(text, as_version=4)
    code = "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    [introduction, *_] = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    return code, introduction.removeprefix("# ")


def test_every_stub_imports_what_its_examples_use(course: Course) -> None:
    used = set()
    for exercise in course.exercises:
        source = exercise.student_file.read_text(encoding="utf-8")
        used |= set(used_modules(source))
        assert missing_imports(source) == {}, (
            f"{exercise.student_file.name}: its docstrings' examples use these names, never "
            "imported (add the import to the solution and run `grade build`)"
        )
    assert "np" in used  # the examples were read


def test_every_notebook_imports_what_its_examples_use(course: Course) -> None:
    for exercise in course.exercises:
        code, introduction = notebook_parts(
            exercise.student_file.with_suffix(".ipynb").read_text(encoding="utf-8")
        )
        assert missing_imports(code, introduction) == {}, exercise.student_file.name


@pytest.mark.parametrize(
    ("docstring", "needed"),
    [
        ('"""Example: f(np.ones(3)) gives array([1., 1., 1.])"""', {"np"}),
        ('"""Sums.\n\n>>> f(math.pi)\n3.14..."""', {"math"}),
        ('"""Sums.\n\n    Try:\n\n        got = f(np.zeros(2))\n        got.max()\n"""', {"np"}),
        ('"""Example: with x = np.ones(2), f(x.T, lambda u: u.sum()) is 2.0"""', {"np"}),
        ('"""Example: (Value(2.0) + 3).data == 5.0, and 1.5 is f(2.0)"""', set()),
        ('"""No example: np.ones is prose here."""', set()),
    ],
)
def test_the_names_an_example_needs(docstring: str, needed: set[str]) -> None:
    source = f"def f(v):\n    {docstring}\n\n\nclass Value:\n    pass\n"
    assert set(missing_imports(source)) == needed
    assert missing_imports("import numpy as np\nimport math\n" + source) == {}


def test_a_stub_without_its_import_is_caught(course: Course) -> None:
    """The untouched stub of exercise 6 with `import numpy as np` taken out, as a file and as a
    notebook: `np` is missing, in each function whose example uses it."""
    exercise = course.exercise("exercise6")
    source = exercise.student_file.read_text(encoding="utf-8")
    without = source.replace("import numpy as np\n", "")
    assert without != source
    examples = {"sigmoid_forward", "sigmoid_backward", "tanh_forward", "relu_backward"}
    missing = missing_imports(without)
    assert set(missing) == {"np"} and examples <= missing["np"]
    code, introduction = notebook_parts(notebook_text(without, exercise.id))
    assert set(missing_imports(code, introduction)) == {"np"}
