"""Real busybox images for the verify tests: imported with dockyard's import, restacked by hand.

`import_busybox` makes an index from (platform, Debian arch) pairs (the arch
of the busybox binary may differ from the platform: that is the point);
`add_layers`, `edit_config` and `write_index` build what import cannot:
extra layers on a child (whiteouts, replaced files), configs that lie about
their layers (rootfs.diff_ids) and indexes whose entries lie about their
platform.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Callable, Sequence
from itertools import count
from pathlib import Path

from dockyard.digest import sha256_digest
from dockyard.oci import mediatypes as mt
from dockyard.oci.imports import ImageSettings, ImportResult, RootfsSource, import_rootfs
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import (
    Descriptor,
    build_index,
    build_manifest,
    canonical_json,
    descriptor_of,
    parse_manifest,
)
from dockyard.platform import Platform, parse_platform
from tests.helpers.busybox import busybox_rootfs

# Non-root, with a HEALTHCHECK: passes every policy check.
CLEAN = ImageSettings(user="1000", healthcheck="true", labels={"org.opencontainers.image.source": "x"})
_serial = count()


def rootfs(tmp: Path, arch: str, *, passwd: str | None = None) -> Path:
    root = busybox_rootfs(arch, tmp / f"root-{arch}-{next(_serial)}")
    if passwd is not None:
        (root / "etc").mkdir(exist_ok=True)
        (root / "etc" / "passwd").write_text(passwd)
    return root


def import_busybox(
    tmp: Path,
    pairs: Sequence[tuple[str, str]],
    *,
    settings: ImageSettings = CLEAN,
    passwd: str | None = None,
    tag: str = "t",
) -> tuple[str, LayoutStore, ImportResult]:
    """(location, store, result): an index over `pairs` of (platform, busybox arch)."""
    layout = tmp / f"oci-{next(_serial)}"
    store = LayoutStore(layout)
    sources = [RootfsSource(parse_platform(p), rootfs(tmp, arch, passwd=passwd)) for p, arch in pairs]
    result = import_rootfs(sources, store, settings=settings, tag=tag)
    return f"oci:{layout}:{tag}", store, result


def layer(entries: Sequence[tuple[str, bytes]], *, mode: int = 0o755) -> tuple[Descriptor, bytes, str]:
    """A gzip layer of regular files: (descriptor, blob, diff_id)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    raw = out.getvalue()
    blob = gzip.compress(raw, mtime=0)
    return Descriptor(mt.OCI_LAYER_GZIP, sha256_digest(blob), len(blob)), blob, str(sha256_digest(raw))


def add_layers(
    store: LayoutStore, child: Descriptor, layers: Sequence[tuple[Descriptor, bytes, str]]
) -> Descriptor:
    """A new manifest: `child`'s layers plus `layers` on top, its config's diff_ids extended."""
    raw, media_type = store.manifest_get(str(child.digest))
    manifest = parse_manifest(raw, media_type)
    with store.blob_open(manifest.config.digest) as f:
        config = json.loads(f.read())
    for desc, blob, diff_id in layers:
        store.blob_put(desc.digest, desc.size, io.BytesIO(blob))
        config["rootfs"]["diff_ids"].append(diff_id)
    config_bytes = canonical_json(config)
    config_desc = descriptor_of(config_bytes, mt.OCI_CONFIG)
    store.blob_put(config_desc.digest, config_desc.size, io.BytesIO(config_bytes))
    data, desc = build_manifest(config_desc, [*manifest.layers, *(d for d, _, _ in layers)])
    store.manifest_put(data, mt.OCI_MANIFEST)
    return Descriptor(desc.media_type, desc.digest, desc.size, child.platform)


def edit_config(store: LayoutStore, child: Descriptor, edit: Callable[[dict], None]) -> Descriptor:
    """A new manifest: `child`'s layers under a copy of its config that `edit` changed in place."""
    raw, media_type = store.manifest_get(str(child.digest))
    manifest = parse_manifest(raw, media_type)
    with store.blob_open(manifest.config.digest) as f:
        config = json.loads(f.read())
    edit(config)
    config_bytes = canonical_json(config)
    config_desc = descriptor_of(config_bytes, mt.OCI_CONFIG)
    store.blob_put(config_desc.digest, config_desc.size, io.BytesIO(config_bytes))
    data, desc = build_manifest(config_desc, list(manifest.layers))
    store.manifest_put(data, mt.OCI_MANIFEST)
    return Descriptor(desc.media_type, desc.digest, desc.size, child.platform)


def with_platform(child: Descriptor, platform: str) -> Descriptor:
    p = parse_platform(platform)
    return Descriptor(child.media_type, child.digest, child.size, Platform(p.os, p.architecture, p.variant))


def write_index(store: LayoutStore, children: Sequence[Descriptor], *, tag: str) -> str:
    data, _ = build_index(children)
    store.manifest_put(data, mt.OCI_INDEX, tag=tag)
    return f"oci:{store.path}:{tag}"
