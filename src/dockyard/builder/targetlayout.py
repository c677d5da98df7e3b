"""A target's OCI layout as the build uses it: skip lookups, image stats, the index (I/O).

The layout is `<output>/oci/<target>`; each platform image is named by its
platform tag (`linux-arm64`) as the backend puts it, the target's index by
the plan version. An index entry carries the image's input hash
(INPUT_HASH_ANNOTATION) and its base pin: that is what a later run's skip
check and a fresh machine's registry lookup compare.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from dockyard.builder.inputs import INPUT_HASH_ANNOTATION
from dockyard.builder.resolve import BASE_DIGEST_ANNOTATION, BASE_NAME_ANNOTATION
from dockyard.builder.result import BasePin, ImageStats, JobResult
from dockyard.digest import Digest
from dockyard.errors import NotFound, OperationError
from dockyard.oci import mediatypes as mt
from dockyard.oci.layout import LayoutStore
from dockyard.oci.localfile import open_regular, read_capped
from dockyard.oci.models import (
    MAX_MANIFEST_SIZE,
    Descriptor,
    Index,
    Manifest,
    build_index,
    parse_manifest,
)
from dockyard.platform import Platform

GZIP_TYPES = frozenset(
    {
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
    }
)
TAR_TYPES = frozenset(
    {"application/vnd.oci.image.layer.v1.tar", "application/vnd.docker.image.rootfs.diff.tar"}
)


def find_in_layout(layout: Path, platform: Platform, digest: Digest) -> Digest | None:
    """The digest of an image for the job's platform with this input hash, in any index there."""
    if not (layout / "index.json").exists():
        return None
    store = LayoutStore(layout)
    for root in store.roots():
        if root.media_type not in mt.INDEX_TYPES:
            continue
        try:
            parsed = parse_manifest(*store.manifest_get(str(root.digest)))
        except NotFound:
            continue
        child = child_with(parsed, platform, digest) if isinstance(parsed, Index) else None
        if child is not None and store.blob_exists(child.digest) is not None:
            return child.digest
    return None


def child_with(index: Index, platform: Platform, digest: Digest) -> Descriptor | None:
    """The index's image for exactly `platform` carrying input hash `digest`."""
    for child in index.platforms():
        if (
            child.platform == platform
            and child.annotations.get(INPUT_HASH_ANNOTATION) == str(digest)
            and child.media_type in mt.MANIFEST_TYPES
        ):
            return child
    return None


def image_stats(layout: Path, digest: Digest) -> ImageStats:
    """Layers and sizes of an image in the layout (uncompressed from gzip trailers; see result.py)."""
    store = LayoutStore(layout)
    manifest = parse_manifest(*store.manifest_get(str(digest)))
    if not isinstance(manifest, Manifest):
        return ImageStats()
    compressed = sum(layer.size for layer in manifest.layers)
    sizes = [_unpacked_size(store, layer) for layer in manifest.layers]
    uncompressed = None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)
    return ImageStats(len(manifest.layers), compressed, uncompressed)


def _unpacked_size(store: LayoutStore, layer: Descriptor) -> int | None:
    if layer.media_type in TAR_TYPES:
        return layer.size
    if layer.media_type not in GZIP_TYPES or layer.size < 18:
        return None
    try:
        with open_regular(store.blob_path(layer.digest)) as f:
            f.seek(-4, os.SEEK_END)
            return int.from_bytes(f.read(4), "little")  # gzip ISIZE: length mod 2**32
    except OSError:
        return None


def write_index(
    layout: Path, jobs: Sequence[JobResult], *, annotations: Mapping[str, str], tag: str
) -> tuple[Digest, bool]:
    """Put the target's index under `tag`; (its digest, whether anything was written)."""
    store = LayoutStore(layout)
    children = []
    for job in jobs:
        assert job.digest is not None and job.input_hash is not None
        head = store.manifest_head(str(job.digest))
        if head is None:
            raise NotFound(f"{store}: the {job.platform} image {job.digest} is missing")
        children.append(
            index_child(
                head[2],
                job.digest,
                head[1],
                job.platform,
                input_hash=job.input_hash,
                image_base=job.image_base,
            )
        )
    raw, desc = target_index(children, annotations=annotations)
    current = store.manifest_head(tag)
    if current is not None and current[0] == desc.digest:
        return desc.digest, False
    store.manifest_put(raw, desc.media_type, tag=tag)
    return desc.digest, True


def index_child(
    media_type: str,
    digest: Digest,
    size: int,
    platform: Platform,
    *,
    input_hash: Digest,
    image_base: BasePin | None,
) -> Descriptor:
    """A platform image's entry in its target's index: the input hash and the base pin annotated.

    Shared by the build (write_index) and `merge` (pipeline.merge), so both write the same index.
    """
    entry = {INPUT_HASH_ANNOTATION: str(input_hash)}
    if image_base is not None:
        entry[BASE_NAME_ANNOTATION] = image_base.reference
        entry[BASE_DIGEST_ANNOTATION] = str(image_base.digest)
    return Descriptor(media_type, digest, size, platform, entry)


def target_index(
    children: Sequence[Descriptor], *, annotations: Mapping[str, str]
) -> tuple[bytes, Descriptor]:
    """A target's index over its entries (in the plan's platform order) with the plan's annotations."""
    return build_index(children, annotations=annotations)


def read_index_json(layout: Path) -> bytes | None:
    """index.json's bytes as they are now (None: absent), to put back if the target fails."""
    try:
        return read_capped(layout / "index.json", MAX_MANIFEST_SIZE, what="index.json")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OperationError(f"{layout / 'index.json'}: cannot read it ({exc.strerror})") from None


def restore_index_json(layout: Path, saved: bytes | None) -> None:
    """Put index.json back as `saved` (None: remove it), atomically, under the layout's lock."""
    path = layout / "index.json"
    if not layout.is_dir():
        return
    try:
        fd = os.open(layout, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # LayoutStore's writers lock the directory
            if saved is None:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                return
            if path.exists() and path.read_bytes() == saved:
                return
            tmp_fd, tmp = tempfile.mkstemp(prefix=f".tmp-{os.getpid()}-", dir=layout)
            with os.fdopen(tmp_fd, "wb") as f:
                f.write(saved)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            os.close(fd)
    except OSError as exc:
        raise OperationError(f"{path}: cannot restore it ({exc.strerror})") from None
