"""dpkg's database of installed packages, read into Packages (pure).

    packages = parse_dpkg_status(data, path="/var/lib/dpkg/status", distro=distro)

The database is /var/lib/dpkg/status (one paragraph per package), and, in
distroless images that have no dpkg, /var/lib/dpkg/status.d/<name> (one
file per package, same format; the `.md5sums` files beside them are not
read). Paragraphs are parsed by python-debian's deb822. Kept from each:
Package, Version (with its epoch), Architecture and Source: the source
package, without the version dpkg writes in parentheses when it differs
(`Source: busybox (1:1.35.0-4)`); Debian's advisories name source packages,
so the scan matches through it. A package whose Status says its files are
gone (`not-installed`, `config-files`) is left out; a paragraph without
Package or Version is not a package and is skipped.

Licenses are not read here (Debian keeps them in /usr/share/doc/*/copyright,
free text): dpkg packages carry licenses only in syft's SBOMs.
"""

from __future__ import annotations

from debian.deb822 import Deb822
from packageurl import PackageURL

from dockyard.evidence.packages import DEBIAN, Package
from dockyard.evidence.sbom.distro import Distro

STATUS = "var/lib/dpkg/status"
STATUS_D = "var/lib/dpkg/status.d"
# dpkg-query(1): the package states in which its files are not on disk.
_GONE = frozenset({"not-installed", "config-files"})
# Ecosystems as OSV names them, for dpkg distributions other than Debian.
_ECOSYSTEMS = {"ubuntu": "Ubuntu"}


def is_status_file(parts: tuple[str, ...]) -> bool:
    """Is this path (components, no leading /) a dpkg database file the reader parses?"""
    path = "/".join(parts)
    if path == STATUS:
        return True
    parent, name = "/".join(parts[:-1]), parts[-1] if parts else ""
    return parent == STATUS_D and not name.endswith(".md5sums") and not name.startswith(".")


def parse_dpkg_status(data: bytes, *, path: str, distro: Distro) -> list[Package]:
    """The installed packages a dpkg status file lists (`path`: where it is, for the SBOM)."""
    text = data.decode("utf-8", "replace")
    packages = []
    for paragraph in Deb822.iter_paragraphs(text.splitlines(keepends=True), use_apt_pkg=False):
        package = _package(paragraph, path, distro)
        if package is not None:
            packages.append(package)
    return packages


def _package(paragraph: Deb822, path: str, distro: Distro) -> Package | None:
    name = paragraph.get("Package", "").strip()
    version = paragraph.get("Version", "").strip()
    if not name or not version:
        return None
    status = paragraph.get("Status", "").split()
    if status and status[-1] in _GONE:
        return None
    arch = paragraph.get("Architecture", "").strip()
    source, source_version = _source(paragraph.get("Source", ""), name)
    namespace = distro.id or "debian"
    qualifiers = {"arch": arch, "distro": distro.qualifier()}
    if source != name or source_version:
        qualifiers["upstream"] = f"{source}@{source_version}" if source_version else source
    purl = PackageURL(
        type="deb",
        namespace=namespace,
        name=name,
        version=version,
        qualifiers={k: v for k, v in qualifiers.items() if v},
    )
    return Package(
        ecosystem=_ECOSYSTEMS.get(distro.id, DEBIAN),
        name=name,
        version=version,
        source=source,
        purl=purl.to_string(),
        path="/" + path.lstrip("/"),
    )


def _source(field: str, name: str) -> tuple[str, str]:
    """(source package, its version when dpkg gives one): `glibc (2.36-9)` -> ("glibc", "2.36-9")."""
    words = field.split(None, 1)
    if not words:
        return name, ""
    version = words[1].strip() if len(words) > 1 else ""
    return words[0], version[1:-1].strip() if version[:1] + version[-1:] == "()" else ""
