"""The class report in a real browser, and the same batch on a Dask cluster."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.synthetic_class import make_class
from grader.course import Course

BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")


def browser() -> str | None:
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def run_batch(course: Course, submissions: Path, out: Path, *extra: str) -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out)),
            *("--course", str(course.path), *extra),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def small_class(tmp_path_factory: pytest.TempPathFactory, course: Course) -> Path:
    folder = tmp_path_factory.mktemp("class")
    make_class(course, folder, 4, loops=0, seed=11)
    return folder


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, course: Course, small_class: Path) -> Path:
    out = tmp_path_factory.mktemp("out")
    run_batch(course, small_class / "submissions", out, "--exercise", "exercise1", "exercise6")
    return out


@pytest.mark.skipif(
    browser() is None,
    reason="no headless Chromium here (Debian: apt-get install chromium-headless-shell)",
)
def test_report_renders_in_a_headless_browser(graded: Path, tmp_path: Path) -> None:
    """The browser loads the file offline, builds the tables and draws the plots."""
    command = [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access"]
    page = (graded / "report.html").as_uri()
    dom = subprocess.run(
        [*command, "--dump-dom", page], capture_output=True, text=True, timeout=120
    ).stdout
    assert dom.count("<svg") == 2
    assert 'id="checks"' in dom and 'id="exercises"' in dom
    assert "<strong>4</strong> students" in dom
    shot = tmp_path / "report.png"
    subprocess.run(
        [*command, f"--screenshot={shot}", "--window-size=1200,1600", page],
        capture_output=True,
        timeout=120,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


@pytest.mark.slow
def test_a_dask_cluster_grades_the_same(
    graded: Path, course: Course, small_class: Path, tmp_path: Path
) -> None:
    """--dask sends the gradings to a cluster: the same grades and gradebook as local processes."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    )
    try:
        out = tmp_path / "out"
        run_batch(
            course,
            small_class / "submissions",
            out,
            "--exercise",
            "exercise1",
            "exercise6",
            "--dask",
            cluster.scheduler_address,
        )
    finally:
        cluster.close()
    assert (out / "grades.csv").read_text() == (graded / "grades.csv").read_text()
    import sqlite3

    def scores(folder: Path) -> list[tuple]:
        with sqlite3.connect(folder / "gradebook.sqlite") as db:
            return db.execute(
                "SELECT student, exercise, file_hash, raw_score FROM gradings ORDER BY 1, 2"
            ).fetchall()

    assert scores(out) == scores(graded)
