"""What numpy removed, so that a student whose code uses it is told why it fails here.

The course grades with the numpy range its package requires (pyproject.toml; a student release
installs the same range). Code written against an older numpy may call what newer ones removed:
the error numpy raises then does not say that the call worked elsewhere. ``explain`` recognises
those errors and gives the line a student needs: what was removed, in which numpy, what to write.

The facts are numpy's release notes: the aliases ``np.float``, ``np.int``, ``np.complex``,
``np.object``, ``np.str``, ``np.unicode`` expired in 1.24; ``np.product``, ``np.cumproduct``
and ``np.msort`` (deprecated in 1.25 and 1.24) were removed in 2.0; numpy 2.4 removed
``np.reshape``'s ``newshape=`` (deprecated in 2.1), ``np.in1d`` and ``np.trapz`` (deprecated in
2.0), the ``interpolation=`` of percentile and quantile (deprecated in 1.22), and made converting
an array with dimensions to a Python scalar (deprecated in 1.25) and ``np.sum`` of a generator
(deprecated in 1.15) errors. Other names removed in 2.0 are explained by numpy's own message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Removal:
    """One thing numpy removed: how its error reads, and what to say about it.

    error: a pattern searched for in "ErrorType: message"; what: the removed thing, as code;
    version: the numpy release that removed it; instead: what to write now.
    """

    error: str
    what: str
    version: str
    instead: str


def _missing(name: str) -> str:
    return rf"AttributeError: module 'numpy' has no attribute '{name}'"


REMOVALS = (
    Removal(
        r"TypeError: .*reshape\(\) got an unexpected keyword argument 'newshape'",
        "`newshape=`",
        "2.4",
        "give the shape positionally, np.reshape(a, (2, 3)), or as `shape=`",
    ),
    Removal(
        r"TypeError: only 0-dimensional arrays can be converted to Python scalars",
        "turning an array with dimensions (shape (1,), say) into a number",
        "2.4",
        "float(), int() and math's functions take a number, not an array: for an array of "
        "one entry take `a.item()`; for more, use numpy's functions (np.cos, not math.cos), "
        "which work entry by entry",
    ),
    Removal(
        r"TypeError: Calling np\.sum\(generator\)",
        "`np.sum` of a generator",
        "2.4",
        "use the builtin `sum`, or `np.sum` of a list or array",
    ),
    Removal(
        r"TypeError: .*(percentile|quantile)\(\) got an unexpected keyword argument "
        r"'interpolation'",
        "`interpolation=`",
        "2.4",
        "use `method=`",
    ),
    Removal(_missing("in1d"), "`np.in1d`", "2.4", "use `np.isin`"),
    Removal(_missing("trapz"), "`np.trapz`", "2.4", "use `np.trapezoid`"),
    Removal(_missing("product"), "`np.product`", "2.0", "use `np.prod`"),
    Removal(_missing("cumproduct"), "`np.cumproduct`", "2.0", "use `np.cumprod`"),
    Removal(_missing("msort"), "`np.msort`", "2.0", "use `np.sort(a, axis=0)`"),
    *(
        Removal(_missing(alias), f"`np.{alias}`", "1.24", f"use the builtin `{builtin}`")
        for alias, builtin in (
            ("float", "float"),
            ("int", "int"),
            ("complex", "complex"),
            ("object", "object"),
            ("str", "str"),
            ("unicode", "str"),
        )
    ),
)


def explain(error: str) -> str | None:
    """The line for a student whose code failed with ``error`` ("TypeError: ..."), if numpy
    removed what it used; None otherwise."""
    for removal in REMOVALS:
        if re.search(removal.error, error):
            return (
                f"{removal.what} was removed in numpy {removal.version}, and the course grades "
                f"with numpy {np.__version__}: {removal.instead}"
            )
    return None
