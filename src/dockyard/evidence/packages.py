"""What an image contains, as the SBOM and the scan both see it (pure).

The SBOM readers (syft's JSON, or dockyard's own readers of dpkg, apk, Go
build info and Python dist-info) produce Packages; the SBOM writers turn
them into SPDX and CycloneDX documents; the scan matches them against
advisories. One model, so the scan judges exactly what the SBOM lists.
"""

from __future__ import annotations

from dataclasses import dataclass

# Ecosystems as OSV names them (https://ossf.github.io/osv-schema/#affectedpackage-field).
DEBIAN, ALPINE, GO, PYPI = "Debian", "Alpine", "Go", "PyPI"


@dataclass(frozen=True, order=True)
class Package:
    """One installed package of one platform image."""

    ecosystem: str  # DEBIAN, ALPINE, GO, PYPI, or what syft names another ("npm", …)
    name: str  # the binary package (dpkg Package:, apk P:, Go module path, dist name)
    version: str  # as installed (dpkg Version: with epoch, apk V:, Go v1.2.3, PEP 440)
    source: str = ""  # Debian: the source package (dpkg Source:, else the name); Alpine: origin
    purl: str = ""  # package URL, e.g. pkg:deb/debian/busybox@1:1.35.0-4?arch=arm64
    path: str = ""  # where it was found in the image (/var/lib/dpkg/status, /usr/bin/app, …)
    licenses: tuple[str, ...] = ()  # SPDX license expressions, when known
