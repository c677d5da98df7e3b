"""Content-architecture scan: every ELF program in an image must suit its platform.

Layers are streamed once, in order, and never extracted (reliability.md §6):
the compressed bytes are hashed as they pass (digest and size checked, a
mismatch raises DigestMismatch), decompressed in memory (gzip with isal,
falling back to zlib; zstd with the `zstandard` package when installed),
and read by `tarfile` in stream mode. Of each regular file only the first
HEADER_SIZE bytes are read. Links are never followed: a symlink is not an
ELF file, whatever its name; a hard link is the ELF file of the same layer
view it names (a lookup in the view being built, not on any disk). Names
with `..` or a leading `/` are kept as data, never resolved.

The final filesystem view is what counts. Per path only (layer index, ELF
header) of ELF programs is kept; whiteouts (`.wh.NAME`), opaque directories
(`.wh..wh..opq`) and a non-directory replacing a directory remove what lower
layers put there (never what the same layer put there); a later version of
a file replaces the earlier one.

Checked: ET_EXEC and ET_DYN files (executables, PIEs, shared objects): what
the image runs or loads. Relocatable objects (.o, kernel modules), core
files and other ELF types are not: they are rare in images and not run.

Given the config's `rootfs.diff_ids`, each layer's decompressed stream is
hashed in the same pass and compared with its diff_id: a mismatch is an
error finding `config.diff-ids` naming the layer (runtimes refuse such an
image). An uncompressed layer's diff_id is its digest, already verified. A
layer whose stream was not read to its end (a cap, damage, an unsupported
compression) is not compared: it already has an error finding.

ELF programs of another architecture whose path matches an `allow_foreign`
glob (config.pathglob) are info findings `arch.foreign-allowed`, one per
file, naming the glob, instead of being part of the `arch.mismatch` error.

Caps (ScanLimits) bound time and memory on hostile layers: total
decompressed bytes, decompressed/compressed ratio per layer, entry count and
paths kept; hitting one is an error finding `layer.limit` and stops that
layer (the total caps stop the scan). Its compressed bytes are still read to
the end, so the digest is verified whatever happens.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from dockyard.config.pathglob import first_match
from dockyard.digest import Digest
from dockyard.errors import DigestMismatch, OperationError
from dockyard.findings import Finding
from dockyard.oci.models import Descriptor, Manifest
from dockyard.oci.store import Store
from dockyard.platform import ElfSignature, Platform, elf_signature
from dockyard.verify.elf import (
    HEADER_SIZE,
    MIN_HEADER_SIZE,
    ElfHeader,
    describe_signature,
    matches_signature,
    parse_elf_header,
)
from dockyard.verify.layerview import OPAQUE, WHITEOUT, LimitReached, View

MiB = 1 << 20
GiB = 1 << 30
# Compressed bytes read from the store per call.
CHUNK = 1 * MiB
# tarfile's stream buffer: its reads slice this buffer, so bigger is not faster.
TAR_BUFSIZE = 64 * 1024
# A pax or GNU long-name header bigger than this is an attack, not a name
# (tarfile would read it whole into memory).
MAX_TAR_METADATA = 1 * MiB
# How many mismatching paths a finding names.
SHOWN_PATHS = 10

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


@dataclass(frozen=True)
class ScanLimits:
    # Far above any real layer set; a decompression bomb stops here.
    max_uncompressed: int = 8 * GiB
    # Real layers compress 2-10x; gzip tops out near 1030x and zstd far beyond.
    max_ratio: int = 200
    # The ratio is judged only once this much compressed input was read: a
    # small layer holding a zero-filled file is legitimate.
    ratio_after: int = 1 * MiB
    # Entries over all layers; also the cap on paths the view keeps (memory).
    max_entries: int = 1_000_000


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
        self.current: _Counted | None = None
        self.view = View(limits.max_entries)
        self.findings: list[Finding] = []
        self.compressed = 0
        self.uncompressed = 0
        self.entries = 0
        self.layers = 0
        self.stopped = False

    def layer(self, index: int, descriptor: Descriptor, stream: IO[bytes]) -> None:
        raw = _HashingReader(stream, descriptor)
        buffered = io.BufferedReader(raw, CHUNK)
        problem: Finding | None = None
        self.current = None
        try:
            problem = self._read(index, descriptor, buffered, raw)
        except LimitReached as e:
            self.stopped = e.total
            problem = self._layer_finding(descriptor, "layer.limit", f"{e}; layer scan stopped")
        except _CORRUPT as e:
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
        self, index: int, descriptor: Descriptor, counted: _Counted
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
        self, index: int, descriptor: Descriptor, buffered: io.BufferedReader, raw: _HashingReader
    ) -> Finding | None:
        kind = layer_compression(descriptor.media_type) or _sniff(buffered.peek(4)[:4])
        if kind == "zstd":
            opened = _zstd_reader(buffered)
            if opened is None:
                return self._layer_finding(
                    descriptor,
                    "layer.unsupported",
                    "layer compression zstd not supported (install the zstandard package); "
                    "layer not scanned",
                )
        elif kind == "gzip":
            opened = _gzip_reader(buffered)
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
        counted = self.current = _Counted(
            opened, raw, self, judge_ratio=kind != "tar", hasher=hasher
        )
        with tarfile.open(
            fileobj=counted, mode="r|", bufsize=TAR_BUFSIZE, tarinfo=_BoundedTarInfo
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
        if _drain_nonzero(counted, leftover):
            return self._layer_finding(
                descriptor,
                "layer.invalid",
                "data after the end of the tar archive (a damaged or unreadable header)",
            )
        return None

    def _apply(self, index: int, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        parts = _parts(member.name)
        if not parts:
            return  # the layer's root directory
        base = parts[-1]
        if base.startswith(WHITEOUT):
            if base == OPAQUE:
                self.view.opaque(parts[:-1], index)
            elif not base.startswith(WHITEOUT + WHITEOUT):  # other .wh..wh. names: aufs metadata
                self.view.whiteout((*parts[:-1], base[len(WHITEOUT) :]), index)
            return
        if member.isdir():
            self.view.directory(parts, index)
            return
        header = None
        if member.isreg() and member.size >= MIN_HEADER_SIZE:
            header = _program_header(tar, member)
        elif member.islnk():
            header = self.view.header_of(_parts(member.linkname))
        self.view.put(parts, index, header)

    def count(self, uncompressed: int) -> None:
        self.uncompressed += uncompressed
        if self.uncompressed > self.limits.max_uncompressed:
            raise LimitReached(
                f"more than {_size(self.limits.max_uncompressed)} decompressed in the image",
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
        checked = 0
        mismatches: list[tuple[str, ElfHeader]] = []
        for path, header in self.view.files():
            checked += 1
            if not matches_signature(header, signature):
                mismatches.append((path, header))
        allowed: list[tuple[str, ElfHeader, str]] = []
        if self.allow_foreign:
            globs = [first_match(self.allow_foreign, path) for path, _ in mismatches]
            allowed = [(p, h, g) for (p, h), g in zip(mismatches, globs, strict=True) if g]
            mismatches = [m for m, g in zip(mismatches, globs, strict=True) if g is None]
        findings = [
            *self.findings,
            *self._arch_findings(checked, mismatches, signature),
            *self._allowed_findings(allowed, signature),
        ]
        return ScanResult(
            platform=platform,
            elf_files=checked,
            mismatches=tuple(mismatches),
            findings=tuple(findings),
            bytes_compressed=self.compressed,
            bytes_uncompressed=self.uncompressed,
            entries=self.entries,
            layers=self.layers,
        )

    def _allowed_findings(
        self, allowed: list[tuple[str, ElfHeader, str]], signature: ElfSignature
    ) -> list[Finding]:
        expected = describe_signature(signature)
        return [
            Finding(
                rule="arch.foreign-allowed",
                severity="info",
                platform=self.platform,
                path=path,
                message=f"{path} is {header.describe()}, not {expected}: allowed by allow-foreign {glob}",
                detail={"arch": header.describe(), "expected": expected, "glob": glob},
            )
            for path, header, glob in allowed
        ]

    def _arch_findings(
        self, checked: int, mismatches: list[tuple[str, ElfHeader]], signature: ElfSignature
    ) -> list[Finding]:
        expected = describe_signature(signature)
        findings = [
            Finding(
                rule="arch.checked",
                severity="info",
                platform=self.platform,
                path="/",
                message=f"{checked} ELF executables and shared objects checked against {expected}",
                detail={"elf_files": checked, "expected": expected, "layers": self.layers},
            )
        ]
        if mismatches:
            shown = mismatches[:SHOWN_PATHS]
            listed = ", ".join(f"{path} ({header.describe()})" for path, header in shown)
            more = len(mismatches) - len(shown)
            findings.append(
                Finding(
                    rule="arch.mismatch",
                    severity="error",
                    platform=self.platform,
                    path=shown[0][0],
                    message=(
                        f"{len(mismatches)} of {checked} ELF files are not {expected}: {listed}"
                        + (f" and {more} more" if more else "")
                    ),
                    detail={
                        "expected": expected,
                        "count": len(mismatches),
                        "files": [{"path": p, "arch": h.describe()} for p, h in shown],
                    },
                )
            )
        return findings


# ------------------------------------------------------------------- streams


class _HashingReader(io.RawIOBase):
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


class _Counted:
    """The decompressed tar stream: counts bytes against the scan's caps, hashes them for the diff_id."""

    def __init__(
        self, inner: Any, raw: _HashingReader, scan: _Scan, *, judge_ratio: bool, hasher: Any = None
    ) -> None:
        self._inner = inner
        self._raw = raw
        self._scan = scan
        self._judge_ratio = judge_ratio
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
        self._scan.count(len(data))
        limits = self._scan.limits
        compressed = self._raw.count
        if (
            self._judge_ratio
            and compressed > limits.ratio_after
            and self.count > limits.max_ratio * compressed
        ):
            raise LimitReached(
                f"decompresses more than {limits.max_ratio}x "
                f"({_size(self.count)} from {_size(compressed)})",
                total=False,
            )
        return data


