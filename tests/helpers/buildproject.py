"""Tiny build projects for the build tests: busybox bases in a registry, dockyard.toml + contexts."""

from __future__ import annotations

import json
from pathlib import Path

from dockyard.oci.imports import RootfsSource, import_rootfs
from dockyard.oci.registry import RegistryClient
from dockyard.platform import Platform
from tests.helpers.busybox import busybox_rootfs

PLATFORMS = (Platform("linux", "amd64"), Platform("linux", "arm64"))


def base_index(host: str, work: Path) -> str:
    """`host/base:1`: an index of Debian's busybox-static for amd64 and arm64, pushed to `host`."""
    work.mkdir(parents=True, exist_ok=True)
    sources = [RootfsSource(p, busybox_rootfs(p.architecture, work / p.architecture)) for p in PLATFORMS]
    with RegistryClient() as client:
        import_rootfs(sources, client.store(f"{host}/base", push=True), tag="1")
    return f"{host}/base:1"


def project(
    root: Path,
    targets: dict[str, str],
    *,
    base: str,
    platforms: tuple[str, ...] = ("linux/arm64",),
    registries: tuple[str, ...] = (),
    extra: str = "",
) -> Path:
    """dockyard.toml with one target per (name -> Dockerfile text), each with its own context."""
    lines = [
        "[project]",
        'name = "t"',
        f"platforms = {json.dumps(list(platforms))}",
        f"registries = {json.dumps(list(registries))}",
        "",
    ]
    for name, dockerfile in targets.items():
        context = root / name
        context.mkdir(parents=True, exist_ok=True)
        (context / "Dockerfile").write_text(dockerfile)
        (context / "file.txt").write_text(f"{name}\n")
        lines += [
            f"[targets.{name}]",
            f'context = "{name}"',
            f'image = "{name}"',
            f'args = {{ BASE = "{base}" }}',
            extra,
            "",
        ]
    path = root / "dockyard.toml"
    path.write_text("\n".join(lines))
    return path
