"""Each ecosystem's version order, on tables of real version pairs (Debian, Alpine, Go, PyPI)."""

from __future__ import annotations

import pytest

from dockyard.errors import VersionInvalid
from dockyard.evidence.scan.apk import compare_apk
from dockyard.evidence.scan.semver import compare_go, compare_semver
from dockyard.evidence.scan.versions import (
    ECOSYSTEMS,
    compare_debian,
    compare_pep440,
    ecosystem,
    same_release,
    split_ecosystem,
)

_OP = {"<": -1, "=": 0, ">": 1}


def _check(compare, a: str, op: str, b: str) -> None:
    assert compare(a, b) == _OP[op], f"{a} {op} {b}"
    assert compare(b, a) == -_OP[op], f"{b} vs {a} (reversed)"


# Debian 12's own versions (dpkg's order: epoch, upstream, revision; ~ before anything).
DEBIAN = [
    ("1:1.35.0-4+deb12u1+b1", "<", "1:1.35.0-4+deb12u2"),  # busybox: a binNMU of u1, then u2
    ("1:1.35.0-4+deb12u1", "<", "1:1.35.0-4+deb12u1+b1"),
    ("1.36.1-9", "<", "1:1.30.1-6"),  # the epoch wins
    ("0:1.0-1", "=", "1.0-1"),
    ("2.36-9+deb12u4", "<", "2.36-9+deb12u14"),  # glibc: numbers compare as numbers
    ("3.0.11-1~deb12u2", "<", "3.0.11-1"),  # openssl: ~ sorts before the end
    ("252.22-1~deb12u1", "<", "252.22-1"),  # systemd
    ("1:1.2.13.dfsg-1", ">", "1:1.2.13-1"),  # zlib
    ("2.5.0-1+deb12u1", "<", "2.5.0-1+deb12u5"),  # expat
    ("7.88.1-10+deb12u5", "<", "7.88.1-10+deb12u12"),  # curl
    ("1.0~rc1-1", "<", "1.0-1"),
    ("3.11.2-6+deb12u9", ">", "3.11.2-6"),  # python3.11
]


@pytest.mark.parametrize(("a", "op", "b"), DEBIAN)
def test_debian_order(a, op, b):
    _check(compare_debian, a, op, b)


# From apk-tools' own table (test/version.data and test/unit/version.data).
ALPINE = [
    ("2.34", ">", "0.1.0_alpha"),
    ("0.1.0_alpha", "=", "0.1.0_alpha"),
    ("0.1.0_alpha", "<", "0.1.3_alpha"),
    ("0.1.0_alpha2", ">", "0.1.0_alpha"),
    ("0.1.0_alpha", "<", "2.2.39-r1"),
    ("1.0.4-r3", "<", "1.0.4-r4"),
    ("1.1", ">", "1.1_alpha1"),
    ("1.2.1", ">", "1.2"),
    ("1.3_alpha2", "<", "1.3_alpha3"),
    ("0.8_beta1", "<", "0.8_beta2"),
    ("3.10.18-r1", ">", "2.3.0b-r1"),
    ("2.3.0b-r1", "<", "2.3.0b-r2"),
    ("0.12.3", ">", "0.12"),
    ("3.1_p16", "<", "3.1_p17"),
    ("1.06-r6", "<", "006"),
    ("1.2.2-r1", ">", "1.2.2"),
    ("20050718-r1", "<", "20050718-r2"),
    ("2.01.01_alpha10", ">", "0.94"),
    ("0.99.3.20040818", "<", "1.0"),
    ("2.5.1-r8", "<", "2.5.1a-r1"),
    ("1.3.5-r10", ">", "1.3.5-r8"),
    ("20040401", ">", "2.0.0_rc3-r1"),
    ("0.9.16-r1", "<", "3.9_pre20060124"),
    ("0.10.0", "<", "0.10.1_rc1"),
    ("1.7", "<", "1.7b"),
    ("1.8.5", "<", "1.8.5_p2"),
    ("2.9.11_pre20051101-r3", ">", "2.9.11_pre20051101"),
    ("0.59s-r11", "<", "0.65"),
    ("2.12r-r4", "<", "2.12r-r5"),
    ("1.2.07.8", "<", "1.2.12.04"),
    ("3.0.20060720", "<", "20060720"),
    ("4.5_p1-r1", ">", "4.5_p1"),
    ("0.9.8c-r1", "<", "0.9.8d"),
    ("1.3-r0", "<", "1.3.1-r0"),
    ("1.3_pre1-r1", "<", "1.3.2"),
    ("1.0_p10-r0", ">", "1.0_p9-r0"),
    ("0.1.0_alpha_pre2", "<", "0.1.0_alpha"),
    ("1.0.0_pre20191002222144-r0", "<", "1.0.0_pre20210530193627-r0"),
    ("6.0_pre1", "<", "6.0"),
    ("6.0_p1", ">", "6.0"),
    ("8.2.0", "<", "8.2.001"),  # a leading zero: compared as a string
    ("8.2.0015", "<", "8.2.002"),
    ("1.0~1234", "<", "1.0~2345"),  # commit hashes
    ("1.0~1234-r1", "<", "1.0~2345-r0"),
    ("1.0~1234-r1", ">", "1.0~1234-r0"),
    ("1.0", "<", "1.0bc"),  # invalid in apk: compared up to the bad token
    # Real Alpine 3.19 packages.
    ("3.1.4-r2", "<", "3.1.4-r5"),  # openssl
    ("1.36.1-r15", "<", "1.36.1-r20"),  # busybox
    ("1.2.4_git20230717-r4", "<", "1.2.4_git20230717-r5"),  # musl
    ("8.5.0-r0", "<", "8.6.0-r0"),  # curl
]


