"""course.yaml: what the course is, validated on load into a Course.

The schema is the msgspec structs below; msgspec checks types, ranges and unknown keys, and this
module turns its findings into one line with the file, the line, the place and the fix::

    course.yaml:14: exercises[1].points: expected a number, got text; write e.g. `points: 10`

Paths in course.yaml are relative to the folder that holds it. `find_course` searches upward from a
folder for course.yaml, as git does for .git.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import yaml

from grader.errors import CourseError
from grader.limits import Limits
from grader.suggest import closest

COURSE_FILE = "course.yaml"
# The `grade` commands (grader.cli), which no exercise id may be.
COMMANDS = frozenset(
    {"all", "batch", "build", "check", "doctor", "release", "export", "help", "submit"}
)
ID_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"
CANVAS_ERROR = "name the roster's Canvas assignment column, title and (id), or its id number"
CANVAS_PATTERN = r"^(\d+|.*\S\s*\(\d+\))$"

# ---------------------------------------------------------------- the schema


class LimitsSpec(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Per-grading limits; every field optional so an exercise can override just one."""

    wall_seconds: Annotated[float, msgspec.Meta(gt=0, le=3600)] | None = None
    call_seconds: Annotated[float, msgspec.Meta(gt=0, le=3600)] | None = None
    memory_mb: Annotated[int, msgspec.Meta(ge=128, le=65536)] | None = None
    output_kb: Annotated[int, msgspec.Meta(ge=1, le=65536)] | None = None


CanvasId = Annotated[int, msgspec.Meta(gt=0)]  # a Canvas assignment's id number


class ExerciseSpec(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    id: Annotated[str, msgspec.Meta(pattern=ID_PATTERN)]
    title: Annotated[str, msgspec.Meta(min_length=1)]
    student_file: str
    checks: str
    points: Annotated[float, msgspec.Meta(gt=0)]
    solution_file: str | None = None
    hidden_checks: str | None = None
    # In a student release (grader.integrations.student_release): the points of the hidden
    # checks left out, graded after the student hands in. Never together with hidden_checks.
    hidden_points: Annotated[float, msgspec.Meta(ge=0)] | None = None
    limits: LimitsSpec | None = None
    due: datetime | None = None
    # The roster's Canvas assignment column: its title, "Exercise 1 (1001)", or its id number.
    canvas: Annotated[str, msgspec.Meta(pattern=CANVAS_PATTERN)] | CanvasId | None = None


Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]


