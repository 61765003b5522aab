"""The notebook rule: what grading runs of a notebook, how its cells are named, and the hint a
NameError gets when a left-out line defined the name."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from grader.cli import main
from grader.definitions import last_functions, unfinished_names
from grader.notebook_code import notebook_code, place
from tests.helpers import REPO

PRELUDE = "import numpy as np\nTWO = 2 * 1.0\nCONFIG = {}"


def kept_text(*cells: str) -> str:
    return notebook_code(list(enumerate((PRELUDE, *cells), start=1))).text


@pytest.mark.parametrize(
    "line",
    [
        "import numpy as np",
        "from math import cos",
        "inner = lambda x: x**2 - 1",
        "TWO = 2 * 1.0",
        "SHAPE = (3, 4)",
        "HALF = TWO / 4",
        "PI = np.pi",
        "a, b = 1, 2",
        "RATE: float = 0.1",
        "LABEL = f'{TWO} units'",
        "PAIRS = [(np.cos, lambda u: -u)]",
        'OUTER = {"cos": (np.cos, lambda u: -np.sin(u))}',
        'CONFIG["lr"] = 0.1',
        "TWO += 1",
        "g = lambda x, w=TWO: x * w",
    ],
)
def test_what_a_student_expects_to_count_is_kept(line: str) -> None:
    assert line in kept_text(line)


@pytest.mark.parametrize(
    "line",
    [
        "HALF = float(0.5)",
        "W = np.zeros((3, 4))",
        "print('trying')",
        "plt.plot([1, 2])",
        "squares = [x * x for x in range(5)]",
        "d['a'] = 1",
        "obj.x = 1",
        "g = lambda x, w=np.zeros(10**8): x",
    ],
)
def test_what_could_be_slow_or_noisy_is_left_out(line: str) -> None:
    code = notebook_code([(1, "import numpy as np"), (2, line)])
    assert line not in code.text
    assert [item.code for item in code.left_out] == [line]


def test_a_line_using_what_was_left_out_is_left_out_too() -> None:
    """A try-out spread over cells: none of it may stop the functions above from loading."""
    code = notebook_code(
        [
            (1, "import numpy as np"),
            (2, "xs = np.linspace(-2, 2, 5)"),
            (3, "err = xs - 1.0\nfor i in range(3):\n    pass\ntotal = 0\ntotal += i"),
        ]
    )
    assert code.text.split() == ["import", "numpy", "as", "np"]
    assert [(item.code, item.why) for item in code.left_out][1:] == [
        ("err = xs - 1.0", "it uses `xs`, which is left out"),
        ("for i in range(3):", "a loop"),
        # the kernel ends with total = 2: grading keeps no stale 0 either
        ("total = 0", "it is set again later, by a line grading leaves out"),
        ("total += i", "it uses `i`, which is left out"),
    ]


def test_cells_that_are_not_python_are_left_out_and_the_rest_graded() -> None:
    code = notebook_code(
        [
            (1, "%%bash\necho hi"),
            (2, "def f(x:\n    return x"),
            (3, "%%time\ndef g(x):\n    return x"),
            (4, "y = (1\n% 2)\nnp.cos?\n!ls"),
            (5, "# a comment with \u2028 in it\ndef h(x):\n    return x"),
        ]
    )
    compile(code.text, "notebook", "exec")
    assert "echo hi" not in code.text and "def f(x:" not in code.text
    assert "def g(x):" in code.text and "% 2)" in code.text and "def h(x):" in code.text
    [bash, broken] = code.left_out
    assert (bash.cell, bash.why) == (1, "a cell magic, not Python")
    assert broken.names == ("f",) and broken.why.startswith("a syntax error at line 1")


def test_loops_and_blocks_are_left_out_whole() -> None:
    code = notebook_code([(1, "for i in range(3):\n    W = i\nwith open('f') as f:\n    pass")])
    assert code.text.strip() == ""
    assert [(item.line, item.why, item.names) for item in code.left_out] == [
        (1, "a loop", ("W", "i")),
        (3, "a block", ("f",)),
    ]


def test_the_check_cell_is_left_out_quietly() -> None:
    code = notebook_code([(9, 'from grader import check\n\ncheck("exercise3")')])
    assert code.text.strip() == "" and code.left_out == ()


def test_cells_are_numbered_among_all_cells_with_their_first_line() -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("import math"),
        nbformat.v4.new_markdown_cell("## f"),
        nbformat.v4.new_code_cell("\ndef f(x):\n    return x"),
    ]
    cells = [
        (n, cell.source) for n, cell in enumerate(notebook.cells, 1) if cell.cell_type == "code"
    ]
    code = notebook_code(cells)
    line = code.text.splitlines().index("    return x") + 1
    assert place(code, line) == "cell 4 (`def f(x):`), line 3"


def test_the_last_definition_wins() -> None:
    stub = "def f(x):\n    raise NotImplementedError"
    assert unfinished_names([stub, "def f(x):\n    return x"]) == []
    assert unfinished_names(["def f(x):\n    return x", stub]) == ["f"]
    first, second = "def f(x):\n    return 1", "def f(x):\n    return 2"
    assert last_functions([first, second]) == last_functions([second])


def test_a_name_error_names_the_left_out_line_that_defines_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    solution = (REPO / "solutions/exercise3_chain_rule.py").read_text()
    helper = "SCALE = float(1.0)\n"
    uses = solution.replace(
        "    return f_prime(g(x)) * g_prime(x)", "    return SCALE * f_prime(g(x)) * g_prime(x)"
    )
    assert uses != solution
    path = tmp_path / "exercise3_chain_rule.ipynb"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Exercise 3"),
        nbformat.v4.new_code_cell(helper),
        nbformat.v4.new_code_cell(uses),
    ]
    path.write_text(nbformat.writes(notebook))
    main(["exercise3", "--course", str(REPO), "--submission", str(path), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    [note] = report["notes"]
    assert "leaves out top-level calls" in note and "cell 2, line 1: `SCALE = float(1.0)`" in note
    failing = next(test for test in report["tests"] if test["status"] != "passed")
    first, hint = failing["message"].split("\n")[:2]
    assert "NameError: name 'SCALE' is not defined" in first and "(cell 3 (`" in first
    assert hint.startswith("Hint: `SCALE` is set in cell 2, line 1 (`SCALE = float(1.0)`)")
    assert "from names and literals" in hint


def test_a_report_of_several_notebooks_states_the_rule_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for stem in ("exercise1_derivatives", "exercise3_chain_rule"):
        solution = (REPO / "solutions" / f"{stem}.py").read_text()
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [
            nbformat.v4.new_code_cell(solution),
            nbformat.v4.new_code_cell("print(1)"),
        ]
        (tmp_path / f"{stem}.ipynb").write_text(nbformat.writes(notebook))
    main(["all", "--course", str(REPO), "--submission", str(tmp_path)])
    out = " ".join(capsys.readouterr().out.split())
    assert out.count("leaves out top-level calls") == 1
    assert out.count("cell 2, line 1: `print(1)`") == 2


def test_a_kept_statement_sharing_a_line_keeps_its_part() -> None:
    code = notebook_code([(1, "import numpy as np; np.random.seed(0)"), (2, "print(1); H = 2")])
    compile(code.text, "notebook", "exec")
    assert "import numpy as np; pass" in code.text and "pass; H = 2" in code.text
    assert [item.code for item in code.left_out] == ["np.random.seed(0)", "print(1)"]


def test_a_future_import_in_a_later_cell_opens_the_module() -> None:
    code = notebook_code(
        [
            (1, "import math"),
            (2, "from __future__ import annotations\ndef f(x: Node) -> Node:\n    return x"),
        ]
    )
    compile(code.text, "notebook", "exec")
    assert code.text.startswith("from __future__ import annotations;")
    assert "def f(x: Node)" in code.text and code.left_out == ()  # annotations are not read


@pytest.mark.parametrize(
    "scratch",
    [
        "def scratch(xs):\n    for x in xs:\n        pass\n    continue",
        "x = 1\nreturn x",
        "def f(a, a):\n    pass",
    ],
)
def test_a_cell_only_the_compiler_refuses_is_left_out_not_the_notebook(scratch: str) -> None:
    code = notebook_code([(1, "import math"), (2, scratch), (3, "A = 1")])
    compile(code.text, "notebook", "exec")
    assert "A = 1" in code.text and code.left_out[0].why.startswith("a syntax error")


def test_only_cell_magics_that_run_python_in_the_notebook_are_kept() -> None:
    code = notebook_code(
        [
            (1, "%%writefile scratch.py\nfrom exercise1 import *\ndef three_x(x):\n    return 0"),
            (2, "%%timeit\nthree_x = lambda x: 0"),
            (3, "%%capture\nTWO = 2"),
        ]
    )
    assert (
        "def three_x" not in code.text and "lambda x: 0" not in code.text and "TWO = 2" in code.text
    )
    assert code.left_out[0].names == ("three_x",)


def test_reading_a_kept_value_does_not_count_as_changing_it() -> None:
    code = notebook_code(
        [
            (1, 'STEP = {"h": 1e-5}\nla = abs'),
            (2, "for k, v in STEP.items():\n    print(k, v, la(-1))"),
            (3, 'CONFIG = {"h": 0.1}\nCONFIG.update(h=1e-5)'),
        ]
    )
    assert 'STEP = {"h": 1e-5}' in code.text and "la = abs" in code.text
    assert 'CONFIG = {"h": 0.1}' not in code.text  # the kernel's CONFIG holds 1e-5


def test_a_counter_a_function_keeps_is_not_a_setting_left_out() -> None:
    code = notebook_code(
        [(1, "calls = 0\ndef f(x):\n    global calls\n    calls += 1\n    return x"), (2, "f(3)")]
    )
    assert "calls = 0" in code.text


def test_comprehensions_read_only_what_is_outside_them() -> None:
    code = notebook_code(
        [
            (
                1,
                "class Grid:\n    SIZES = [2**k for k in range(4)]\n\n"
                "def f(x, ws=[w for w in range(3)]):\n    return x",
            )
        ]
    )
    assert "class Grid" in code.text and "def f" in code.text and code.left_out == ()


def test_an_expression_too_deep_to_read_is_left_out_without_a_traceback() -> None:
    for terms in (1_500, 100_000):
        code = notebook_code([(1, "import math"), (2, "TOTAL = " + "+".join(["1"] * terms))])
        assert "import math" in code.text and "TOTAL" not in code.text
