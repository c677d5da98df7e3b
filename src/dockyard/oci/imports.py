"""`dockyard import`: rootfs tarballs or directories -> one multi-arch image in any Store.

Per platform: one gzip layer (entries sorted, uid/gid/mode kept, user and
group names dropped, mtimes clamped to the epoch, hard links re-pointed at
their first name in sorted order), a config, an OCI manifest; then an OCI
index over them. The same input and epoch give the same bytes, hence the
same digests (tested). Extended attributes are not carried over.

Blobs go first, then each child manifest, then the index under its tag, so
a reader never finds a tag on something incomplete.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from dockyard.digest import Digest, parse_digest
from dockyard.errors import InputError, OperationError
from dockyard.oci import mediatypes as mt
from dockyard.oci.models import (
    Descriptor,
    build_index,
    build_manifest,
    canonical_json,
    descriptor_of,
)
from dockyard.oci.store import Store
from dockyard.platform import Platform, parse_platform

# isal's fastest level that still compresses (0 is barely better than store);
# import is bound by gzip, and a base image is pulled far more than it is built.
GZIP_LEVEL = 1
CHUNK = 1 << 20
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# docker's defaults, written out so every reader sees the same values.
HEALTHCHECK_INTERVAL_NS = 30_000_000_000
HEALTHCHECK_TIMEOUT_NS = 30_000_000_000
HEALTHCHECK_RETRIES = 3
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"\xfd7zXZ\x00", b"BZh", b"\x28\xb5\x2f\xfd")


@dataclass(frozen=True)
class RootfsSource:
    platform: Platform
    path: Path


@dataclass(frozen=True)
class ImageSettings:
    """What goes into each platform's config (docker field names in comments)."""

    entrypoint: tuple[str, ...] | None = None  # Entrypoint
    cmd: tuple[str, ...] | None = None  # Cmd
    env: tuple[str, ...] = ()  # Env, K=V; PATH defaults to the usual one
    user: str = ""  # User
    workdir: str = ""  # WorkingDir
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)  # Labels
    healthcheck: str = ""  # Healthcheck: CMD-SHELL <command>


@dataclass(frozen=True)
class ImportedImage:
    platform: Platform
    manifest: Descriptor
    config: Descriptor
    layer: Descriptor
    diff_id: Digest
    uncompressed_size: int


@dataclass(frozen=True)
class ImportResult:
    destination: str
    tag: str | None
    index: Descriptor
    images: tuple[ImportedImage, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "destination": self.destination,
            "tag": self.tag,
            "digest": str(self.index.digest),
            "media_type": self.index.media_type,
            "size": self.index.size,
            "manifests": [
                {
                    "platform": str(i.platform),
                    "digest": str(i.manifest.digest),
                    "size": i.manifest.size,
                    "config": str(i.config.digest),
                    "layer": str(i.layer.digest),
                    "layer_size": i.layer.size,
                    "diff_id": str(i.diff_id),
                    "uncompressed_size": i.uncompressed_size,
                }
                for i in self.images
            ],
        }


# ---------------------------------------------------------------- input parsing


def parse_source(text: str) -> RootfsSource:
    """`os/arch[/variant]=PATH` (a rootfs .tar[.gz|.xz|...] or a directory)."""
    spec, sep, path = text.partition("=")
    if not sep or not spec or not path:
        raise InputError(
            f"--platform '{text}': expected PLATFORM=ROOTFS, e.g. linux/arm64=rootfs.tar"
        )
    platform = parse_platform(spec)
    p = Path(path)
    if not (p.is_dir() or p.is_file()):
        raise InputError(
            f"--platform '{text}': '{path}' does not exist (expected a rootfs tarball or directory)"
        )
    return RootfsSource(platform, p)


def parse_key_values(items: Iterable[str], *, option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"{option} '{item}': expected KEY=VALUE")
        out[key] = value
    return out


