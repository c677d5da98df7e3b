"""What one SBOM says: the image it describes and the packages in it (pure).

    inv = make_inventory(subject, packages, tools=(("dockyard", "0.1.0"), ("syft", "1.18.1")))

An Inventory is the input of both writers (spdx.py, cyclonedx.py), so the
two formats describe the same packages. Everything in it comes from the
image, which makes the documents deterministic: packages are sorted and
duplicates dropped; the time is the image config's `created` (1970-01-01
when the config has none), never the clock; the document's id (SPDX
namespace, CycloneDX serial number) is a UUIDv5 of the image digest,
platform, tools and packages. The same image read by the same tools gives
the same bytes.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from packageurl import PackageURL

from dockyard.digest import Digest
from dockyard.evidence.packages import Package
from dockyard.platform import Platform

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# RFC 3339 as image configs write it; Go writes up to nine fractional digits.
_CREATED = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)$")


@dataclass(frozen=True)
class ImageSubject:
    """The platform image an SBOM describes."""

    name: str  # as the user named it, without tag or digest: `host/repo`, `oci:DIR`
    digest: Digest  # the platform image's manifest
    media_type: str
    size: int
    platform: Platform
    created: datetime  # the config's `created` (UTC, whole seconds), else EPOCH

    def purl(self) -> str:
        """`pkg:oci/NAME@sha256:…?arch=…[&repository_url=…]` (purl's `oci` type)."""
        repository = "" if self.name.startswith("oci:") else self.name
        last = self.name.rstrip("/").rsplit("/", 1)[-1].removeprefix("oci:") or "image"
        qualifiers = {"arch": self.platform.architecture}
        if repository:
            qualifiers["repository_url"] = repository
        return PackageURL(
            type="oci", name=last.lower(), version=str(self.digest), qualifiers=qualifiers
        ).to_string()


@dataclass(frozen=True)
class Inventory:
    image: ImageSubject
    packages: tuple[Package, ...]  # sorted, no duplicates
    tools: tuple[tuple[str, str], ...]  # (name, version) of what read the image, dockyard first

    def document_uuid(self) -> uuid.UUID:
        """A UUIDv5 of everything the document says: the same inventory, the same id."""
        h = hashlib.sha256()
        h.update(f"{self.image.digest}\n{self.image.platform}\n{self.image.name}\n".encode())
        for name, version in self.tools:
            h.update(f"tool\t{name}\t{version}\n".encode())
        for p in self.packages:
            h.update(repr(p).encode() + b"\n")
        return uuid.uuid5(uuid.NAMESPACE_URL, f"dockyard-sbom:{h.hexdigest()}")


def make_inventory(
    image: ImageSubject, packages: Iterable[Package], *, tools: Iterable[tuple[str, str]]
) -> Inventory:
    return Inventory(image, tuple(sorted(set(packages))), tuple(tools))


def parse_created(text: str) -> datetime:
    """An image config's `created` as a UTC time in whole seconds; EPOCH if absent or unreadable."""
    m = _CREATED.match(text.strip())
    if m is None:
        return EPOCH
    try:
        when = datetime.fromisoformat(m.group(1) + m.group(2).replace("Z", "+00:00"))
    except ValueError:
        return EPOCH
    return when.astimezone(UTC)
