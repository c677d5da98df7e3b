"""What the own readers see of an image: the final filesystem over layers built in memory."""

from __future__ import annotations

import gzip
import io
import json
import struct
import tarfile

import pytest

from dockyard.digest import sha256_digest
from dockyard.errors import DigestMismatch, SbomFailed
from dockyard.evidence.sbom import imagefs
from dockyard.evidence.sbom.generate import packages_of
from dockyard.evidence.sbom.imagefs import read_image_files
from dockyard.evidence.sbom.readers import packages_from_files
from dockyard.oci import mediatypes as mt
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import Descriptor, build_manifest, descriptor_of, parse_manifest
from dockyard.platform import parse_platform
from dockyard.verify.archscan import ScanLimits
from tests.unit.test_sbom_gobuild import blob

DIST = "usr/lib/python3/dist-packages"


def elf(payload: bytes = b"") -> bytes:
    """A 64-bit little-endian x86-64 executable header, padded, then `payload` 16-byte aligned."""
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header = ident + struct.pack("<HHI", 2, 62, 1) + bytes(64 - 24)
    return header + bytes(4096 - len(header)) + payload + bytes(100)


def status(*packages: tuple[str, str]) -> bytes:
    return "\n".join(
        f"Package: {n}\nStatus: install ok installed\nVersion: {v}\nArchitecture: amd64\n"
        for n, v in packages
    ).encode()


