"""`dockyard sbom REF`: the SBOM of every platform image a location names, optionally attached.

    with Workspace(Settings(retry=RetryPolicy())) as ws:
        result = sbom_location(ws, "oci:dist/oci/api:1.2.3", fmt="cyclonedx", attach=True)
    sys.stdout.buffer.write(result.output())

Bad input (an unknown format, a platform that is not one, or one the index
lacks, a DOCKYARD_SYFT that is not a program) raises InputError before any
document is made. Every document is made before any is attached: a failure
attaches nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dockyard.evidence.sbom.formats import DEFAULT_FORMAT, get_format
from dockyard.evidence.sbom.generate import (
    SbomDocument,
    attach_document,
    platform_images,
    sbom_document,
)
from dockyard.evidence.sbom.syft import find_syft
from dockyard.platform import parse_platform
from dockyard.ref import Reference, parse_location
from dockyard.workspace import Workspace


@dataclass(frozen=True)
class SbomResult:
    """The documents made for `location`, one per platform image, in the index's order."""

    location: str
    documents: tuple[SbomDocument, ...]
    single: bool  # one platform was asked for: the output is that document alone

    def output(self) -> bytes:
        """What `dockyard sbom` prints: the document, or a JSON list of them.

        The list is the documents' own bytes (as their writers wrote them and
        as they are attached) joined into a JSON array, not re-serialised.
        """
        if self.single:
            return self.documents[0].data
        inner = b",\n".join(d.data.rstrip(b"\n") for d in self.documents)
        return b"[\n" + inner + b"\n]\n"


def sbom_location(
    ws: Workspace,
    location: str,
    *,
    fmt: str = DEFAULT_FORMAT,
    platform: str | None = None,
    attach: bool = False,
    progress: Callable[[str], None] | None = None,
) -> SbomResult:
    """SBOMs of the image or index `location` names (see the module docstring)."""
    say = progress or (lambda _: None)
    format_ = get_format(fmt)
    wanted = parse_platform(platform) if platform else None
    parsed = parse_location(location)
    name = parsed.name if isinstance(parsed, Reference) else f"oci:{parsed.path}"
    syft = find_syft(ws.environ)
    store, reference = ws.open(parsed, push=attach)
    images = platform_images(store, reference, platform=wanted, where=location)
    documents = []
    for image in images:
        say(f"{image.platform}: reading {image.descriptor.digest} with {syft or 'dockyard readers'}")
        documents.append(
            sbom_document(store, image, name=name, fmt=format_, syft=syft, environ=ws.environ)
        )
    if attach:
        documents = [attach_document(store, doc) for doc in documents]
    return SbomResult(location, tuple(documents), single=wanted is not None)
