"""One small file of an image's final filesystem (/etc/passwd), read from its layers.

The non-root check needs /etc/passwd when `User` is a name. The layers are
streamed from the top down, never extracted: the first layer that holds the
path, or hides it (a `.wh.` whiteout of the file or of `etc`, an opaque
`etc`, a non-directory `etc`), decides; a file the same layer writes wins
over that layer's whiteouts, which only hide lower layers. Every layer read
is hashed to its end and checked against its descriptor (DigestMismatch),
and decompressed bytes are capped like the arch scan's (ScanLimits), so a
layer that tries to be a bomb stops the read.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from typing import IO, Any

from dockyard.errors import DigestMismatch, OperationError
from dockyard.oci.models import Descriptor, Manifest
from dockyard.oci.store import Store
from dockyard.verify.archscan import ScanLimits
from dockyard.verify.layerstream import layer_compression
from dockyard.verify.layerview import OPAQUE, WHITEOUT

CHUNK = 1 << 20
# /etc/passwd of a real image is a few KiB; anything bigger is not read.
MAX_FILE_SIZE = 1 << 20
# pax / GNU long-name headers tarfile would read whole into memory.
MAX_TAR_METADATA = 1 << 20


class _Stop(Exception):
    """The layer is not readable as a tar within the caps: the file is 'not found'."""


def read_final_file(
    store: Store,
    manifest: Manifest,
    path: str,
    *,
    max_size: int = MAX_FILE_SIZE,
    limits: ScanLimits = ScanLimits(),
) -> bytes | None:
    """The bytes of `path` (e.g. "etc/passwd") in the image's final view; None if absent,
    deleted, not a regular file, bigger than `max_size`, or behind an unreadable layer."""
    parts = _parts(path)
    for descriptor in reversed(manifest.layers):
        decided, data = _layer(store, descriptor, parts, max_size, limits)
        if decided:
            return data
    return None


def _layer(
    store: Store, descriptor: Descriptor, parts: tuple[str, ...], max_size: int, limits: ScanLimits
) -> tuple[bool, bytes | None]:
    raw = _Hashing(store.blob_open(descriptor.digest), descriptor)
    try:
        buffered = io.BufferedReader(raw, CHUNK)  # type: ignore[arg-type]
        try:
            decided, data = _search(_decompressed(buffered, descriptor), parts, max_size, limits)
        except _Stop:
            decided, data = True, None
        while buffered.read(CHUNK):  # the rest of the layer still passes the hash
            pass
        raw.verify()
    finally:
        raw.close_inner()
    return decided, data


def _search(
    stream: IO[bytes], parts: tuple[str, ...], max_size: int, limits: ScanLimits
) -> tuple[bool, bytes | None]:
    parent, name = parts[:-1], parts[-1]
    hidden = False
    counted = _Capped(stream, limits.max_uncompressed)
    try:
        with tarfile.open(fileobj=counted, mode="r|", tarinfo=_BoundedTarInfo) as tar:
            entries = 0
            while (member := tar.next()) is not None:
                tar.members.clear()  # stream mode still appends every member
                entries += 1
                if entries > limits.max_entries:
                    raise _Stop
                got = _parts(member.name)
                if got == parts:
                    if member.isreg() and member.size <= max_size:
                        f = tar.extractfile(member)
                        return True, f.read(max_size) if f is not None else None
                    return True, None  # a link, a directory, a device, too big
                if _hides(got, parent, name, member):
                    hidden = True
    except (tarfile.TarError, EOFError, OSError, ValueError) as e:
        raise _Stop from e
    return hidden, None


def _hides(got: tuple[str, ...], parent: tuple[str, ...], name: str, member: tarfile.TarInfo) -> bool:
    """Does this entry hide `parent/name` in the layers below?"""
    if got == (*parent, WHITEOUT + name) or got == (*parent, OPAQUE):
        return True
    for depth in range(len(parent)):
        ancestor = parent[: depth + 1]
        if got == (*ancestor[:-1], WHITEOUT + ancestor[-1]):
            return True
        if got == (*ancestor, OPAQUE):
            return True
        if got == ancestor and not member.isdir():
            return True  # a file or symlink where a directory was
    return False


def _parts(name: str) -> tuple[str, ...]:
    return tuple(p for p in name.split("/") if p not in ("", "."))


def _decompressed(stream: io.BufferedReader, descriptor: Descriptor) -> IO[bytes]:
    kind = layer_compression(descriptor.media_type)
    if kind is None:
        magic = stream.peek(4)[:4]
        kind = "gzip" if magic.startswith(b"\x1f\x8b") else (
            "zstd" if magic.startswith(b"\x28\xb5\x2f\xfd") else "tar"
        )
    if kind == "gzip":
        from isal import igzip

        return igzip.IGzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]
    if kind == "zstd":
        try:
            import zstandard
        except ImportError:
            raise _Stop from None
        return zstandard.ZstdDecompressor().stream_reader(  # type: ignore[return-value]
            stream, read_across_frames=True, closefd=False
        )
    return stream


class _Capped:
    """Decompressed bytes, counted: past `limit` the read stops (a bomb)."""

    def __init__(self, inner: IO[bytes], limit: int) -> None:
        self._inner = inner
        self._limit = limit
        self._count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(CHUNK if size is None or size < 0 else size)
        self._count += len(data)
        if self._count > self._limit:
            raise _Stop
        return data


class _BoundedTarInfo(tarfile.TarInfo):
    def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.GNUTYPE_LONGNAME,
                         tarfile.GNUTYPE_LONGLINK) and self.size > MAX_TAR_METADATA:
            raise _Stop
        return super()._proc_member(tarfile_)


class _Hashing(io.RawIOBase):
    """The compressed layer, hashed and counted; never more than its descriptor's size."""

    def __init__(self, inner: IO[bytes], descriptor: Descriptor) -> None:
        super().__init__()
        self._inner = inner
        self._descriptor = descriptor
        self._hash = hashlib.new(descriptor.digest.algorithm)
        self._count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._inner.read(len(buffer))
        except OSError as e:
            raise OperationError(f"layer {self._descriptor.digest}: read failed: {e}") from e
        n = len(data)
        buffer[:n] = data
        self._hash.update(data)
        self._count += n
        if self._count > self._descriptor.size:
            raise DigestMismatch(
                f"layer {self._descriptor.digest}: more than the expected {self._descriptor.size} bytes"
            )
        return n

    def verify(self) -> None:
        d = self._descriptor
        if self._count != d.size:
            raise DigestMismatch(f"layer {d.digest}: {self._count} bytes, expected {d.size}")
        got = self._hash.hexdigest()
        if got != d.digest.hex:
            raise DigestMismatch(
                f"layer {d.digest}: content hashes to {d.digest.algorithm}:{got}, expected {d.digest}"
            )

    def close_inner(self) -> None:
        self._inner.close()