class LateSpec(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Late work: percent of the score taken per started day late, up to a cap."""

    penalty_per_day: Percent
    max_penalty: Percent = 100.0
    grace_minutes: Annotated[float, msgspec.Meta(ge=0)] = 0.0


class FeedbackSpec(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What students see of hidden checks (see HiddenFeedback), and on Gradescope, from when."""

    hidden: Literal["full", "status", "total", "none"] = "status"
    gradescope_visibility: Literal["visible", "after_due_date", "after_published"] = (
        "after_due_date"
    )


class CourseSpec(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Annotated[str, msgspec.Meta(min_length=1)]
    seed: Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
    exercises: Annotated[list[ExerciseSpec], msgspec.Meta(min_length=1)]
    limits: LimitsSpec | None = None
    late: LateSpec | None = None
    feedback: FeedbackSpec | None = None
    hand_in: str = "worked"  # one of HAND_IN, checked in _resolve with a did-you-mean


FIELD_EXAMPLES = {
    "title": "title: Derivatives",
    "seed": "seed: 20261128",
    "exercises": "exercises: followed by a list of exercises",
    "id": "id: exercise1",
    "student_file": "student_file: exercises/exercise1_derivatives.py",
    "solution_file": "solution_file: solutions/exercise1_derivatives.py",
    "checks": "checks: checks/exercise1_public.py",
    "hidden_checks": "hidden_checks: checks/exercise1_hidden.py",
    "hidden_points": "hidden_points: 4",
    "canvas": 'canvas: "Exercise 1 (1001)"',
    "points": "points: 10",
    "limits": "limits: {wall_seconds: 30}",
    "wall_seconds": "wall_seconds: 30",
    "call_seconds": "call_seconds: 5",
    "memory_mb": "memory_mb: 1024",
    "output_kb": "output_kb: 64",
    "due": "due: 2026-12-01T23:59:00-05:00",
    "late": "late: {penalty_per_day: 10, max_penalty: 50}",
    "penalty_per_day": "penalty_per_day: 10",
    "max_penalty": "max_penalty: 50",
    "grace_minutes": "grace_minutes: 15",
    "feedback": "feedback: {hidden: status}",
    "hidden": "hidden: status",
    "gradescope_visibility": "gradescope_visibility: after_due_date",
    "hand_in": "hand_in: worked",
}

# ---------------------------------------------------------------- the loaded course


@dataclass(frozen=True)
class Exercise:
    """One exercise, its paths absolute."""

    id: str
    title: str
    student_file: Path
    solution_file: Path | None
    checks: Path
    hidden_checks: Path | None
    points: float
    limits: Limits
    due: datetime | None = None  # timezone-aware; a due date written without a zone is UTC
    hidden_points: float = 0.0  # hidden checks' points graded elsewhere (a student release)
    canvas: str | None = None  # the roster's assignment column, "Title (id)" or the id number

    @property
    def file_name(self) -> str:
        """The name of the file students edit, e.g. exercise1_derivatives.py."""
        return self.student_file.name

    @property
    def shared_check_modules(self) -> tuple[Path, ...]:
        """The modules beside this exercise's check files that check files share
        (checks/_exercise1_mistakes.py: a name starting with ``_``, never collected as checks),
        loaded with grader.checks.shared; they go wherever the public checks go."""
        folders = {path.parent for path in (self.checks, self.hidden_checks) if path is not None}
        return tuple(sorted(path for folder in folders for path in folder.glob("_*.py")))


@dataclass(frozen=True)
class LatePolicy:
    """penalty_per_day and max_penalty in percent of the score earned; a submission up to
    grace_minutes after the due date is on time."""

    penalty_per_day: float
    max_penalty: float = 100.0
    grace_minutes: float = 0.0


# What feedback files say about hidden checks: everything; each check's name and whether it
# passed, without its message; only the points they gave in total; or nothing.
HiddenFeedback = Literal["full", "status", "total", "none"]
# From when Gradescope shows students the hidden checks (its own visibility names).
GradescopeVisibility = Literal["visible", "after_due_date", "after_published"]
# What `grade submit` puts in the zip a student hands in, per exercise (grader.hand_in): the file
# `grade` grades, the notebook, the .py file, or both of them.
HandInKind = Literal["worked", "notebooks", "scripts", "both"]
HAND_IN: tuple[HandInKind, ...] = ("worked", "notebooks", "scripts", "both")


@dataclass(frozen=True)
class Course:
    path: Path  # course.yaml itself
    title: str
    seed: int
    exercises: tuple[Exercise, ...]
    late: LatePolicy | None = None
    hidden_feedback: HiddenFeedback = "status"
    gradescope_visibility: GradescopeVisibility = "after_due_date"
    hand_in: HandInKind = "worked"

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def max_score(self) -> float:
        return sum(exercise.points for exercise in self.exercises)

    def exercise(self, exercise_id: str) -> Exercise:
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        ids = [exercise.id for exercise in self.exercises]
        close = closest(exercise_id, ids)
        suggestion = f"; did you mean {close}?" if close else ""
        listed = ", ".join(ids) if len(ids) <= 4 else f"{ids[0]} ... {ids[-1]}"
        raise CourseError(
            f"no exercise {exercise_id!r} in {_shown(self.path)}{suggestion} "
            f"(exercises: {listed}, or `all`)"
        )


def _shown(path: Path) -> str:
    """``path`` relative to the current folder when it lies below it (``course.yaml``)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def find_course(start: Path) -> Path:
    """The nearest course.yaml in ``start`` or a folder above it."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / COURSE_FILE
        if candidate.is_file():
            return candidate
    raise CourseError(
        f"no {COURSE_FILE} in {start} or any folder above it: run `grade` inside the course "
        "folder, or pass --course PATH"
    )


def course_at(given: Path | None) -> Course:
    """The course at ``given`` (its course.yaml, or the folder holding it), or else the nearest
    above the current folder; CourseError or UsageError with one line if there is none."""
    if given is None:
        return load_course(find_course(Path.cwd()))
    return load_course(given / COURSE_FILE if given.is_dir() else given)


def load_course(path: Path) -> Course:
    """Read and validate course.yaml at ``path``; CourseError with one line if anything is off."""
    path = path.resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CourseError(f"{path}: no such file; pass the path of course.yaml") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CourseError(f"{path}: cannot be read as UTF-8 text ({error})") from None
    data, lines = _parse_yaml(path, text)
    try:
        spec = msgspec.convert(data, CourseSpec)
    except msgspec.ValidationError as error:
        raise CourseError(_explain(path, lines, str(error))) from None
    return _resolve(path, spec, lines)


# ---------------------------------------------------------------- YAML with line numbers

Place = tuple[Any, ...]  # ("exercises", 1, "points")


def _parse_yaml(path: Path, text: str) -> tuple[Any, dict[Place, int]]:
    """The YAML's data and the line of every place in it; duplicate keys are refused."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise CourseError(
            f"{path}{where}: not valid YAML ({problem}); check the indentation and colons there"
        ) from None
    lines: dict[Place, int] = {}
    if root is not None:
        _record_lines(path, root, (), lines)
    return data, lines


def _record_lines(path: Path, node: yaml.Node, place: Place, lines: dict[Place, int]) -> None:
    lines[place] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                raise CourseError(
                    f"{path}:{line}: {_dotted((*place, key))}: the key appears twice (first at "
                    f"line {seen[key]}); keep one"
                )
            seen[key] = line
            _record_lines(path, value_node, (*place, key), lines)
            lines[(*place, key)] = line
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(path, item, (*place, index), lines)


def _dotted(place: Place) -> str:
    text = ""
    for step in place:
        text += f"[{step}]" if isinstance(step, int) else f".{step}"
    return text.lstrip(".") or "the top level"


def _line_of(lines: dict[Place, int], place: Place) -> int:
    while place not in lines and place:
        place = place[:-1]
    return lines.get(place, 1)


# ---------------------------------------------------------------- messages


_MSGSPEC_ERROR = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<at>[^`]*)`)?$", re.DOTALL)
_PLACE_STEP = re.compile(r"\.(\w+)|\[(\d+)\]")
_TYPE_NAMES = {
    "str": "text",
    "int": "a whole number",
    "float": "a number",
    "object": "a mapping",
    "array": "a list",
    "bool": "true or false",
    "null": "nothing",
}


def _explain(path: Path, lines: dict[Place, int], error: str) -> str:
    """One line from a msgspec validation error: file:line: place: what is wrong; the fix."""
    match = _MSGSPEC_ERROR.match(error)
    assert match is not None
    what = match["what"]
    place: Place = tuple(
        int(index) if index else name for name, index in _PLACE_STEP.findall(match["at"] or "")
    )
    field = next((step for step in reversed(place) if isinstance(step, str)), "")
    unknown = re.match(r"Object contains unknown field `(.+)`", what)
    if unknown:
        key = unknown[1]
        allowed = _allowed_keys(place)
        close = difflib.get_close_matches(key, allowed, n=1)
        fix = f"did you mean `{close[0]}`?" if close else f"allowed keys: {', '.join(allowed)}"
        place = (*place, key)
        return f"{path}:{_line_of(lines, place)}: {_dotted(place)}: unknown key; {fix}"
    missing = re.match(r"Object missing required field `(.+)`", what)
    if missing:
        key = missing[1]
        example = FIELD_EXAMPLES.get(key, f"{key}: ...")
        return (
            f"{path}:{_line_of(lines, place)}: {_dotted(place)}: the key `{key}` is missing; "
            f"add e.g. `{example}`"
        )
    wrong_type = re.match(r"Expected `(\w+)`, got `(\w+)`", what)
    example = FIELD_EXAMPLES.get(field, "")
    fix = f"write e.g. `{example}`" if example else "see the README for the format"
    line = _line_of(lines, place)
    if wrong_type:
        expected = _TYPE_NAMES.get(wrong_type[1], wrong_type[1])
        got = _TYPE_NAMES.get(wrong_type[2], wrong_type[2])
        return f"{path}:{line}: {_dotted(place)}: expected {expected}, got {got}; {fix}"
    if "pattern" in what and field == "id":
        return (
            f"{path}:{line}: {_dotted(place)}: an id is lowercase letters, digits, `_` or "
            f"`-`, starting with a letter; write e.g. `id: exercise1`"
        )
    if field == "canvas":  # a pattern or a number out of range
        return f"{path}:{line}: {_dotted(place)}: {CANVAS_ERROR}; write e.g. `{example}`"
    readable = what.replace("`array`", "a list").replace("`float`", "a number")
    readable = readable.replace("`int`", "a whole number").replace("`str`", "text")
    return f"{path}:{line}: {_dotted(place)}: expected {readable.removeprefix('Expected ')}; {fix}"


def _allowed_keys(place: Place) -> list[str]:
    specs: dict[Any, type[msgspec.Struct]] = {
        "limits": LimitsSpec,
        "late": LateSpec,
        "feedback": FeedbackSpec,
    }
    if not place:
        spec: type[msgspec.Struct] = CourseSpec
    else:
        spec = specs.get(place[-1], ExerciseSpec)
    return list(spec.__struct_fields__)


# ---------------------------------------------------------------- resolving


def _resolve(path: Path, spec: CourseSpec, lines: dict[Place, int]) -> Course:
    root = path.parent
    defaults = _merge_limits(Limits(), spec.limits)
    exercises: list[Exercise] = []
    first_line: dict[str, int] = {}
    for index, item in enumerate(spec.exercises):
        place: Place = ("exercises", index)
        if item.id in first_line or item.id in COMMANDS:
            reason = (
                f"is already used at line {first_line[item.id]}"
                if item.id in first_line
                else "is a command name"
            )
            raise CourseError(
                f"{path}:{_line_of(lines, (*place, 'id'))}: {_dotted((*place, 'id'))}: "
                f"{item.id!r} {reason}; give each exercise its own id"
            )
        first_line[item.id] = _line_of(lines, (*place, "id"))

        def existing(key: str, value: str | None, place: Place = place) -> Path | None:
            if value is None:
                return None
            resolved = (root / value).resolve()
            if not resolved.is_file():
                raise CourseError(
                    f"{path}:{_line_of(lines, (*place, key))}: {_dotted((*place, key))}: "
                    f"{value} does not exist; fix the path (relative to {root})"
                )
            return resolved

        student_file = (root / item.student_file).resolve()
        solution_file = existing("solution_file", item.solution_file)
        if solution_file is not None and solution_file.name != student_file.name:
            raise CourseError(
                f"{path}:{_line_of(lines, (*place, 'solution_file'))}: "
                f"{_dotted((*place, 'solution_file'))}: named {solution_file.name} but the "
                f"student file is {student_file.name}; give both the same file name"
            )
        checks = existing("checks", item.checks)
        assert checks is not None
        if item.hidden_points is not None and item.hidden_checks is not None:
            raise CourseError(
                f"{path}:{_line_of(lines, (*place, 'hidden_points'))}: "
                f"{_dotted((*place, 'hidden_points'))}: give hidden_points only where the hidden "
                "checks are not in the course (a student release); remove one of the two"
            )
        exercises.append(
            Exercise(
                id=item.id,
                title=item.title,
                student_file=student_file,
                solution_file=solution_file,
                checks=checks,
                hidden_checks=existing("hidden_checks", item.hidden_checks),
                points=item.points,
                limits=_merge_limits(defaults, item.limits),
                due=_aware(item.due),
                hidden_points=item.hidden_points or 0.0,
                canvas=None if item.canvas is None else str(item.canvas),
            )
        )
    late = spec.late
    return Course(
        hand_in=_hand_in(path, spec.hand_in, lines),
        path=path,
        title=spec.title,
        seed=spec.seed,
        exercises=tuple(exercises),
        late=None
        if late is None
        else LatePolicy(late.penalty_per_day, late.max_penalty, late.grace_minutes),
        hidden_feedback=spec.feedback.hidden if spec.feedback else "status",
        gradescope_visibility=spec.feedback.gradescope_visibility
        if spec.feedback
        else "after_due_date",
    )


def _hand_in(path: Path, value: str, lines: dict[Place, int]) -> HandInKind:
    """course.yaml's ``hand_in``, one of HAND_IN; CourseError with one line naming the others."""
    for kind in HAND_IN:
        if value == kind:
            return kind
    close = closest(value, HAND_IN)
    meant = f"did you mean `hand_in: {close}`? " if close else ""
    raise CourseError(
        f"{path}:{_line_of(lines, ('hand_in',))}: hand_in: {value!r} is not what to hand in; "
        f"{meant}write one of `hand_in: worked` (the file grade grades), `notebooks`, `scripts` "
        "or `both`"
    )


def _aware(moment: datetime | None) -> datetime | None:
    """A due date with its time zone; one written without is taken as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _merge_limits(base: Limits, override: LimitsSpec | None) -> Limits:
    if override is None:
        return base
    changes = {
        name: getattr(override, name)
        for name in LimitsSpec.__struct_fields__
        if getattr(override, name) is not None
    }
    return Limits(**{**base.__dict__, **changes})
