"""One image of a Store -> a docker-archive (`docker save`'s format) that `docker load` and
`podman load` read, under the given repository tags.

    write_docker_archive(store, manifest, Path("api.tar"), repo_tags=["ghcr.io/acme/api:1.2.3"])

The archive holds manifest.json, the config under `<config hex>.json`
(its bytes as stored: HEALTHCHECK and every other field survive), and each
layer uncompressed as `<diff_id hex>/layer.tar`, the form Docker 20.10 writes
and the only one its `docker load` reads (it cannot read OCI archives). Each
decompressed layer is checked against the config's diff_id before it goes
in. Written to a temp file beside `dest`, then renamed: no partial archive.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import tempfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from dockyard.digest import parse_digest
from dockyard.errors import OperationError
from dockyard.oci import mediatypes as mt
from dockyard.oci.models import Manifest
from dockyard.oci.store import Store

CHUNK = 1 << 20
_GZIP = frozenset({mt.OCI_LAYER_GZIP, mt.DOCKER_LAYER_GZIP})
_PLAIN = frozenset(
    {"application/vnd.oci.image.layer.v1.tar", "application/vnd.docker.image.rootfs.diff.tar"}
)


def write_docker_archive(
    store: Store, manifest: Manifest, dest: Path, *, repo_tags: Sequence[str]
) -> Path:
    """Write `manifest`'s image from `store` to `dest` as a docker-archive; `dest`."""
    with store.blob_open(manifest.config.digest) as f:
        config = f.read()
    diff_ids = [parse_digest(d) for d in json.loads(config)["rootfs"]["diff_ids"]]
    if len(diff_ids) != len(manifest.layers):
        raise OperationError(
            f"image {manifest.digest}: {len(manifest.layers)} layers, config lists {len(diff_ids)}"
        )
    config_name = f"{manifest.config.digest.hex}.json"
    layer_names = [f"{d.hex}/layer.tar" for d in diff_ids]
    index = [{"Config": config_name, "RepoTags": list(repo_tags), "Layers": layer_names}]
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".dockyard-save-", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out, tarfile.open(fileobj=out, mode="w|") as tar:
            _add_bytes(tar, config_name, config)
            written: set[str] = set()
            for layer, name, diff_id in zip(manifest.layers, layer_names, diff_ids, strict=True):
                if name in written:  # the same layer twice (an empty RUN): one file, named twice
                    continue
                _add_layer(tar, store, layer, name, diff_id.hex)
                written.add(name)
            _add_bytes(tar, "manifest.json", json.dumps(index).encode())
        os.replace(tmp_name, dest)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return dest


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _add_layer(tar: tarfile.TarFile, store: Store, layer, name: str, want_hex: str) -> None:
    """The layer decompressed into a temp file (a tar entry needs its size first), checked."""
    if layer.media_type not in _GZIP | _PLAIN:
        raise OperationError(
            f"layer {layer.digest}: {layer.media_type} cannot go into a docker-archive "
            "(gzip or uncompressed tar only)"
        )
    with tempfile.TemporaryFile() as plain, store.blob_open(layer.digest) as blob:
        digest = hashlib.sha256()
        source: IO[bytes] = gzip.GzipFile(fileobj=blob) if layer.media_type in _GZIP else blob
        try:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                plain.write(chunk)
        except (OSError, EOFError, zlib.error) as exc:
            raise OperationError(f"layer {layer.digest}: cannot decompress ({exc})") from None
        if digest.hexdigest() != want_hex:
            raise OperationError(
                f"layer {layer.digest}: uncompressed it hashes to sha256:{digest.hexdigest()}, "
                f"the config says sha256:{want_hex}"
            )
        size = plain.tell()
        plain.seek(0)
        folder = tarfile.TarInfo(name.split("/", 1)[0])
        folder.type = tarfile.DIRTYPE
        folder.mode = 0o755
        tar.addfile(folder)
        info = tarfile.TarInfo(name)
        info.size = size
        info.mode = 0o644
        tar.addfile(info, plain)
