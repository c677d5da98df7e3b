"""The SBOM's package readers on small fixtures: dpkg, apk, Python metadata, os-release, syft JSON."""

from __future__ import annotations

import json

import pytest

from dockyard.errors import SbomFailed
from dockyard.evidence.packages import ALPINE, DEBIAN, PYPI, Package
from dockyard.evidence.sbom.apk import parse_apk_installed
from dockyard.evidence.sbom.distro import Distro, parse_os_release
from dockyard.evidence.sbom.dpkg import is_status_file, parse_dpkg_status
from dockyard.evidence.sbom.imagefs import Kept
from dockyard.evidence.sbom.pydist import is_metadata_file, parse_metadata
from dockyard.evidence.sbom.readers import image_distro, packages_from_files
from dockyard.evidence.sbom.syftjson import parse_syft_json

BOOKWORM = Distro("debian", "12")

STATUS = b"""\
Package: libc6
Status: install ok installed
Priority: optional
Architecture: arm64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u14
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.
 .
 Package: not-a-field

Package: busybox-static
Status: install ok installed
Source: busybox (1:1.35.0-4+deb12u1)
Version: 1:1.35.0-4+deb12u1+b1
Architecture: arm64

Package: removed-but-configured
Status: deinstall ok config-files
Version: 1.0-1
Architecture: arm64

Package: never-there
Status: purge ok not-installed
Architecture: arm64

Package: half
Status: install reinstreq half-installed
Version: 2.0
Architecture: all
"""


