"""The matcher: OSV's evaluation (introduced, fixed, last_affected, limit, versions[]), source
packages, release suffixes, severities, and notes instead of silent passes."""

from __future__ import annotations

import pytest

from dockyard.evidence.packages import ALPINE, DEBIAN, GO, PYPI, Package
from dockyard.evidence.scan.match import image_release, judge, match_packages, source_of
from dockyard.evidence.scan.osv import Advisory, Affected, Event, Range, Score, index_advisories
from dockyard.evidence.scan.severity import from_vectors, severity_of
from dockyard.evidence.scan.versions import compare_debian

BUSYBOX = Package(
    DEBIAN, "busybox-static", "1:1.35.0-4+deb12u1+b1", source="busybox",
    purl="pkg:deb/debian/busybox-static@1:1.35.0-4%2Bdeb12u1%2Bb1?arch=arm64"
         "&distro=debian-12&upstream=busybox%401:1.35.0-4%2Bdeb12u1",
)  # fmt: skip


def _range(*events: tuple[str, str], kind: str = "ECOSYSTEM") -> Range:
    return Range(kind, tuple(Event(k, v) for k, v in events))


def _affected(
    *ranges: Range, ecosystem: str = "Debian:12", name: str = "busybox", versions=()
) -> Affected:
    return Affected(ecosystem, name, ranges, tuple(versions))


def _db(*advisories: Advisory):
    return index_advisories("osv", advisories)


def _ids(findings) -> list[str]:
    return [f.advisory for f in findings]


@pytest.mark.parametrize(
    ("events", "affected", "fixed"),
    [
        ((("introduced", "0"), ("fixed", "1:1.35.0-4+deb12u2")), True, "1:1.35.0-4+deb12u2"),
        ((("introduced", "0"), ("fixed", "1:1.30.1-1")), False, ""),  # fixed before
        ((("introduced", "0"), ("fixed", "1:1.35.0-4+deb12u1")), False, ""),  # the binNMU's own source
        ((("introduced", "1:1.36.0-1"),), False, ""),  # introduced after
        ((("introduced", "0"),), True, ""),  # no fix yet
        ((("introduced", "0"), ("last_affected", "1:1.35.0-4+deb12u1")), True, ""),  # at the last
        ((("introduced", "0"), ("last_affected", "1:1.35.0-3")), False, ""),
        # two ranges in one: [1.30, 1.33) and [1.35, 1.35.0-4+deb12u2); events out of order
        ((("fixed", "1:1.35.0-4+deb12u2"), ("introduced", "1:1.30.0-1"), ("fixed", "1:1.33.0-1"),
          ("introduced", "1:1.35.0-1")), True, "1:1.35.0-4+deb12u2"),
        ((("introduced", "0"), ("fixed", "1:1.33.0-1"), ("introduced", "1:1.36.0-1")), False, ""),
        ((("introduced", "0"), ("limit", "1:1.34.0-1")), False, ""),  # past every limit
        ((("introduced", "0"), ("limit", "*")), True, ""),
    ],
)  # fmt: skip
def test_the_osv_evaluation_of_ranges(events, affected, fixed):
    verdict = judge("1:1.35.0-4+deb12u1", _affected(_range(*events)), compare_debian)
    assert (verdict.affected, verdict.fixed) == (affected, fixed)


def test_versions_lists_match_exactly_or_by_the_ecosystems_order():
    assert judge("1:1.35.0-4", _affected(versions=["1:1.35.0-4"]), compare_debian).affected
    assert judge("1:1.35.0-4", _affected(versions=["1:01.35.0-4"]), compare_debian).affected
    assert not judge("1:1.35.0-5", _affected(versions=["1:1.35.0-4"]), compare_debian).affected


