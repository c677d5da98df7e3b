"""The reproducible layer `dockyard import` writes: a rootfs directory or tarball -> one gzip layer.

Entries sorted, uid/gid/mode kept, user and group names dropped, mtimes
clamped to the epoch, hard links re-pointed at their first name in sorted
order. The same input and epoch give the same bytes, hence the same digests
(tested). Extended attributes are not carried over.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from isal import igzip

from dockyard.digest import Digest, parse_digest
from dockyard.errors import InputError, OperationError

# isal's fastest level that still compresses (0 is barely better than store);
# import is bound by gzip, and a base image is pulled far more than it is built.
GZIP_LEVEL = 1
CHUNK = 1 << 20
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"\xfd7zXZ\x00", b"BZh", b"\x28\xb5\x2f\xfd")


@dataclass(frozen=True)
class Layer:
    digest: Digest  # of the gzip bytes
    size: int
    diff_id: Digest  # of the uncompressed tar
    uncompressed_size: int


class HashingWriter(io.RawIOBase):
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
    with ExitStack() as stack:
        out = stack.enter_context(out_path.open("wb"))
        compressed = HashingWriter(out)
        gz = stack.enter_context(
            igzip.IGzipFile(fileobj=compressed, mode="wb", compresslevel=GZIP_LEVEL, mtime=0)
        )
        plain = HashingWriter(gz)
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
