"""apk's database of installed packages (Alpine), read into Packages (pure).

    packages = parse_apk_installed(data, path="/lib/apk/db/installed", distro=distro)

/lib/apk/db/installed holds one block per package, blocks separated by a
blank line, each line `K:value` (apk-tools' database format). Kept: P
(name), V (version), A (architecture), L (license, an SPDX expression in
Alpine's packages) and o (origin: the source package, aports' directory,
which Alpine's advisories name). A block without P or V is skipped.
"""

from __future__ import annotations

from packageurl import PackageURL

from dockyard.evidence.packages import ALPINE, Package
from dockyard.evidence.sbom.distro import Distro

INSTALLED = "lib/apk/db/installed"


def parse_apk_installed(data: bytes, *, path: str, distro: Distro) -> list[Package]:
    """The packages an apk installed database lists (`path`: where it is, for the SBOM)."""
    packages = []
    for block in _blocks(data.decode("utf-8", "replace")):
        package = _package(block, path, distro)
        if package is not None:
            packages.append(package)
    return packages


def _blocks(text: str) -> list[dict[str, str]]:
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
            current = {}
            continue
        key, sep, value = line.partition(":")
        # Only the first of a key counts: the per-file keys (F, R, Z, …) repeat.
        if sep and len(key) == 1 and key not in current:
            current[key] = value.strip()
    if current:
        blocks.append(current)
    return blocks


def _package(block: dict[str, str], path: str, distro: Distro) -> Package | None:
    name, version = block.get("P", ""), block.get("V", "")
    if not name or not version:
        return None
    origin = block.get("o", "") or name
    qualifiers = {"arch": block.get("A", ""), "distro": distro.qualifier()}
    if origin != name:
        qualifiers["upstream"] = origin
    purl = PackageURL(
        type="apk",
        namespace=distro.id or "alpine",
        name=name,
        version=version,
        qualifiers={k: v for k, v in qualifiers.items() if v},
    )
    license_ = block.get("L", "")
    return Package(
        ecosystem=ALPINE,
        name=name,
        version=version,
        source=origin,
        purl=purl.to_string(),
        path="/" + path.lstrip("/"),
        licenses=(license_,) if license_ else (),
    )
