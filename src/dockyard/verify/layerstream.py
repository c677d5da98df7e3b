"""Reading one layer as a stream: hashed as it passes, decompressed in memory, capped.

    kind = layer_compression(descriptor.media_type) or sniff(buffered.peek(4)[:4])
    raw = HashingReader(stream, descriptor)       # compressed bytes: digest and size checked
    counted = DecompressedStream(gzip_reader(...), raw, on_read=..., max_ratio=..., ...)

The compressed bytes are hashed and counted as they pass (never more than
the descriptor's size; verify() raises DigestMismatch), decompressed with
isal (falling back to zlib) or the `zstandard` package when installed, and
the decompressed bytes are counted against the caller's caps and, when a
diff_id is to be compared, hashed. BoundedTarInfo refuses tar metadata
headers that tarfile would read whole into memory. Nothing here opens a
file or a connection: the caller hands in the stream.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import zlib
from collections.abc import Callable
from typing import IO, Any

from dockyard.digest import Digest
from dockyard.errors import DigestMismatch, OperationError
from dockyard.oci.models import Descriptor
from dockyard.verify.layerview import LimitReached

MiB = 1 << 20
GiB = 1 << 30
# Compressed bytes read from the store per call.
CHUNK = 1 * MiB
# tarfile's stream buffer: its reads slice this buffer, so bigger is not faster.
TAR_BUFSIZE = 64 * 1024
# A pax or GNU long-name header bigger than this is an attack, not a name
# (tarfile would read it whole into memory).
MAX_TAR_METADATA = 1 * MiB

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_OTHER_MAGIC = {b"BZh": "bzip2", b"\xfd7zX": "xz"}
_META_TYPES = frozenset(
    {
        tarfile.XHDTYPE,
        tarfile.XGLTYPE,
        tarfile.SOLARIS_XHDTYPE,
        tarfile.GNUTYPE_LONGNAME,
        tarfile.GNUTYPE_LONGLINK,
    }
)


class HashingReader(io.RawIOBase):
    """The compressed layer: hashed and counted as it passes, never more than its size."""

    def __init__(self, raw: IO[bytes], descriptor: Descriptor) -> None:
        super().__init__()
        self._raw = raw
        self._descriptor = descriptor
        self._hash = hashlib.new(descriptor.digest.algorithm)
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._raw.read(len(buffer))
        except OSError as e:
            raise OperationError(f"layer {self._descriptor.digest}: read failed: {e}") from e
        n = len(data)
        buffer[:n] = data
        self._hash.update(data)
        self.count += n
        if self.count > self._descriptor.size:
            raise DigestMismatch(
                f"layer {self._descriptor.digest}: more than the expected "
                f"{self._descriptor.size} bytes"
            )
        return n

    def verify(self) -> None:
        d = self._descriptor
        if self.count != d.size:
            raise DigestMismatch(f"layer {d.digest}: {self.count} bytes, expected {d.size}")
        got = self._hash.hexdigest()
        if got != d.digest.hex:
            raise DigestMismatch(
                f"layer {d.digest}: content hashes to {d.digest.algorithm}:{got}, "
                f"expected {d.digest}"
            )


class DecompressedStream:
    """The decompressed tar stream: counted against the caps, hashed for the diff_id.

    `on_read` is told each read's size (the caller's total cap raises there);
    `max_ratio` caps decompressed/compressed bytes, judged against at least
    `ratio_floor` compressed bytes (oci/inflate.over_ratio; None: not judged,
    an uncompressed tar).
    """

    def __init__(
        self,
        inner: Any,
        raw: HashingReader,
        *,
        on_read: Callable[[int], None],
        max_ratio: int | None,
        ratio_floor: int,
        hasher: Any = None,
    ) -> None:
        self._inner = inner
        self._raw = raw
        self._on_read = on_read
        self._max_ratio = max_ratio
        self._ratio_floor = ratio_floor
        self.hasher = hasher
        self.count = 0
        self.finished = False  # read to its end: the hash covers the whole stream

    def diff_id(self) -> Digest:
        return Digest(self.hasher.name, self.hasher.hexdigest())

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(CHUNK if size is None or size < 0 else size)
        if not data:
            self.finished = True
        elif self.hasher is not None:
            self.hasher.update(data)
        self.count += len(data)
        self._on_read(len(data))
        compressed = self._raw.count
        if self._max_ratio is not None and self.count > self._max_ratio * max(
            compressed, self._ratio_floor
        ):
            raise LimitReached(
                f"decompresses more than {self._max_ratio}x "
                f"({size_text(self.count)} from {size_text(compressed)})",
                total=False,
            )
        return data


class BoundedTarInfo(tarfile.TarInfo):
    """Refuses pax/GNU long-name headers that tarfile would read whole into memory."""

    def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in _META_TYPES and self.size > MAX_TAR_METADATA:
            raise LimitReached(
                f"a tar metadata header of {size_text(self.size)} (more than "
                f"{size_text(MAX_TAR_METADATA)})",
                total=False,
            )
        return super()._proc_member(tarfile_)


def layer_compression(media_type: str) -> str | None:
    """'gzip', 'zstd' or 'tar' from a layer media type; None when it does not say."""
    media_type = media_type.lower()
    if media_type.endswith(("+gzip", ".tar.gzip")):
        return "gzip"
    if media_type.endswith("+zstd"):
        return "zstd"
    if media_type.endswith(".tar"):
        return "tar"
    return None


def sniff(magic: bytes) -> str:
    """The compression a layer's first bytes show (when its media type does not say)."""
    if magic.startswith(_GZIP_MAGIC):
        return "gzip"
    if magic.startswith(_ZSTD_MAGIC):
        return "zstd"
    for prefix, name in _OTHER_MAGIC.items():
        if magic.startswith(prefix):
            return name
    return "tar"


def gzip_reader(stream: IO[bytes]) -> IO[bytes]:
    """Decompressing gzip reader: isal's (a dependency), else the stdlib's zlib one."""
    try:
        from isal import igzip
    except ImportError:  # pragma: no cover - isal is a dependency; zlib still works
        return gzip.GzipFile(fileobj=stream, mode="rb")
    return igzip.IGzipFile(fileobj=stream, mode="rb")


def zstd_reader(stream: IO[bytes]) -> IO[bytes] | None:
    """Decompressing zstd reader; None when the optional `zstandard` package is missing."""
    try:
        import zstandard
    except ImportError:
        return None
    return zstandard.ZstdDecompressor().stream_reader(
        stream, read_across_frames=True, closefd=False
    )


def _corrupt_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [tarfile.TarError, EOFError, OSError, zlib.error]
    try:
        from isal.igzip_lib import IsalError

        errors.append(IsalError)
    except ImportError:  # pragma: no cover
        pass
    try:
        import zstandard

        errors.append(zstandard.ZstdError)
    except ImportError:
        pass
    return tuple(errors)


# What damaged compressed data or a damaged tar raises (OSError: gzip's BadGzipFile).
CORRUPT = _corrupt_errors()


def drain_nonzero(stream: DecompressedStream, leftover: bytes) -> bool:
    """Read the decompressed stream to its end; True if anything but zero padding was left."""
    nonzero = bool(leftover.strip(b"\0"))
    while data := stream.read(CHUNK):
        nonzero = nonzero or bool(data.strip(b"\0"))
    return nonzero


def size_text(n: int) -> str:
    """A byte count as a message spells it: `8 GiB`, `1.5 MiB`, `12 bytes`."""
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{n} bytes"