class _BoundedTarInfo(tarfile.TarInfo):
    """Refuses pax/GNU long-name headers that tarfile would read whole into memory."""

    def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in _META_TYPES and self.size > MAX_TAR_METADATA:
            raise LimitReached(
                f"a tar metadata header of {_size(self.size)} (more than "
                f"{_size(MAX_TAR_METADATA)})",
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


def _sniff(magic: bytes) -> str:
    if magic.startswith(_GZIP_MAGIC):
        return "gzip"
    if magic.startswith(_ZSTD_MAGIC):
        return "zstd"
    for prefix, name in _OTHER_MAGIC.items():
        if magic.startswith(prefix):
            return name
    return "tar"


def _gzip_reader(stream: IO[bytes]) -> IO[bytes]:
    try:
        from isal import igzip
    except ImportError:  # pragma: no cover - isal is a dependency; zlib still works
        return gzip.GzipFile(fileobj=stream, mode="rb")
    return igzip.IGzipFile(fileobj=stream, mode="rb")


def _zstd_reader(stream: IO[bytes]) -> IO[bytes] | None:
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
_CORRUPT = _corrupt_errors()


def _program_header(tar: tarfile.TarFile, member: tarfile.TarInfo) -> ElfHeader | None:
    """The ELF header of an executable or shared object, else None (read: 64 bytes at most)."""
    f = tar.extractfile(member)
    if f is None:
        return None
    header = parse_elf_header(f.read(HEADER_SIZE))
    return header if header is not None and header.is_program else None


def _drain_nonzero(stream: _Counted, leftover: bytes) -> bool:
    """Read the decompressed stream to its end; True if anything but zero padding was left."""
    nonzero = bool(leftover.strip(b"\0"))
    while data := stream.read(CHUNK):
        nonzero = nonzero or bool(data.strip(b"\0"))
    return nonzero


def _parts(name: str) -> tuple[str, ...]:
    """Path components as given: `.` and empty ones dropped, `..` kept as a plain name."""
    return tuple(p for p in name.split("/") if p not in ("", "."))


def _reason(e: BaseException) -> str:
    lines = str(e).splitlines()
    return lines[0] if lines and lines[0] else type(e).__name__


def _size(n: int) -> str:
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{n} bytes"