def parse_command(text: str, *, option: str) -> tuple[str, ...]:
    """A JSON array (`["/bin/sh","-c","x"]`, exec form) or shell words (`/bin/sh -c x`)."""
    import json
    import shlex

    if text.lstrip().startswith("["):
        try:
            words = json.loads(text)
        except ValueError:
            words = None
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise InputError(f"{option} '{text}': expected a JSON array of strings or shell words")
        return tuple(words)
    try:
        return tuple(shlex.split(text))
    except ValueError as exc:
        raise InputError(f"{option} '{text}': {exc} (expected shell words or a JSON array)") from None


def source_date_epoch(environ: Mapping[str, str] = os.environ) -> int:
    """SOURCE_DATE_EPOCH if set (reproducible-builds.org), else 0."""
    text = environ.get("SOURCE_DATE_EPOCH", "")
    if not text:
        return 0
    if not text.isdigit():
        raise InputError(
            f"SOURCE_DATE_EPOCH '{text}' is not a Unix time (expected whole seconds, e.g. 1700000000)"
        )
    return int(text)


# ---------------------------------------------------------------- the import


def import_to_location(
    destination: str,
    platform_specs: Sequence[str],
    *,
    entrypoint: str | None = None,
    cmd: str | None = None,
    env: Sequence[str] = (),
    user: str = "",
    workdir: str = "",
    labels: Sequence[str] = (),
    healthcheck: str = "",
    environ: Mapping[str, str] = os.environ,
) -> ImportResult:
    """`dockyard import`: parse every input, then write the image to `destination`.

    A location without a tag is written as `latest` (what docker assumes, and
    the only image of a layout, so `oci:DIR` reads it back).
    """
    from dockyard.oci.open import open_store
    from dockyard.ref import parse_location

    sources = [parse_source(spec) for spec in platform_specs]
    _check_sources(sources)
    for item in env:
        if "=" not in item or item.startswith("="):
            raise InputError(f"--env '{item}': expected KEY=VALUE")
    settings = ImageSettings(
        entrypoint=None if entrypoint is None else parse_command(entrypoint, option="--entrypoint"),
        cmd=None if cmd is None else parse_command(cmd, option="--cmd"),
        env=tuple(env),
        user=user,
        workdir=workdir,
        labels=parse_key_values(labels, option="--label"),
        healthcheck=healthcheck,
    )
    epoch = source_date_epoch(environ)
    location = parse_location(destination)
    store, reference = open_store(location, push=True)
    if reference.startswith("sha256:"):
        raise InputError(f"'{destination}': a destination names a tag, not a digest")
    tag = reference or "latest"
    return import_rootfs(
        sources, store, settings=settings, tag=tag, epoch=epoch, destination=str(location)
    )


def import_rootfs(
    sources: Sequence[RootfsSource],
    store: Store,
    *,
    settings: ImageSettings = ImageSettings(),
    tag: str | None = None,
    epoch: int = 0,
    destination: str = "",
) -> ImportResult:
    """Build one image per source and an index over them, written into `store`."""
    _check_sources(sources)
    images = []
    with tempfile.TemporaryDirectory(prefix="dockyard-import-") as tmp:
        for source in sources:
            images.append(_import_one(source, store, settings, epoch, Path(tmp)))
    children = [i.manifest for i in images]
    data, index = build_index(children)
    store.manifest_put(data, mt.OCI_INDEX, tag=tag)
    return ImportResult(destination, tag, index, tuple(images))


def _check_sources(sources: Sequence[RootfsSource]) -> None:
    if not sources:
        raise InputError("no --platform given (expected at least one PLATFORM=ROOTFS)")
    seen: set[Platform] = set()
    for s in sources:
        if s.platform in seen:
            raise InputError(f"--platform {s.platform} is given twice (one rootfs per platform)")
        seen.add(s.platform)


