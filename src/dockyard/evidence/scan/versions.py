"""Each ecosystem's version order and package naming: the one dict the matcher reads (pure).

    eco = ecosystem("Debian:12")        # Ecosystem("Debian"), release "12"
    eco.compare("1:1.35.0-4+deb12u1+b1", "1:1.35.0-4+deb12u2") < 0

- Debian: dpkg's order (epoch, upstream, revision; `~` before anything) from
  python-debian. Debian advisories name SOURCE packages, so a Package is
  matched by its `source` (dpkg's `Source:`, else its own name).
- Alpine: apk-tools' order (apk.py); advisories name the origin (`source`).
- Go: SemVer with Go's `v`, `+incompatible` and toolchain names (semver.py).
- PyPI: PEP 440 (`packaging`); names compared PEP 503-normalised.
- npm, crates.io: SemVer.

An OSV ecosystem may carry a release suffix ("Debian:12", "Alpine:v3.19"):
`split_ecosystem` separates it; the matcher compares it with the image's
distribution release when that is known.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from debian.debian_support import Version as DebianVersion
from packaging.version import InvalidVersion
from packaging.version import Version as Pep440Version

from dockyard.errors import VersionInvalid
from dockyard.evidence.packages import ALPINE, DEBIAN, GO, PYPI
from dockyard.evidence.scan.apk import compare_apk
from dockyard.evidence.scan.semver import compare_go, compare_semver

Compare = Callable[[str, str], int]


def compare_debian(a: str, b: str) -> int:
    try:
        va, vb = DebianVersion(a), DebianVersion(b)
    except ValueError as exc:
        raise VersionInvalid(f"not a Debian version: {exc}") from None
    return (va > vb) - (va < vb)


def compare_pep440(a: str, b: str) -> int:
    try:
        va, vb = Pep440Version(a), Pep440Version(b)
    except InvalidVersion as exc:
        raise VersionInvalid(f"not a PEP 440 version: {exc}") from None
    return (va > vb) - (va < vb)


def _same(name: str) -> str:
    return name


def _pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Ecosystem:
    name: str  # as OSV spells it
    compare: Compare  # -1, 0, 1; VersionInvalid when a version is not of this ecosystem
    normalise: Callable[[str], str] = _same  # a package name as advisories and packages are keyed
    by_source: bool = False  # advisories name the source package (Package.source), not the binary


# The one list of ecosystems the OSV matcher can order versions for.
ECOSYSTEMS: dict[str, Ecosystem] = {
    DEBIAN: Ecosystem(DEBIAN, compare_debian, by_source=True),
    ALPINE: Ecosystem(ALPINE, compare_apk, by_source=True),
    GO: Ecosystem(GO, compare_go),
    PYPI: Ecosystem(PYPI, compare_pep440, normalise=_pep503),
    "npm": Ecosystem("npm", compare_semver),
    "crates.io": Ecosystem("crates.io", compare_semver),
}


def split_ecosystem(text: str) -> tuple[str, str]:
    """("Debian", "12") for "Debian:12"; ("PyPI", "") for "PyPI"."""
    name, _, release = text.partition(":")
    return name, release


def ecosystem(text: str) -> Ecosystem | None:
    """The Ecosystem an OSV ecosystem string names (release suffix ignored), None if unknown."""
    return ECOSYSTEMS.get(split_ecosystem(text)[0])


def same_release(advisory: str, image: str) -> bool:
    """Does an advisory's release suffix ("12", "v3.19") name the image's release
    ("12", "3.19.1")? Debian compares the major number, Alpine major.minor."""
    wanted = advisory.removeprefix("v").split(".")
    have = image.removeprefix("v").split(".")
    return have[: len(wanted)] == wanted
