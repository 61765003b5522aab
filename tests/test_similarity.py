"""similarity.csv and the report's "Similar submissions": a copy with other names is found, an
independent solution and the untouched stub are not, and no score changes."""

from __future__ import annotations

import csv
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from grader.batch import similarity
from grader.batch.exports import number
from grader.course import Course
from tests.helpers import with_function
from tests.test_batch_outputs import browser

pytest.importorskip("copydetect")

EXERCISE = "exercise8"

# Alice's own way of writing the losses (not the reference solution's).
ALICE = '''
def mse_loss(pred, target):
    """Mean squared error."""
    # the residuals, then their mean square
    residual = np.asarray(pred, dtype=float) - np.asarray(target, dtype=float)
    n_entries = residual.size
    total = np.sum(residual * residual)
    return float(total / n_entries), (2.0 / n_entries) * residual


def softmax(scores):
    """Each row turned into probabilities."""
    top = np.max(scores, axis=1, keepdims=True)
    weights = np.exp(scores - top)
    norm = np.sum(weights, axis=1, keepdims=True)
    return weights / norm


def softmax_cross_entropy(scores, labels):
    """Softmax cross-entropy."""
    rows = scores.shape[0]
    top = np.max(scores, axis=1, keepdims=True)
    weights = np.exp(scores - top)
    probabilities = weights / np.sum(weights, axis=1, keepdims=True)
    picked = probabilities[np.arange(rows), labels]
    loss = -float(np.sum(np.log(picked))) / rows
    grad = probabilities.copy()
    grad[np.arange(rows), labels] = grad[np.arange(rows), labels] - 1.0
    return loss, grad / rows
'''

# Bob copied Alice: other names, other comments, the same code.
BOB = '''
def mse_loss(pred, target):
    """Mean squared error."""
    # difference between prediction and truth
    err = np.asarray(pred, dtype=float) - np.asarray(target, dtype=float)
    count = err.size
    s = np.sum(err * err)  # sum of squares
    return float(s / count), (2.0 / count) * err


def softmax(scores):
    """Each row turned into probabilities."""
    # subtract the max for stability
    m = np.max(scores, axis=1, keepdims=True)
    e = np.exp(scores - m)
    z = np.sum(e, axis=1, keepdims=True)
    return e / z


def softmax_cross_entropy(scores, labels):
    """Softmax cross-entropy."""
    batch = scores.shape[0]
    m = np.max(scores, axis=1, keepdims=True)
    e = np.exp(scores - m)
    p = e / np.sum(e, axis=1, keepdims=True)
    chosen = p[np.arange(batch), labels]
    cost = -float(np.sum(np.log(chosen))) / batch
    dz = p.copy()
    dz[np.arange(batch), labels] = dz[np.arange(batch), labels] - 1.0
    return cost, dz / batch  # the gradient <script>alert(1)</script>
'''

# Carol wrote her own, differently: loops, log-sum-exp, one-hot labels.
CAROL = '''
def mse_loss(pred, target):
    """Mean squared error."""
    d = pred - target
    return float(np.mean(d ** 2)), 2 * d / d.size


def softmax(scores):
    """Each row turned into probabilities."""
    out = np.empty_like(scores, dtype=float)
    for i, row in enumerate(scores):
        shifted = np.exp(row - row.max())
        out[i] = shifted / shifted.sum()
    return out


def softmax_cross_entropy(scores, labels):
    """Softmax cross-entropy."""
    n, classes = scores.shape
    one_hot = np.zeros((n, classes))
    one_hot[np.arange(n), labels] = 1
    log_norm = scores.max(axis=1) + np.log(
        np.exp(scores - scores.max(axis=1)[:, None]).sum(axis=1)
    )
    log_p = scores - log_norm[:, None]
    loss = -(one_hot * log_p).sum() / n
    return float(loss), (np.exp(log_p) - one_hot) / n
'''


def _write_class(course: Course, folder: Path) -> Path:
    """Alice, Bob (Alice's copy), Carol (her own), and Dan and Erin (the untouched stub)."""
    exercise = course.exercise(EXERCISE)
    stub = exercise.student_file.read_text()
    files = {
        "alice": with_function(stub, ALICE),
        "bob": with_function(stub, BOB),
        "carol": with_function(stub, CAROL),
        "dan": stub,
        "erin": stub,
    }
    for name, text in files.items():
        path = folder / name / "exercises" / exercise.file_name
        path.parent.mkdir(parents=True)
        path.write_text(text)
    return folder


def _pairs(course: Course, folder: Path) -> list[similarity.Pair]:
    exercise = course.exercise(EXERCISE)
    handed = [
        similarity.Handed(student.name, exercise, student / "exercises" / exercise.file_name)
        for student in sorted(folder.iterdir())
    ]
    return similarity.find([exercise], handed)


