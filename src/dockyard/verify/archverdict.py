"""The ELF verdict of an arch scan (pure): which programs of the final view suit the platform.

    verdict = arch_verdict(view.files(), signature, allow_foreign=globs, platform="linux/arm64", layers=3)

Every ELF program (path, header) is compared with the platform's signature.
A program of another architecture whose path matches an `allow_foreign`
glob (config.pathglob) is an info finding `arch.foreign-allowed`, one per
file, naming the glob; the others are one `arch.mismatch` error naming the
first SHOWN_PATHS of them. `arch.checked` (info) says how many were checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dockyard.config.pathglob import first_match
from dockyard.findings import Finding
from dockyard.platform import ElfSignature
from dockyard.verify.elf import ElfHeader, describe_signature, matches_signature

# How many mismatching paths a finding names.
SHOWN_PATHS = 10


@dataclass(frozen=True)
class ArchVerdict:
    checked: int  # ELF programs compared
    mismatches: tuple[tuple[str, ElfHeader], ...]  # not allowed by any allow_foreign glob
    findings: tuple[Finding, ...]  # arch.checked, arch.mismatch, then arch.foreign-allowed


def arch_verdict(
    files: Iterable[tuple[str, ElfHeader]],
    signature: ElfSignature,
    *,
    allow_foreign: Sequence[str],
    platform: str,
    layers: int,
) -> ArchVerdict:
    """Judge every (path, ELF header) against `signature`; `platform` and `layers` go into
    the findings."""
    checked = 0
    mismatches: list[tuple[str, ElfHeader]] = []
    for path, header in files:
        checked += 1
        if not matches_signature(header, signature):
            mismatches.append((path, header))
    allowed: list[tuple[str, ElfHeader, str]] = []
    if allow_foreign:
        globs = [first_match(allow_foreign, path) for path, _ in mismatches]
        allowed = [(p, h, g) for (p, h), g in zip(mismatches, globs, strict=True) if g]
        mismatches = [m for m, g in zip(mismatches, globs, strict=True) if g is None]
    findings = [
        *_arch_findings(checked, mismatches, signature, platform=platform, layers=layers),
        *_allowed_findings(allowed, signature, platform=platform),
    ]
    return ArchVerdict(checked, tuple(mismatches), tuple(findings))


def _allowed_findings(
    allowed: list[tuple[str, ElfHeader, str]], signature: ElfSignature, *, platform: str
) -> list[Finding]:
    expected = describe_signature(signature)
    return [
        Finding(
            rule="arch.foreign-allowed",
            severity="info",
            platform=platform,
            path=path,
            message=f"{path} is {header.describe()}, not {expected}: allowed by allow-foreign {glob}",
            detail={"arch": header.describe(), "expected": expected, "glob": glob},
        )
        for path, header, glob in allowed
    ]


def _arch_findings(
    checked: int,
    mismatches: list[tuple[str, ElfHeader]],
    signature: ElfSignature,
    *,
    platform: str,
    layers: int,
) -> list[Finding]:
    expected = describe_signature(signature)
    findings = [
        Finding(
            rule="arch.checked",
            severity="info",
            platform=platform,
            path="/",
            message=f"{checked} ELF executables and shared objects checked against {expected}",
            detail={"elf_files": checked, "expected": expected, "layers": layers},
        )
    ]
    if mismatches:
        shown = mismatches[:SHOWN_PATHS]
        listed = ", ".join(f"{path} ({header.describe()})" for path, header in shown)
        more = len(mismatches) - len(shown)
        findings.append(
            Finding(
                rule="arch.mismatch",
                severity="error",
                platform=platform,
                path=shown[0][0],
                message=(
                    f"{len(mismatches)} of {checked} ELF files are not {expected}: {listed}"
                    + (f" and {more} more" if more else "")
                ),
                detail={
                    "expected": expected,
                    "count": len(mismatches),
                    "files": [{"path": p, "arch": h.describe()} for p, h in shown],
                },
            )
        )
    return findings
