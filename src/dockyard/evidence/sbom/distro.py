"""Which distribution an image is, from its os-release file (pure).

    distro = parse_os_release(data)      # Distro(id="debian", version_id="12", ...)

The package readers name packages with it: the purl namespace and `distro`
qualifier (`pkg:deb/debian/zlib1g@…?distro=debian-12`, as syft writes them)
and the ecosystem of dpkg packages (Debian or Ubuntu). The file is
/etc/os-release, else /usr/lib/os-release (os-release(5)); values may be
quoted as in a shell.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

# os-release(5): the two places, in the order a reader tries them.
OS_RELEASE_PATHS = ("etc/os-release", "usr/lib/os-release")


@dataclass(frozen=True)
class Distro:
    id: str = ""  # ID: debian, ubuntu, alpine, … ("" when the image has no os-release)
    version_id: str = ""  # VERSION_ID: 12, 3.19.1, …
    id_like: tuple[str, ...] = ()  # ID_LIKE, e.g. ("debian",) for Ubuntu

    def qualifier(self) -> str:
        """The purl `distro` qualifier syft writes: `debian-12`, `alpine-3.19.1` ("" if unknown)."""
        if not self.id:
            return ""
        return f"{self.id}-{self.version_id}" if self.version_id else self.id


def parse_os_release(data: bytes) -> Distro:
    """The Distro an os-release file names; fields it lacks stay empty (never an error)."""
    fields: dict[str, str] = {}
    for line in data.decode("utf-8", "replace").splitlines():
        key, sep, value = line.strip().partition("=")
        if not sep or not key or key.startswith("#"):
            continue
        try:
            words = shlex.split(value)
        except ValueError:  # an unbalanced quote: keep the text as written
            words = [value.strip("\"'")]
        fields[key] = " ".join(words)
    return Distro(
        id=fields.get("ID", "").lower(),
        version_id=fields.get("VERSION_ID", ""),
        id_like=tuple(fields.get("ID_LIKE", "").lower().split()),
    )
