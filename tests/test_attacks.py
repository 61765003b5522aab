"""Hostile submissions cannot forge a score.

Each attack is a wrong submission for exercise 6 (activations) plus a trick: patching numpy or
the builtins, returning objects that claim to equal anything, printing protocol bytes, leaving
threads and handlers behind, planting files next to the submission. Its score must be exactly the
score of an honest submission with the same wrong answers, and grading must end within the time
limits plus a small margin. A function that returns a cheating object has given no answer: its
honest counterpart raises NotImplementedError. A trick that breaks the student's own process
(patching the builtins the worker also uses) is a crash: its honest counterpart scores 0.
"""

from __future__ import annotations

import ast
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.course import Course, load_course
from grader.runner import grade
from grader.sandbox import landlock
from grader.sandbox.cgroups import cgroups_available
from grader.sandbox.launcher import default_launcher
from grader.sandbox.layer import NO_NAMESPACES
from grader.sandbox.layers import available_child_layers
from tests.helpers import REPO, write_course

CALL_SECONDS, WALL_SECONDS = 1, 6

# Wrong answers: every activation and gradient is zero.
WRONG = '''
import numpy as np


def sigmoid_forward(z):
    """Wrong."""
    return np.zeros_like(z), z


def sigmoid_backward(dout, cache):
    """Wrong."""
    return np.zeros_like(dout)


def tanh_forward(z):
    """Wrong."""
    return np.zeros_like(z), z


def tanh_backward(dout, cache):
    """Wrong."""
    return np.zeros_like(dout)


def relu_forward(z):
    """Wrong."""
    return np.zeros_like(z), z


def relu_backward(dout, cache):
    """Wrong."""
    return np.zeros_like(dout)
'''

# Tricks run before the wrong answers are defined (at import), or wrap them.
PRELUDES = {
    "numpy's comparisons patched": """
import numpy
numpy.allclose = numpy.isclose = numpy.array_equal = lambda *args, **kwargs: True
numpy.testing.assert_allclose = lambda *args, **kwargs: None
numpy.testing.assert_array_equal = lambda *args, **kwargs: None
""",
    "builtins patched": """
import builtins
builtins.isinstance = lambda *args: True
builtins.abs = lambda value: 0
builtins.all = builtins.any = lambda *args: True
""",
    "math patched": """
import math
math.isclose = lambda *args, **kwargs: True
math.isfinite = lambda value: True
""",
    "the grader's own modules patched": """
import grader.checks
import grader.hints
grader.checks.expect_close = lambda *args, **kwargs: None
grader.checks.fail = lambda message: None
grader.hints.hint_for = lambda *args, **kwargs: None
""",
    "protocol bytes printed": """
import struct
import sys
head = b'{"op":"return","value":{"t":"list","v":[]},"blobs":[]}'
sys.stdout.buffer.write(struct.pack("!II", len(head), len(head)) + head)
print('{"op": "return", "value": 1.0, "blobs": []}')
""",
    "threads and exit handlers left behind": """
import atexit
import threading
import time
atexit.register(lambda: print("results rewritten"))
threading.Thread(target=lambda: [time.sleep(0.01) for _ in iter(int, 1)], daemon=True).start()
""",
    "SIGTERM ignored": """
import signal
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
""",
    "random inputs reseeded": """
import numpy as np
np.random.seed(0)
np.random.default_rng = lambda *args, **kwargs: np.random.Generator(np.random.PCG64(0))
""",
    "a long sleep at import": """
import time
time.sleep(1000)
""",
    "os._exit(0) at import": """
import os
os._exit(0)
""",
    "sys.exit(0) at import": """
import sys
sys.exit(0)
""",
    "100 MB printed": """
import sys
chunk = "x" * (1 << 20)
for _ in range(100):
    sys.stdout.write(chunk)
""",
    "files opened without end": """
handles = []
try:
    while True:
        handles.append(open("/dev/null"))
except OSError:
    pass
""",
}