def test_a_debian_advisory_matches_through_the_source_package_and_its_version():
    hit = Advisory("DSA-1", "osv/DSA-1.json", ("CVE-2099-0001",), "busybox: bug",
                   affected=(_affected(_range(("introduced", "0"), ("fixed", "1:1.35.0-4+deb12u2"))),))  # fmt: skip
    binary_name = Advisory("DSA-2", "osv/DSA-2.json", affected=(
        _affected(_range(("introduced", "0")), name="busybox-static"),))  # fmt: skip
    findings, notes = match_packages([BUSYBOX], _db(hit, binary_name), platform="linux/arm64")
    assert notes == []
    (finding,) = findings  # Debian advisories name source packages: not busybox-static
    assert (finding.package, finding.source, finding.installed, finding.fixed, finding.platform) == (
        "busybox-static", "busybox", "1:1.35.0-4+deb12u1+b1", "1:1.35.0-4+deb12u2", "linux/arm64",
    )  # fmt: skip
    assert finding.ids == ("DSA-1", "CVE-2099-0001")


def test_the_source_version_comes_from_dpkg_source_or_the_purls_upstream():
    assert source_of(BUSYBOX) == ("busybox", "1:1.35.0-4+deb12u1")
    dpkg = Package(
        DEBIAN, "busybox-static", "1:1.35.0-4+deb12u1+b1", source="busybox (1:1.35.0-4+deb12u1)"
    )
    assert source_of(dpkg) == ("busybox", "1:1.35.0-4+deb12u1")
    plain = Package(DEBIAN, "libc6", "2.36-9+deb12u4", source="glibc")
    assert source_of(plain) == ("glibc", "2.36-9+deb12u4")
    assert source_of(Package(DEBIAN, "zlib1g", "1:1.2.13.dfsg-1")) == ("zlib1g", "1:1.2.13.dfsg-1")
    # A fix in exactly the source version of a binNMU: the binNMU is fixed.
    fixed_in_source = Advisory("D", "d.json", affected=(
        _affected(_range(("introduced", "0"), ("fixed", "1:1.35.0-4+deb12u1"))),))  # fmt: skip
    assert match_packages([BUSYBOX], _db(fixed_in_source), platform="p")[0] == []


def test_a_release_suffix_must_name_the_images_release_when_it_is_known():
    def advisory(ident: str, ecosystem: str) -> Advisory:
        return Advisory(
            ident,
            f"{ident}.json",
            affected=(_affected(_range(("introduced", "0")), ecosystem=ecosystem),),
        )

    db = _db(advisory("D11", "Debian:11"), advisory("D12", "Debian:12"), advisory("DALL", "Debian"))
    assert image_release(BUSYBOX) == "12"
    assert _ids(match_packages([BUSYBOX], db, platform="p")[0]) == ["D12", "DALL"]
    unknown = Package(DEBIAN, "busybox-static", "1:1.35.0-4+deb12u1+b1", source="busybox")
    assert _ids(match_packages([unknown], db, platform="p")[0]) == ["D11", "D12", "DALL"]


def test_alpine_go_and_pypi_packages():
    alpine = Package(ALPINE, "libcrypto3", "3.1.4-r2", source="openssl",
                     purl="pkg:apk/alpine/libcrypto3@3.1.4-r2?arch=x86_64&distro=alpine-3.19.1")  # fmt: skip
    go = Package(GO, "golang.org/x/net", "v0.17.0")
    stdlib = Package(GO, "stdlib", "go1.21.3")
    pypi = Package(PYPI, "Requests", "2.31.0")
    db = _db(
        Advisory(
            "ALPINE-1",
            "a.json",
            affected=(
                Affected(
                    "Alpine:v3.19", "openssl", (_range(("introduced", "0"), ("fixed", "3.1.4-r5")),)
                ),
            ),
        ),
        Advisory(
            "GO-2023-2153",
            "g.json",
            affected=(
                Affected(
                    "Go",
                    "golang.org/x/net",
                    (_range(("introduced", "0"), ("fixed", "0.17.0"), kind="SEMVER"),),
                ),
            ),
        ),
        Advisory(
            "GO-2023-2185",
            "s.json",
            affected=(
                Affected(
                    "Go",
                    "stdlib",
                    (_range(("introduced", "1.21.0-0"), ("fixed", "1.21.4"), kind="SEMVER"),),
                ),
            ),
        ),
        Advisory(
            "PYSEC-1",
            "p.json",
            affected=(
                Affected(
                    "PyPI", "requests", (_range(("introduced", "2.3.0"), ("fixed", "2.32.0")),)
                ),
            ),
        ),
    )
    findings, notes = match_packages([alpine, go, stdlib, pypi], db, platform="linux/amd64")
    assert notes == []
    assert sorted((f.package, f.advisory, f.fixed) for f in findings) == [
        ("Requests", "PYSEC-1", "2.32.0"),
        ("libcrypto3", "ALPINE-1", "3.1.4-r5"),
        ("stdlib", "GO-2023-2185", "1.21.4"),
    ]  # golang.org/x/net v0.17.0 is the fixed version itself


