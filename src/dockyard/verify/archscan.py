"""Content-architecture scan: every ELF program in an image must suit its platform.

    result = scan_manifest(store, manifest, platform=platform, diff_ids=config.diff_ids)

Layers are streamed once, in order, and never extracted (reliability.md §6):
the compressed bytes are hashed as they pass (digest and size checked, a
mismatch raises DigestMismatch), decompressed in memory and read by
`tarfile` in stream mode (verify/layerstream.py). Of each regular file only
the first HEADER_SIZE bytes are read. Links are never followed: a symlink is
not an ELF file, whatever its name; a hard link is the ELF file of the same
layer view it names (a lookup in the view being built, not on any disk).
Names with `..` or a leading `/` are kept as data, never resolved.

The final filesystem view is what counts. Per path only (layer index, ELF
header) of ELF programs is kept; whiteouts (`.wh.NAME`), opaque directories
(`.wh..wh..opq`) and a non-directory replacing a directory remove what lower
layers put there (never what the same layer put there); a later version of
a file replaces the earlier one (verify/layerview.py).

Checked: ET_EXEC and ET_DYN files (executables, PIEs, shared objects): what
the image runs or loads. Relocatable objects (.o, kernel modules), core
files and other ELF types are not: they are rare in images and not run. The
verdict over the final view, `allow_foreign` globs included, is
verify/archverdict.py's.

Given the config's `rootfs.diff_ids`, each layer's decompressed stream is
hashed in the same pass and compared with its diff_id: a mismatch is an
error finding `config.diff-ids` naming the layer (runtimes refuse such an
image). An uncompressed layer's diff_id is its digest, already verified. A
layer whose stream was not read to its end (a cap, damage, an unsupported
compression) is not compared: it already has an error finding.

Caps (ScanLimits) bound time and memory on hostile layers: total
decompressed bytes, decompressed/compressed ratio per layer, entry count and
paths kept; hitting one is an error finding `layer.limit` and stops that
layer (the total caps stop the scan). Its compressed bytes are still read to
the end, so the digest is verified whatever happens.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO

from dockyard.digest import Digest
from dockyard.findings import Finding
from dockyard.oci.inflate import InflateLimits
from dockyard.oci.models import Descriptor, Manifest
from dockyard.oci.store import Store
from dockyard.platform import ElfSignature, Platform, elf_signature
from dockyard.verify.archverdict import arch_verdict
from dockyard.verify.elf import HEADER_SIZE, MIN_HEADER_SIZE, ElfHeader, parse_elf_header
from dockyard.verify.layerstream import (
    CHUNK,
    CORRUPT,
    TAR_BUFSIZE,
    BoundedTarInfo,
    DecompressedStream,
    HashingReader,
    drain_nonzero,
    gzip_reader,
    layer_compression,
    size_text,
    sniff,
    zstd_reader,
)
from dockyard.verify.layerview import LimitReached, View, apply_structure, entry_parts

# One set of caps for every path that inflates a layer (oci/inflate.py); the name stays.
ScanLimits = InflateLimits


@dataclass(frozen=True)
class ScanResult:
    platform: Platform
    elf_files: int
    mismatches: tuple[tuple[str, ElfHeader], ...]  # not allowed by any allow_foreign glob
    findings: tuple[Finding, ...]
    bytes_compressed: int
    bytes_uncompressed: int
    entries: int
    layers: int

    @property
    def ok(self) -> bool:
        return not any(f.is_error for f in self.findings)


def scan_layers(
    layers: Iterable[tuple[Descriptor, IO[bytes]]],
    *,
    platform: Platform,
    limits: ScanLimits = ScanLimits(),
    diff_ids: Sequence[Digest] | None = None,
    allow_foreign: Sequence[str] = (),
) -> ScanResult:
    """Scan an image's layers (bottom first) against `platform`.

    Each stream is read to its end and closed. Raises DigestMismatch when a
    layer's bytes do not match its descriptor, Unsupported (before reading
    anything) when the platform has no ELF signature (windows). `diff_ids`:
    the config's, compared layer by layer (None: not compared; a layer
    beyond their count is not compared either: the count is checks.py's).
    """
    signature = elf_signature(platform)
    scan = _Scan(str(platform), limits, diff_ids=diff_ids, allow_foreign=allow_foreign)
    for index, (descriptor, stream) in enumerate(layers):
        try:
            scan.layer(index, descriptor, stream)
        finally:
            stream.close()
        if scan.stopped:
            break
    return scan.result(platform, signature)


def scan_manifest(
    store: Store,
    manifest: Manifest,
    *,
    platform: Platform,
    limits: ScanLimits = ScanLimits(),
    diff_ids: Sequence[Digest] | None = None,
    allow_foreign: Sequence[str] = (),
) -> ScanResult:
    """scan_layers over an image manifest's layers in `store` (each opened when its turn comes)."""
    return scan_layers(
        ((d, store.blob_open(d.digest)) for d in manifest.layers),
        platform=platform,
        limits=limits,
        diff_ids=diff_ids,
        allow_foreign=allow_foreign,
    )


