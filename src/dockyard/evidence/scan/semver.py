"""Semantic versions (SemVer 2.0 precedence) and Go's module and toolchain versions (pure).

    compare_semver("1.0.0-rc.1", "1.0.0") < 0
    compare_go("v2.0.0+incompatible", "2.0.1") < 0      # build metadata is ignored
    compare_go("go1.21rc2", "1.21.0") < 0                # the stdlib's toolchain names

OSV writes SEMVER and Go versions without the `v` (`"fixed": "1.2.3"`); a Go
package is installed as `v1.2.3`. `+incompatible` (a v2+ module without a
go.mod) is build metadata, which SemVer leaves out of precedence, as Go does.
Pseudo-versions (`v0.0.0-20210101000000-abcdef123456`) are pre-releases and
sort as Go sorts them. A missing minor or patch (`1.2`) counts as 0, which
npm and crates.io advisories sometimes need.
"""

from __future__ import annotations

import re

from dockyard.errors import VersionInvalid

_SEMVER = re.compile(
    r"(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
)
# The Go toolchain's own release names: go1.21.3, go1.21, go1.21rc2, go1.9beta1.
_GO_TOOLCHAIN = re.compile(r"go(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta|alpha)(\d+))?")

Key = tuple[int, int, int, tuple]


def semver_key(text: str) -> Key:
    """A sort key with SemVer 2.0 precedence; VersionInvalid when `text` is not a version."""
    match = _SEMVER.fullmatch(text.strip())
    if match is None:
        raise VersionInvalid(
            f"{text!r} is not a semantic version (expected MAJOR.MINOR.PATCH[-PRE][+BUILD])"
        )
    major, minor, patch, pre = match.groups()
    return (int(major), int(minor or 0), int(patch or 0), _pre_key(pre))


def _pre_key(pre: str | None) -> tuple:
    # A release sorts after every pre-release of the same version (spec item 11.3);
    # numeric identifiers sort numerically and before alphanumeric ones (11.4).
    if pre is None:
        return (1,)
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (0, parts)


def compare_semver(a: str, b: str) -> int:
    return _cmp(semver_key(a), semver_key(b))


def go_key(text: str) -> Key:
    """Go module versions (`v1.2.3`, `1.2.3`, `+incompatible`, pseudo-versions) and the
    toolchain's (`go1.21.3`), as the stdlib package is versioned."""
    text = text.strip()
    toolchain = _GO_TOOLCHAIN.fullmatch(text)
    if toolchain is not None:
        major, minor, patch, kind, number = toolchain.groups()
        pre = f"{kind}.{number}" if kind else None
        return (int(major), int(minor), int(patch or 0), _pre_key(pre))
    return semver_key(text[1:] if text.startswith("v") else text)


def compare_go(a: str, b: str) -> int:
    return _cmp(go_key(a), go_key(b))


def _cmp(a: Key, b: Key) -> int:
    return (a > b) - (a < b)
