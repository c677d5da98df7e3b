"""What `verify` found, as data: the Report and its JSON document (pure).

The JSON schema is documented in README.md, section "verify --json"; keep
the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dockyard.findings import Finding, has_errors

# Smoke output kept in the report: the tail, where errors are printed.
SMOKE_OUTPUT_CAP = 4096


@dataclass(frozen=True)
class SmokeResult:
    """One smoke command run in one platform's image."""

    argv: tuple[str, ...]
    exit_code: int | None  # None: it did not finish (timeout) or did not start
    seconds: float
    output: str  # stdout and stderr interleaved, at most SMOKE_OUTPUT_CAP bytes (the tail)
    truncated: bool = False
    timed_out: bool = False
    emulated: bool = False
    # Why the command did not run (buildah from failed, the wrong image came out); "" if it ran.
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.error

    def to_json(self) -> dict[str, Any]:
        return {
            "argv": list(self.argv),
            "exit_code": self.exit_code,
            "timed_out": self.timed_out,
            "seconds": round(self.seconds, 3),
            "emulated": self.emulated,
            "output": self.output,
            "truncated": self.truncated,
            "error": self.error,
        }


def cap_output(data: bytes, cap: int = SMOKE_OUTPUT_CAP) -> tuple[str, bool]:
    """(text, truncated): the last `cap` bytes, decoded leniently."""
    truncated = len(data) > cap
    tail = data[-cap:] if truncated else data
    return tail.decode("utf-8", "replace"), truncated


@dataclass(frozen=True)
class PlatformReport:
    """One platform image: what it is and how big."""

    platform: str
    digest: str  # the image manifest's digest
    config: str  # the config blob's digest
    compressed_size: int  # config + layers, as pulled
    uncompressed_size: int | None  # layers' tar bytes; None when the scan did not run
    layers: int
    elf_files: int
    user: str
    # Rule ids of the checks run on this image (a check without findings passed).
    checks: tuple[str, ...] = ()
    smoke: SmokeResult | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "digest": self.digest,
            "config": self.config,
            "compressed_size": self.compressed_size,
            "uncompressed_size": self.uncompressed_size,
            "layers": self.layers,
            "elf_files": self.elf_files,
            "user": self.user,
            "checks": list(self.checks),
            "smoke": None if self.smoke is None else self.smoke.to_json(),
        }


@dataclass(frozen=True)
class Report:
    """What verify found for one image or index: each platform's facts and every finding (`ok`)."""

    reference: str
    digest: str  # what the reference resolved to (index or single manifest)
    media_type: str
    platforms: tuple[PlatformReport, ...]
    findings: tuple[Finding, ...]
    attestations: tuple[str, ...] = ()  # digests of attestation entries (not platforms)

    @property
    def ok(self) -> bool:
        """No error finding: `verify` exits 0."""
        return not has_errors(self.findings)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.is_error)

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "digest": self.digest,
            "media_type": self.media_type,
            "ok": self.ok,
            "errors": len(self.errors),
            "platforms": [p.to_json() for p in self.platforms],
            "attestations": list(self.attestations),
            "findings": [f.to_json() for f in self.findings],
        }
