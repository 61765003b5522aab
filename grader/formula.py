"""Grader functions written as formulas: evaluated beside the student's code, replayed here.

A check passes grader functions to the student's code: the ``f`` of ``numerical_derivative(f, x)``,
the gradient that ``gradient_descent`` follows. Passed as ordinary Python functions they stay in
the grader, and every evaluation is a round trip to the worker and back (grader.student_code):
200 steps of gradient descent cost 200 of them. Written as a formula, one expression in ``x``::

    bowl_gradient = formula("2 * x", "∇ of x² + y²")
    slope = formula("matrix @ x - offset", "∇ of the quadratic", matrix=A, offset=b)

the function travels with the call: the worker evaluates it where the student's code calls it,
with numpy as ``np`` and the named constants (numbers or arrays), and keeps a log of every
argument and answer. The grader replays that log through its own copy, in order, before it accepts
the call's result: an answer that differs (the student's code changed numpy, say) fails the call,
and a Recorder wrapping a formula records every argument as if it had been called here. So a
formula gives the student's code exactly what the grader's function gives, and the grader still
sees every evaluation; only the waiting is gone.

A formula is visible to the student's code, as any argument is: nothing secret belongs in it.
Where the worker cannot evaluate it (an argument that is not a number or an array, an error),
it asks the grader instead, as for any grader function, so messages stay the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# How close the worker's answer must be to the grader's. Both run the same numpy on the same
# numbers, but a sum or a matrix product may be taken in another order when the arrays sit at
# other addresses. The replay is there to keep what the student's code got honest and every
# evaluation seen, not to grade: it needs no tighter match than this.
REPLAY_RTOL = 1e-9
REPLAY_ATOL = 1e-12


class Formula:
    """A function of one argument ``x`` given by one expression; see the module's docstring.

    expression: Python, with ``x``, ``np`` and the names of ``constants``;
    name: how messages name the function ("∇ of x² + y²").
    """

    def __init__(self, expression: str, name: str, constants: dict[str, Any]) -> None:
        self.expression = expression
        self.__name__ = name
        self.constants = constants
        self._function = compile_formula(expression, name, constants, np)

    @property
    def mirrors(self) -> Formula:
        """What the worker evaluates in this function's place (grader.student_code): itself."""
        return self

    def __call__(self, x: Any) -> Any:
        return self._function(x)

    def __repr__(self) -> str:
        return f"<formula {self.__name__}: {self.expression}>"


def formula(expression: str, name: str, **constants: Any) -> Formula:
    """A grader function ``x ↦ expression`` that the worker evaluates itself (module docstring)."""
    return Formula(expression, name, constants)


def compile_formula(expression: str, name: str, constants: dict[str, Any], numpy: Any) -> Any:
    """The function ``lambda x: expression``, with ``np`` and ``constants`` as its globals.

    The worker (grader.worker) builds it the same way, with its own numpy and its own
    references to compile and eval.
    """
    key = (expression, name)
    if key not in _compiled:  # a check may make the same formula with new constants each time
        _compiled[key] = compile(
            f"lambda x: ({expression})", f"<formula {name}>", "eval", dont_inherit=True
        )
    return eval(_compiled[key], {"np": numpy, **constants})  # the course's own expression


_compiled: dict[tuple[str, str], Any] = {}


def same_answer(expected: Any, got: Any) -> bool:
    """Whether the worker's answer is the grader's, up to the order of a sum."""
    if isinstance(expected, np.ndarray) != isinstance(got, np.ndarray):
        return False
    if type(expected) is float and type(got) is float and expected == got:
        return True  # the common case, without numpy's overhead
    if (
        type(expected) is np.ndarray
        and type(got) is np.ndarray
        and expected.shape == got.shape
        and bool((expected == got).all())
    ):
        return True
    try:
        expected_array = np.asarray(expected, dtype=np.float64)
        got_array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return type(expected) is type(got) and bool(expected == got)
    return expected_array.shape == got_array.shape and bool(
        np.allclose(got_array, expected_array, rtol=REPLAY_RTOL, atol=REPLAY_ATOL, equal_nan=True)
    )
