"""Packages x OSV advisories -> Findings: the OSV schema's evaluation, per ecosystem (pure).

    findings, notes = match_packages(packages, db, platform="linux/arm64")

For each package of a known ecosystem (versions.ECOSYSTEMS), the advisories
naming it are looked up: Debian and Alpine advisories by the SOURCE package
(a Package's `source`, else its name), and the version compared is the
source's when the package says it (dpkg's `Source: busybox (1:1.35.0-4)`,
or a purl `upstream=busybox@1:1.35.0-4` qualifier, as syft writes it), else
the installed one. An affected entry is judged as the OSV schema's
`IsVulnerable` says: the version is listed in `versions[]`, or a range's
events, sorted in the ecosystem's order ("0" first), leave it introduced
and not fixed (`fixed`: at or after it; `last_affected`: after it; `limit`:
at or after every limit). GIT ranges need the repository and are skipped.

A release suffix ("Debian:12", "Alpine:v3.19") is honoured when the image's
release is known (the purl's `distro=debian-12` qualifier); when it is not,
the entry applies (an advisory of another release is reported, never
silently dropped). A version that cannot be read in its ecosystem's rules is
a note naming the package and the advisory, never a silent pass.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from packageurl import PackageURL

from dockyard.errors import VersionInvalid
from dockyard.evidence.packages import Package
from dockyard.evidence.scan.osv import Affected, Event, OsvDatabase, Range
from dockyard.evidence.scan.result import Finding
from dockyard.evidence.scan.semver import compare_go
from dockyard.evidence.scan.severity import severity_of
from dockyard.evidence.scan.versions import ECOSYSTEMS, Compare, Ecosystem, same_release

_SOURCE_WITH_VERSION = re.compile(r"(\S+)\s*\((.+)\)")


@dataclass(frozen=True)
class Verdict:
    affected: bool
    fixed: str = ""  # the first fixed version after the installed one, in the range that holds it


def match_packages(
    packages: Iterable[Package], db: OsvDatabase, *, platform: str
) -> tuple[list[Finding], list[str]]:
    """The findings for one platform image's packages, and notes on what was not judged."""
    findings: list[Finding] = []
    notes: list[str] = []
    unknown: dict[str, int] = {}
    for package in packages:
        eco = ECOSYSTEMS.get(package.ecosystem)
        if eco is None:
            unknown[package.ecosystem or "(none)"] = (
                unknown.get(package.ecosystem or "(none)", 0) + 1
            )
            continue
        found, problems = _match_one(package, eco, db, platform)
        findings += found
        notes += problems
    for name, count in sorted(unknown.items()):
        notes.append(
            f"{platform}: {count} package(s) of ecosystem {name!r} not judged "
            f"(no version order for it; known: {', '.join(ECOSYSTEMS)})"
        )
    return findings, notes


def _match_one(
    package: Package, eco: Ecosystem, db: OsvDatabase, platform: str
) -> tuple[list[Finding], list[str]]:
    name, version = source_of(package) if eco.by_source else (package.name, package.version)
    release = image_release(package)
    findings: list[Finding] = []
    notes: list[str] = []
    seen: set[str] = set()
    for advisory, affected in db.lookup(eco.name, name):
        if advisory.id in seen:
            continue
        if affected.release and release and not same_release(affected.release, release):
            continue
        try:
            verdict = judge(version, affected, eco.compare)
        except VersionInvalid as exc:
            notes.append(
                f"{platform}: {package.name} {package.version}: {advisory.id} not judged ({exc})"
            )
            continue
        if not verdict.affected:
            continue
        seen.add(advisory.id)
        findings.append(
            Finding(
                platform=platform,
                package=package.name,
                installed=package.version,
                advisory=advisory.id,
                ecosystem=eco.name,
                source=name if name != package.name else "",
                fixed=verdict.fixed,
                aliases=advisory.aliases,
                severity=severity_of(advisory, affected),
                summary=advisory.summary,
            )
        )
    return findings, notes


def source_of(package: Package) -> tuple[str, str]:
    """(source package, its version): `Source: name (version)`, the purl's `upstream`
    qualifier (`name` or `name@version`), else the package's own name and version."""
    name, version = package.source or package.name, ""
    parsed = _SOURCE_WITH_VERSION.fullmatch(name)
    if parsed is not None:
        name, version = parsed.groups()
    if not version:
        upstream = _qualifiers(package).get("upstream", "")
        up_name, at, up_version = upstream.partition("@")
        if at and up_name == name:
            version = up_version
    return name, version or package.version


def image_release(package: Package) -> str:
    """The distribution release the purl's `distro` qualifier names ("debian-12" -> "12",
    "alpine-3.19.1" -> "3.19.1"); "" when unknown."""
    distro = _qualifiers(package).get("distro", "")
    return distro.partition("-")[2] if "-" in distro else ""


def _qualifiers(package: Package) -> dict[str, str]:
    if not package.purl:
        return {}
    try:
        qualifiers = PackageURL.from_string(package.purl).qualifiers
    except ValueError:
        return {}
    return dict(qualifiers) if isinstance(qualifiers, dict) else {}


# ---------------------------------------------------------------- the OSV evaluation


def judge(version: str, affected: Affected, compare: Compare) -> Verdict:
    """Is `version` affected (`versions[]` or a range)? VersionInvalid when a version
    cannot be compared in the ecosystem's order."""
    listed = any(v == version or _equal(compare, v, version) for v in affected.versions)
    fixed, hit = "", listed
    for r in affected.ranges:
        if r.type == "GIT":
            continue  # commit ranges need the repository's graph
        # SEMVER ranges are SemVer whatever the ecosystem; Go's compare also takes a `v`.
        order = compare if r.type == "ECOSYSTEM" else compare_go
        if in_range(version, r, order):
            hit = True
            fixed = fixed or next_fix(version, r, order)
    return Verdict(hit, fixed if hit else "")


def in_range(version: str, r: Range, compare: Compare) -> bool:
    limits = [e.version for e in r.events if e.kind == "limit"]
    if limits and not any(limit == "*" or compare(version, limit) < 0 for limit in limits):
        return False
    vulnerable = False
    for event in sorted((e for e in r.events if e.kind != "limit"), key=_event_key(compare)):
        if event.kind == "introduced":
            if event.version == "0" or compare(version, event.version) >= 0:
                vulnerable = True
        elif event.kind == "fixed":
            if compare(version, event.version) >= 0:
                vulnerable = False
        elif event.kind == "last_affected" and compare(version, event.version) > 0:
            vulnerable = False
    return vulnerable


def next_fix(version: str, r: Range, compare: Compare) -> str:
    """The lowest `fixed` of the range above `version` ("" when the range has none)."""
    fixes = [e.version for e in r.events if e.kind == "fixed" and compare(e.version, version) > 0]
    return min(fixes, key=functools.cmp_to_key(compare)) if fixes else ""


def _event_key(compare: Compare):
    def order(a: Event, b: Event) -> int:
        if a.version == b.version and a.kind == b.kind:
            return 0
        if a.kind == "introduced" and a.version == "0":
            return -1
        if b.kind == "introduced" and b.version == "0":
            return 1
        return compare(a.version, b.version)

    return functools.cmp_to_key(order)


def _equal(compare: Compare, a: str, b: str) -> bool:
    try:
        return compare(a, b) == 0
    except VersionInvalid:
        return False