def _import_one(
    source: RootfsSource, store: Store, settings: ImageSettings, epoch: int, tmp: Path
) -> ImportedImage:
    layer_path = tmp / (str(source.platform).replace("/", "-") + ".tar.gz")
    layer = write_layer(source.path, layer_path, epoch=epoch)
    if store.blob_exists(layer.digest) is None:  # reproducible: often already there
        with layer_path.open("rb") as f:
            store.blob_put(layer.digest, layer.size, f)
    layer_path.unlink()
    config_bytes = build_config(source.platform, settings, [layer.diff_id], epoch=epoch)
    config = descriptor_of(config_bytes, mt.OCI_CONFIG)
    if store.blob_exists(config.digest) is None:
        store.blob_put(config.digest, config.size, io.BytesIO(config_bytes))
    layer_desc = Descriptor(mt.OCI_LAYER_GZIP, layer.digest, layer.size)
    manifest_bytes, manifest = build_manifest(config, [layer_desc])
    store.manifest_put(manifest_bytes, mt.OCI_MANIFEST)
    return ImportedImage(
        platform=source.platform,
        manifest=Descriptor(manifest.media_type, manifest.digest, manifest.size, source.platform),
        config=config,
        layer=layer_desc,
        diff_id=layer.diff_id,
        uncompressed_size=layer.uncompressed_size,
    )


def build_config(
    platform: Platform, settings: ImageSettings, diff_ids: Sequence[Digest], *, epoch: int
) -> bytes:
    """The image config JSON (OCI field order, docker's Healthcheck kept)."""
    created = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc: dict[str, Any] = {"created": created, "architecture": platform.architecture, "os": platform.os}
    if platform.variant:
        doc["variant"] = platform.variant
    doc["config"] = _run_config(settings)
    doc["rootfs"] = {"type": "layers", "diff_ids": [str(d) for d in diff_ids]}
    doc["history"] = [{"created": created, "created_by": "dockyard import"}]
    return canonical_json(doc)


def _run_config(s: ImageSettings) -> dict[str, Any]:
    env = list(s.env)
    if not any(e.startswith("PATH=") for e in env):
        env.insert(0, DEFAULT_PATH)
    run: dict[str, Any] = {}
    if s.user:
        run["User"] = s.user
    run["Env"] = env
    if s.entrypoint is not None:
        run["Entrypoint"] = list(s.entrypoint)
    if s.cmd is not None:
        run["Cmd"] = list(s.cmd)
    if s.healthcheck:
        run["Healthcheck"] = {
            "Test": ["CMD-SHELL", s.healthcheck],
            "Interval": HEALTHCHECK_INTERVAL_NS,
            "Timeout": HEALTHCHECK_TIMEOUT_NS,
            "Retries": HEALTHCHECK_RETRIES,
        }
    if s.workdir:
        run["WorkingDir"] = s.workdir
    if s.labels:
        run["Labels"] = dict(sorted(s.labels.items()))
    return run


# ---------------------------------------------------------------- the layer


@dataclass(frozen=True)
class Layer:
    digest: Digest  # of the gzip bytes
    size: int
    diff_id: Digest  # of the uncompressed tar
    uncompressed_size: int


class _HashingWriter(io.RawIOBase):
    """Counts and hashes what is written, then passes it on."""

    def __init__(self, out: IO[bytes]) -> None:
        super().__init__()
        self._out = out
        self.hash = hashlib.sha256()
        self.count = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self.hash.update(data)
        self.count += len(data)
        self._out.write(data)
        return len(data)