# Functions that return objects pretending to be the right answer.
CHEATS = {
    "an object equal to everything": """
class Anything:
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    def __float__(self):
        return 0.0
    def __len__(self):
        return 0
    def __array__(self, dtype=None, copy=None):
        return np.zeros(1)


def sigmoid_forward(z):
    return Anything(), z
""",
    "an ndarray subclass equal to everything": """
class Agreeable(np.ndarray):
    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)
    def __array_finalize__(self, obj):
        pass


def sigmoid_forward(z):
    return np.zeros_like(z).view(Agreeable), z
""",
    "an object array": """
def sigmoid_forward(z):
    return np.array([1 / (1 + np.exp(-value)) for value in z.ravel()], dtype=object), z
""",
    "a structured array": """
def sigmoid_forward(z):
    out = np.zeros(z.shape, dtype=[("value", "f8"), ("extra", "i4")])
    return out, z
""",
    "NaN and inf": """
def sigmoid_forward(z):
    return np.full_like(z, np.nan), z


def tanh_forward(z):
    return np.full_like(z, np.inf), z
""",
    "a deeply nested return value": """
def sigmoid_forward(z):
    value = []
    for _ in range(5000):
        value = [value]
    return value, z
""",
    "a huge return value": """
def sigmoid_forward(z):
    return [0.5] * 5_000_000, z
""",
    "a float subclass equal to everything": """
class Sly(float):
    def __eq__(self, other):
        return True
    def __sub__(self, other):
        return 0.0
    def __abs__(self):
        return 0.0


def sigmoid_forward(z):
    return [Sly(0.5)] * z.size, z
""",
    "a long sleep in a function": """
def sigmoid_forward(z):
    import time
    time.sleep(1000)
""",
}

PLANTED = {
    "conftest.py": "def pytest_collection_modifyitems(items):\n    items.clear()\n",
    "sitecustomize.py": "import numpy\nnumpy.allclose = lambda *a, **k: True\n",
    "numpy.py": "allclose = isclose = lambda *args, **kwargs: True\n",
    "grader.py": "def expect_close(*args, **kwargs):\n    return None\n",
}


@pytest.fixture(scope="module", params=["every layer", "namespaces off", "forked workers"])
def limited(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, course: Course
) -> Iterator[Course]:
    """The course with short limits; every attack runs with every layer, again without the
    namespace layers, as on a machine that forbids them, and again with workers forked from a
    warm process as batch grading starts them (grader.sandbox.forkserver)."""
    folder = tmp_path_factory.mktemp("course")
    limited = load_course(
        write_course(folder, course, call_seconds=CALL_SECONDS, wall_seconds=WALL_SECONDS)
    )
    with pytest.MonkeyPatch.context() as patch:
        if request.param == "namespaces off":
            patch.setenv(NO_NAMESPACES, "1")
        if request.param == "forked workers":
            default_launcher().use_forkserver()
        try:
            yield limited
        finally:
            default_launcher().stop_forkserver()


@pytest.fixture(scope="module")
def honest_score(limited: Course, tmp_path_factory: pytest.TempPathFactory) -> float:
    path = tmp_path_factory.mktemp("honest") / "exercise6_activations.py"
    path.write_text(WRONG)
    result = grade(limited, limited.exercise("exercise6"), path)
    assert result.score < result.max_score
    return result.score


def graded(limited: Course, folder: Path, text: str) -> tuple[float, float]:
    """(score, seconds) of ``text`` as the exercise 6 submission in ``folder``."""
    path = folder / "exercise6_activations.py"
    path.write_text(text)
    started = time.monotonic()
    result = grade(limited, limited.exercise("exercise6"), path)
    return result.score, time.monotonic() - started


def within_limits(seconds: float) -> bool:
    return seconds < WALL_SECONDS + 3


# The student's own process breaks: nothing of theirs can be graded.
CRASHES = {
    "builtins patched",
    "a long sleep at import",
    "os._exit(0) at import",
    "sys.exit(0) at import",
}


@pytest.mark.slow
@pytest.mark.parametrize("trick", PRELUDES, ids=list(PRELUDES))
def test_trick_at_import_gains_nothing(
    limited: Course, honest_score: float, tmp_path: Path, trick: str
) -> None:
    score, seconds = graded(limited, tmp_path, PRELUDES[trick] + WRONG)
    assert within_limits(seconds)
    assert score == (0 if trick in CRASHES else honest_score)


def without_answers(cheat: str) -> str:
    """The honest counterpart of a cheat: each function it defines gives no answer."""
    names = [node.name for node in ast.parse(cheat).body if isinstance(node, ast.FunctionDef)]
    return "".join(f"\n\ndef {name}(*args):\n    raise NotImplementedError\n" for name in names)


