"""The files the integrations write from a template in ``templates/``: shell scripts, a GitHub
Actions workflow, READMEs, a pyproject.toml, otter test files.

They are files, not strings in the code, so each reads as what it is (a script a shell runs, a
workflow GitHub reads) and the code says only what fills it. They are read with
importlib.resources, so they are found wherever the grader is installed: a wheel, an editable
install, the copy inside a release (packaging.package_files ships them).

Placeholders are filled with the standard library's string.Template: simple ``$name``
substitution is all they need, since the code builds every part that varies (a table's rows, a
list of dependencies) and the templates hold no logic; it adds no dependency, and
``substitute`` refuses a placeholder left without a value. ``text`` gives a template as it is,
never substituted: the shell scripts and the workflow have no placeholder, and their ``$`` are
the shell's and GitHub's.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from string import Template

FOLDER = "templates"


def path(name: str) -> Traversable:
    """The template ``name`` (``gradescope/setup.sh``), inside the installed package."""
    return resources.files(__package__).joinpath(FOLDER, *name.split("/"))


def text(name: str) -> str:
    """The template ``name`` as it is, byte for byte (no newline translated)."""
    return path(name).read_bytes().decode("utf-8")


def render(name: str, /, **values: str) -> str:
    """The template ``name`` with each ``$placeholder`` replaced by its value in ``values``."""
    return Template(text(name)).substitute(values)
