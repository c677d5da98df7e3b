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


@dataclass(frozen=True)
class HealthResult:
    """One platform's live health check: its container started, probed, and removed."""

    status: str  # "healthy", "unhealthy", "exited", "timeout" or "error" (health.py's verdicts)
    seconds: float  # from the container's start to the verdict
    emulated: bool = False
    healthcheck: tuple[str, ...] = ()  # the image's HEALTHCHECK argv; () when it has none
    healthcheck_runs: int = 0
    healthcheck_output: str = ""  # the last run's output
    http_url: str = ""  # what was probed on the host ("" without health-http)
    http_status: int | None = None  # the last probe's status; None: no answer or no probe
    exit_code: int | None = None  # the container's, when it exited
    logs: str = ""  # the container's log tail, kept when the check failed
    logs_truncated: bool = False
    message: str = ""  # why it failed, one line; "" when healthy

    @property
    def ok(self) -> bool:
        return self.status == "healthy"

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "emulated": self.emulated,
            "healthcheck": list(self.healthcheck),
            "healthcheck_runs": self.healthcheck_runs,
            "healthcheck_output": self.healthcheck_output,
            "http_url": self.http_url,
            "http_status": self.http_status,
            "exit_code": self.exit_code,
            "logs": self.logs,
            "logs_truncated": self.logs_truncated,
            "message": self.message,
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
    health: HealthResult | None = None

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
            "health": None if self.health is None else self.health.to_json(),
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
