"""A multi-arch image with a real dpkg database, made from Debian's .debs (no Docker Hub here).

Each platform's rootfs is the packages' files (`dpkg-deb -x`, no maintainer
scripts) plus /var/lib/dpkg/status written from their control files as dpkg
writes it (`Status: install ok installed` after `Package:`): busybox-static
(Source with a version), libc6 (Source glibc), zlib1g (an epoch), base-files
(/usr/lib/os-release, /etc/os-release a symlink to it) and python3-packaging
(Architecture all, a dist-info METADATA). `dpkg-query --admindir` reads the
status back independently of dockyard.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from dockyard.oci.imports import ImportResult, RootfsSource, import_rootfs
from dockyard.oci.layout import LayoutStore
from dockyard.platform import parse_platform
from tests.helpers.busybox import deb_cache, debian_deb

PACKAGES = ("busybox-static", "libc6", "zlib1g", "base-files")
ALL_PACKAGES = ("python3-packaging",)  # Architecture: all
# The images' config `created`: 2023-11-14T22:13:20Z.
EPOCH = 1_700_000_000
CREATED = "2023-11-14T22:13:20Z"


def arch_all_deb(package: str) -> Path:
    """Debian's Architecture-all .deb of `package`, downloaded on first use."""
    cache = deb_cache()
    found = sorted(cache.glob(f"{package}_*_all.deb"))
    if not found:
        subprocess.run(["apt-get", "download", package], cwd=cache, check=True, capture_output=True)
        found = sorted(cache.glob(f"{package}_*_all.deb"))
    return found[-1]


def debs(arch: str) -> list[Path]:
    return [debian_deb(p, arch) for p in PACKAGES] + [arch_all_deb(p) for p in ALL_PACKAGES]


def debian_rootfs(arch: str, dest: Path) -> Path:
    """dest/ with the packages' files and their dpkg status; returns dest."""
    status = []
    for deb in debs(arch):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], check=True)
        control = subprocess.run(
            ["dpkg-deb", "-f", str(deb)], check=True, capture_output=True, text=True
        ).stdout.rstrip("\n")
        first, _, rest = control.partition("\n")
        status.append(f"{first}\nStatus: install ok installed\n{rest}\n")
    (dest / "var" / "lib" / "dpkg").mkdir(parents=True, exist_ok=True)
    (dest / "var" / "lib" / "dpkg" / "status").write_text("\n".join(status))
    return dest


def installed(root: Path) -> set[tuple[str, str, str, str]]:
    """(package, version, source, architecture) of each package, as dpkg-query reads the status."""
    out = subprocess.run(
        ["dpkg-query", f"--admindir={root / 'var' / 'lib' / 'dpkg'}", "-W",
         "-f", "${Package}\t${Version}\t${source:Package}\t${Architecture}\n"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return {tuple(line.split("\t")) for line in out.splitlines()}  # type: ignore[misc]


def debian_index(
    tmp: Path, platforms: tuple[str, ...] = ("linux/amd64", "linux/arm64"), *, tag: str = "t"
) -> tuple[str, LayoutStore, ImportResult, dict[str, Path]]:
    """(location, store, import result, {platform: rootfs}) of an index of Debian rootfs images."""
    roots = {p: debian_rootfs(parse_platform(p).architecture, tmp / f"root-{parse_platform(p).slug}")
             for p in platforms}  # fmt: skip
    store = LayoutStore(tmp / "oci")
    sources = [RootfsSource(parse_platform(p), root) for p, root in roots.items()]
    result = import_rootfs(sources, store, tag=tag, epoch=EPOCH)
    return f"oci:{tmp / 'oci'}:{tag}", store, result, roots
