"""Absolute-path globs for `[policy] allow-foreign` (pure).

A glob is matched against a file's absolute path in the image, one path
component at a time, with `fnmatch` rules inside a component: `*` and `?`
never cross a `/`, `[abc]` / `[!abc]` are character sets, and a component
that is exactly `**` matches any number of whole components (none
included). So `/usr/bin/qemu-*-static` matches `/usr/bin/qemu-aarch64-static`
but not `/usr/bin/x/qemu-a-static`, and `/opt/cross/**` matches everything
below `/opt/cross`. Matching is case-sensitive, as Linux paths are.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

from dockyard.errors import InputError

GLOB_RULE = (
    "expected an absolute path glob: '/' then names or patterns separated by single '/', "
    "e.g. /usr/bin/qemu-*-static"
)
RECURSIVE = "**"


def check_path_glob(text: str) -> str:
    """`text` if it is a valid glob, else InputError naming it and the rule."""
    parts = text.split("/")
    if not text.startswith("/") or any(p in ("", ".", "..") for p in parts[1:]):
        raise InputError(f"{text!r} is not a path glob ({GLOB_RULE})")
    return text


def matches(glob: str, path: str) -> bool:
    """Whether an absolute `path` (as verify names files: `/usr/bin/x`) matches `glob`."""
    return _match(tuple(glob.split("/")[1:]), tuple(path.split("/")[1:]))


def first_match(globs: Iterable[str], path: str) -> str | None:
    """The first glob of `globs` that `path` matches, else None."""
    return next((g for g in globs if matches(g, path)), None)


def _match(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    # Iterative with one backtrack point per `**` (the classic wildcard walk,
    # over components): linear in practice, no recursion on deep paths.
    p = i = 0
    star_p = star_i = -1
    while i < len(parts):
        if p < len(pattern) and pattern[p] == RECURSIVE:
            star_p, star_i = p, i
            p += 1
        elif p < len(pattern) and fnmatchcase(parts[i], pattern[p]):
            p += 1
            i += 1
        elif star_p >= 0:
            star_i += 1
            p, i = star_p + 1, star_i
        else:
            return False
    return all(c == RECURSIVE for c in pattern[p:])