# An ndarray subclass carries real data: it arrives as that plain array, the zeros of WRONG.
CARRIES_ITS_DATA = {"an ndarray subclass equal to everything"}


@pytest.mark.slow
@pytest.mark.parametrize("trick", CHEATS, ids=list(CHEATS))
def test_cheating_return_value_gains_nothing(
    limited: Course, honest_score: float, tmp_path: Path, trick: str
) -> None:
    score, seconds = graded(limited, tmp_path, WRONG + CHEATS[trick])
    assert within_limits(seconds)
    if trick in CARRIES_ITS_DATA:
        assert score == honest_score
    else:
        honest, _ = graded(limited, tmp_path, WRONG + without_answers(CHEATS[trick]))
        assert score == honest


@pytest.mark.parametrize("name", PLANTED, ids=list(PLANTED))
def test_files_planted_beside_the_submission_are_not_loaded(
    limited: Course, honest_score: float, tmp_path: Path, name: str
) -> None:
    (tmp_path / name).write_text(PLANTED[name])
    score, seconds = graded(limited, tmp_path, WRONG)
    assert within_limits(seconds)
    assert score == honest_score


def test_the_collection_is_large(limited: Course) -> None:
    assert len(PRELUDES) + len(CHEATS) + len(PLANTED) >= 26


@pytest.mark.skipif(
    landlock.abi_version() < 1,
    reason="Landlock is not available here (Linux 5.13+ with it enabled)",
)
@pytest.mark.parametrize(
    "target", ["solutions/exercise6_activations.py", "checks/exercise6_hidden.py"]
)
def test_answer_key_cannot_be_read(
    limited: Course, honest_score: float, tmp_path: Path, target: str
) -> None:
    """Reading the reference solution (or the hidden checks) by path and running it fails."""
    steal = (
        f"try:\n    exec(open({str(REPO / target)!r}).read())\n"
        "except OSError as error:\n    print('refused:', error)\n"
    )
    path = tmp_path / "exercise6_activations.py"
    path.write_text(WRONG + steal)
    result = grade(limited, limited.exercise("exercise6"), path)
    assert result.score == honest_score
    # In the private view the file does not exist; without one, Landlock refuses to open it.
    view = "private view" in available_child_layers()
    refusal = "[Errno 2] No such file" if view else "[Errno 13] Permission denied"
    assert f"refused: {refusal}" in result.output


@pytest.mark.skipif(
    landlock.abi_version() < 1,
    reason="Landlock is not available here (Linux 5.13+ with it enabled)",
)
def test_course_folder_cannot_be_written(
    limited: Course, honest_score: float, tmp_path: Path
) -> None:
    """Results, gradebooks and checks live outside the worker's folder: it cannot write there."""
    target = tmp_path / "grades.csv"
    target.write_text("student,total\n")
    forge = (
        f"try:\n    open({str(target)!r}, 'w').write('student,total\\nme,100\\n')\n"
        "except OSError as error:\n    print('refused:', error)\n"
    )
    score, _ = graded(limited, tmp_path, WRONG + forge)
    assert score == honest_score
    assert target.read_text() == "student,total\n"


@pytest.mark.skipif(
    not cgroups_available(),
    reason="no cgroup can be made here (needs root or a delegated cgroup v2)",
)
@pytest.mark.slow
def test_fork_bomb_is_contained(limited: Course, honest_score: float, tmp_path: Path) -> None:
    """A fork bomb stops at the worker's process limit and dies with its grading."""
    bomb = """

def sigmoid_forward(z):
    import os
    while True:
        try:
            os.fork()
        except OSError:
            pass
"""
    honest, _ = graded(limited, tmp_path, WRONG + without_answers(bomb))
    score, seconds = graded(limited, tmp_path, WRONG + bomb)
    assert within_limits(seconds)
    assert score == honest
    # This process's own gradings only: other gradings may run on the machine meanwhile. Its
    # cgroups kept for the next gradings are there, emptied.
    groups = Path("/sys/fs/cgroup").glob(f"*/grade-worker-{os.getpid()}-*")
    assert [group for group in groups if (group / "cgroup.procs").read_text().split()] == []
