"""PLACEHOLDER for the SBOM branch's `packages_of(store, reference, platform)`: dpkg only.

    packages = packages_of_placeholder(store, "sha256:<child>", parse_platform("linux/arm64"))

The scan judges the Packages the SBOM lists (evidence/packages.py). The SBOM
readers (syft's JSON, or dockyard's own readers of dpkg, apk, Go build info
and Python dist-info) are being written on the `sbom` branch; until they
are merged, this minimal reader gives the scan the image's dpkg packages:
`/var/lib/dpkg/status` of the final filesystem (read from the layers, never
extracted: verify/rootfile.py), installed entries only, with dpkg's
`Source:` (name and, for binNMUs and the like, its version) and the
release from os-release in the purl, as syft writes them
(`pkg:deb/debian/busybox-static@…?arch=amd64&upstream=busybox%401%3A1.35.0-4&distro=debian-12`).

At merge: replace the one import of `packages_of_placeholder` in
evidence/scan/image.py with the sbom branch's `packages_of`, and delete this file.
"""

from __future__ import annotations

from debian.deb822 import Deb822
from packageurl import PackageURL

from dockyard.errors import NotFound
from dockyard.evidence.packages import DEBIAN, Package
from dockyard.oci.fetch import child_manifest
from dockyard.oci.models import Manifest, parse_manifest
from dockyard.oci.store import Store
from dockyard.platform import Platform, matches
from dockyard.verify.rootfile import read_final_file

STATUS = "var/lib/dpkg/status"
# A large image's status file is a few MiB; past this it is not read (no packages).
MAX_STATUS_SIZE = 64 * 1024 * 1024
# Debian's /etc/os-release is a symlink to ../usr/lib/os-release (read_final_file reads
# regular files only): the target first.
OS_RELEASE = ("usr/lib/os-release", "etc/os-release")


def packages_of_placeholder(
    store: Store, reference: str, platform: Platform | None
) -> list[Package]:
    """The dpkg packages of the image `reference` names (for an index: its `platform` image)."""
    manifest = _image(store, reference, platform)
    status = read_final_file(store, manifest, STATUS, max_size=MAX_STATUS_SIZE)
    if status is None:
        return []
    distro = ""
    for path in OS_RELEASE:
        found = read_final_file(store, manifest, path)
        if found is not None:
            distro = distro_of(found.decode("utf-8", errors="replace"))
            break
    return parse_dpkg_status(status.decode("utf-8", errors="replace"), distro=distro)


def _image(store: Store, reference: str, platform: Platform | None) -> Manifest:
    raw, media_type = store.manifest_get(reference)
    top = parse_manifest(raw, media_type)
    if isinstance(top, Manifest):
        return top
    for entry in top.platforms():
        if (
            entry.platform is not None
            and platform is not None
            and matches(platform, entry.platform)
        ):
            return child_manifest(store, entry)
    raise NotFound(f"{reference}: the index has no {platform} image")


def distro_of(os_release: str) -> str:
    """`debian-12` from os-release's ID and VERSION_ID ("" when either is missing)."""
    fields = {}
    for line in os_release.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip().strip("\"'")
    if fields.get("ID") and fields.get("VERSION_ID"):
        return f"{fields['ID']}-{fields['VERSION_ID']}"
    return ""


def parse_dpkg_status(text: str, *, distro: str = "") -> list[Package]:
    """The installed packages of a dpkg status file, sorted (pure)."""
    packages = []
    for entry in Deb822.iter_paragraphs(text.splitlines()):
        name, version = entry.get("Package", ""), entry.get("Version", "")
        if not name or not version or not entry.get("Status", "").endswith(" installed"):
            continue  # removed, config-files only, half-installed
        source, _, source_version = entry.get("Source", name).partition(" ")
        source_version = source_version.strip("()") or version
        qualifiers = {"arch": entry.get("Architecture", "")}
        qualifiers["upstream"] = (
            source if source_version == version else f"{source}@{source_version}"
        )
        if distro:
            qualifiers["distro"] = distro
        purl = PackageURL(
            type="deb", namespace=distro.partition("-")[0] or "debian", name=name, version=version,
            qualifiers={k: v for k, v in qualifiers.items() if v},
        )  # fmt: skip
        packages.append(
            Package(DEBIAN, name, version, source=source, purl=purl.to_string(), path="/" + STATUS)
        )
    return sorted(packages)
