"""Tiny multi-arch rootfs trees from Debian's busybox-static (no Docker Hub here).

The .debs are fetched once with `apt-get download` into a cache shared by
test sessions (~/.cache/dockyard/debs, or $DOCKYARD_DEB_CACHE), and the
arm64 architecture is added to dpkg when missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

ARCHES = ("amd64", "arm64")
APPLETS = ("sh", "ls", "cat", "echo", "true", "uname")


def deb_cache() -> Path:
    path = Path(os.environ.get("DOCKYARD_DEB_CACHE", Path.home() / ".cache" / "dockyard" / "debs"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def busybox_deb(arch: str) -> Path:
    """The busybox-static .deb for `arch`, downloaded on first use."""
    return debian_deb("busybox-static", arch)


def debian_deb(package: str, arch: str) -> Path:
    """Debian's .deb of `package` for `arch` (the machine's apt sources), downloaded on first use."""
    cache = deb_cache()
    found = sorted(cache.glob(f"{package}_*_{arch}.deb"))
    if found:
        return found[-1]
    foreign = subprocess.run(
        ["dpkg", "--print-foreign-architectures"], capture_output=True, text=True, check=True
    ).stdout.split()
    native = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if arch != native and arch not in foreign:
        subprocess.run(["dpkg", "--add-architecture", arch], check=True)
        subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
    # Into a private directory, then renamed: several test sessions (CI and a developer's
    # run) may fetch the same .deb at once, and none may see another's half-written file.
    with tempfile.TemporaryDirectory(dir=cache, prefix=".fetch-") as tmp:
        subprocess.run(
            ["apt-get", "download", f"{package}:{arch}"], cwd=tmp, check=True, capture_output=True
        )
        for deb in Path(tmp).glob("*.deb"):
            os.replace(deb, cache / deb.name)
    return sorted(cache.glob(f"{package}_*_{arch}.deb"))[-1]


def busybox_rootfs(arch: str, dest: Path) -> Path:
    """dest/ with bin/busybox for `arch` and a few applet symlinks; returns dest."""
    extracted = dest.parent / f".{dest.name}-deb"
    if not extracted.exists():
        subprocess.run(["dpkg-deb", "-x", str(busybox_deb(arch)), str(extracted)], check=True)
    (dest / "bin").mkdir(parents=True, exist_ok=True)
    (dest / "tmp").mkdir(exist_ok=True)
    (dest / "tmp").chmod(0o1777)
    shutil.copy2(extracted / "bin" / "busybox", dest / "bin" / "busybox")
    for applet in APPLETS:
        link = dest / "bin" / applet
        if not link.is_symlink():
            link.symlink_to("busybox")
    return dest


def busybox_tar(arch: str, dest: Path) -> Path:
    """The same rootfs as a tarball (`./bin/...` names, like mmdebstrap writes)."""
    root = busybox_rootfs(arch, dest.parent / f"{dest.name}.d")
    subprocess.run(["tar", "-C", str(root), "-cf", str(dest), "."], check=True)
    return dest