def test_the_copy_is_found_and_nothing_else(course: Course, tmp_path: Path) -> None:
    pairs = _pairs(course, _write_class(course, tmp_path))
    assert [(pair.student_a, pair.student_b) for pair in pairs] == [("alice", "bob")]
    assert pairs[0].similarity >= 0.9
    # Bob's changed comment and its <script> are marked with the code they stand beside.
    lines = pairs[0].code_b.split("\n")
    marked = [lines[number - 1] for number in sorted(pairs[0].lines_b)]
    assert any("dz / batch" in line for line in marked)
    assert not any("Exercise 8" in line or "grade exercise8" in line for line in marked)  # stub
    assert all(line.strip() for line in marked)  # blank lines are not marked


def test_the_independent_solution_and_the_stubs_score_low(course: Course, tmp_path: Path) -> None:
    """Each pair's similarity, the threshold aside: the stub counts for nothing."""
    folder = _write_class(course, tmp_path)
    exercise = course.exercise(EXERCISE)
    scores = similarity.pair_scores(
        exercise,
        [
            similarity.Handed(name, exercise, folder / name / "exercises" / exercise.file_name)
            for name in ("alice", "bob", "carol", "dan", "erin")
        ],
    )
    assert scores[("alice", "bob")] >= 0.9
    assert scores.get(("alice", "carol"), 0.0) < similarity.THRESHOLD
    assert scores.get(("bob", "carol"), 0.0) < similarity.THRESHOLD
    assert scores.get(("dan", "erin"), 0.0) == 0.0


def test_a_notebook_is_compared_by_its_code_cells(course: Course, tmp_path: Path) -> None:
    """Bob's copy in a notebook is found against Alice's script; the stub's notebook (its
    check cell included) against the stub's script is not."""
    from grader.notebooks import notebook_text

    exercise = course.exercise(EXERCISE)
    stub = exercise.student_file.read_text()
    files = {
        "alice": (exercise.file_name, with_function(stub, ALICE)),
        "bob": (
            f"{exercise.student_file.stem}.ipynb",
            notebook_text(with_function(stub, BOB), EXERCISE),
        ),
        "dan": (
            f"{exercise.student_file.stem}.ipynb",
            exercise.student_file.with_suffix(".ipynb").read_text(),
        ),
        "erin": (exercise.file_name, stub),
    }
    handed = []
    for name, (file_name, text) in files.items():
        path = tmp_path / name / file_name
        path.parent.mkdir()
        path.write_text(text)
        handed.append(similarity.Handed(name, exercise, path))
    pairs = similarity.find([exercise], handed)
    assert [(pair.student_a, pair.student_b) for pair in pairs] == [("alice", "bob")]
    assert pairs[0].similarity >= 0.9
    assert "def softmax_cross_entropy(scores, labels):" in pairs[0].code_b  # its cells, joined
    assert similarity.pair_scores(exercise, handed).get(("dan", "erin"), 0.0) == 0.0


def test_a_repeated_passage_of_ones_own_is_not_boilerplate(course: Course) -> None:
    """copydetect's own boilerplate removal drops a file's repeated k-grams; this one keeps
    them."""
    exercise = course.exercise(EXERCISE)
    boilerplate = similarity.stub_boilerplate(exercise)
    line = "    total = total + np.sum(np.abs(weights - targets) ** 3) / weights.size\n"
    found = similarity._fingerprint("def f(weights, targets):\n" + line * 3, "f.py")
    own = found.token_coverage
    similarity._without(found, boilerplate)
    assert found.token_coverage == own > 0


def test_given_helpers_rewritten_alike_are_not_flagged(course: Course, tmp_path: Path) -> None:
    """Two students who rewrote a given helper the same way (exercise9's softmax_cross_entropy)
    and left the rest of the stub: the helper's lines are not theirs, nothing is flagged."""
    exercise = course.exercise("exercise9")
    stub = exercise.student_file.read_text()
    rewritten = with_function(
        stub,
        '''
def softmax_cross_entropy(scores, labels):
    """Given: my own version."""
    rows = scores.shape[0]
    top = np.max(scores, axis=1, keepdims=True)
    weights = np.exp(scores - top)
    probabilities = weights / np.sum(weights, axis=1, keepdims=True)
    grad = probabilities.copy()
    grad[np.arange(rows), labels] -= 1.0
    return -float(np.mean(np.log(probabilities[np.arange(rows), labels]))), grad / rows
''',
    )
    handed = []
    for name in ("fay", "gil"):
        path = tmp_path / name / exercise.file_name
        path.parent.mkdir()
        path.write_text(rewritten)
        handed.append(similarity.Handed(name, exercise, path))
    assert similarity.pair_scores(exercise, handed).get(("fay", "gil"), 0.0) == 0.0
    assert similarity.code_of(handed[0].path).count("weights / np.sum") == 0  # its lines blank


