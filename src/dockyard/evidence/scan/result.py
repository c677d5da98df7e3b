"""What a scan found and whether it passes the gate (pure).

    result.failing          # the findings at or above the threshold that no ignore covers
    result.ok               # no failing finding: `scan` exits 0, `release` goes on to publish
    result.to_json()        # `dockyard scan --json`, and each target's entry in `release --json`

A Finding is one advisory affecting one package of one platform image,
whichever scanner found it (the OSV matcher, grype or trivy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dockyard.config.model import IgnoreRule
from dockyard.evidence.scan.severity import RANK, UNKNOWN, Severity, at_least


@dataclass(frozen=True)
class Finding:
    """One advisory affecting one package of one platform image."""

    platform: str  # "linux/arm64"
    package: str  # the installed (binary) package
    installed: str  # its version as installed
    advisory: str  # the advisory's id
    ecosystem: str = ""  # Debian, Alpine, Go, PyPI, ...
    source: str = ""  # the source package the advisory names, when not the package itself
    fixed: str = ""  # the first version with the fix; "" when none is known
    aliases: tuple[str, ...] = ()  # CVE ids and the like
    severity: Severity = field(default_factory=lambda: Severity(UNKNOWN))
    summary: str = ""

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.advisory, *self.aliases)

    def sort_key(self) -> tuple:
        # Most severe first, then by platform, package and advisory: a stable report.
        return (-RANK[self.severity.level], self.platform, self.package, self.advisory)

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "package": self.package,
            "source": self.source or None,
            "ecosystem": self.ecosystem or None,
            "installed": self.installed,
            "fixed": self.fixed or None,
            "advisory": self.advisory,
            "aliases": list(self.aliases),
            "severity": self.severity.level,
            "score": self.severity.score,
            "severity_source": self.severity.source or None,
            "summary": self.summary or None,
        }


@dataclass(frozen=True)
class Ignored:
    """A finding an unexpired `[scan] ignore` entry covers."""

    finding: Finding
    rule: IgnoreRule

    def to_json(self) -> dict[str, Any]:
        return {
            **self.finding.to_json(),
            "ignored_by": self.rule.id,
            "reason": self.rule.reason,
            "until": self.rule.until.isoformat(),
        }


@dataclass(frozen=True)
class PlatformScan:
    """One platform image: how many packages were judged."""

    platform: str
    digest: str
    packages: int | None  # None: an external scanner judged the image (it counts its own)

    def to_json(self) -> dict[str, Any]:
        return {"platform": self.platform, "digest": self.digest, "packages": self.packages}


@dataclass(frozen=True)
class ScanResult:
    """A scan of one image or index: its findings, what was ignored, and the gate's verdict."""

    reference: str  # as the user named it
    digest: str  # the index (or image) scanned
    scanner: str  # "osv DIR (N advisories)", "grype", "trivy"
    fail_on: str  # the threshold, one of SCAN_SEVERITIES
    platforms: tuple[PlatformScan, ...] = ()
    findings: tuple[Finding, ...] = ()  # not ignored, most severe first
    ignored: tuple[Ignored, ...] = ()
    expired: tuple[IgnoreRule, ...] = ()  # ignore entries past their date: they ignore nothing
    notes: tuple[str, ...] = ()  # what was not judged (a version its ecosystem cannot read, ...)

    @property
    def failing(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if at_least(f.severity.level, self.fail_on))

    @property
    def ok(self) -> bool:
        return not self.failing

    def verdict(self) -> str:
        """One line: `3 findings, 1 at or above high (CVE-2024-1234 in busybox on linux/arm64)`."""
        n = len(self.findings)
        line = f"{n} finding{'s' if n != 1 else ''}"
        failing = self.failing
        if not failing:
            return f"{line}, none at or above {self.fail_on}"
        first = failing[0]
        name = next((i for i in first.ids if i.startswith("CVE-")), first.advisory)
        return (
            f"{line}, {len(failing)} at or above {self.fail_on} "
            f"({name} in {first.package} {first.installed} on {first.platform or 'the image'})"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "digest": self.digest,
            "scanner": self.scanner,
            "fail_on": self.fail_on,
            "ok": self.ok,
            "failing": len(self.failing),
            "platforms": [p.to_json() for p in self.platforms],
            "findings": [f.to_json() for f in self.findings],
            "ignored": [i.to_json() for i in self.ignored],
            "expired_ignores": [
                {"id": r.id, "reason": r.reason, "until": r.until.isoformat()} for r in self.expired
            ],
            "notes": list(self.notes),
        }
