"""A small multi-arch Python base for build tests: Debian's python3.11-minimal on busybox.

examples/fleet's web service builds on `${BASE_REGISTRY}/python:3.11`; the
demo makes that base with mmdebstrap (minutes, arm64 under qemu). A test
needs only what its Dockerfile runs (`/bin/sh`, `python3 -m compileall`), so
this base is busybox's applets plus python3.11-minimal and the libraries it
links, unpacked from Debian's .debs (`dpkg-deb -x`, no maintainer scripts):
seconds, and the same bytes on every run (layers are reproducible).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from dockyard.oci.imports import RootfsSource, import_rootfs
from dockyard.oci.registry import RegistryClient
from tests.helpers.buildproject import PLATFORMS
from tests.helpers.busybox import busybox_rootfs, debian_deb

# python3.11-minimal's Depends/PreDepends (Debian 12), minus libssl3: nothing here imports ssl.
PACKAGES = ("python3.11-minimal", "libpython3.11-minimal", "libc6", "libexpat1", "zlib1g")


def python_rootfs(arch: str, dest: Path) -> Path:
    """dest/ with busybox's sh and python3 (3.11) for `arch`; returns dest."""
    busybox_rootfs(arch, dest)
    for package in PACKAGES:
        subprocess.run(["dpkg-deb", "-x", str(debian_deb(package, arch)), str(dest)], check=True)
    python3 = dest / "usr" / "bin" / "python3"
    if not python3.is_symlink():
        python3.symlink_to("python3.11")
    return dest


def python_base_index(host: str, work: Path) -> str:
    """`host/base/python:3.11` for amd64 and arm64, pushed to `host`; returns BASE_REGISTRY."""
    work.mkdir(parents=True, exist_ok=True)
    sources = [
        RootfsSource(p, python_rootfs(p.architecture, work / p.architecture)) for p in PLATFORMS
    ]
    with RegistryClient() as client:
        import_rootfs(sources, client.store(f"{host}/base/python", push=True), tag="3.11")
    return f"{host}/base"
