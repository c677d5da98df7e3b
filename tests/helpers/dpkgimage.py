"""Busybox images that carry a real dpkg status: what the scan (and an SBOM) read.

Debian's busybox-static .deb unpacked (tests/helpers/busybox.py), plus
/var/lib/dpkg/status written from the .deb's own control fields with
`Status: install ok installed`, as dpkg writes it on install. The package
is real: busybox-static, built from the source package busybox (its
`Source:` field names it, with the source version when it is a binNMU).
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from dockyard.oci.imports import ImageSettings, RootfsSource, import_rootfs
from dockyard.oci.store import Store
from dockyard.platform import parse_platform
from tests.helpers.busybox import busybox_rootfs, debian_deb


def control(package: str, arch: str) -> dict[str, str]:
    """The control fields of Debian's .deb of `package` for `arch` (`dpkg-deb -f`)."""
    out = subprocess.run(
        ["dpkg-deb", "-f", str(debian_deb(package, arch))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    fields: dict[str, str] = {}
    key = ""
    for line in out.splitlines():
        if line[:1] in (" ", "\t") and key:
            fields[key] += "\n" + line
        else:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def status_text(packages: Sequence[str], arch: str) -> str:
    """A dpkg status file listing `packages` as installed, their fields from the .debs."""
    paragraphs = []
    for package in packages:
        fields = control(package, arch)
        lines = [f"Package: {fields.pop('Package')}", "Status: install ok installed"]
        lines += [f"{key}: {value}" for key, value in fields.items()]
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs) + "\n"


def dpkg_rootfs(arch: str, dest: Path) -> Path:
    """busybox's rootfs for `arch` with /var/lib/dpkg/status naming busybox-static; returns dest."""
    busybox_rootfs(arch, dest)
    status = dest / "var" / "lib" / "dpkg" / "status"
    status.parent.mkdir(parents=True, exist_ok=True)
    status.write_text(status_text(["busybox-static"], arch))
    return dest


def busybox_version(arch: str = "amd64") -> str:
    """The installed version of busybox-static (e.g. 1:1.35.0-4+deb12u1+b1)."""
    return control("busybox-static", arch)["Version"]


def import_dpkg_busybox(
    work: Path,
    store: Store,
    *,
    platforms: Sequence[str] = ("linux/amd64", "linux/arm64"),
    tag: str = "1",
) -> str:
    """An index of busybox + dpkg status per platform, imported into `store`; its digest."""
    work.mkdir(parents=True, exist_ok=True)
    sources = [
        RootfsSource(
            parse_platform(p),
            dpkg_rootfs(parse_platform(p).architecture, work / p.replace("/", "-")),
        )
        for p in platforms
    ]
    result = import_rootfs(sources, store, settings=ImageSettings(user="65534"), tag=tag)
    return str(result.index.digest)
