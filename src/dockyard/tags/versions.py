"""Version grammars the tag rules read: node-semver (strict) and PEP 440.

metadata-action validates a `type=semver` value with node-semver's
`semver.valid()` (strict grammar, an optional leading `v`, surrounding
whitespace ignored, at most 256 characters) and reads its parts with
`semver.parse()`. `type=pep440` uses @renovate/pep440, whose grammar and
normal form are PEP 440's, i.e. what `packaging.version` implements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.version import InvalidVersion
from packaging.version import Version as _Pep440Version

# node-semver's MAX_LENGTH and Number.MAX_SAFE_INTEGER: longer strings and
# bigger numeric parts are invalid there, so they are invalid here.
_SEMVER_MAX_LENGTH = 256
_MAX_SAFE_INTEGER = 2**53 - 1

_NUM = r"0|[1-9][0-9]*"
_PRE_ID = rf"(?:{_NUM}|[0-9]*[a-zA-Z-][a-zA-Z0-9-]*)"
_BUILD_ID = r"[0-9A-Za-z-]+"
_SEMVER = re.compile(
    rf"v?(?P<major>{_NUM})\.(?P<minor>{_NUM})\.(?P<patch>{_NUM})"
    rf"(?:-(?P<pre>{_PRE_ID}(?:\.{_PRE_ID})*))?"
    rf"(?:\+(?P<build>{_BUILD_ID}(?:\.{_BUILD_ID})*))?"
)


@dataclass(frozen=True)
class SemVer:
    """A version node-semver accepts; `raw` is the text it was parsed from."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: tuple[str, ...] = ()
    raw: str = ""

    @property
    def version(self) -> str:
        """node-semver's `.version`: no `v`, no build metadata."""
        core = f"{self.major}.{self.minor}.{self.patch}"
        return f"{core}-{'.'.join(self.prerelease)}" if self.prerelease else core

    def __str__(self) -> str:
        build = f"+{'.'.join(self.build)}" if self.build else ""
        return self.version + build


def parse_semver(text: str) -> SemVer | None:
    """`semver.valid(text)` as a parsed value, or None when node-semver refuses it."""
    if len(text) > _SEMVER_MAX_LENGTH:
        return None
    m = _SEMVER.fullmatch(text.strip())
    if m is None:
        return None
    parts = (int(m["major"]), int(m["minor"]), int(m["patch"]))
    if max(parts) > _MAX_SAFE_INTEGER:
        return None
    pre = tuple(m["pre"].split(".")) if m["pre"] else ()
    build = tuple(m["build"].split(".")) if m["build"] else ()
    return SemVer(*parts, prerelease=pre, build=build, raw=text)


def is_strict_v_semver(text: str) -> bool:
    """True for exactly `vX.Y.Z[-pre][+build]` (dockyard's require-semver)."""
    return text.startswith("v") and text == text.strip() and parse_semver(text) is not None


@dataclass(frozen=True)
class Pep440:
    """A PEP 440 version as @renovate/pep440 explains it."""

    raw: str
    normal: str  # pep440.clean(): the normalised form
    release: tuple[int, ...]
    unstable: bool  # a pre-, post- or dev-release: only {{version}}/{{raw}} tags

    @property
    def major(self) -> int:
        return self.release[0]

    @property
    def minor(self) -> int:
        # @renovate/pep440 answers 0 for a part the version does not have.
        return self.release[1] if len(self.release) > 1 else 0

    @property
    def patch(self) -> int:
        return self.release[2] if len(self.release) > 2 else 0


def parse_pep440(text: str) -> Pep440 | None:
    try:
        v = _Pep440Version(text)
    except InvalidVersion:
        return None
    unstable = v.is_prerelease or v.is_postrelease or v.is_devrelease
    return Pep440(raw=text, normal=str(v), release=tuple(v.release), unstable=unstable)


def is_prerelease(text: str) -> bool:
    """A semver pre-release (2.0.8-beta.67) or a PEP 440 pre- or dev-release (1.0rc1, 1.0.dev4).

    What `latest-only-stable` keeps from `latest`. A PEP 440 post-release
    (1.2.post1) is a fix of a stable release, so it stays stable.
    """
    semver = parse_semver(text)
    if semver is not None:
        return bool(semver.prerelease)
    try:
        version = _Pep440Version(text)
    except InvalidVersion:
        return False
    return version.is_prerelease
