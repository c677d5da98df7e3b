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

import io
import json
import os
import shlex
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dockyard.digest import Digest
from dockyard.errors import InputError
from dockyard.oci import mediatypes as mt
from dockyard.oci.layer import write_layer
from dockyard.oci.models import (
    Descriptor,
    build_index,
    build_manifest,
    canonical_json,
    descriptor_of,
)
from dockyard.oci.open import open_store
from dockyard.oci.store import Store
from dockyard.platform import Platform, parse_platform
from dockyard.ref import parse_location

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# docker's defaults, written out so every reader sees the same values.
HEALTHCHECK_INTERVAL_NS = 30_000_000_000
HEALTHCHECK_TIMEOUT_NS = 30_000_000_000
HEALTHCHECK_RETRIES = 3


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
    **registry: Any,
) -> ImportResult:
    """`dockyard import`: parse every input, then write the image to `destination`.

    `registry`: RegistryOptions fields (insecure_registries, ca_cert) for a registry DEST.

    A location without a tag is written as `latest` (what docker assumes, and
    the only image of a layout, so `oci:DIR` reads it back).
    """
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
    store, reference = open_store(location, push=True, **registry)
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
