"""The one Store protocol both the OCI layout and the registry implement.

`copy` is written once against it (style.md §4). A store that cannot do
something raises dockyard.errors.Unsupported and the caller falls back.
Repositories are addressed by the store itself (a RegistryStore is bound to
one repository, a LayoutStore to one directory).

Referrers (OCI 1.1: manifests whose `subject` names another, such as
dockyard's verification record, SBOMs, signatures) are two verbs of their own:
a registry may keep the list itself, or the client keeps it under the
`sha256-<hex>` tag (oci/referrers.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Protocol, runtime_checkable

from dockyard.digest import Digest

if TYPE_CHECKING:
    from dockyard.oci.models import Descriptor



@runtime_checkable
class Store(Protocol):
    """Where images live: blobs by digest, manifests by tag or digest (LayoutStore, RegistryStore)."""

    def blob_exists(self, digest: Digest) -> int | None:
        """Size of the blob if present, else None."""

    def blob_open(self, digest: Digest) -> IO[bytes]:
        """A stream of the blob's bytes; the caller verifies digest and size while reading."""

    def blob_put(self, digest: Digest, size: int, stream: IO[bytes]) -> None:
        """Store a blob read from `stream`; refuse it if it does not hash to `digest`."""

    def blob_mount(self, digest: Digest, source: str) -> bool:
        """Make a blob present by reference to another repository; False if not possible."""

    def manifest_get(self, reference: str) -> tuple[bytes, str]:
        """(exact bytes, media type) of a manifest by tag or digest string."""

    def manifest_head(self, reference: str) -> tuple[Digest, int, str] | None:
        """(digest, size, media type) of a manifest, or None if absent."""

    def manifest_put(self, data: bytes, media_type: str, *, tag: str | None = None) -> Digest:
        """Store a manifest by digest, and under `tag` when given. Returns its digest."""

    def tag_list(self) -> Iterator[str]:
        """Every tag in the repository."""

    def manifest_delete(self, digest: Digest) -> None:
        """Delete a manifest by digest (raises Unsupported when refused)."""

    def referrers(self, subject: Digest, *, artifact_type: str | None = None) -> list[Descriptor]:
        """Descriptors of the manifests whose subject is `subject` (of `artifact_type` when given)."""

    def referrer_put(self, data: bytes, media_type: str) -> Digest:
        """Store a manifest that has a `subject` by digest and list it among the subject's
        referrers. Its blobs must be stored first; the subject need not be."""
