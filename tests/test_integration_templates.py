"""The scripts, workflows and READMEs the integrations write are template files in the grader
package (grader/integrations/templates/): every one the code names is installed with it, none
lies unused, and what `grade release` and `grade export` write has every placeholder filled."""

from __future__ import annotations

import re
import zipfile
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

import pytest

import grader.integrations
from grader.cli import main
from grader.integrations import templating
from tests.helpers import REPO

NAMED = re.compile(r"""\b(text|render)\(\s*["']([^"']+)["']""")


def named_in_code(how: tuple[str, ...] = ("text", "render")) -> set[str]:
    """The templates the integrations' code reads (``text``: as they are; ``render``: filled
    in), by name (``gradescope/setup.sh``)."""
    package = Path(grader.integrations.__file__).parent
    return {
        name
        for module in package.glob("*.py")
        for function, name in NAMED.findall(module.read_text())
        if function in how
    }


def installed() -> set[str]:
    """Every file of the installed package's templates folder, by name."""

    def files(folder: Traversable, prefix: str) -> set[str]:
        found = set()
        for item in folder.iterdir():
            if item.is_dir():
                found |= files(item, f"{prefix}{item.name}/")
            elif item.is_file():
                found.add(f"{prefix}{item.name}")
        return found

    return files(resources.files("grader.integrations").joinpath(templating.FOLDER), "")


def placeholders() -> set[str]:
    """Every placeholder of the templates the code fills in (the shell scripts' ``$ROOT`` is
    the shell's)."""
    return {
        identifier
        for name in named_in_code(("render",))
        for identifier in Template(templating.text(name)).get_identifiers()
    }


def test_every_template_the_code_names_is_installed_and_none_is_unused() -> None:
    named = named_in_code()
    assert {"gradescope/setup.sh", "student/README.md", "otter/test_case.py.template"} <= named
    for name in named:
        assert templating.path(name).is_file(), f"{name} is not installed with the grader"
    assert installed() == named


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every file `grade release student`, `grade release gradescope` and `grade export otter`
    write, but the grader package's own copy (which holds the templates themselves)."""
    folder = tmp_path_factory.mktemp("outputs")
    course = ["--course", str(REPO)]
    assert main(["release", "student", str(folder / "student"), *course]) == 0
    assert main(["release", "gradescope", str(folder / "autograder.zip"), *course]) == 0
    assert main(["export", "otter", str(folder / "otter"), "--exercise", "exercise1", *course]) == 0
    found = {
        f"{kind}/{path.relative_to(folder / kind).as_posix()}": path.read_text(encoding="utf-8")
        for kind in ("student", "otter")
        for path in sorted((folder / kind).rglob("*"))
        if path.is_file() and path.suffix != ".ipynb"
    }
    with zipfile.ZipFile(folder / "autograder.zip") as archive:
        for name in archive.namelist():
            found[f"gradescope/{name}"] = archive.read(name).decode("utf-8")
    return {name: content for name, content in found.items() if "/grader/" not in f"/{name}"}


def test_the_outputs_have_no_placeholder_left(outputs: dict[str, str]) -> None:
    names = placeholders()
    assert {"title", "rows", "dependencies", "support_repr"} <= names
    unfilled = re.compile(r"\$\{?(" + "|".join(sorted(names)) + r")\b")
    assert {"student/README.md", "gradescope/setup.sh", "otter/exercise1/tests/exercise1.py"} <= (
        set(outputs)
    )
    left = {name: unfilled.findall(text) for name, text in outputs.items() if unfilled.search(text)}
    assert not left


def test_the_files_filled_in_hold_no_dollar_sign(outputs: dict[str, str]) -> None:
    """The course has no ``$`` in its titles: one in a file filled in is a placeholder left."""
    for name in (
        "student/README.md",
        "student/pyproject.toml",
        "gradescope/pyproject.toml",
        "otter/README.md",
        "otter/exercise1/tests/exercise1.py",
    ):
        assert "$" not in outputs[name], name
