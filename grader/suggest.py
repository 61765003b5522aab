"""Did you mean: the closest of some names to a word that is none of them (difflib)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

_NUMBER = re.compile(r"\d+")


def closest(word: str, names: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The name ``word`` most likely stands for, or None: the one it is but for letter case; else
    the only one with the same numbers in it ("3", "ex3" and "Exercise 3" stand for exercise3);
    else the most similar, if similar enough (difflib's ratio at least ``cutoff``)."""
    names = list(names)
    by_case = {name.casefold(): name for name in names}
    if word.casefold() in by_case:
        return by_case[word.casefold()]
    numbers = _NUMBER.findall(word)
    if numbers:
        same = [name for name in names if _NUMBER.findall(name) == numbers]
        if len(same) == 1:
            return same[0]
    close = difflib.get_close_matches(word.casefold(), list(by_case), n=1, cutoff=cutoff)
    return by_case[close[0]] if close else None
