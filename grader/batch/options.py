"""The command line of `grade batch`: its arguments and their help (grader.batch.command runs
them)."""

from __future__ import annotations

import argparse
from pathlib import Path

from grader.batch import submit_times
from grader.course import COURSE_FILE


def parser(parent: type[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """The `grade batch` arguments; ``parent`` is the command line's parser class."""
    from grader.batch.pool import usable_cpus

    cpus = len(usable_cpus())
    result = parent(
        prog="grade batch",
        description="Grade every student's submission, record each grading in a gradebook, "
        "and write grades.csv, feedback per student and a class report. Run it again to "
        "grade only what changed.",
    )
    result.add_argument(
        "submissions",
        metavar="SUBMISSIONS",
        type=Path,
        help="a folder with one folder or .zip per student (named after the student), or a "
        "Gradescope export folder (with submission_metadata.yml)",
    )
    result.add_argument("--out", metavar="OUT", type=Path, required=True, help="output folder")
    result.add_argument(
        "--exercise",
        metavar="ID",
        action="extend",
        nargs="+",
        help="grade only these exercises (default: all)",
    )
    result.add_argument(
        "--jobs",
        metavar="N",
        type=int,
        default=cpus,
        help=f"grading processes (default: one per CPU, {cpus} here, each kept to its CPU with "
        "its workers)",
    )
    result.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="send the gradings to the Dask scheduler at ADDRESS (e.g. tcp://scheduler-host:8786) "
        "instead of local processes",
    )
    result.add_argument(
        "--roster",
        metavar="CSV",
        type=Path,
        help="Canvas roster (its gradebook export) to write canvas.csv for import",
    )
    result.add_argument(
        "--extensions",
        metavar="CSV",
        type=Path,
        help="extensions: student,exercise,days per line (see the docs on late work)",
    )
    result.add_argument(
        "--adjustments",
        metavar="CSV",
        type=Path,
        help="points added or taken by hand, kept on regrades: student,exercise,points,comment",
    )
    result.add_argument(
        "--course",
        metavar="PATH",
        type=Path,
        help=f"the course's {COURSE_FILE} or its folder (default: the nearest one)",
    )
    submit_times.add_options(result)
    return result
