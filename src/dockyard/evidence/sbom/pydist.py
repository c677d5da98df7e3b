"""Installed Python distributions, read from their metadata files into Packages (pure).

    if is_metadata_file(parts): packages = parse_metadata(data, path=path)

A distribution installed by pip (or by a Debian python3-* package built
with a PEP 517 backend) leaves `NAME-VERSION.dist-info/METADATA`; older
setuptools installs leave `NAME-VERSION.egg-info/PKG-INFO`. Both are the
core metadata format (RFC 822 headers, then the description): only the
headers are read. Kept: Name and Version (required: a file without them
is skipped), and the license: `License-Expression` (PEP 639, an SPDX
expression), else a one-line `License` field.
"""

from __future__ import annotations

from email.parser import HeaderParser

from packageurl import PackageURL

from dockyard.evidence.packages import PYPI, Package

# The headers end at the first blank line; more than this is description, not read.
MAX_HEADER_BYTES = 256 * 1024
_FILES = {".dist-info": "METADATA", ".egg-info": "PKG-INFO"}
# A `License` field longer than this is the license text pasted in, not a name.
_MAX_LICENSE_NAME = 100


def is_metadata_file(parts: tuple[str, ...]) -> bool:
    """Is this path (components) a distribution's METADATA or PKG-INFO?"""
    if len(parts) < 2:
        return False
    directory, name = parts[-2], parts[-1]
    return any(directory.endswith(suffix) and name == file for suffix, file in _FILES.items())


def parse_metadata(data: bytes, *, path: str) -> list[Package]:
    """The one distribution a metadata file describes ([] if it names none)."""
    head = data[:MAX_HEADER_BYTES].replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    headers = HeaderParser().parsestr(head.decode("utf-8", "replace"))
    name, version = (headers.get("Name") or "").strip(), (headers.get("Version") or "").strip()
    if not name or not version:
        return []
    license_ = (headers.get("License-Expression") or "").strip()
    if not license_:
        text = (headers.get("License") or "").strip()
        if text and "\n" not in text and len(text) <= _MAX_LICENSE_NAME and text != "UNKNOWN":
            license_ = text
    return [
        Package(
            ecosystem=PYPI,
            name=name,
            version=version,
            purl=PackageURL(type="pypi", name=name, version=version).to_string(),
            path="/" + path.lstrip("/"),
            licenses=(license_,) if license_ else (),
        )
    ]
