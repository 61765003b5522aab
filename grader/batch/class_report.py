"""report.html: the class at a glance, one self-contained file that opens offline.

It shows the distribution of total scores and each exercise's average (plots drawn by matplotlib,
embedded as SVG), each check's pass rate with the messages of its failures grouped (hardest checks
first: what most of the class gets wrong), the slowest gradings, and the flagged ones: timeouts,
crashes, files that could not be loaded, suspicious code (grader.flags); and the pairs of
similar submissions (grader.batch.similarity), the top ones side by side with the matching lines
marked: students' code, like every value, escaped.

Pass rates count only the students who handed the exercise in (a grading of a file, not the 0 of
nothing handed in); how many did not is shown beside them. Each student has a row (their total,
each exercise's score, lateness, flags and problems, and a relative link to feedback/<key>.html),
the problem submissions are listed with their reason (a refused file or link, a zip that could
not be read, a folder with no exercise file), and the run's other outputs are linked at the top.

Students' names, messages and problems are written as feedback's HTML templates write every value
(grader.batch.feedback.template_environment): through grader.safe_text.terminal, then escaped by
jinja2's autoescape. The plots are the one markup inserted as it is (``|safe``): matplotlib's SVG,
whose text is the course's exercise ids and the grader's labels, escaped by matplotlib.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from grader.batch.exports import StudentGrades, number
from grader.batch.feedback import template_environment
from grader.batch.similarity import Pair, report_view
from grader.course import Course, Exercise

SLOWEST = 10  # gradings listed as the slowest
MESSAGES_PER_CHECK = 3  # failure messages shown per check, most common first
MESSAGE_CHARS = 200  # a failure message is grouped by its first line, cut to this length
NOT_SUBMITTED = "none"  # the file hash of a grading of nothing handed in (grader.batch.command)
OPEN_ROWS = 20  # a collapsible table longer than this starts closed
LINKED = ("grades.csv", "canvas.csv", "gradebook.sqlite", "similarity.csv", "adjustments.csv")


def _svg(figure: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # inline: without the XML prologue and doctype


def _plots(
    exercises: list[Exercise], students: list[StudentGrades], max_total: float
) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    totals = [student.total() for student in students]
    figure, axes = plt.subplots(figsize=(7, 3))
    axes.hist(totals, bins=min(20, max(5, len(set(totals)))), range=(0, max_total), color="#4c72b0")
    axes.set_xlabel(f"total score (of {number(max_total)})")
    axes.set_ylabel("students")
    axes.set_title("Score distribution")
    distribution = _svg(figure)

    averages = [
        100 * sum(s.score(e.id) for s in students) / (e.points * len(students)) if students else 0
        for e in exercises
    ]
    figure, axes = plt.subplots(figsize=(7, 3))
    axes.bar([e.id for e in exercises], averages, color="#55a868")
    axes.set_ylim(0, 100)
    axes.set_ylabel("average, % of points")
    axes.set_title("Average per exercise")
    axes.tick_params(axis="x", rotation=45)
    return {"distribution": distribution, "averages": _svg(figure)}


def _first_line(message: str | None) -> str:
    message = message or ""
    line = message.strip().splitlines()[0] if message.strip() else "(no message)"
    return line if len(line) <= MESSAGE_CHARS else line[:MESSAGE_CHARS] + "…"


def handed_in(student: StudentGrades, exercise_id: str) -> bool:
    """Whether ``student`` handed a file in for the exercise (graded, not 0 for nothing)."""
    grading = student.gradings.get(exercise_id)
    return grading is not None and grading.file_hash != NOT_SUBMITTED


def _check_rows(exercises: list[Exercise], students: list[StudentGrades]) -> list[dict]:
    """Every check with its pass rate over the students who handed the exercise in, how many did
    not, and its failures' messages, lowest pass rate first."""
    counts: dict[tuple[str, str], dict[str, Any]] = {}
    for exercise in exercises:
        absent = sum(1 for student in students if not handed_in(student, exercise.id))
        for student in students:
            grading = student.gradings.get(exercise.id)
            if grading is None or not handed_in(student, exercise.id):
                continue
            for test in grading.report["tests"]:
                row = counts.setdefault(
                    (exercise.id, test["id"]),
                    {
                        "exercise": exercise.id,
                        "check": test["name"],
                        "hidden": test["hidden"],
                        "passed": 0,
                        "graded": 0,
                        "absent": absent,
                        "messages": Counter(),
                    },
                )
                row["graded"] += 1
                if test["status"] == "passed":
                    row["passed"] += 1
                elif test.get("kind") != "not run":
                    row["messages"][_first_line(test["message"])] += 1
    rows = []
    for row in counts.values():
        row["rate"] = 100 * row["passed"] / row["graded"] if row["graded"] else 0.0
        row["messages"] = row["messages"].most_common(MESSAGES_PER_CHECK)
        rows.append(row)
    order = {exercise.id: index for index, exercise in enumerate(exercises)}
    return sorted(rows, key=lambda row: (row["rate"], order[row["exercise"]], row["check"]))


def _flagged(exercises: list[Exercise], students: list[StudentGrades]) -> list[dict]:
    found = []
    for student in students:
        for exercise in exercises:
            grading = student.gradings.get(exercise.id)
            if grading is None:
                continue
            report = grading.report
            kinds = Counter(test.get("kind") for test in report["tests"])
            reasons = []
            if kinds["timeout"]:
                reasons.append(f"{kinds['timeout']} check(s) timed out")
            if kinds["crash"]:
                reasons.append(f"{kinds['crash']} check(s) crashed the process")
            if report.get("problem") and report.get("file"):
                reasons.append(f"not graded: {_first_line(report['problem'])}")
            reasons += [f"suspicious: {flag}" for flag in report.get("flags") or []]
            if reasons:
                found.append(
                    {"student": student.entry.name, "exercise": exercise.id, "reasons": reasons}
                )
    return found


