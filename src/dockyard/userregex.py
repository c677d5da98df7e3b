"""Regular expressions written by users (tag rules, retain --match), run with a time bound.

Python's `re` backtracks without limit: `(a+)+$` or `(a|aa)+$` on a
40-character tag never ends, and `tags`, `plan` and `retain` hung on it. The
`regex` module (PyPI) recognises many such patterns and finishes them in
linear time, and for the rest takes a `timeout`: a match that runs longer
ends in one InputError line naming the pattern and the text, instead of a
hang. Dockyard's own fixed patterns stay with `re`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import regex

from dockyard.errors import InputError

# A tag pattern on a ref takes microseconds; a second is beyond any real one
# and still short enough that a hostile pattern fails promptly.
MATCH_TIMEOUT = 1.0

# Flags are given as `re`'s (callers know those); the same meaning in `regex`'s numbers.
_FLAGS = {re.ASCII: regex.ASCII, re.IGNORECASE: regex.IGNORECASE, re.MULTILINE: regex.MULTILINE,
          re.DOTALL: regex.DOTALL}  # fmt: skip


class UserRegex:
    """A compiled user pattern whose every match is bounded by MATCH_TIMEOUT seconds.

    `flags`: `re` flags (ASCII, IGNORECASE, MULTILINE, DOTALL). An invalid
    pattern raises `re.error`: `re` judges it first, so the messages users
    know (and `re`'s syntax) stay; `regex` (VERSION0, re-compatible) runs it.
    """

    def __init__(self, source: str, flags: int = 0, *, what: str = "regular expression") -> None:
        self.source = source
        self.what = what
        re.compile(source, flags)
        translated = regex.VERSION0
        for ours, theirs in _FLAGS.items():
            if flags & ours:
                translated |= theirs
        try:
            self._compiled = regex.compile(source, translated)
        except regex.error as exc:  # re accepted it: rare; still the caller's one error type
            raise re.error(str(exc)) from None

    def search(self, text: str) -> Any:
        return self._bounded(self._compiled.search, text)

    def match(self, text: str) -> Any:
        return self._bounded(self._compiled.match, text)

    def finditer(self, text: str) -> Iterator[Any]:
        # Collected here so that the timeout covers the whole scan, not each step.
        return iter(self._bounded(self._all, text))

    def _all(self, text: str, *, timeout: float) -> list[Any]:
        return list(self._compiled.finditer(text, timeout=timeout))

    def _bounded(self, run: Any, text: str) -> Any:
        try:
            return run(text, timeout=MATCH_TIMEOUT)
        except TimeoutError:
            shown = text if len(text) <= 80 else text[:77] + "..."
            raise InputError(
                f"{self.what} {self.source!r} took more than {MATCH_TIMEOUT:g} s on {shown!r} "
                "(nested repetition such as (a|aa)+ backtracks without end; simplify the pattern)"
            ) from None
