"""grype's and trivy's JSON reports -> Findings (pure).

    findings = parse_grype(stdout_bytes, platform="linux/arm64", shown="grype")
    findings = parse_trivy(stdout_bytes, platform="linux/arm64", shown="trivy")

Written against their documented formats, not run against the real
binaries (neither is installed here): `grype -o json` (`matches[]`, each a
`vulnerability` {id, severity, fix {versions, state}, cvss[]} with
`relatedVulnerabilities[]` and the `artifact` {name, version, type, purl,
upstreams[]}) and `trivy image --format json` (SchemaVersion 2:
`Results[].Vulnerabilities[]` {VulnerabilityID, PkgName, InstalledVersion,
FixedVersion, Severity, Title, SrcName}, or the older top-level list of
results). Severity words become dockyard's five levels (grype's Negligible
is low). A report that is not such a document is a ScanFailed naming the
scanner: the gate never passes on output it could not read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from dockyard.errors import ScanFailed
from dockyard.evidence.scan.result import Finding
from dockyard.evidence.scan.severity import UNKNOWN, Severity, level_of_word

# grype's artifact.type and trivy's Result.Type -> the OSV ecosystem names findings carry.
_ECOSYSTEMS = {
    "deb": "Debian", "debian": "Debian", "ubuntu": "Ubuntu",
    "apk": "Alpine", "alpine": "Alpine",
    "go-module": "Go", "gobinary": "Go", "gomod": "Go",
    "python": "PyPI", "python-pkg": "PyPI", "pip": "PyPI", "pipenv": "PyPI", "poetry": "PyPI",
    "npm": "npm", "node-pkg": "npm", "rust-crate": "crates.io", "cargo": "crates.io",
}  # fmt: skip


def _document(data: bytes, shown: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ScanFailed(f"{shown}: its report is not JSON ({exc})") from None


def _severity(word: object, score: float | None = None) -> Severity:
    level = level_of_word(word) if isinstance(word, str) else UNKNOWN
    return Severity(level, score, "database" if level != UNKNOWN else "")


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


# ---------------------------------------------------------------- grype


def parse_grype(data: bytes, *, platform: str, shown: str = "grype") -> list[Finding]:
    doc = _document(data, shown)
    matches = doc.get("matches") if isinstance(doc, Mapping) else None
    if not isinstance(matches, list):
        raise ScanFailed(f"{shown}: its report has no 'matches' list (not `grype -o json` output)")
    findings = []
    for i, match in enumerate(matches):
        vuln, artifact = (
            match.get(k) if isinstance(match, Mapping) else None
            for k in ("vulnerability", "artifact")
        )
        if (
            not isinstance(vuln, Mapping)
            or not isinstance(artifact, Mapping)
            or not _text(vuln.get("id"))
        ):
            raise ScanFailed(f"{shown}: matches[{i}] has no vulnerability id or artifact")
        fix = vuln.get("fix") if isinstance(vuln.get("fix"), Mapping) else {}
        versions = (
            [v for v in fix.get("versions", []) if isinstance(v, str)]
            if fix.get("state") == "fixed"
            else []
        )
        related = [
            r.get("id") for r in match.get("relatedVulnerabilities") or [] if isinstance(r, Mapping)
        ]
        upstreams = [u for u in artifact.get("upstreams") or [] if isinstance(u, Mapping)]
        findings.append(
            Finding(
                platform=platform,
                package=_text(artifact.get("name")),
                installed=_text(artifact.get("version")),
                advisory=vuln["id"],
                ecosystem=_ECOSYSTEMS.get(_text(artifact.get("type")), _text(artifact.get("type"))),
                source=_text(upstreams[0].get("name")) if upstreams else "",
                fixed=versions[0] if versions else "",
                aliases=tuple(
                    dict.fromkeys(r for r in related if isinstance(r, str) and r != vuln["id"])
                ),
                severity=_severity(vuln.get("severity"), _grype_score(vuln)),
                summary=_text(vuln.get("description")).split("\n")[0],
            )
        )
    return findings


def _grype_score(vuln: Mapping[str, Any]) -> float | None:
    for entry in vuln.get("cvss") or []:
        metrics = entry.get("metrics") if isinstance(entry, Mapping) else None
        score = metrics.get("baseScore") if isinstance(metrics, Mapping) else None
        if isinstance(score, int | float) and not isinstance(score, bool):
            return float(score)
    return None


# ---------------------------------------------------------------- trivy


def parse_trivy(data: bytes, *, platform: str, shown: str = "trivy") -> list[Finding]:
    doc = _document(data, shown)
    results = (
        doc
        if isinstance(doc, list)
        else doc.get("Results", [])
        if isinstance(doc, Mapping)
        else None
    )
    if not isinstance(results, list) or (isinstance(doc, Mapping) and "SchemaVersion" not in doc):
        raise ScanFailed(
            f"{shown}: its report has no 'Results' list (not `trivy image --format json` output)"
        )
    findings = []
    for r, result in enumerate(results):
        if not isinstance(result, Mapping):
            raise ScanFailed(f"{shown}: Results[{r}] is not an object")
        ecosystem = _ECOSYSTEMS.get(_text(result.get("Type")), _text(result.get("Type")))
        for v, vuln in enumerate(result.get("Vulnerabilities") or []):
            if not isinstance(vuln, Mapping) or not _text(vuln.get("VulnerabilityID")):
                raise ScanFailed(
                    f"{shown}: Results[{r}].Vulnerabilities[{v}] has no VulnerabilityID"
                )
            fixed = _text(vuln.get("FixedVersion"))
            source = _text(vuln.get("SrcName"))
            findings.append(
                Finding(
                    platform=platform,
                    package=_text(vuln.get("PkgName")),
                    installed=_text(vuln.get("InstalledVersion")),
                    advisory=vuln["VulnerabilityID"],
                    ecosystem=ecosystem,
                    source=source if source != _text(vuln.get("PkgName")) else "",
                    # trivy lists every fixed branch ("1.2.4, 2.0.1"): the first is the nearest.
                    fixed=fixed.split(",")[0].strip(),
                    severity=_severity(vuln.get("Severity"), _trivy_score(vuln)),
                    summary=_text(vuln.get("Title")),
                )
            )
    return findings


def _trivy_score(vuln: Mapping[str, Any]) -> float | None:
    cvss = vuln.get("CVSS")
    if not isinstance(cvss, Mapping):
        return None
    for entry in cvss.values():
        score = entry.get("V3Score") if isinstance(entry, Mapping) else None
        if isinstance(score, int | float) and not isinstance(score, bool):
            return float(score)
    return None
