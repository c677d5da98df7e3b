"""syft's JSON output (`-o syft-json`), read into Packages (pure).

    packages, version = parse_syft_json(data)

Each artefact becomes a Package: syft's `type` mapped to the ecosystem OSV
names (deb → Debian, or Ubuntu on Ubuntu; apk → Alpine; go-module → Go;
python → PyPI; …; a type without an OSV ecosystem, such as `binary`, is
kept as syft names it), its name, version and purl as syft wrote them, the
source package (dpkg's Source for deb, apk's origin), the path of the
primary evidence (e.g. /var/lib/dpkg/status; else the first location), and
the licenses (syft's SPDX expression where it found one, else the text).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from dockyard.errors import SbomFailed
from dockyard.evidence.packages import ALPINE, DEBIAN, GO, PYPI, Package

# syft's package types -> OSV ecosystem names (https://ossf.github.io/osv-schema/).
ECOSYSTEMS = {
    "deb": DEBIAN,
    "apk": ALPINE,
    "go-module": GO,
    "python": PYPI,
    "npm": "npm",
    "gem": "RubyGems",
    "rust-crate": "crates.io",
    "java-archive": "Maven",
    "php-composer": "Packagist",
    "dotnet": "NuGet",
    "hex": "Hex",
    "pub": "Pub",
}
# dpkg distributions whose OSV ecosystem is not Debian's.
_DPKG_ECOSYSTEMS = {"ubuntu": "Ubuntu"}


def parse_syft_json(data: bytes) -> tuple[list[Package], str]:
    """(the packages, syft's version) from syft-json bytes; SbomFailed if they are not that."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise SbomFailed(f"syft's output is not JSON ({e})") from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("artifacts"), list):
        raise SbomFailed("syft's output has no `artifacts` list (not syft-json)")
    distro, descriptor = doc.get("distro"), doc.get("descriptor")
    distro = distro if isinstance(distro, Mapping) else {}
    version = _text(descriptor.get("version")) if isinstance(descriptor, Mapping) else ""
    packages = [
        p for a in doc["artifacts"] if isinstance(a, Mapping) and (p := _package(a, distro))
    ]
    return packages, version


def _package(artifact: Mapping[str, Any], distro: Mapping[str, Any]) -> Package | None:
    name, version = _text(artifact.get("name")), _text(artifact.get("version"))
    kind = _text(artifact.get("type"))
    if not name or not kind:
        return None
    ecosystem = ECOSYSTEMS.get(kind, kind)
    if kind == "deb":
        ecosystem = _DPKG_ECOSYSTEMS.get(_text(distro.get("id")), DEBIAN)
    return Package(
        ecosystem=ecosystem,
        name=name,
        version=version,
        source=_source(kind, artifact, name),
        purl=_text(artifact.get("purl")),
        path=_path(artifact.get("locations")),
        licenses=_licenses(artifact.get("licenses")),
    )


def _source(kind: str, artifact: Mapping[str, Any], name: str) -> str:
    metadata = artifact.get("metadata")
    if not isinstance(metadata, Mapping):
        metadata = {}
    if kind == "deb":
        return _text(metadata.get("source")) or name
    if kind == "apk":
        return _text(metadata.get("originPackage")) or name
    return ""


def _path(locations: Any) -> str:
    if not isinstance(locations, list):
        return ""
    paths = [loc for loc in locations if isinstance(loc, Mapping) and _text(loc.get("path"))]
    for loc in paths:
        annotations = loc.get("annotations")
        if isinstance(annotations, Mapping) and annotations.get("evidence") == "primary":
            return _text(loc["path"])
    return _text(paths[0]["path"]) if paths else ""


def _licenses(licenses: Any) -> tuple[str, ...]:
    found: list[str] = []
    for entry in licenses if isinstance(licenses, list) else ():
        if isinstance(entry, Mapping):
            text = _text(entry.get("spdxExpression")) or _text(entry.get("value"))
        else:
            text = _text(entry)
        if text and text not in found:
            found.append(text)
    return tuple(found)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
