"""The submission as the checks hold it: a module of functions, and objects kept in the worker.

``student.relu_forward(x)`` calls the function in the worker (StudentModule, StudentFunction); a
value that is not plain data stays there and arrives as a Handle, which can be called, have its
attributes read, be passed back, or take part in arithmetic (``a + b`` runs in the worker).
Each of them asks its session (grader.student_code.session) to do the work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from grader.later import Later


@dataclass(frozen=True)
class ArgumentChange:
    """An argument array the student's code changed in place during a call.

    name: as the student's code names it (x, params['W1']); before: the grader's array, as it was
    passed and still is; after: the worker's array after the call, as data.
    """

    name: str
    before: np.ndarray
    after: np.ndarray


class Session(Protocol):
    """What these objects need of a session (grader.student_code.session.StudentSession)."""

    @property
    def filename(self) -> str: ...

    @property
    def last_changes(self) -> list[ArgumentChange]: ...

    def call(
        self, target: str | Handle, args: tuple[Any, ...], kwargs: dict[str, Any], label: str
    ) -> Any: ...

    def call_later(
        self, target: str, args: tuple[Any, ...], kwargs: dict[str, Any], label: str
    ) -> Later: ...

    def get_attribute(self, handle: Handle, name: str, label: str) -> Any: ...

    def apply_operator(self, name: str, operands: tuple[Any, ...], symbol: str) -> Handle: ...


class Handle:
    """An object that stays in the worker: call it, read its attributes, or pass it back.

    generation: which of the session's workers holds it (one that was stopped does not);
    handle_id: its id there; label: how messages name it ("the Value that add returned").
    """

    def __init__(self, session: Session, generation: int, handle_id: int, label: str) -> None:
        self._session = session
        self._generation = generation
        self._id = handle_id
        self._label = label

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._session.call(self, args, kwargs, self._label)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._session.get_attribute(self, name, f"{name} of {self._label}")

    def __repr__(self) -> str:
        return f"<{self._label}>"

    # Arithmetic runs in the worker, with Python's own rules (a + 2, 2 + a, a ** 2, -a).
    def _apply(self, name: str, symbol: str, *operands: Any) -> Any:
        return self._session.apply_operator(name, operands, symbol)

    def __add__(self, other: Any) -> Any:
        return self._apply("add", "+", self, other)

    def __radd__(self, other: Any) -> Any:
        return self._apply("add", "+", other, self)

    def __sub__(self, other: Any) -> Any:
        return self._apply("sub", "-", self, other)

    def __rsub__(self, other: Any) -> Any:
        return self._apply("sub", "-", other, self)

    def __mul__(self, other: Any) -> Any:
        return self._apply("mul", "*", self, other)

    def __rmul__(self, other: Any) -> Any:
        return self._apply("mul", "*", other, self)

    def __truediv__(self, other: Any) -> Any:
        return self._apply("truediv", "/", self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return self._apply("truediv", "/", other, self)

    def __pow__(self, other: Any) -> Any:
        return self._apply("pow", "**", self, other)

    def __neg__(self) -> Any:
        return self._apply("neg", "-", self)


class StudentFunction:
    """A function of the submission, called in the worker."""

    def __init__(self, session: Session, name: str) -> None:
        self._session = session
        self.__name__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._session.call(self.__name__, args, kwargs, self.__name__)

    def later(self, *args: Any, **kwargs: Any) -> Later:
        """The call sent now, its answer read when needed (grader.later): many such calls cost
        about one wait instead of one each."""
        return self._session.call_later(self.__name__, args, kwargs, self.__name__)

    def __repr__(self) -> str:
        return f"<student function {self.__name__}>"


class StudentModule:
    """The submission as a module: ``student.relu_forward(x)`` calls it in the worker."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def __getattr__(self, name: str) -> StudentFunction:
        if name.startswith("_"):
            raise AttributeError(name)
        return StudentFunction(self._session, name)

    def __repr__(self) -> str:
        return f"<student submission {self._session.filename}>"


def changed_arguments(student: StudentModule | Handle) -> list[ArgumentChange]:
    """The argument arrays that the latest call made through ``student`` changed in place."""
    return list(student._session.last_changes)
