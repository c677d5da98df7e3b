"""The arch scan over real ELF binaries: Debian's busybox-static for amd64, arm64 and armhf.

Images are made with dockyard's own import into an OCI layout and scanned
from the layout's blobs, as `verify` will; the whiteout cases stack a layer
made here on top of them.
"""

from __future__ import annotations

import gzip
import io
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from dockyard.digest import sha256_digest
from dockyard.errors import DigestMismatch
from dockyard.oci import mediatypes as mt
from dockyard.oci.imports import RootfsSource, import_rootfs
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import Descriptor, Manifest, parse_manifest
from dockyard.platform import (
    EF_ARM_ABI_FLOAT_HARD,
    EM_AARCH64,
    EM_ARM,
    EM_X86_64,
    parse_platform,
)
from dockyard.verify.archscan import scan_layers, scan_manifest
from dockyard.verify.elf import HEADER_SIZE, PROGRAM_TYPES, parse_elf_header
from tests.helpers.busybox import busybox_deb, busybox_rootfs

pytestmark = pytest.mark.integration

# Debian architecture -> (platform, ELF machine, class, what a finding calls it)
ARCHES = {
    "amd64": ("linux/amd64", EM_X86_64, 2, "x86-64"),
    "arm64": ("linux/arm64", EM_AARCH64, 2, "aarch64"),
    "armhf": ("linux/arm/v7", EM_ARM, 1, "arm (EABI5 hard-float)"),
}


@pytest.fixture(scope="session")
def busybox_binary(tmp_path_factory):
    """busybox_binary(arch) -> Path of bin/busybox from that architecture's .deb (cached)."""
    extracted: dict[str, Path] = {}

    def get(arch: str) -> Path:
        if arch not in extracted:
            dest = tmp_path_factory.mktemp(f"busybox-deb-{arch}")
            subprocess.run(["dpkg-deb", "-x", str(busybox_deb(arch)), str(dest)], check=True)
            extracted[arch] = dest / "bin" / "busybox"
        return extracted[arch]

    return get


@pytest.fixture(scope="session")
def image(tmp_path_factory):
    """image(rootfs_arch, platform) -> (store, manifest): a rootfs of one arch, labelled `platform`."""
    made: dict[tuple[str, str], tuple[LayoutStore, Manifest]] = {}

    def get(arch: str, platform: str):
        key = (arch, platform)
        if key not in made:
            root = busybox_rootfs(arch, tmp_path_factory.mktemp(f"rootfs-{arch}") / "root")
            store = LayoutStore(tmp_path_factory.mktemp(f"layout-{arch}") / "oci")
            result = import_rootfs([RootfsSource(parse_platform(platform), root)], store, tag="t")
            raw, media_type = store.manifest_get(str(result.images[0].manifest.digest))
            made[key] = store, parse_manifest(raw, media_type)
        return made[key]

    return get


def scan_image(image, arch: str, platform: str):
    store, manifest = image(arch, platform)
    return scan_manifest(store, manifest, platform=parse_platform(platform))


@pytest.mark.parametrize("arch", sorted(ARCHES))
def test_real_headers_parse(busybox_binary, arch):
    _, machine, elf_class, name = ARCHES[arch]
    with busybox_binary(arch).open("rb") as f:
        header = parse_elf_header(f.read(HEADER_SIZE))
    assert (header.machine, header.elf_class, header.little_endian) == (machine, elf_class, True)
    assert header.is_program and header.type in PROGRAM_TYPES
    assert header.describe() == name
    if arch == "armhf":
        assert header.arm_eabi == 5 and header.flags & EF_ARM_ABI_FLOAT_HARD
    if shutil.which("readelf"):
        out = subprocess.run(
            ["readelf", "-h", str(busybox_binary(arch))], capture_output=True, text=True, check=True
        ).stdout
        flags = re.search(r"Flags:\s+0x([0-9a-f]+)", out).group(1)
        assert int(flags, 16) == header.flags


@pytest.mark.parametrize("arch", sorted(ARCHES))
def test_each_busybox_passes_its_own_platform(image, arch):
    platform = ARCHES[arch][0]
    result = scan_image(image, arch, platform)
    assert result.ok, result.findings
    assert result.elf_files == 1 and result.mismatches == ()
    assert [f.rule for f in result.findings] == ["arch.checked"]
    assert result.entries >= 8  # bin, tmp, busybox and its applet symlinks


def test_amd64_busybox_in_an_arm64_image_fails_with_path_and_arch(image):
    result = scan_image(image, "amd64", "linux/arm64")
    (mismatch,) = [f for f in result.findings if f.rule == "arch.mismatch"]
    assert mismatch.severity == "error" and mismatch.platform == "linux/arm64"
    assert mismatch.path == "/bin/busybox"
    assert mismatch.message == "1 of 1 ELF files are not aarch64: /bin/busybox (x86-64)"
    assert not result.ok


@pytest.mark.parametrize(
    ("arch", "platform", "actual"),
    [
        ("armhf", "linux/arm64", "arm (EABI5 hard-float)"),
        ("arm64", "linux/arm/v7", "aarch64"),
        ("arm64", "linux/amd64", "aarch64"),
    ],
)
def test_other_mislabels_fail(image, arch, platform, actual):
    result = scan_image(image, arch, platform)
    assert [(p, h.describe()) for p, h in result.mismatches] == [("/bin/busybox", actual)]


def _layer_over(entries, *, compression: str) -> tuple[Descriptor, bytes]:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    raw = out.getvalue()
    if compression == "zstd":
        zstandard = pytest.importorskip("zstandard")
        blob, media_type = zstandard.ZstdCompressor().compress(raw), mt.OCI_LAYER_ZSTD
    else:
        blob, media_type = gzip.compress(raw, mtime=0), mt.OCI_LAYER_GZIP
    return Descriptor(media_type, sha256_digest(blob), len(blob)), blob


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_amd64_busybox_removed_by_a_whiteout_is_not_reported(image, busybox_binary, compression):
    amd64 = busybox_binary("amd64").read_bytes()
    store, manifest = image("arm64", "linux/arm64")
    lower = _layer_over([("opt/x86/busybox", amd64)], compression=compression)
    deleting = _layer_over([("opt/x86/.wh.busybox", b"")], compression=compression)

    def layers(*extra):
        return [(d, store.blob_open(d.digest)) for d in manifest.layers] + [
            (d, io.BytesIO(blob)) for d, blob in extra
        ]

    arm64 = parse_platform("linux/arm64")
    kept = scan_layers(layers(lower), platform=arm64)
    assert [(p, h.describe()) for p, h in kept.mismatches] == [("/opt/x86/busybox", "x86-64")]
    assert kept.elf_files == 2
    removed = scan_layers(layers(lower, deleting), platform=arm64)
    assert removed.ok and removed.elf_files == 1


def test_a_layer_corrupted_on_disk_is_a_digest_mismatch(tmp_path):
    root = busybox_rootfs("arm64", tmp_path / "root")
    store = LayoutStore(tmp_path / "oci")
    result = import_rootfs([RootfsSource(parse_platform("linux/arm64"), root)], store, tag="t")
    raw, media_type = store.manifest_get(str(result.images[0].manifest.digest))
    manifest = parse_manifest(raw, media_type)
    (layer,) = manifest.layers
    blob = store.blob_path(layer.digest)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01  # same length, one bit
    blob.chmod(0o644)
    blob.write_bytes(bytes(data))
    with pytest.raises(DigestMismatch) as err:
        scan_manifest(store, manifest, platform=parse_platform("linux/arm64"))
    assert str(layer.digest) in str(err.value)