@pytest.mark.parametrize(("a", "op", "b"), ALPINE)
def test_alpine_order(a, op, b):
    _check(compare_apk, a, op, b)


GO = [
    ("v1.2.3", "=", "1.2.3"),  # OSV writes Go versions without the v
    ("v2.0.0+incompatible", "=", "2.0.0"),  # build metadata: no precedence
    ("v2.0.0+incompatible", "<", "2.0.1"),
    ("v0.0.0-20210101000000-abcdef123456", "<", "0.0.1"),  # a pseudo-version is a pre-release
    ("v1.2.4-0.20191109021931-daa7c04131f5", "<", "1.2.4"),
    ("v1.2.4-0.20191109021931-daa7c04131f5", ">", "1.2.3"),
    ("v0.17.0", ">", "0.9.0"),
    ("v1.0.0-alpha", "<", "1.0.0-alpha.1"),  # SemVer 2.0 section 11's chain
    ("v1.0.0-alpha.1", "<", "1.0.0-alpha.beta"),
    ("v1.0.0-alpha.beta", "<", "1.0.0-beta"),
    ("v1.0.0-beta.2", "<", "1.0.0-beta.11"),
    ("v1.0.0-rc.1", "<", "1.0.0"),
    ("go1.21.3", "=", "1.21.3"),  # the stdlib, as syft and the toolchain name it
    ("go1.21", "=", "1.21.0"),
    ("go1.21rc2", "<", "1.21.0"),
    ("go1.20.14", "<", "1.21.0"),
    ("go1.9beta1", "<", "1.9.0-rc.1"),
]


@pytest.mark.parametrize(("a", "op", "b"), GO)
def test_go_order(a, op, b):
    _check(compare_go, a, op, b)


PYPI = [
    ("2.0.0rc1", "<", "2.0.0"),
    ("1.0.post1", ">", "1.0"),
    ("1.0.dev0", "<", "1.0a1"),
    ("1!0.1", ">", "2.0"),
    ("2.31.0", ">", "2.4.0"),  # requests: not a string order
    ("1.0", "=", "1.0.0"),
    ("42.0.8", "<", "43.0.1"),  # cryptography
]


@pytest.mark.parametrize(("a", "op", "b"), PYPI)
def test_pypi_order(a, op, b):
    _check(compare_pep440, a, op, b)


@pytest.mark.parametrize(
    ("compare", "bad"),
    [
        (compare_go, "1.x"),
        (compare_semver, "v1.2.3"),
        (compare_pep440, "not a version"),
        (compare_debian, "1 2"),
    ],
)
def test_a_version_an_ecosystem_cannot_read_is_version_invalid(compare, bad):
    with pytest.raises(VersionInvalid):
        compare(bad, "1.0")


def test_ecosystem_names_with_a_release_suffix():
    assert split_ecosystem("Debian:12") == ("Debian", "12")
    assert split_ecosystem("Alpine:v3.19") == ("Alpine", "v3.19")
    assert split_ecosystem("PyPI") == ("PyPI", "")
    assert ecosystem("Debian:12") is ECOSYSTEMS["Debian"]
    assert ecosystem("Maven") is None
    assert ECOSYSTEMS["PyPI"].normalise("Zope.Interface") == ECOSYSTEMS["PyPI"].normalise(
        "zope_interface"
    )
    assert ECOSYSTEMS["Debian"].by_source and not ECOSYSTEMS["Go"].by_source


@pytest.mark.parametrize(
    ("advisory", "image", "same"),
    [("12", "12", True), ("11", "12", False), ("v3.19", "3.19.1", True), ("v3.18", "3.19.1", False),
     ("v3.1", "3.19.1", False)],
)  # fmt: skip
def test_release_suffixes_compare_with_the_images_release(advisory, image, same):
    assert same_release(advisory, image) is same
