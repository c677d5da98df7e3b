"""A `docker save` archive (docker-archive) -> one image in a Store, its config byte for byte.

    digest = import_docker_archive(Path("image.tar"), LayoutStore("dist/oci/api"), tag="linux-arm64")

The archive (Docker 20.10's legacy format; Docker 25+ keeps the same
manifest.json) holds:

    manifest.json        [{"Config": "<hex>.json", "RepoTags": [...], "Layers": ["<id>/layer.tar", ...]}]
    <hex>.json           the image config, exactly as the engine stored it
    <id>/layer.tar       each layer, uncompressed (its sha256 is the config's diff_id)

The config is stored unchanged (Docker media type): converting it to an OCI
config, as `skopeo copy docker-archive: oci:` does, drops HEALTHCHECK and
any field OCI does not know. Each layer is checked against its diff_id, then
gzipped (mtime 0: the same layer gives the same blob) into a Docker schema 2
manifest, which is put last, under `tag`.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import IO, Any

from isal import igzip

from dockyard.digest import Digest, parse_digest
from dockyard.errors import InputError, OperationError
from dockyard.oci import mediatypes as mt
from dockyard.oci.layer import GZIP_LEVEL, HashingWriter
from dockyard.oci.models import Descriptor, canonical_json, descriptor_of
from dockyard.oci.store import Store

CHUNK = 1 << 20
# manifest.json and a config are small; a larger one is not a docker-archive.
MAX_JSON = 16 << 20


def import_docker_archive(archive: Path, store: Store, *, tag: str) -> Digest:
    """Put the one image of `archive` into `store` under `tag`; the manifest's digest."""
    try:
        with tarfile.open(archive, mode="r:") as tar:
            entry = _only_image(_read_json(tar, "manifest.json", archive), archive)
            config = _read_member(tar, entry["Config"], archive)
            diff_ids = _diff_ids(config, archive)
            if len(diff_ids) != len(entry["Layers"]):
                raise OperationError(
                    f"{archive}: config lists {len(diff_ids)} layers, manifest.json "
                    f"{len(entry['Layers'])}"
                )
            layers = [
                _put_layer(tar, name, diff_id, store, archive)
                for name, diff_id in zip(entry["Layers"], diff_ids, strict=True)
            ]
    except (OSError, tarfile.TarError) as exc:
        raise OperationError(f"cannot read docker-archive {archive}: {exc}") from None
    config_desc = descriptor_of(config, mt.DOCKER_CONFIG)
    if store.blob_exists(config_desc.digest) is None:
        store.blob_put(config_desc.digest, config_desc.size, io.BytesIO(config))
    raw = docker_manifest(config_desc, layers)
    return store.manifest_put(raw, mt.DOCKER_MANIFEST, tag=tag)


def docker_manifest(config: Descriptor, layers: list[Descriptor]) -> bytes:
    """A Docker schema 2 image manifest (field order as Docker's own writer)."""
    return canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": mt.DOCKER_MANIFEST,
            "config": config.to_json(),
            "layers": [layer.to_json() for layer in layers],
        }
    )


def _only_image(doc: Any, archive: Path) -> dict[str, Any]:
    if not isinstance(doc, list) or len(doc) != 1 or not isinstance(doc[0], dict):
        count = len(doc) if isinstance(doc, list) else "no"
        raise OperationError(f"{archive}: expected one image in manifest.json, found {count}")
    entry = doc[0]
    layers = entry.get("Layers")
    if not isinstance(entry.get("Config"), str) or not isinstance(layers, list):
        raise OperationError(f"{archive}: manifest.json lacks Config or Layers")
    if not all(isinstance(name, str) for name in layers):
        raise OperationError(f"{archive}: manifest.json Layers are not paths")
    return entry


def _diff_ids(config: bytes, archive: Path) -> list[Digest]:
    try:
        doc = json.loads(config)
        return [parse_digest(d) for d in doc["rootfs"]["diff_ids"]]
    except (ValueError, KeyError, TypeError, InputError) as exc:
        raise OperationError(f"{archive}: config has no readable rootfs.diff_ids ({exc})") from None


def _member(tar: tarfile.TarFile, name: str, archive: Path) -> IO[bytes]:
    clean = str(PurePosixPath(name))
    if clean.startswith(("/", "..")):
        raise OperationError(f"{archive}: unsafe path {name!r} in manifest.json")
    try:
        member = tar.getmember(clean)
    except KeyError:
        raise OperationError(f"{archive}: {name} is named in manifest.json but missing") from None
    stream = tar.extractfile(member) if member.isfile() else None
    if stream is None:
        raise OperationError(f"{archive}: {name} is not a regular file")
    return stream


def _read_member(tar: tarfile.TarFile, name: str, archive: Path) -> bytes:
    data = _member(tar, name, archive).read(MAX_JSON + 1)
    if len(data) > MAX_JSON:
        raise OperationError(f"{archive}: {name} is larger than {MAX_JSON} bytes")
    return data


def _read_json(tar: tarfile.TarFile, name: str, archive: Path) -> Any:
    try:
        return json.loads(_read_member(tar, name, archive))
    except ValueError as exc:
        raise OperationError(f"{archive}: {name} is not JSON ({exc})") from None


def _put_layer(
    tar: tarfile.TarFile, name: str, diff_id: Digest, store: Store, archive: Path
) -> Descriptor:
    """Gzip one layer into a temp file while hashing both sides; check, then store it."""
    source = _member(tar, name, archive)
    with tempfile.TemporaryFile() as out:
        compressed = HashingWriter(out)
        plain = hashlib.sha256()
        with igzip.IGzipFile(
            fileobj=compressed, mode="wb", compresslevel=GZIP_LEVEL, mtime=0
        ) as gz:
            while chunk := source.read(CHUNK):
                plain.update(chunk)
                gz.write(chunk)
        found = parse_digest("sha256:" + plain.hexdigest())
        if found != diff_id:
            raise OperationError(f"{archive}: {name} hashes to {found}, the config says {diff_id}")
        digest = parse_digest("sha256:" + compressed.hash.hexdigest())
        if store.blob_exists(digest) is None:
            out.seek(0)
            store.blob_put(digest, compressed.count, out)
        return Descriptor(mt.DOCKER_LAYER_GZIP, digest, compressed.count)
