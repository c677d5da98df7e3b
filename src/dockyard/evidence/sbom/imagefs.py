"""The files the SBOM readers parse, from an image's final filesystem, in one pass.

    for path, kept in read_image_files(store, manifest):
        kept.kind, kept.data, kept.go       # "dpkg" | "apk" | "python" | "os-release" | "go"

Layers are streamed once, bottom first, never extracted, exactly as verify's
arch scan reads them (verify/layerstream.py: compressed bytes hashed as they
pass and checked against the descriptor, decompressed bytes, entries and the
decompression ratio capped by ScanLimits). The final view is verify's too
(verify/layerview.py): whiteouts, opaque directories and a later file at the
same path remove what lower layers put there, so a package database or a
binary that a later layer deleted or replaced is not listed.

Kept per path: the bytes of os-release, dpkg's status and status.d files,
apk's installed database and Python distributions' METADATA / PKG-INFO
headers; of every ELF executable or shared object, its Go build info (the
file is read as it streams by until the build info is found). A symlink is
never followed (/etc/os-release → ../usr/lib/os-release is read at its
target's own path); a hard link keeps what its target kept when it is a
binary, or a database file linked under a database's name.

Anything that stops a layer being read (damage, a cap, a compression
without a decompressor) fails the SBOM (SbomFailed): a partial list of
packages would look complete. A digest mismatch raises DigestMismatch.
"""

from __future__ import annotations

import io
import tarfile
from typing import IO

from dockyard.errors import SbomFailed
from dockyard.evidence.sbom import pydist
from dockyard.evidence.sbom.gobuild import BuildInfoFinder
from dockyard.evidence.sbom.readers import Kept, classify
from dockyard.oci.models import Descriptor, Manifest
from dockyard.oci.store import Store
from dockyard.verify.archscan import ScanLimits
from dockyard.verify.elf import HEADER_SIZE, MIN_HEADER_SIZE, parse_elf_header
from dockyard.verify.layerstream import (
    CHUNK,
    CORRUPT,
    TAR_BUFSIZE,
    BoundedTarInfo,
    DecompressedStream,
    HashingReader,
    MiB,
    gzip_reader,
    layer_compression,
    size_text,
    sniff,
    zstd_reader,
)
from dockyard.verify.layerview import LimitReached, View, apply_structure, entry_parts

# A package database bigger than this is refused, not cut short (a full
# Debian desktop's dpkg status is ~10 MiB).
MAX_DATABASE = 128 * MiB
MAX_OS_RELEASE = 64 * 1024


# How much of each kind is read: (cap, whether a bigger file is an error or read in part).
_READ = {
    "os-release": (MAX_OS_RELEASE, False),
    "dpkg": (MAX_DATABASE, True),
    "apk": (MAX_DATABASE, True),
    "python": (pydist.MAX_HEADER_BYTES, False),  # only the headers at its start are parsed
}


def read_image_files(
    store: Store, manifest: Manifest, *, limits: ScanLimits = ScanLimits()
) -> list[tuple[str, Kept]]:
    """(path, Kept) of every file the readers parse in the image's final view, in path order."""
    reader = _Reader(limits)
    for index, descriptor in enumerate(manifest.layers):
        stream = store.blob_open(descriptor.digest)
        try:
            reader.layer(index, descriptor, stream)
        finally:
            stream.close()
    return list(reader.view.files())


class _Reader:
    def __init__(self, limits: ScanLimits) -> None:
        self.limits = limits
        self.view: View[Kept] = View(limits.max_entries, what="package files")
        self.entries = 0
        self.uncompressed = 0

    def layer(self, index: int, descriptor: Descriptor, stream: IO[bytes]) -> None:
        raw = HashingReader(stream, descriptor)
        buffered = io.BufferedReader(raw, CHUNK)
        problem = None
        try:
            self._read(index, descriptor, buffered, raw)
        except LimitReached as e:
            problem = f"layer {descriptor.digest}: {e}"
        except CORRUPT as e:
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            problem = f"layer {descriptor.digest}: not a readable layer ({reason})"
        except SbomFailed as e:
            problem = str(e)
        # Every compressed byte passes the hash: a digest mismatch outranks the rest.
        while buffered.read(CHUNK):
            pass
        raw.verify()
        if problem is not None:
            raise SbomFailed(f"{problem}; no SBOM written")

    def _read(
        self, index: int, descriptor: Descriptor, buffered: io.BufferedReader, raw: HashingReader
    ) -> None:
        kind = layer_compression(descriptor.media_type) or sniff(buffered.peek(4)[:4])
        opened: IO[bytes] | None
        if kind == "zstd":
            opened = zstd_reader(buffered)
        elif kind == "gzip":
            opened = gzip_reader(buffered)
        else:
            opened = buffered if kind == "tar" else None
        if opened is None:
            raise SbomFailed(
                f"layer {descriptor.digest}: compression {kind} cannot be read here"
                + (" (install the zstandard package)" if kind == "zstd" else "")
            )
        counted = DecompressedStream(
            opened,
            raw,
            on_read=self._count,
            max_ratio=None if kind == "tar" else self.limits.max_ratio,
            ratio_floor=self.limits.ratio_floor,
        )
        with tarfile.open(
            fileobj=counted, mode="r|", bufsize=TAR_BUFSIZE, tarinfo=BoundedTarInfo
        ) as tar:
            while (member := tar.next()) is not None:
                tar.members.clear()  # stream mode still appends every member
                self.entries += 1
                if self.entries > self.limits.max_entries:
                    raise LimitReached(
                        f"more than {self.limits.max_entries} entries in the image", total=True
                    )
                self._apply(index, tar, member)
            tar.members.clear()

    def _apply(self, index: int, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        parts = entry_parts(member.name)
        if apply_structure(self.view, index, parts, is_dir=member.isdir()):
            return
        kept = None
        if member.isreg():
            kept = self._regular(tar, member, parts)
        elif member.islnk():
            target = self.view.header_of(entry_parts(member.linkname))
            if target is not None and target.kind in ("go", classify(parts)):
                kept = target
        self.view.put(parts, index, kept)

    def _regular(
        self, tar: tarfile.TarFile, member: tarfile.TarInfo, parts: tuple[str, ...]
    ) -> Kept | None:
        kind = classify(parts)
        f = tar.extractfile(member)
        if f is None:
            return None
        if kind is not None:
            cap, whole = _READ[kind]
            if whole and member.size > cap:
                raise SbomFailed(
                    f"/{'/'.join(parts)}: {size_text(member.size)}, more than the "
                    f"{size_text(cap)} a package database may be"
                )
            return Kept(kind, f.read(cap))
        if member.size < MIN_HEADER_SIZE:
            return None
        head = f.read(HEADER_SIZE)
        header = parse_elf_header(head)
        if header is None or not header.is_program:
            return None
        return _go_build_info(f, head)

    def _count(self, n: int) -> None:
        self.uncompressed += n
        if self.uncompressed > self.limits.max_uncompressed:
            raise LimitReached(
                f"more than {size_text(self.limits.max_uncompressed)} decompressed in the image",
                total=True,
            )


def _go_build_info(f: IO[bytes], head: bytes) -> Kept | None:
    finder = BuildInfoFinder()
    chunk = head
    while chunk and not finder.feed(chunk):
        chunk = f.read(CHUNK)
    info = finder.finish()
    return Kept("go", go=info) if info is not None else None