# ------------------------------------------------------------------- one scan


class _Scan:
    def __init__(
        self,
        platform: str,
        limits: ScanLimits,
        *,
        diff_ids: Sequence[Digest] | None = None,
        allow_foreign: Sequence[str] = (),
    ) -> None:
        self.platform = platform
        self.limits = limits
        self.diff_ids = diff_ids
        self.allow_foreign = tuple(allow_foreign)
        # The current layer's decompressed stream (set by _read once it knows the compression).
        self.current: DecompressedStream | None = None
        self.view: View[ElfHeader] = View(limits.max_entries)
        self.findings: list[Finding] = []
        self.compressed = 0
        self.uncompressed = 0
        self.entries = 0
        self.layers = 0
        self.stopped = False

    def layer(self, index: int, descriptor: Descriptor, stream: IO[bytes]) -> None:
        raw = HashingReader(stream, descriptor)
        buffered = io.BufferedReader(raw, CHUNK)
        problem: Finding | None = None
        self.current = None
        try:
            problem = self._read(index, descriptor, buffered, raw)
        except LimitReached as e:
            self.stopped = e.total
            problem = self._layer_finding(descriptor, "layer.limit", f"{e}; layer scan stopped")
        except CORRUPT as e:
            problem = self._layer_finding(
                descriptor, "layer.invalid", f"not a readable layer ({_reason(e)})"
            )
        # Every compressed byte passes the hash, whatever stopped the reading:
        # a digest mismatch outranks any finding about the content.
        while buffered.read(CHUNK):
            pass
        raw.verify()
        self.compressed += raw.count
        self.layers += 1
        if problem is not None:
            self.findings.append(problem)
        if self.current is not None and self.current.finished:
            self.findings += self._diff_id_findings(index, descriptor, self.current)

    def _expected_diff_id(self, index: int) -> Digest | None:
        if self.diff_ids is None or index >= len(self.diff_ids):
            return None
        return self.diff_ids[index]

    def _diff_id_findings(
        self, index: int, descriptor: Descriptor, counted: DecompressedStream
    ) -> list[Finding]:
        expected = self._expected_diff_id(index)
        if expected is None:
            return []
        # No hasher: an uncompressed layer, its digest (just verified) is its diff_id.
        actual = descriptor.digest if counted.hasher is None else counted.diff_id()
        if actual == expected:
            return []
        return [
            Finding(
                rule="config.diff-ids",
                severity="error",
                platform=self.platform,
                path=str(descriptor.digest),
                message=(
                    f"layer {index} ({descriptor.digest}) decompresses to {actual}, but the "
                    f"config's rootfs.diff_ids[{index}] is {expected} (runtimes refuse this image)"
                ),
                detail={
                    "kind": "digest",
                    "layer": index,
                    "digest": str(descriptor.digest),
                    "expected": str(expected),
                    "actual": str(actual),
                },
            )
        ]

    def _read(
        self, index: int, descriptor: Descriptor, buffered: io.BufferedReader, raw: HashingReader
    ) -> Finding | None:
        kind = layer_compression(descriptor.media_type) or sniff(buffered.peek(4)[:4])
        if kind == "zstd":
            opened = zstd_reader(buffered)
            if opened is None:
                return self._layer_finding(
                    descriptor,
                    "layer.unsupported",
                    "layer compression zstd not supported (install the zstandard package); "
                    "layer not scanned",
                )
        elif kind == "gzip":
            opened = gzip_reader(buffered)
        elif kind == "tar":
            opened = buffered
        else:
            return self._layer_finding(
                descriptor,
                "layer.unsupported",
                f"layer compression {kind} not supported; layer not scanned",
            )
        expected = self._expected_diff_id(index)
        hasher = None
        if expected is not None and not (
            kind == "tar" and expected.algorithm == descriptor.digest.algorithm
        ):
            hasher = hashlib.new(expected.algorithm)
        counted = self.current = DecompressedStream(
            opened,
            raw,
            on_read=self.count,
            max_ratio=None if kind == "tar" else self.limits.max_ratio,
            ratio_floor=self.limits.ratio_floor,
            hasher=hasher,
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
            # tarfile's read-ahead past the end (a private attribute: absent means unchecked).
            leftover = getattr(tar.fileobj, "buf", b"")
        if drain_nonzero(counted, leftover):
            return self._layer_finding(
                descriptor,
                "layer.invalid",
                "data after the end of the tar archive (a damaged or unreadable header)",
            )
        return None

    def _apply(self, index: int, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        parts = entry_parts(member.name)
        if apply_structure(self.view, index, parts, is_dir=member.isdir()):
            return
        header = None
        if member.isreg() and member.size >= MIN_HEADER_SIZE:
            header = _program_header(tar, member)
        elif member.islnk():
            header = self.view.header_of(entry_parts(member.linkname))
        self.view.put(parts, index, header)

    def count(self, uncompressed: int) -> None:
        self.uncompressed += uncompressed
        if self.uncompressed > self.limits.max_uncompressed:
            raise LimitReached(
                f"more than {size_text(self.limits.max_uncompressed)} decompressed in the image",
                total=True,
            )

    def _layer_finding(self, descriptor: Descriptor, rule: str, what: str) -> Finding:
        return Finding(
            rule=rule,
            severity="error",
            platform=self.platform,
            path=str(descriptor.digest),
            message=f"layer {descriptor.digest}: {what}",
            detail={"media_type": descriptor.media_type, "size": descriptor.size},
        )

    def result(self, platform: Platform, signature: ElfSignature) -> ScanResult:
        verdict = arch_verdict(
            self.view.files(),
            signature,
            allow_foreign=self.allow_foreign,
            platform=self.platform,
            layers=self.layers,
        )
        return ScanResult(
            platform=platform,
            elf_files=verdict.checked,
            mismatches=verdict.mismatches,
            findings=(*self.findings, *verdict.findings),
            bytes_compressed=self.compressed,
            bytes_uncompressed=self.uncompressed,
            entries=self.entries,
            layers=self.layers,
        )


def _program_header(tar: tarfile.TarFile, member: tarfile.TarInfo) -> ElfHeader | None:
    """The ELF header of an executable or shared object, else None (read: 64 bytes at most)."""
    f = tar.extractfile(member)
    if f is None:
        return None
    header = parse_elf_header(f.read(HEADER_SIZE))
    return header if header is not None and header.is_program else None


def _reason(e: BaseException) -> str:
    lines = str(e).splitlines()
    return lines[0] if lines and lines[0] else type(e).__name__