def write_layer(source: Path, out_path: Path, *, epoch: int) -> Layer:
    """Write `source` (rootfs dir or tarball) as a reproducible gzip layer to `out_path`."""
    from isal import igzip  # heavy-ish C extension: only when importing

    with ExitStack() as stack:
        out = stack.enter_context(out_path.open("wb"))
        compressed = _HashingWriter(out)
        gz = stack.enter_context(
            igzip.IGzipFile(fileobj=compressed, mode="wb", compresslevel=GZIP_LEVEL, mtime=0)
        )
        plain = _HashingWriter(gz)
        with tarfile.open(fileobj=plain, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            entries = _dir_entries(source) if source.is_dir() else _tar_entries(source, stack)
            for info, fileobj in entries:
                tar.addfile(_clamped(info, epoch), fileobj)
        gz.close()
    return Layer(
        digest=parse_digest("sha256:" + compressed.hash.hexdigest()),
        size=compressed.count,
        diff_id=parse_digest("sha256:" + plain.hash.hexdigest()),
        uncompressed_size=plain.count,
    )


def _clamped(info: tarfile.TarInfo, epoch: int) -> tarfile.TarInfo:
    info.mtime = min(int(info.mtime), epoch)
    info.uname = info.gname = ""
    info.pax_headers = {}
    return info


def _sort_key(name: str) -> tuple[str, ...]:
    # Component-wise: a directory's children follow it, as in a directory walk.
    return tuple(name.split("/"))


def _clean_name(name: str, origin: str) -> str:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InputError(f"{origin}: entry '{name}' leaves the root ('..' is not allowed in a rootfs)")
    return "/".join(parts)


# ---- from a directory


def _dir_entries(root: Path) -> Iterator[tuple[tarfile.TarInfo, IO[bytes] | None]]:
    names = sorted(_walk(root), key=_sort_key)
    first_of_inode: dict[tuple[int, int], str] = {}
    for name in names:
        path = root / name
        st = path.lstat()
        info = _dir_info(name, path, st)
        if info is None:
            continue  # sockets are not carried in layers
        if info.isreg() and st.st_nlink > 1:
            key = (st.st_dev, st.st_ino)
            if key in first_of_inode:
                info.type, info.linkname, info.size = tarfile.LNKTYPE, first_of_inode[key], 0
                yield info, None
                continue
            first_of_inode[key] = name
        if info.isreg():
            with path.open("rb") as f:
                yield info, f
        else:
            yield info, None


def _walk(root: Path) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(root, onerror=_raise):
        rel = os.path.relpath(dirpath, root)
        for name in dirnames + filenames:
            yield name if rel == "." else f"{rel}/{name}"


def _raise(exc: OSError) -> None:
    raise OperationError(f"cannot read rootfs: {exc}")


def _dir_info(name: str, path: Path, st: os.stat_result) -> tarfile.TarInfo | None:
    info = tarfile.TarInfo(name)
    info.mode = stat.S_IMODE(st.st_mode)
    info.uid, info.gid = st.st_uid, st.st_gid
    info.mtime = int(st.st_mtime)
    fmt = stat.S_IFMT(st.st_mode)
    if fmt == stat.S_IFREG:
        info.type, info.size = tarfile.REGTYPE, st.st_size
    elif fmt == stat.S_IFDIR:
        info.type = tarfile.DIRTYPE
    elif fmt == stat.S_IFLNK:
        info.type, info.linkname = tarfile.SYMTYPE, os.readlink(path)
    elif fmt in (stat.S_IFCHR, stat.S_IFBLK):
        info.type = tarfile.CHRTYPE if fmt == stat.S_IFCHR else tarfile.BLKTYPE
        info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
    elif fmt == stat.S_IFIFO:
        info.type = tarfile.FIFOTYPE
    else:
        return None
    return info


# ---- from a tarball


def _tar_entries(
    path: Path, stack: ExitStack
) -> Iterator[tuple[tarfile.TarInfo, IO[bytes] | None]]:
    plain = _uncompressed(path, stack)
    try:
        tar = stack.enter_context(tarfile.open(plain, mode="r:"))  # noqa: SIM115
        members = tar.getmembers()
    except (tarfile.TarError, OSError) as exc:
        raise InputError(f"'{path}' is not a readable tar archive ({exc})") from None
    by_name: dict[str, tarfile.TarInfo] = {}
    for m in members:  # a later entry of the same name wins, as on extraction
        m.name = _clean_name(m.name, str(path))
        if m.name:
            by_name[m.name] = m
    names = sorted(by_name, key=_sort_key)
    links = _relinked_hardlinks(by_name, names, str(path))
    for name in names:
        m = by_name[name]
        info = _copy_info(m)
        if name in links:
            target = links[name]
            if target == name:  # first of its group in sorted order: carries the content
                source = _hardlink_source(by_name, m)
                info.type, info.linkname, info.size = tarfile.REGTYPE, "", source.size
                yield info, tar.extractfile(source)
            else:
                info.type, info.linkname, info.size = tarfile.LNKTYPE, target, 0
                yield info, None
        elif m.isreg():
            yield info, tar.extractfile(m)
        else:
            yield info, None


def _copy_info(m: tarfile.TarInfo) -> tarfile.TarInfo:
    info = tarfile.TarInfo(m.name)
    for attr in ("mode", "uid", "gid", "mtime", "type", "linkname", "size", "devmajor", "devminor"):
        setattr(info, attr, getattr(m, attr))
    if not m.isreg():
        info.size = 0
    return info


def _hardlink_groups(by_name: Mapping[str, tarfile.TarInfo], origin: str) -> dict[str, str]:
    """name -> the regular file it is (transitively) a hard link to."""
    root_of: dict[str, str] = {}
    for name, m in by_name.items():
        if not m.islnk():
            continue
        target, hops = _clean_name(m.linkname, origin), 0
        while target in by_name and by_name[target].islnk() and hops < len(by_name):
            target, hops = _clean_name(by_name[target].linkname, origin), hops + 1
        if target not in by_name or not by_name[target].isreg():
            raise InputError(f"{origin}: hard link '{name}' points at '{m.linkname}', not a file in the archive")
        root_of[name] = target
    return root_of


def _relinked_hardlinks(
    by_name: Mapping[str, tarfile.TarInfo], names: Sequence[str], origin: str
) -> dict[str, str]:
    """For every member of a hard-link group: the group's first name in sorted order."""
    root_of = _hardlink_groups(by_name, origin)
    groups: dict[str, list[str]] = {}
    for name, root in root_of.items():
        groups.setdefault(root, [root]).append(name)
    order = {n: i for i, n in enumerate(names)}
    out: dict[str, str] = {}
    for members in groups.values():
        first = min(members, key=order.__getitem__)
        for name in members:
            out[name] = first
    return out


def _hardlink_source(by_name: Mapping[str, tarfile.TarInfo], m: tarfile.TarInfo) -> tarfile.TarInfo:
    while m.islnk():
        m = by_name[_clean_name(m.linkname, "")]
    return m


def _uncompressed(path: Path, stack: ExitStack) -> Path:
    """The tarball itself, or a decompressed temp copy (sorting needs random access)."""
    try:
        with path.open("rb") as f:
            head = f.read(6)
    except OSError as exc:
        raise InputError(f"cannot read '{path}': {exc.strerror}") from None
    if not head.startswith(_COMPRESSED_MAGIC):
        return path
    tmp = stack.enter_context(
        tempfile.NamedTemporaryFile(prefix="dockyard-rootfs-", suffix=".tar")  # noqa: SIM115
    )
    _decompress(path, head, tmp)
    return Path(tmp.name)


def _decompress(path: Path, head: bytes, out: IO[bytes]) -> None:
    import bz2
    import gzip
    import lzma

    opener = {b"\x1f\x8b": gzip.open, b"\xfd7zXZ\x00": lzma.open, b"BZh": bz2.open}
    for magic, open_ in opener.items():
        if head.startswith(magic):
            try:
                with open_(path, "rb") as src:
                    shutil.copyfileobj(src, out, CHUNK)
            except (OSError, EOFError, lzma.LZMAError) as exc:
                raise InputError(f"'{path}' is not a readable compressed tarball ({exc})") from None
            out.flush()
            return
    raise InputError(f"'{path}': zstd-compressed rootfs tarballs are not supported (use .tar, .tar.gz, .tar.xz)")
