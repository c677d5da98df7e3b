"""The verification record: what a successful verify says about one index (pure).

A record is an OCI 1.1 artifact attached to the index it speaks for (its
`subject`) through the referrers mechanism (oci/referrers.py):

    manifest  artifactType  application/vnd.dockyard.verification.v1+json
              config        the empty descriptor ({}), layers: [the record JSON]
              subject       the index;  annotations: created, settings hash
    record    {"format": 1, "index": <digest>, "settings_hash": "sha256:…",
               "settings": {…}, "children": [{"platform", "digest", "findings",
               "health"}],
               "findings": {"error", "warning", "info"}, "dockyard_version", "verified_at"}

A child's `health` is null, or what its live health check found:
{"status": "healthy", "seconds", "emulated", "http_status"} (only a passed
verify has a record). `settings` are the version of verify's checks (CHECKS) and the policy and
smoke settings that were applied (the target's
whole [policy], as dataclasses.asdict gives it, so a key added to Policy is
covered without touching this module, and every VerifyOptions field:
platforms, sizes, smoke argv and timeout, scan limits); `settings_hash` is
the sha256 of their canonical JSON (sorted keys, compact). A re-release may
skip verifying an index only when a record with the same index digest and
the same settings hash is found: change [policy] or `smoke` and the hash
changes, so it verifies again.

Building, hashing and parsing are pure; reading and attaching records
through a Store is verify/attach.py.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from dockyard.digest import Digest, parse_digest, sha256_digest
from dockyard.errors import DockyardError, RecordInvalid
from dockyard.findings import SEVERITIES
from dockyard.oci.models import (
    EMPTY_DESCRIPTOR,
    EMPTY_JSON,
    Descriptor,
    Manifest,
    build_manifest,
    canonical_json,
    descriptor_of,
)
from dockyard.verify.report import HealthResult, Report

RECORD_TYPE = "application/vnd.dockyard.verification.v1+json"
FORMAT = 1
# What verify checks, as a number in the settings: bump it whenever verify
# starts checking something new (a rule, a stricter scan), so that a record
# made by an older dockyard, which never ran that check, no longer lets a
# release skip verifying. 1: platforms, config, diff_ids, ELF scan with
# allow-foreign, policy, smoke. 2: the live health check (verify/health.py), whose
# result each child of the record now states.
CHECKS = 2
# The settings hash, also on the manifest so a referrers list shows it unfetched.
SETTINGS_ANNOTATION = "dev.dockyard.verification.settings-hash"
CREATED_ANNOTATION = "org.opencontainers.image.created"
# A record is a few hundred bytes per platform; anything far larger is not ours.
MAX_RECORD_SIZE = 256 * 1024



@dataclass(frozen=True)
class ChildSummary:
    platform: str
    digest: str
    findings: Mapping[str, int]  # severity -> count
    health: Mapping[str, Any] | None = None  # the live health check's summary; None: not run

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "digest": self.digest,
            "findings": dict(self.findings),
            "health": None if self.health is None else dict(self.health),
        }


@dataclass(frozen=True)
class Record:
    index: Digest
    settings_hash: str
    settings: Mapping[str, Any]
    children: tuple[ChildSummary, ...]
    findings: Mapping[str, int]  # every finding of the report, by severity
    dockyard_version: str
    verified_at: datetime  # UTC

    @property
    def date(self) -> str:
        """The day it was verified (UTC), as the release summary shows it."""
        return self.verified_at.strftime("%Y-%m-%d")

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "index": str(self.index),
            "settings_hash": self.settings_hash,
            "settings": _plain(self.settings),
            "children": [c.to_json() for c in self.children],
            "findings": dict(self.findings),
            "dockyard_version": self.dockyard_version,
            "verified_at": rfc3339(self.verified_at),
        }


def rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- settings


def applied_settings(policy: Any, options: Any) -> dict[str, Any]:
    """The settings a verify applied: the whole policy and every verify option (dataclasses)."""
    return {
        "checks": CHECKS,
        "policy": _plain(dataclasses.asdict(policy)) if policy is not None else None,
        "verify": _plain(dataclasses.asdict(options)),
    }


def settings_hash(settings: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of `settings` (sorted keys, compact, UTF-8)."""
    text = json.dumps(_plain(settings), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return str(sha256_digest(text.encode()))


def _plain(value: Any) -> Any:
    """JSON-ready: mappings with string keys, lists, and scalars (anything else as its str)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=json.dumps) if isinstance(value, set | frozenset) else items
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    return str(value)


# ---------------------------------------------------------------- building


def make_record(
    report: Report, *, settings: Mapping[str, Any], version: str, now: datetime
) -> Record:
    """The record of a verify that passed (a report with an error finding has none)."""
    if not report.ok:
        raise ValueError(f"{report.reference}: a report with error findings gets no record")
    return Record(
        index=parse_digest(report.digest),
        settings_hash=settings_hash(settings),
        settings=MappingProxyType(dict(settings)),
        children=tuple(
            ChildSummary(
                p.platform,
                p.digest,
                _counts(f for f in report.findings if f.platform == p.platform),
                None if p.health is None else _health_summary(p.health),
            )
            for p in report.platforms
        ),
        findings=_counts(report.findings),
        dockyard_version=version,
        verified_at=now.astimezone(UTC).replace(microsecond=0),
    )


def _health_summary(result: HealthResult) -> Mapping[str, Any]:
    return MappingProxyType(
        {
            "status": result.status,
            "seconds": round(result.seconds, 3),
            "emulated": result.emulated,
            "http_status": result.http_status,
        }
    )


def _counts(findings) -> Mapping[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        counts[f.severity] += 1
    return MappingProxyType(counts)


def record_artifact(record: Record, subject: Descriptor) -> tuple[bytes, dict[Digest, bytes]]:
    """(manifest bytes, {digest: blob}) of the record attached to `subject`."""
    if subject.digest != record.index:
        raise ValueError(f"record of {record.index} attached to {subject.digest}")
    document = canonical_json(record.to_json())
    layer = descriptor_of(document, RECORD_TYPE)
    raw, _ = build_manifest(
        EMPTY_DESCRIPTOR,
        [layer],
        artifact_type=RECORD_TYPE,
        subject=Descriptor(subject.media_type, subject.digest, subject.size),
        annotations={
            CREATED_ANNOTATION: rfc3339(record.verified_at),
            SETTINGS_ANNOTATION: record.settings_hash,
        },
    )
    return raw, {EMPTY_DESCRIPTOR.digest: EMPTY_JSON, layer.digest: document}


# ---------------------------------------------------------------- reading


def record_layer(manifest: Manifest, subject: Digest, where: str) -> Descriptor:
    """The record blob's descriptor of a manifest that must be a record of `subject`."""
    if manifest.artifact_type != RECORD_TYPE:
        raise RecordInvalid(
            f"{where}: artifactType is '{manifest.artifact_type}', not {RECORD_TYPE}"
        )
    if manifest.subject is None or manifest.subject.digest != subject:
        raise RecordInvalid(f"{where}: its subject is not {subject}")
    layers = [d for d in manifest.layers if d.media_type == RECORD_TYPE]
    if len(layers) != 1 or layers[0].size > MAX_RECORD_SIZE:
        raise RecordInvalid(
            f"{where}: expected one {RECORD_TYPE} layer of at most {MAX_RECORD_SIZE} bytes"
        )
    return layers[0]


def parse_record(data: bytes, where: str) -> Record:
    """A record from its JSON bytes; anything missing or mistyped is RecordInvalid."""
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT}")
        children = doc["children"]
        if not isinstance(children, list):
            raise ValueError("children is not a list")
        settings = doc["settings"]
        if not isinstance(settings, dict):
            raise ValueError("settings is not an object")
        record = Record(
            index=parse_digest(_str(doc, "index")),
            settings_hash=_str(doc, "settings_hash"),
            settings=MappingProxyType(settings),
            children=tuple(
                ChildSummary(
                    _str(c, "platform"),
                    _str(c, "digest"),
                    _severities(c.get("findings")),
                    _health(c.get("health")),
                )
                for c in children
            ),
            findings=_severities(doc.get("findings")),
            dockyard_version=_str(doc, "dockyard_version"),
            verified_at=_time(_str(doc, "verified_at")),
        )
    except (ValueError, KeyError, TypeError, AttributeError, DockyardError) as exc:
        raise RecordInvalid(f"{where}: not a verification record ({exc})") from None
    if record.settings_hash != settings_hash(record.settings):
        raise RecordInvalid(f"{where}: settings_hash does not match its settings")
    return record


def _health(value: Any) -> Mapping[str, Any] | None:
    # Records made before CHECKS 2 have no "health" key: null, as for a check not run.
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("status"), str):
        raise ValueError("a child's health must be null or an object with a status")
    return MappingProxyType(dict(value))


def _str(doc: Any, key: str) -> str:
    value = doc[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} is not a non-empty string")
    return value


def _severities(value: Any) -> Mapping[str, int]:
    if not isinstance(value, dict) or set(value) != set(SEVERITIES):
        raise ValueError(f"findings must count each of {', '.join(SEVERITIES)}")
    if not all(type(n) is int and n >= 0 for n in value.values()):
        raise ValueError("finding counts must be integers >= 0")
    return MappingProxyType(dict(value))


def _time(text: str) -> datetime:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError("verified_at has no time zone")
    return when.astimezone(UTC)
