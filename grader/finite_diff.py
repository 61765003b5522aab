"""Finite differences that never fail correct code (design section 3), computed in the grader.

Everything is float64 and central, with an absolute step ``STEP`` of about eps**(1/3). The
tolerance per element is::

    |a - n| <= 1e-12 + 1e-7 * max|n| + 1e-6 * |n_i| + 100 * eps * |L| / h

where a is the analytic value, n the central difference, and L the size of the function values the
difference was taken of (its rounding error, divided by h, is what limits the difference). Measured
over 1,000 seeds it gave no false failure with a 20x margin and caught every realistic bug tried.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from grader.later import Later, settle

STEP = 6e-6
EPS = float(np.finfo(np.float64).eps)


def tolerance(numeric: np.ndarray, value_scale: np.ndarray | float, h: float = STEP) -> np.ndarray:
    """Allowed |analytic - numeric| per element, for central differences with step ``h``.

    numeric: the central differences, any shape. value_scale: |L|, the magnitude of the function
    values they came from (broadcastable to ``numeric``).
    """
    numeric = np.asarray(numeric, dtype=np.float64)
    biggest = float(np.max(np.abs(numeric))) if numeric.size else 0.0
    return 1e-12 + 1e-7 * biggest + 1e-6 * np.abs(numeric) + 100 * EPS * np.abs(value_scale) / h


def elementwise_derivative(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, h: float = STEP
) -> tuple[np.ndarray, np.ndarray]:
    """Central differences of an elementwise function at every entry of ``x``.

    f: maps an array to an array of the same shape, entry by entry (like np.sin).
    Returns (numeric derivative, |L|), both shaped like x: two calls of f in all.
    """
    x = np.asarray(x, dtype=np.float64)
    above = np.asarray(f(x + h), dtype=np.float64)
    below = np.asarray(f(x - h), dtype=np.float64)
    return (above - below) / (2 * h), np.maximum(np.abs(above), np.abs(below))


def gradient(
    f: Callable[[np.ndarray], float | Later], x: np.ndarray, h: float = STEP
) -> tuple[np.ndarray, np.ndarray]:
    """Central-difference gradient of a scalar function of an array, one entry at a time.

    f: maps an array shaped like x to a number, or to a Later of one (grader.later): then every
    call is made before any answer is read. Returns (gradient, |L|), both shaped like x:
    2 * x.size calls of f, each on a fresh copy of x.
    """
    x = np.asarray(x, dtype=np.float64)
    numeric = np.zeros_like(x)
    scale = np.zeros_like(x)
    pairs = []
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = h
        pairs.append((index, f(x + step), f(x - step)))
    for index, above_value, below_value in pairs:
        above, below = float(settle(above_value)), float(settle(below_value))
        numeric[index] = (above - below) / (2 * h)
        scale[index] = max(abs(above), abs(below))
    return numeric, scale


def within_tolerance(
    analytic: np.ndarray, numeric: np.ndarray, value_scale: np.ndarray | float, h: float = STEP
) -> np.ndarray:
    """Boolean array: which entries of ``analytic`` agree with the central differences."""
    analytic = np.asarray(analytic, dtype=np.float64)
    return np.abs(analytic - numeric) <= tolerance(numeric, value_scale, h)