def metadata(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()


def tar(*entries) -> bytes:
    """Entries: (name, bytes) regular files, (name, "->", target) symlinks,
    (name, "=>", target) hard links, (name, None) directories."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as t:
        for entry in entries:
            info = tarfile.TarInfo(entry[0])
            if len(entry) == 3:
                info.type = tarfile.SYMTYPE if entry[1] == "->" else tarfile.LNKTYPE
                info.linkname = entry[2]
                t.addfile(info)
            elif entry[1] is None:
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            else:
                info.size = len(entry[1])
                t.addfile(info, io.BytesIO(entry[1]))
    return out.getvalue()


def image(tmp_path, *layers: bytes, media_type: str = mt.OCI_LAYER_GZIP, sizes=None):
    store = LayoutStore(tmp_path / "oci")
    descs = []
    for i, raw in enumerate(layers):
        data = gzip.compress(raw, mtime=0) if media_type == mt.OCI_LAYER_GZIP else raw
        store.blob_put(sha256_digest(data), len(data), io.BytesIO(data))
        size = sizes[i] if sizes else len(data)
        descs.append(Descriptor(media_type, sha256_digest(data), size))
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}).encode()
    config_desc = descriptor_of(config, mt.OCI_CONFIG)
    store.blob_put(config_desc.digest, config_desc.size, io.BytesIO(config))
    raw, _ = build_manifest(config_desc, descs)
    store.manifest_put(raw, mt.OCI_MANIFEST)
    return store, parse_manifest(raw)


BASE = tar(
    ("usr/lib/os-release", b"ID=debian\nVERSION_ID=12\n"),
    ("etc/os-release", "->", "../usr/lib/os-release"),
    ("var/lib/dpkg/status", status(("libc6", "2.36-9"), ("zlib1g", "1:1.2.13"))),
    ("var/lib/dpkg/status.d/base-files", status(("base-files", "12.4"))),
    ("var/lib/dpkg/status.d/base-files.md5sums", b"d41d8cd98f00b204e9800998ecf8427e  etc/x\n"),
    (f"{DIST}/a-1.0.dist-info/METADATA", metadata("a", "1.0")),
    (f"{DIST}/b-2.0.dist-info/METADATA", metadata("b", "2.0")),
    ("opt/c-3.0.dist-info/METADATA", metadata("c", "3.0")),
    ("usr/bin/goapp", elf(blob())),
    ("usr/bin/cprog", elf()),
    ("usr/bin/gone", elf(blob("go1.20.1"))),
)
TOP = tar(
    (f"{DIST}/.wh.b-2.0.dist-info", b""),  # removes b
    ("opt/.wh..wh..opq", b""),  # opaque: removes c
    ("var/lib/dpkg/status", status(("libc6", "2.36-9+deb12u1"))),  # replaces the status
    ("usr/bin/goapp2", "=>", "usr/bin/goapp"),  # a hard link keeps the binary's build info
    ("usr/bin/gone", b"#!/bin/sh\n" + bytes(100)),  # the Go binary is now a script
)


def test_the_final_view_is_what_the_readers_parse(tmp_path):
    store, manifest = image(tmp_path, BASE, TOP)
    files = read_image_files(store, manifest)
    assert [(p, k.kind) for p, k in files] == [
        ("/usr/bin/goapp", "go"),
        ("/usr/bin/goapp2", "go"),
        ("/usr/lib/os-release", "os-release"),
        (f"/{DIST}/a-1.0.dist-info/METADATA", "python"),
        ("/var/lib/dpkg/status", "dpkg"),
        ("/var/lib/dpkg/status.d/base-files", "dpkg"),
    ]
    packages = packages_from_files(files)
    debs = {(p.name, p.version) for p in packages if p.ecosystem == "Debian"}
    assert debs == {("libc6", "2.36-9+deb12u1"), ("base-files", "12.4")}
    assert {p.name for p in packages if p.ecosystem == "PyPI"} == {"a"}
    go = {(p.path, p.name) for p in packages if p.ecosystem == "Go"}
    assert ("/usr/bin/goapp2", "golang.org/x/net") in go and ("/usr/bin/goapp", "stdlib") in go
    assert not any(p.path == "/usr/bin/gone" for p in packages)
    assert all("distro=debian-12" in p.purl for p in packages if p.ecosystem == "Debian")


def test_an_uncompressed_layer_is_read_too(tmp_path):
    store, manifest = image(tmp_path, BASE, media_type=mt.OCI_LAYER)
    # 2 Go binaries (cprog has no build info), 3 dist-infos, os-release, 2 dpkg files
    assert len(read_image_files(store, manifest)) == 8


def test_a_damaged_layer_fails_the_sbom_naming_it(tmp_path):
    store, manifest = image(tmp_path, b"\x1f\x8b\x08\x00" + bytes(200), media_type=mt.OCI_LAYER_GZIP + "x")
    with pytest.raises(SbomFailed, match=rf"layer {manifest.layers[0].digest}: .*no SBOM written"):
        read_image_files(store, manifest)


def test_a_layer_that_is_not_its_descriptors_size_is_a_digest_mismatch(tmp_path):
    store, manifest = image(tmp_path, BASE, sizes=[10])
    with pytest.raises(DigestMismatch):
        read_image_files(store, manifest)


def test_a_package_database_over_the_cap_is_refused_not_cut(tmp_path, monkeypatch):
    monkeypatch.setitem(imagefs._READ, "dpkg", (50, True))
    store, manifest = image(tmp_path, BASE)
    with pytest.raises(SbomFailed, match=r"/var/lib/dpkg/status: \d+ bytes, more than the 50 bytes"):
        read_image_files(store, manifest)


def test_the_entry_cap_stops_the_read(tmp_path):
    store, manifest = image(tmp_path, BASE)
    with pytest.raises(SbomFailed, match="more than 3 paths of package files in the image"):
        read_image_files(store, manifest, limits=ScanLimits(max_entries=3))


def test_packages_of_a_platform_image_chosen_by_digest_whatever_its_config_says(tmp_path):
    # The scan picks each image by its index entry; a config that disagrees is verify's finding.
    store, manifest = image(tmp_path, BASE, TOP)
    got = packages_of(store, str(manifest.digest), parse_platform("linux/arm64"),
                      environ={"DOCKYARD_SYFT": "0"})  # fmt: skip
    assert got == sorted(got) and len(got) == len(set(got))
    assert ("libc6", "2.36-9+deb12u1") in {(p.name, p.version) for p in got}
