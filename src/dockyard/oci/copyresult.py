"""What a copy reports: the `Progress` protocol while it works, `CopyResult` after.

`Tally` counts blobs and manifests from the copy's worker threads; the counts
become the result's `BlobCounts` and `ManifestCounts`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

from dockyard.digest import Digest


class Progress(Protocol):
    """What copy reports while it works (called from worker threads)."""

    def blob_started(self, digest: Digest, size: int) -> None:
        """A transfer of `size` bytes begins (again, after a retry)."""

    def blob_advanced(self, digest: Digest, n: int) -> None:
        """`n` more bytes of the blob went through."""

    def blob_done(self, digest: Digest, outcome: str) -> None:
        """The blob is at the destination: outcome is copied, skipped or mounted."""


@dataclass(frozen=True)
class BlobCounts:
    copied: int = 0
    skipped: int = 0
    mounted: int = 0
    bytes: int = 0  # bytes of the blobs copied (not mounted, not skipped)


@dataclass(frozen=True)
class ManifestCounts:
    copied: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class CopyResult:
    """What a copy moved: the digest, blobs and manifests copied or already there, bytes, time."""

    source: str
    destination: str
    digest: Digest
    media_type: str
    platforms: tuple[str, ...]
    tag: str | None
    up_to_date: bool  # the destination already had it: nothing was written
    blobs: BlobCounts
    manifests: ManifestCounts
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "destination": self.destination,
            "digest": str(self.digest),
            "media_type": self.media_type,
            "platforms": list(self.platforms),
            "tag": self.tag,
            "up_to_date": self.up_to_date,
            "blobs": {
                "copied": self.blobs.copied,
                "skipped": self.blobs.skipped,
                "mounted": self.blobs.mounted,
                "bytes": self.blobs.bytes,
            },
            "manifests": {"copied": self.manifests.copied, "skipped": self.manifests.skipped},
            "seconds": round(self.seconds, 3),
        }


class Tally:
    """Counts from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.blobs = {"copied": 0, "skipped": 0, "mounted": 0, "bytes": 0}
        self.manifests = {"copied": 0, "skipped": 0}

    def blob(self, outcome: str, size: int = 0) -> None:
        with self._lock:
            self.blobs[outcome] += 1
            self.blobs["bytes"] += size

    def manifest(self, outcome: str, n: int = 1) -> None:
        with self._lock:
            self.manifests[outcome] += n


class NoProgress:
    """The Progress of a copy nobody watches."""

    def blob_started(self, digest: Digest, size: int) -> None:
        pass

    def blob_advanced(self, digest: Digest, n: int) -> None:
        pass

    def blob_done(self, digest: Digest, outcome: str) -> None:
        pass
