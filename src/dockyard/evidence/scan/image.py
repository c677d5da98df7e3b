"""`scan_image`: every platform image of an index (or the one image), judged, ignores applied.

    result = scan_image(store, "sha256:…", scanner=OsvMatcher(load_osv_dir(path)),
                        fail_on="high", ignore=config.scan.ignore, today=date.today())

The OSV matcher judges the Packages of each platform image (what the SBOM
lists); grype or trivy (external.py) judge the image themselves, given the
same platform image by digest. The index's attestation entries
(`unknown/unknown`) are not images and are skipped. Then the `[scan]
ignore` entries are applied and the findings sorted, most severe first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from dockyard.config.model import DEFAULT_FAIL_ON, IgnoreRule
from dockyard.digest import sha256_digest
from dockyard.errors import DigestMismatch, InputError
from dockyard.evidence.packages import Package

# The SBOM branch's reader replaces this one import at merge (see source.py).
from dockyard.evidence.sbom.generate import packages_of
from dockyard.evidence.scan.external import ExternalScanner, ImageSource
from dockyard.evidence.scan.ignore import apply_ignores
from dockyard.evidence.scan.match import match_packages
from dockyard.evidence.scan.osv import OsvDatabase
from dockyard.evidence.scan.result import Finding, PlatformScan, ScanResult
from dockyard.oci.fetch import read_config
from dockyard.oci.models import Index, Manifest, parse_manifest
from dockyard.oci.store import Store
from dockyard.platform import Platform, matches, parse_platform

Say = Callable[[str], None]


@dataclass(frozen=True)
class OsvMatcher:
    """The built-in scanner: an OSV directory matched against each image's packages."""

    db: OsvDatabase

    @property
    def name(self) -> str:
        return f"osv {self.db.directory} ({len(self.db.advisories)} advisories)"


Scanner = OsvMatcher | ExternalScanner


def scan_image(
    store: Store,
    reference: str,
    *,
    scanner: Scanner,
    today: date,
    source: ImageSource | None = None,
    platforms: Sequence[Platform] = (),
    fail_on: str = DEFAULT_FAIL_ON,
    ignore: Sequence[IgnoreRule] = (),
    name: str = "",
    say: Say | None = None,
) -> ScanResult:
    """Scan what `reference` names in `store`. `source` says where an external scanner
    reads the image (the layout or the repository); `platforms` narrows an index."""
    say = say or (lambda _: None)
    raw, media_type = store.manifest_get(reference)
    if reference.startswith("sha256:") and str(sha256_digest(raw)) != reference:
        raise DigestMismatch(f"manifest {reference}: content hashes to {sha256_digest(raw)}")
    top = parse_manifest(raw, media_type)
    name = name or reference
    findings: list[Finding] = []
    notes: list[str] = []
    scanned: list[PlatformScan] = []
    for digest, platform in _images(store, top, platforms, name):
        label = str(platform) if platform is not None else ""
        say(f"scan {label or 'the image'} ({digest}) with {scanner.name}")
        if isinstance(scanner, OsvMatcher):
            packages: list[Package] = packages_of(store, digest, platform)
            found, problems = match_packages(packages, scanner.db, platform=label)
            if not packages:
                problems.append(
                    f"{label or 'the image'}: no packages found"
                )
            scanned.append(PlatformScan(label, digest, len(packages)))
        else:
            if source is None:
                raise InputError(f"{name}: {scanner.name} needs the image's layout or repository")
            found, problems = scanner.scan(source, digest, label), []
            scanned.append(PlatformScan(label, digest, None))
        findings += found
        notes += problems
    kept, ignored, expired = apply_ignores(findings, ignore, today=today)
    return ScanResult(
        reference=name,
        digest=str(top.digest),
        scanner=scanner.name,
        fail_on=fail_on,
        platforms=tuple(scanned),
        findings=tuple(sorted(kept, key=Finding.sort_key)),
        ignored=tuple(sorted(ignored, key=lambda i: i.finding.sort_key())),
        expired=expired,
        notes=tuple(notes),
    )


def _images(
    store: Store, top: Manifest | Index, wanted: Sequence[Platform], name: str
) -> list[tuple[str, Platform | None]]:
    """(digest, platform) of each image to scan: the index's platform entries (those wanted)."""
    if isinstance(top, Manifest):
        platform = _normalised(read_config(store, top).platform)
        if wanted and not any(matches(w, platform) for w in wanted):
            raise InputError(
                f"{name}: a single {platform} image, not {', '.join(map(str, wanted))}"
            )
        return [(str(top.digest), platform)]
    entries = [
        (str(d.digest), _normalised(d.platform)) for d in top.platforms() if d.platform is not None
    ]
    if not wanted:
        return entries  # type: ignore[return-value]
    missing = [w for w in wanted if not any(matches(w, p) for _, p in entries if p is not None)]
    if missing:
        held = ", ".join(str(p) for _, p in entries) or "none"
        raise InputError(
            f"{name}: no {', '.join(map(str, missing))} image in the index (it holds: {held})"
        )
    return [(d, p) for d, p in entries if p is not None and any(matches(w, p) for w in wanted)]


def _normalised(platform: Platform) -> Platform:
    try:
        return parse_platform(str(platform))
    except InputError:
        return platform
