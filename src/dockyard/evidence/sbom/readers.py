"""dockyard's own package readers, over the files imagefs kept (pure).

    packages = packages_from_files(read_image_files(store, manifest))

`classify` says which files a reader wants (by path; ELF binaries are
recognised by their content as they stream by), `Kept` is what is kept of one.

Used when syft is not (see syft.py). Each kind of file goes to its reader:
dpkg status and status.d (dpkg.py), apk's installed database (apk.py),
Python METADATA / PKG-INFO (pydist.py) and the Go build info of binaries
(gobuild.py). The distribution, for purls and the dpkg ecosystem, comes
from /etc/os-release, else /usr/lib/os-release (distro.py). Not covered:
RPM databases, language packages other than Python and Go (npm, gems,
jars, …) and licenses of dpkg packages; syft covers them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dockyard.evidence.packages import Package
from dockyard.evidence.sbom.apk import INSTALLED, parse_apk_installed
from dockyard.evidence.sbom.distro import OS_RELEASE_PATHS, Distro, parse_os_release
from dockyard.evidence.sbom.dpkg import is_status_file, parse_dpkg_status
from dockyard.evidence.sbom.gobuild import BuildInfo, go_packages
from dockyard.evidence.sbom.pydist import is_metadata_file, parse_metadata


@dataclass(frozen=True)
class Kept:
    """What the readers keep of one file: its kind and bytes, or a binary's Go build info."""

    kind: str  # "dpkg", "apk", "python", "os-release", "go"
    data: bytes = b""
    go: BuildInfo | None = None


def classify(parts: tuple[str, ...]) -> str | None:
    """The kind of database file a path (components, no leading /) is, or None."""
    path = "/".join(parts)
    if path in OS_RELEASE_PATHS:
        return "os-release"
    if path == INSTALLED:
        return "apk"
    if is_status_file(parts):
        return "dpkg"
    if is_metadata_file(parts):
        return "python"
    return None


def packages_from_files(files: Sequence[tuple[str, Kept]]) -> list[Package]:
    """The packages the kept files of one image list (unsorted; the SBOM sorts)."""
    distro = image_distro(files)
    packages: list[Package] = []
    for path, kept in files:
        if kept.kind == "dpkg":
            packages += parse_dpkg_status(kept.data, path=path, distro=distro)
        elif kept.kind == "apk":
            packages += parse_apk_installed(kept.data, path=path, distro=distro)
        elif kept.kind == "python":
            packages += parse_metadata(kept.data, path=path)
        elif kept.kind == "go" and kept.go is not None:
            packages += go_packages(kept.go, path=path)
    return packages


def image_distro(files: Sequence[tuple[str, Kept]]) -> Distro:
    """The image's distribution: its os-release file, in os-release(5)'s order of places."""
    found = {path: kept.data for path, kept in files if kept.kind == "os-release"}
    for path in OS_RELEASE_PATHS:
        if "/" + path in found:
            return parse_os_release(found["/" + path])
    return Distro()
