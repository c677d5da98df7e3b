"""LayoutStore: the Store verbs over an OCI image layout on disk.

    DIR/oci-layout            {"imageLayoutVersion":"1.0.0"}
    DIR/index.json            an OCI index: the layout's roots and their names
    DIR/blobs/<alg>/<hex>     every blob and manifest, named by its digest

Names ("tags") are the `org.opencontainers.image.ref.name` annotation of an
index.json entry, as skopeo's `oci:DIR:TAG` uses them: one entry per name,
re-tagging moves the name. A manifest put without a tag is only a blob (as a
push by digest is on a registry): the children of an index need no entry.

Referrers: the image-layout spec has none, so the layout does what the
distribution spec asks of a client whose registry has no referrers API: the
referrers of manifest D are an OCI index named `sha256-<hex of D>` in
index.json (oci/referrers.py). Chosen over annotated roots because it is one
code path with the registry, `skopeo inspect --raw oci:DIR:sha256-<hex>`
reads it as it reads any name, and copying that name to a registry gives the
registry's own fallback tag. It adds a root: `oci:DIR` without a name then
needs one (skopeo's rule for a layout of several images).

Safety (style.md §6, reliability.md §6): digests are parsed before any path
is built; every write goes to a temp file in the layout, hashed while
written, fsynced and `os.replace`d, index.json last; a blob already on disk
counts as present only when it hashes to its name; reads are verified.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from dockyard.digest import Digest, parse_digest
from dockyard.errors import (
    DigestMismatch,
    InputError,
    LayoutInvalid,
    NotFound,
    OperationError,
)
from dockyard.oci import referrers as refs
from dockyard.oci.localfile import open_regular, read_capped, stat_regular, sweep_stale
from dockyard.oci.models import (
    MAX_MANIFEST_SIZE,
    REF_NAME_ANNOTATION,
    Descriptor,
    Index,
    Manifest,
    build_index,
    parse_manifest,
)
from dockyard.oci.verifying import VerifyingReader

LAYOUT_VERSION = b'{"imageLayoutVersion":"1.0.0"}'  # what skopeo writes
CHUNK = 1 << 20  # 1 MiB reads: large enough for hashing speed, small for memory

# containers/image's rule for a name in an OCI layout (oci_transport.go refRegexp).
_NAME = re.compile(r"[A-Za-z0-9._-]+(?:[/+][A-Za-z0-9._-]+)*")



def check_name(name: str) -> str:
    """A layout name (tag) as skopeo accepts it, else InputError."""
    if not _NAME.fullmatch(name):
        raise InputError(
            f"'{name}' is not a valid OCI layout name (expected letters, digits, '.', '_', '-', "
            "separated by '/' or '+', e.g. latest or v1.2)"
        )
    return name


_CREATE_LOCK = threading.Lock()


# What a layout being created holds, in the order it appears (temp files, blobs/,
# the marker, index.json). All of them count as "ours": another thread or process
# may rename the marker into place between our look for it and our scan of the
# directory, and that layout in the making is not foreign content.
_LAYOUT_ENTRIES = frozenset({"blobs", "oci-layout", "index.json"})


def _foreign(path: Path) -> Iterator[Path]:
    """Entries of a directory that a layout being created by us would not have."""
    return (
        p
        for p in path.iterdir()
        if not p.name.startswith(".tmp-") and p.name not in _LAYOUT_ENTRIES
    )


class LayoutStore:
    """The Store protocol over the OCI image layout in `path`.

    `tag` is the name this store was opened with (`oci:DIR:TAG`); the empty
    reference "" means it, or when None the layout's only root (skopeo's
    rule for `oci:DIR`). The directory is created on the first write.
    """

    is_local = True  # blobs are on this disk: reading them all is cheap (inspect)

    def __init__(self, path: Path | str, *, tag: str | None = None) -> None:
        self.path = Path(path)
        self.tag = check_name(tag) if tag is not None else None
        # Blobs hashed by this process, keyed by digest -> (size, mtime_ns, inode).
        self._verified: dict[Digest, tuple[int, int, int]] = {}
        self._held = threading.local()  # this thread holds the index.json lock
        self._swept = False  # stale temp files of dead writers removed (first write)

    def __repr__(self) -> str:
        return f"LayoutStore('{self.path}', tag={self.tag!r})"

    def __str__(self) -> str:
        return f"oci:{self.path}" + (f":{self.tag}" if self.tag else "")

    # ------------------------------------------------------------ blobs

    def blob_path(self, digest: Digest) -> Path:
        # Re-parse: a Digest built by hand must not smuggle '../' into a path.
        checked = parse_digest(str(digest))
        return self.path / "blobs" / checked.algorithm / checked.hex

    def blob_exists(self, digest: Digest) -> int | None:
        path = self.blob_path(digest)
        try:
            st = stat_regular(path)  # a FIFO or a symlink is refused, never hashed
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._os_error("read", path, exc) from None
        key = (st.st_size, st.st_mtime_ns, st.st_ino)
        if self._verified.get(digest) == key:
            return st.st_size
        if not self._hashes_to(path, digest):
            return None  # corrupt or partial: not present; a put replaces it
        self._verified[digest] = key
        return st.st_size

    def blob_open(self, digest: Digest) -> IO[bytes]:
        path = self.blob_path(digest)
        try:
            raw = open_regular(path)
        except FileNotFoundError:
            raise NotFound(f"{self}: blob {digest} not found") from None
        except OSError as exc:
            raise self._os_error("read", path, exc) from None
        size = os.fstat(raw.fileno()).st_size
        return io.BufferedReader(
            VerifyingReader(raw, digest, size, name=f"{self}: blob {digest}"), CHUNK
        )

    def blob_put(self, digest: Digest, size: int, stream: IO[bytes]) -> None:
        """Store a blob; refused (nothing kept) unless it is `size` bytes hashing to `digest`.

        `size` < 0 means unknown: only the digest is checked.
        """
        path = self.blob_path(digest)
        if self.blob_exists(digest) is not None:
            return
        self._ensure_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        reader = VerifyingReader(stream, digest, size if size >= 0 else None, name=f"blob {digest}")
        self._write_atomic(path, reader)
        st = path.stat()
        self._verified[digest] = (st.st_size, st.st_mtime_ns, st.st_ino)

    def blob_put_bytes(self, data: bytes, digest: Digest) -> None:
        self.blob_put(digest, len(data), io.BytesIO(data))

    def blob_mount(self, digest: Digest, source: str) -> bool:
        # A layout has no repositories to mount from; the caller copies.
        return False

    # ------------------------------------------------------------ manifests

    def manifest_get(self, reference: str) -> tuple[bytes, str]:
        digest, media_type = self._resolve(reference)
        if digest is None:
            name = reference or self.tag
            raise NotFound(
                f"{self}: no manifest '{name}'" if name else f"{self}: no image in this layout"
            )
        data = self._read_manifest(digest)
        self._check_entry_size(digest, len(data))
        # A child of an index has no index.json entry: its own bytes say what it is.
        return data, media_type or parse_manifest(data).media_type

    def manifest_head(self, reference: str) -> tuple[Digest, int, str] | None:
        digest, media_type = self._resolve(reference)
        if digest is None or (size := self.blob_exists(digest)) is None:
            return None
        if not media_type:
            media_type = parse_manifest(self._read_manifest(digest)).media_type
        return digest, size, media_type

    def manifest_put(self, data: bytes, media_type: str, *, tag: str | None = None) -> Digest:
        parsed = parse_manifest(data, media_type)  # refuse what we could not read back
        if tag is not None:
            check_name(tag)
        self._check_references(parsed)
        desc = parsed.descriptor()
        self.blob_put(desc.digest, desc.size, io.BytesIO(data))
        if tag is not None:
            with self._locked():
                entries = self._entries()
                self._write_index(_tagged(entries, desc, tag))
        return desc.digest

    def tag_list(self) -> Iterator[str]:
        for entry in self._entries():
            if entry.ref_name:
                yield entry.ref_name

    def manifest_delete(self, digest: Digest) -> None:
        path = self.blob_path(digest)
        with self._locked():
            entries = self._entries()
            kept = [e for e in entries if e.digest != digest]
            if len(kept) == len(entries) and not path.exists():
                raise NotFound(f"{self}: no manifest {digest}")
            if len(kept) != len(entries):
                self._write_index(kept)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            self._verified.pop(digest, None)

    def referrers(self, subject: Digest, *, artifact_type: str | None = None) -> list[Descriptor]:
        return refs.fallback_list(self, subject, artifact_type)

    def referrer_put(self, data: bytes, media_type: str) -> Digest:
        manifest = refs.artifact(data, media_type, str(self))
        digest = self.manifest_put(data, media_type)
        with self._locked():  # the read-modify-write of the referrers index, across processes
            refs.fallback_add(self, manifest)
        return digest

    def roots(self) -> list[Descriptor]:
        """The entries of index.json, in order."""
        return self._entries()

    # ------------------------------------------------------------ internals

    def _resolve(self, reference: str) -> tuple[Digest | None, str]:
        """(digest, media type or "" when only the bytes can tell) of a reference."""
        entries = self._entries()
        if ":" in reference:  # a digest; names never contain ':'
            digest = parse_digest(reference)
            for entry in entries:
                if entry.digest == digest:
                    return entry.digest, entry.media_type
            return (digest if self.blob_path(digest).exists() else None), ""
        name = reference or self.tag
        if name is None:
            if not entries:
                return None, ""  # no layout, or an empty one: NotFound for the caller
            if len(entries) != 1:
                names = [e.ref_name for e in entries if e.ref_name]
                raise InputError(
                    f"{self}: the layout holds {len(entries)} images; name one with oci:DIR:TAG"
                    + (f" (one of: {', '.join(names)})" if names else "")
                )
            return entries[0].digest, entries[0].media_type
        check_name(name)
        for entry in entries:
            if entry.ref_name == name:
                return entry.digest, entry.media_type
        return None, ""

    def _check_entry_size(self, digest: Digest, size: int) -> None:
        # index.json's entry declares a size; a reader trusting it must get that many bytes.
        for entry in self._entries():
            if entry.digest == digest and entry.size != size:
                raise DigestMismatch(
                    f"{self}: index.json entry {digest} says {entry.size} bytes, "
                    f"the manifest is {size}"
                )

    def _check_references(self, parsed: Manifest | Index) -> None:
        # As a registry does (MANIFEST_BLOB_UNKNOWN): never name something incomplete.
        # A stat suffices: blobs were verified when put; foreign layers (urls) live elsewhere.
        if isinstance(parsed, Index):
            wanted = parsed.manifests
        else:
            wanted = tuple(d for d in parsed.blobs if not d.urls)
        for d in wanted:
            if not self.blob_path(d.digest).is_file():
                raise NotFound(
                    f"{self}: manifest {parsed.digest} references {d.digest}, "
                    "which is not in the layout (put blobs and children first)"
                )

    def _read_manifest(self, digest: Digest) -> bytes:
        path = self.blob_path(digest)
        try:
            data = read_capped(path, MAX_MANIFEST_SIZE, what=f"manifest {digest}")
        except FileNotFoundError:
            raise NotFound(f"{self}: manifest blob {digest} is missing") from None
        except OSError as exc:
            raise self._os_error("read", path, exc) from None
        reader = VerifyingReader(io.BytesIO(data), digest, None, name=f"{self}: manifest {digest}")
        return reader.read()

    def _entries(self) -> list[Descriptor]:
        index = self._read_index()
        return list(index.manifests) if index is not None else []

    def _read_index(self) -> Index | None:
        path = self.path / "index.json"
        try:
            # The manifests' cap, and never a FIFO or a symlink (to /dev/zero, say).
            data = read_capped(path, MAX_MANIFEST_SIZE, what="index.json")
        except FileNotFoundError:
            # Empty or absent: a layout yet to be written. Anything else is not ours to fill.
            marker = (self.path / "oci-layout").exists()
            if not marker and self.path.is_dir() and any(_foreign(self.path)):
                raise LayoutInvalid(
                    f"{self}: {self.path} is not an OCI image layout (no oci-layout or index.json)"
                ) from None
            return None
        except OSError as exc:
            raise self._os_error("read", path, exc) from None
        parsed = parse_manifest(data)
        if not isinstance(parsed, Index):
            raise LayoutInvalid(f"{self}: {path} is not an image index")
        return parsed

    def _write_index(self, entries: list[Descriptor]) -> None:
        data, _ = build_index(entries)
        self._write_atomic(self.path / "index.json", io.BytesIO(data))

    def _ensure_layout(self) -> None:
        marker = self.path / "oci-layout"
        if marker.exists():
            return
        # Parallel first writes (copy's blob workers) must not each create the
        # layout, nor mistake another thread's temp file for foreign content.
        with _CREATE_LOCK:
            if marker.exists():
                return
            self._read_index()  # refuses a non-empty directory that is not a layout
            try:
                self.path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise self._os_error("create", self.path, exc) from None
            self._write_atomic(marker, io.BytesIO(LAYOUT_VERSION))
            if not (self.path / "index.json").exists():
                self._write_index([])

    def _write_atomic(self, path: Path, stream: IO[bytes]) -> None:
        """Copy `stream` to a temp file in the layout, fsync, rename onto `path`.

        The temp file is named `.tmp-<pid>-...`: what a killed writer left
        is removed by the next writer (localfile.sweep_stale)."""
        if not self._swept:
            self._swept = True
            sweep_stale(self.path)
        fd, tmp = tempfile.mkstemp(prefix=f".tmp-{os.getpid()}-", dir=self.path)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise self._os_error("write", path, exc) from None
            raise
        _fsync_dir(path.parent)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # index.json is read-modified-written: serialise writers across processes.
        # Re-entrant within a thread (referrer_put tags while it holds the lock):
        # a second flock on a new descriptor would wait for ourselves.
        if getattr(self._held, "lock", False):
            yield
            return
        self._ensure_layout()
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._held.lock = True
            yield
        finally:
            self._held.lock = False
            os.close(fd)

    def _hashes_to(self, path: Path, digest: Digest) -> bool:
        h = hashlib.new(digest.algorithm)
        try:
            with open_regular(path) as f:
                while chunk := f.read(CHUNK):
                    h.update(chunk)
        except OSError as exc:
            raise self._os_error("read", path, exc) from None
        return h.hexdigest() == digest.hex

    def _os_error(self, verb: str, path: Path, exc: OSError) -> OperationError:
        return OperationError(f"{self}: cannot {verb} {path}: {exc.strerror or exc}")


def _tagged(entries: list[Descriptor], desc: Descriptor, tag: str) -> list[Descriptor]:
    """index.json entries after naming `desc` `tag` (skopeo's addManifest rules)."""
    named = desc.with_annotations({REF_NAME_ANNOTATION: tag})
    out: list[Descriptor] = []
    for entry in entries:
        if entry.ref_name == tag:
            continue  # the name moves: one entry per name
        if entry.digest == desc.digest and not entry.ref_name:
            continue  # an unnamed root of the same manifest is replaced by the named one
        out.append(entry)
    out.append(named)
    return out


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
