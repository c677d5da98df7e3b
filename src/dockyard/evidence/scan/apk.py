"""Alpine's package version order, as apk-tools compares versions (pure).

    compare_apk("1.2.3-r1", "1.2.3-r10") < 0
    compare_apk("6.0_pre1", "6.0") < 0 < compare_apk("6.0_p1", "6.0")

An apk version is `digit{.digit}…{letter}{_suffix{number}}…{~hash}{-r#}`:

- numbers compare as numbers, except that a dotted part with a leading zero
  (`1.02`, `8.2.001`) compares as a string, as Gentoo's rules say;
- one lower-case letter may follow the numbers (`1.0.2k`);
- suffixes: `_alpha _beta _pre _rc` sort before the plain version, `_cvs _svn
  _git _hg _p` after it, each with an optional number;
- `~<hex>` is a commit hash (compared as a string), `-r<N>` the package release.

Tokens are compared pairwise; when one version runs out first, the other is
greater unless what it has next is a pre-release suffix. A version apk would
refuse still compares as apk does (up to the first bad token), so a malformed
version in the database never crashes a scan. Checked against apk-tools'
own table of version pairs (tests/unit/test_scan_versions.py).
"""

from __future__ import annotations

from dataclasses import dataclass

# Token kinds, in the order they may appear in a version (apk's `enum PARTS`).
INITIAL, DIGIT, LETTER, SUFFIX, SUFFIX_NO, HASH, REVISION, END, INVALID = range(9)
# Suffix values: below NONE is a pre-release, above it a post-release.
_SUFFIXES = {"alpha": 1, "beta": 2, "pre": 3, "rc": 4, "cvs": 6, "svn": 7, "git": 8, "hg": 9, "p": 10}  # fmt: skip
_NONE = 5
_DIGITS = frozenset("0123456789")  # ASCII only: str.isdigit() also takes "²"
_HEX = frozenset("0123456789abcdefABCDEF")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")


@dataclass
class _Token:
    kind: int = INITIAL
    text: str = ""  # the token's characters (digits, the letter, the suffix name, the hash)
    number: int = 0  # digits' value; a suffix's rank


class _Reader:
    """apk's tokenizer: one token at a time, each checked to be allowed after the last."""

    def __init__(self, version: str) -> None:
        self.rest = version
        self.token = _Token()
        self._digits(INITIAL)

    def _take(self, allowed: frozenset[str]) -> str:
        i = 0
        while i < len(self.rest) and self.rest[i] in allowed:
            i += 1
        taken, self.rest = self.rest[:i], self.rest[i:]
        return taken

    def _digits(self, kind: int) -> None:
        text = self._take(_DIGITS)
        self.token = _Token(kind if text else INVALID, text, int(text) if text else 0)

    def next(self) -> None:
        kind = self.token.kind
        if not self.rest:
            self.token = _Token(END)
            return
        head = self.rest[0]
        if head in _LOWER and kind <= DIGIT:
            self.rest = self.rest[1:]
            self.token = _Token(LETTER, head, ord(head))
        elif head in _DIGITS or (head == "." and kind <= DIGIT):
            if head == ".":
                self.rest = self.rest[1:]
            if kind in (INITIAL, DIGIT):
                self._digits(DIGIT)
            elif kind == SUFFIX:
                self._digits(SUFFIX_NO)
            else:
                self.token = _Token(INVALID)
        elif head == "_" and kind <= SUFFIX_NO:
            self.rest = self.rest[1:]
            name = self._take(_LOWER)
            rank = _SUFFIXES.get(name)
            self.token = _Token(SUFFIX, name, rank) if rank else _Token(INVALID)
        elif head == "~" and kind < HASH:
            self.rest = self.rest[1:]
            text = self._take(_HEX)
            self.token = _Token(HASH, text) if text else _Token(INVALID)
        elif head == "-" and kind < REVISION and self.rest.startswith("-r"):
            self.rest = self.rest[2:]
            self._digits(REVISION)
        else:
            self.token = _Token(INVALID)


def _token_cmp(a: _Token, b: _Token) -> int:
    """Two tokens of the same kind."""
    if a.kind == DIGIT and (a.text.startswith("0") or b.text.startswith("0")):
        return _cmp(a.text, b.text)  # a leading zero: compared as a string
    if a.kind in (INITIAL, DIGIT, SUFFIX_NO, REVISION, LETTER, SUFFIX):
        return _cmp(a.number, b.number)
    return _cmp(a.text, b.text)  # a commit hash


def compare_apk(a: str, b: str) -> int:
    """-1, 0 or 1 as apk orders versions `a` and `b`."""
    ra, rb = _Reader(a), _Reader(b)
    while ra.token.kind == rb.token.kind and ra.token.kind < END:
        result = _token_cmp(ra.token, rb.token)
        if result:
            return result
        ra.next()
        rb.next()
    ta, tb = ra.token, rb.token
    if ta.kind == tb.kind:
        return 0
    # The shorter version is older, unless the longer one goes on with a pre-release suffix.
    if ta.kind == SUFFIX and ta.number < _NONE:
        return -1
    if tb.kind == SUFFIX and tb.number < _NONE:
        return 1
    return -1 if ta.kind > tb.kind else 1


def _cmp(a: int | str, b: int | str) -> int:
    return (a > b) - (a < b)  # type: ignore[operator]
