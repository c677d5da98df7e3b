"""What the engine tests share: the trap Dockerfile, a podman storage of their own, image readers."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from dockyard.builder.backends.buildah import BuildahStorage
from dockyard.builder.backends.podman import PodmanBackend
from dockyard.builder.result import TargetResult
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import Index, Manifest, parse_manifest
from dockyard.platform import EM_AARCH64, EM_X86_64, Platform
from dockyard.verify.archscan import scan_manifest

# A stage on the build platform copying into a final stage on the base: without per-platform
# pinning podman 4.3 (buildah 1.28 inside) ships the build platform's busybox in every image.
TRAP = """\
ARG BASE
FROM --platform=$BUILDPLATFORM ${BASE} AS build
RUN echo hi > /tmp/marker
FROM ${BASE}
COPY --from=build /tmp/marker /marker
"""


def podman_storage() -> tuple[BuildahStorage, Path]:
    """Storage of its own under a short /tmp dir: podman keeps sockets in the runroot, and a
    unix socket path has at most 107 bytes (pytest's tmp paths come close)."""
    top = Path(tempfile.mkdtemp(prefix="dy-pm-", dir="/tmp"))
    return BuildahStorage(root=top / "root", runroot=top / "run", driver="overlay"), top


def podman_backend() -> tuple[PodmanBackend, Callable[[], None]]:
    storage, top = podman_storage()
    backend = PodmanBackend(storage=storage)

    def cleanup() -> None:
        # `podman system reset` unmounts overlay layers before the directory goes.
        subprocess.run(
            ["podman", *storage.flags(), "system", "reset", "--force"],
            capture_output=True, timeout=300, check=False,
        )  # fmt: skip
        shutil.rmtree(top, ignore_errors=True)

    return backend, cleanup


def image_of(target: TargetResult, platform: Platform) -> tuple[LayoutStore, Manifest]:
    """The platform's image manifest in a built target's layout."""
    store = LayoutStore(target.layout)
    index = parse_manifest(*store.manifest_get(target.tag))
    assert isinstance(index, Index)
    child = index.find(platform)
    assert child is not None, f"no {platform} in {target.layout}"
    manifest = parse_manifest(*store.manifest_get(str(child.digest)))
    assert isinstance(manifest, Manifest)
    return store, manifest


def config_of(store: LayoutStore, manifest: Manifest) -> dict:
    with store.blob_open(manifest.config.digest) as f:
        return json.loads(f.read())


def elf_machines(
    store: LayoutStore, manifest: Manifest, platform: Platform
) -> tuple[int, set[int]]:
    """(ELF files in the image, the set of their e_machine values)."""
    scan = scan_manifest(store, manifest, platform=platform)
    machines = {header.machine for _, header in scan.mismatches}
    if scan.elf_files > len(scan.mismatches):
        machines.add(platform_machine(platform))
    return scan.elf_files, machines


def platform_machine(platform: Platform) -> int:
    return {"amd64": EM_X86_64, "arm64": EM_AARCH64}[platform.architecture]