def test_what_much_of_the_class_wrote_is_common_not_copied(course: Course, tmp_path: Path) -> None:
    """The reference solution handed in by eight students of ten: what the exercise all but
    dictates is no sign of copying. Alice and Bob, the other two, are still a pair."""
    exercise = course.exercise(EXERCISE)
    stub = exercise.student_file.read_text()
    texts = {f"s{number}": exercise.solution_file.read_text() for number in range(8)}
    texts |= {"alice": with_function(stub, ALICE), "bob": with_function(stub, BOB)}
    handed = []
    for name, text in texts.items():
        path = tmp_path / name / exercise.file_name
        path.parent.mkdir()
        path.write_text(text)
        handed.append(similarity.Handed(name, exercise, path))
    pairs = similarity.find([exercise], handed)
    assert [(pair.student_a, pair.student_b) for pair in pairs] == [("alice", "bob")]


def test_similarity_csv(course: Course, tmp_path: Path) -> None:
    pairs = _pairs(course, _write_class(course, tmp_path))
    pairs.append(
        similarity.Pair(EXERCISE, "=HYPERLINK(1)", "zoë", 0.61, "", "", frozenset(), frozenset())
    )
    rows = list(csv.reader(similarity.csv_text(pairs).splitlines()))
    assert rows[0] == ["exercise", "student_a", "student_b", "similarity"]
    assert rows[1][:3] == [EXERCISE, "alice", "bob"] and 0.9 <= float(rows[1][3]) <= 1
    assert rows[2] == [EXERCISE, "'=HYPERLINK(1)", "zoë", "0.610"]


def test_the_report_folds_a_long_list_and_escapes_the_code(course: Course) -> None:
    """Past 20 pairs the table is folded; a student's code and name are text, never markup."""
    from grader.batch import class_report

    code = "x = 1\nprint('</pre><script>alert(1)</script>')\n"
    pairs = [
        similarity.Pair(
            EXERCISE, f"<b>s{n}</b>", f"t{n}", 0.9, code, code, frozenset({2}), frozenset({2})
        )
        for n in range(25)
    ]
    exercises = [course.exercise(EXERCISE)]
    html = class_report.render(course, exercises, [], [], [], pairs)
    assert "<script>" not in html and "<b>s0</b>" not in html
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<details>\n<summary>25 pair(s)</summary>" in html  # folded
    assert html.count('<details class="similar-code">') == similarity.TOP_PAIRS
    assert html.count('class="match"') == 2 * similarity.TOP_PAIRS  # line 2 of each file
    few = class_report.render(course, exercises, [], [], [], pairs[:3])
    assert "<details open>\n<summary>3 pair(s)</summary>" in few
    many = class_report.render(course, exercises, [], [], [], pairs * 30)
    assert "750 pair(s), the first 500 listed here" in many
    assert many.count("<tr><td>exercise8</td><td>&lt;b&gt;s") == similarity.REPORT_ROWS
    none = class_report.render(course, exercises, [], [], [], [])
    assert "No pair of submissions is alike beyond the stub." in none


@pytest.mark.slow
@pytest.mark.skipif(
    browser() is None,
    reason="no headless Chromium here (Debian: apt-get install chromium-headless-shell)",
)
def test_grade_batch_writes_and_shows_the_pair(course: Course, tmp_path: Path) -> None:
    """`grade batch` writes similarity.csv, the report shows the pair side by side in a browser
    (Bob's <script> as text), and the scores are those of a run without the flag."""
    folder = _write_class(course, tmp_path / "submissions")
    out = tmp_path / "out"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "grader", "batch", str(folder), "--out", str(out)),
            *("--course", str(course.path), "--exercise", EXERCISE),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader((out / "similarity.csv").read_text().splitlines()))
    assert [row[:3] for row in rows[1:]] == [[EXERCISE, "alice", "bob"]]
    grades = {row[0]: row[2] for row in csv.reader((out / "grades.csv").read_text().splitlines())}
    # Alice's log of a softmax underflows at ±1000 (one hidden point), and so does Bob's copy:
    # each keeps what its checks gave, the flag takes nothing.
    names = ("alice", "bob", "carol", "dan", "erin")
    assert [grades[name] for name in names] == ["9", "9", "10", "0", "0"]
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        recorded = dict(db.execute("SELECT student, raw_score FROM gradings").fetchall())
    assert {name: number(score) for name, score in recorded.items()} == {
        name: grades[name] for name in recorded
    }

    html = (out / "report.html").read_text()
    assert "<script>alert(1)</script>" not in html
    command = [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access"]
    dom = subprocess.run(
        [*command, "--dump-dom", (out / "report.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert 'id="similar"' in dom
    assert "<script>alert" not in dom and "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert dom.count('class="side"') == 2  # alice's and bob's code, side by side
    assert dom.count('class="match"') >= 10