def test_dpkg_status_lists_installed_packages_with_source_and_version():
    got = {p.name: p for p in parse_dpkg_status(STATUS, path="/var/lib/dpkg/status", distro=BOOKWORM)}
    # config-files and not-installed have no files on disk; a half-installed one does.
    assert sorted(got) == ["busybox-static", "half", "libc6"]
    libc6 = got["libc6"]
    assert (libc6.ecosystem, libc6.version, libc6.source, libc6.path) == (
        DEBIAN, "2.36-9+deb12u14", "glibc", "/var/lib/dpkg/status")
    assert libc6.purl == (
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=arm64&distro=debian-12&upstream=glibc")
    busybox = got["busybox-static"]
    assert busybox.version == "1:1.35.0-4+deb12u1+b1"  # the epoch is kept
    assert busybox.source == "busybox"  # the version in parentheses is not part of the name
    assert "upstream=busybox%401:1.35.0-4%2Bdeb12u1" in busybox.purl  # as syft writes it
    assert got["half"].source == "half"  # no Source: the package is its own source


def test_dpkg_on_ubuntu_is_the_ubuntu_ecosystem_and_namespace():
    [p] = parse_dpkg_status(b"Package: a\nVersion: 1\nArchitecture: amd64\n", path="s",
                            distro=Distro("ubuntu", "24.04"))  # fmt: skip
    assert p.ecosystem == "Ubuntu" and p.purl.startswith("pkg:deb/ubuntu/a@1?")
    assert p.path == "/s"


def test_which_paths_are_dpkg_databases():
    assert is_status_file(("var", "lib", "dpkg", "status"))
    assert is_status_file(("var", "lib", "dpkg", "status.d", "base-files"))
    assert not is_status_file(("var", "lib", "dpkg", "status.d", "base-files.md5sums"))
    assert not is_status_file(("var", "lib", "dpkg", "status-old"))
    assert not is_status_file(("var", "lib", "dpkg", "status.d", "sub", "x"))
    assert not is_status_file(())


APK = b"""\
C:Q1abc=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
S:407930
L:MIT
o:musl
F:lib
R:ld-musl-x86_64.so.1

C:Q1def=
P:libcrypto3
V:3.1.4-r5
A:x86_64
L:Apache-2.0
o:openssl
F:usr/lib
R:libcrypto.so.3
R:libcrypto.so.3.1

P:no-version
"""


def test_apk_installed_lists_name_version_origin_license():
    got = parse_apk_installed(APK, path="/lib/apk/db/installed", distro=Distro("alpine", "3.19.1"))
    assert [(p.name, p.version, p.source, p.licenses) for p in got] == [
        ("musl", "1.2.4_git20230717-r4", "musl", ("MIT",)),
        ("libcrypto3", "3.1.4-r5", "openssl", ("Apache-2.0",)),
    ]
    assert got[0].ecosystem == ALPINE
    assert got[1].purl == (
        "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1&upstream=openssl")


METADATA = b"""\
Metadata-Version: 2.4
Name: Typing_Extensions
Version: 4.4.0
License-Expression: PSF-2.0
Classifier: License :: OSI Approved :: Python Software Foundation License

Version: 9.9.9 (the description, not a header)
"""


def test_python_metadata_gives_name_version_license_and_a_normalised_purl():
    [p] = parse_metadata(METADATA, path="usr/lib/python3/dist-packages/typing_extensions-4.4.0.dist-info/METADATA")
    assert (p.ecosystem, p.name, p.version, p.licenses) == (PYPI, "Typing_Extensions", "4.4.0", ("PSF-2.0",))
    assert p.purl == "pkg:pypi/typing-extensions@4.4.0"
    assert p.path.startswith("/usr/lib/python3/")


@pytest.mark.parametrize(
    ("license_field", "expected"),
    [("BSD", ("BSD",)), ("UNKNOWN", ()), ("Copyright (c) x\n        long text", ()), ("x" * 101, ())],
)
def test_a_python_license_field_is_kept_only_as_a_short_name(license_field, expected):
    data = f"Name: six\nVersion: 1.16.0\nLicense: {license_field}\n".encode()
    assert parse_metadata(data, path="x.egg-info/PKG-INFO")[0].licenses == expected


def test_python_metadata_without_a_version_is_no_package():
    assert parse_metadata(b"Name: x\n", path="x.dist-info/METADATA") == []


def test_which_paths_are_python_metadata():
    assert is_metadata_file(("usr", "lib", "a-1.0.dist-info", "METADATA"))
    assert is_metadata_file(("a-1.0.egg-info", "PKG-INFO"))
    assert not is_metadata_file(("a-1.0.dist-info", "RECORD"))
    assert not is_metadata_file(("a-1.0.egg-info", "METADATA"))
    assert not is_metadata_file(("METADATA",))


def test_os_release_quotes_and_missing_fields():
    d = parse_os_release(b'PRETTY_NAME="Ubuntu 24.04 LTS"\nID=ubuntu\nVERSION_ID="24.04"\n'
                         b"ID_LIKE='debian'\n# a comment\nbroken line\n")  # fmt: skip
    assert d == Distro("ubuntu", "24.04", ("debian",))
    assert d.qualifier() == "ubuntu-24.04"
    assert parse_os_release(b"") == Distro() and Distro().qualifier() == ""


def test_the_distro_comes_from_etc_first_then_usr_lib():
    lib = Kept("os-release", b"ID=debian\nVERSION_ID=12\n")
    etc = Kept("os-release", b"ID=alpine\nVERSION_ID=3.19.1\n")
    assert image_distro([("/usr/lib/os-release", lib)]) == Distro("debian", "12")
    assert image_distro([("/etc/os-release", etc), ("/usr/lib/os-release", lib)]).id == "alpine"
    assert image_distro([]) == Distro()


def test_packages_from_files_sends_each_kind_to_its_reader():
    files = [
        ("/lib/apk/db/installed", Kept("apk", APK)),
        ("/usr/lib/os-release", Kept("os-release", b"ID=debian\nVERSION_ID=12\n")),
        ("/var/lib/dpkg/status", Kept("dpkg", STATUS)),
        ("/x.dist-info/METADATA", Kept("python", METADATA)),
    ]
    got = packages_from_files(files)
    assert {p.ecosystem for p in got} == {DEBIAN, ALPINE, PYPI}
    assert all("distro=debian-12" in p.purl for p in got if p.ecosystem == DEBIAN)


SYFT = {
    "artifacts": [
        {
            "name": "libc6", "version": "2.36-9", "type": "deb",
            "purl": "pkg:deb/debian/libc6@2.36-9?arch=arm64",
            "metadata": {"package": "libc6", "source": "glibc"},
            "locations": [
                {"path": "/usr/share/doc/libc6/copyright", "annotations": {"evidence": "supporting"}},
                {"path": "/var/lib/dpkg/status", "annotations": {"evidence": "primary"}},
            ],
            "licenses": [{"value": "GPL-2", "spdxExpression": "GPL-2.0-only"},
                         {"value": "GPL-2", "spdxExpression": "GPL-2.0-only"},
                         {"value": "GPL", "spdxExpression": ""}],
        },
        {"name": "busybox", "version": "1.35.0", "type": "binary", "purl": "pkg:generic/busybox@1.35.0",
         "locations": [{"path": "/bin/busybox"}]},
        {"name": "musl", "version": "1.2.4", "type": "apk", "metadata": {"originPackage": "musl"}},
        {"name": "golang.org/x/net", "version": "v0.31.0", "type": "go-module"},
        {"name": "", "version": "1", "type": "deb"},
        "not an object",
    ],
    "distro": {"id": "debian"},
    "descriptor": {"name": "syft", "version": "1.18.1"},
}  # fmt: skip


def test_syft_json_becomes_packages():
    packages, version = parse_syft_json(json.dumps(SYFT).encode())
    assert version == "1.18.1"
    by_name = {p.name: p for p in packages}
    assert sorted(by_name) == ["busybox", "golang.org/x/net", "libc6", "musl"]
    assert by_name["libc6"] == Package(
        DEBIAN, "libc6", "2.36-9", "glibc", "pkg:deb/debian/libc6@2.36-9?arch=arm64",
        "/var/lib/dpkg/status", ("GPL-2.0-only", "GPL"))  # fmt: skip
    assert by_name["busybox"].ecosystem == "binary" and by_name["busybox"].path == "/bin/busybox"
    assert by_name["musl"].ecosystem == ALPINE and by_name["musl"].source == "musl"
    assert by_name["golang.org/x/net"].ecosystem == "Go"


@pytest.mark.parametrize("data", [b"not json", b"[]", b'{"artifacts": {}}'])
def test_output_that_is_not_syft_json_fails(data):
    with pytest.raises(SbomFailed, match="syft's output"):
        parse_syft_json(data)