def _problems(exercises: list[Exercise], students: list[StudentGrades]) -> list[dict]:
    """The submissions that could not be graded as handed in, each with its reason: what could
    not be read at all (a broken zip), each refused file (a link out, a FIFO), and the students
    with no exercise file anywhere (an empty folder)."""
    found = []
    for student in students:
        entry = student.entry
        if entry.problem:
            what = entry.root.name if entry.root is not None else "the submission"
            found.append({"student": entry.name, "what": what, "reason": entry.problem})
            continue
        refused = False
        for exercise in exercises:
            grading = student.gradings.get(exercise.id)
            if grading is None or handed_in(student, exercise.id):
                continue
            report = grading.report
            if report.get("file"):
                refused = True
                reason = _first_line(report.get("problem"))
                found.append({"student": entry.name, "what": report["file"], "reason": reason})
        if not refused and not any(handed_in(student, exercise.id) for exercise in exercises):
            reason = "no exercise file handed in (an empty folder, or only other files)"
            found.append({"student": entry.name, "what": "the folder", "reason": reason})
    return found


def _late(grading: Any) -> str:
    days = "s" if grading.late_days != 1 else ""
    return f"{grading.exercise}: {grading.late_days} day{days} late, -{number(grading.penalty)}%"


def _student_rows(exercises: list[Exercise], students: list[StudentGrades]) -> list[dict]:
    """One row per student: total, each exercise's score ("–" if not handed in), lateness,
    flags and problems, and the relative link to their feedback."""
    rows = []
    for student in students:
        gradings = [student.gradings[e.id] for e in exercises if e.id in student.gradings]
        flags = [
            f"{grading.exercise}: suspicious: {flag}"
            for grading in gradings
            for flag in grading.report.get("flags") or []
        ]
        handed = any(handed_in(student, e.id) for e in exercises)
        if student.entry.problem:  # what refused all of their work: once, not per exercise
            flags.append(f"not read: {_first_line(student.entry.problem)}")
        else:
            flags += [
                f"{grading.exercise}: not graded: {_first_line(grading.report.get('problem'))}"
                for grading in gradings
                if grading.file_hash == NOT_SUBMITTED and grading.report.get("file")
            ]
            if not handed and not flags:
                flags.append("nothing handed in")
        rows.append(
            {
                "name": student.entry.name,
                "feedback": f"feedback/{quote(student.entry.key)}.html",
                "total": number(student.total()),
                "scores": [
                    number(student.score(e.id)) if handed_in(student, e.id) else "–"
                    for e in exercises
                ],
                "handed_in": handed,
                "late": [_late(grading) for grading in gradings if grading.late_days > 0],
                "flags": flags,
            }
        )
    return rows


def render(
    course: Course,
    exercises: list[Exercise],
    students: list[StudentGrades],
    unmatched: list[str],
    failures: list[str],
    similar: list[Pair] | None = None,
    files: Sequence[str] = (),
) -> str:
    """The report's HTML; ``similar``: the pairs of similarity.csv (grader.batch.similarity);
    ``files``: the outputs written beside report.html (grades.csv, ...), linked at the top."""
    max_total = sum(exercise.points for exercise in exercises)
    gradings = [
        (student.entry.name, grading)
        for student in students
        for grading in student.gradings.values()
    ]
    slowest = sorted(gradings, key=lambda item: item[1].seconds, reverse=True)[:SLOWEST]
    totals = sorted(student.total() for student in students)
    by_exercise = defaultdict(list)
    for student in students:
        for exercise in exercises:
            by_exercise[exercise.id].append(student.score(exercise.id))
    template = template_environment("html").get_template("report.html.j2")
    return template.render(
        course_title=course.title,
        student_count=len(students),
        grading_count=len(gradings),
        max_total=number(max_total),
        mean=number(sum(totals) / len(totals)) if totals else "–",
        median=number(totals[len(totals) // 2]) if totals else "–",
        full_marks=sum(1 for total in totals if total >= max_total - 1e-9),
        files=[name for name in LINKED if name in files],
        # --commit-dates: the times of these students are dates they wrote themselves
        own_dates=[student.entry.name for student in students if student.entry.own_dates],
        handed_in_count=sum(
            1 for student in students if any(handed_in(student, e.id) for e in exercises)
        ),
        students=_student_rows(exercises, students),
        problems=_problems(exercises, students),
        open_rows=OPEN_ROWS,
        plots=_plots(exercises, students, max_total),
        exercises=[
            {
                "id": exercise.id,
                "title": exercise.title,
                "points": number(exercise.points),
                "average": number(sum(scores) / len(scores)) if scores else "–",
                "full": sum(1 for score in scores if score >= exercise.points - 1e-9),
                "submitted": sum(1 for student in students if handed_in(student, exercise.id)),
            }
            for exercise in exercises
            for scores in [by_exercise[exercise.id]]
        ],
        checks=_check_rows(exercises, students),
        slowest=[
            {
                "student": name,
                "exercise": grading.exercise,
                "seconds": f"{grading.seconds:.2f}",
                "score": number(grading.raw_score),
            }
            for name, grading in slowest
        ],
        flagged=_flagged(exercises, students),
        unmatched=unmatched,
        failures=failures,
        similar=report_view(similar or []),
    )