def test_what_cannot_be_judged_is_a_note_never_a_silent_pass():
    odd = Package(GO, "example.com/m", "not-a-version")
    jar = Package("java-archive", "log4j-core", "2.14.1")
    db = _db(Advisory("GO-1", "g.json", affected=(Affected("Go", "example.com/m", (
        _range(("introduced", "0"), ("fixed", "1.0.0"), kind="SEMVER"),)),)))  # fmt: skip
    findings, notes = match_packages([odd, jar], db, platform="linux/amd64")
    assert findings == []
    assert notes[0].startswith("linux/amd64: example.com/m not-a-version: GO-1 not judged (")
    assert notes[1].startswith("linux/amd64: 1 package(s) of ecosystem 'java-archive' not judged")


def test_git_ranges_are_skipped_and_one_finding_per_advisory():
    twice = Advisory("D", "d.json", affected=(
        _affected(_range(("introduced", "0"))), _affected(_range(("introduced", "0")), ecosystem="Debian"),
        _affected(_range(("introduced", "abc"), kind="GIT")),
    ))  # fmt: skip
    assert _ids(match_packages([BUSYBOX], _db(twice), platform="p")[0]) == ["D"]
    git_only = Advisory(
        "G", "g.json", affected=(_affected(_range(("introduced", "abc"), kind="GIT")),)
    )
    assert match_packages([BUSYBOX], _db(git_only), platform="p")[0] == []


@pytest.mark.parametrize(
    ("scores", "word", "expected"),
    [
        ((Score("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),), "", ("critical", 9.8, "CVSS_V3")),
        ((Score("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"),), "LOW", ("high", 7.5, "CVSS_V3")),
        ((Score("CVSS_V3", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N"),), "", ("medium", 6.8, "CVSS_V3")),
        ((Score("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"),), "", ("medium", 6.1, "CVSS_V3")),
        ((Score("CVSS_V3", "CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"),), "", ("high", 7.8, "CVSS_V3")),
        ((Score("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P"),), "", ("high", 7.5, "CVSS_V2")),
        ((Score("CVSS_V2", "AV:N/AC:M/Au:N/C:N/I:P/A:N"),), "", ("medium", 4.3, "CVSS_V2")),
        ((Score("CVSS_V2", "AV:N/AC:M/Au:N/C:N/I:P/A:N"),
          Score("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")), "", ("critical", 9.8, "CVSS_V3")),
        ((Score("CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),), "MODERATE",
         ("medium", None, "database")),
        ((Score("CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),), "",
         ("unknown", None, "")),
        ((), "important", ("high", None, "database")),
        ((Score("Ubuntu", "medium"),), "", ("medium", None, "Ubuntu")),
        ((Score("CVSS_V3", "CVSS:3.1/garbage"),), "", ("unknown", None, "")),
    ],
)  # fmt: skip
def test_severity_from_cvss_or_the_database(scores, word, expected):
    severity = severity_of(Advisory("X", "x.json", severity=scores, database_severity=word))
    assert (severity.level, severity.score, severity.source) == expected


def test_the_affected_packages_own_severity_comes_first():
    affected = Affected(
        "Debian", "b", severity=(Score("CVSS_V3", "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"),)
    )
    advisory = Advisory(
        "X", "x.json", severity=(Score("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),)
    )
    assert severity_of(advisory, affected).level == "low"
    assert from_vectors([]) is None
