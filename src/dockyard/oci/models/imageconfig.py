"""The image config (pure): the JSON a platform image's manifest points at as its config.

    config = parse_config(raw)          # OCI or Docker: the same JSON; ManifestInvalid if bad

Only what dockyard reads is modelled (platform, user, healthcheck, labels,
env, entrypoint/cmd, rootfs diff_ids); the exact bytes are kept for the digest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from dockyard.digest import Digest, sha256_digest
from dockyard.errors import ManifestInvalid
from dockyard.oci.models.fields import (
    EMPTY_MAP,
    digest_field,
    kind_of,
    load_document,
    string_field,
    string_list,
    string_map,
)
from dockyard.platform import Platform


@dataclass(frozen=True)
class ImageConfig:
    raw: bytes = field(repr=False)
    os: str
    architecture: str
    variant: str = ""
    user: str = ""
    healthcheck: Mapping[str, Any] | None = field(default=None, hash=False)
    labels: Mapping[str, str] = field(default_factory=lambda: EMPTY_MAP, hash=False)
    created: str = ""
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    working_dir: str = ""
    diff_ids: tuple[Digest, ...] = ()
    rootfs_type: str = ""  # "layers" in every valid image; "" when absent

    @property
    def digest(self) -> Digest:
        return sha256_digest(self.raw)

    @property
    def platform(self) -> Platform:
        return Platform(self.os, self.architecture, self.variant)


def parse_config(raw: bytes) -> ImageConfig:
    """Parse an image config (OCI or Docker: the same JSON) from its bytes."""
    doc = load_document(raw, "config")
    os_name = string_field(doc, "os", "config", required=True)
    arch = string_field(doc, "architecture", "config", required=True)
    run = doc.get("config")
    run = {} if run is None else run
    if not isinstance(run, Mapping):
        raise ManifestInvalid(f"config.config: expected an object, got {kind_of(run)}")
    rootfs = doc.get("rootfs")
    rootfs = {} if rootfs is None else rootfs
    if not isinstance(rootfs, Mapping):
        raise ManifestInvalid(f"config.rootfs: expected an object, got {kind_of(rootfs)}")
    diff_ids = string_list(rootfs.get("diff_ids"), "config.rootfs.diff_ids")
    healthcheck = run.get("Healthcheck")
    if healthcheck is not None and not isinstance(healthcheck, Mapping):
        raise ManifestInvalid(
            f"config.config.Healthcheck: expected an object, got {kind_of(healthcheck)}"
        )
    return ImageConfig(
        raw=raw,
        os=os_name,
        architecture=arch,
        variant=string_field(doc, "variant", "config"),
        user=string_field(run, "User", "config.config"),
        healthcheck=MappingProxyType(dict(healthcheck)) if healthcheck else None,
        labels=string_map(run.get("Labels"), "config.config.Labels"),
        created=string_field(doc, "created", "config"),
        env=string_list(run.get("Env"), "config.config.Env"),
        entrypoint=string_list(run.get("Entrypoint"), "config.config.Entrypoint"),
        cmd=string_list(run.get("Cmd"), "config.config.Cmd"),
        working_dir=string_field(run, "WorkingDir", "config.config"),
        diff_ids=tuple(digest_field(d, f"config.rootfs.diff_ids[{i}]") for i, d in enumerate(diff_ids)),
        rootfs_type=string_field(rootfs, "type", "config.rootfs"),
    )
