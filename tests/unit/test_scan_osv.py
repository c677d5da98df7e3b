"""The OSV directory loader: what it reads, and one line naming the file for each malformed one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockyard.errors import InputError
from dockyard.evidence.scan.osv import load_osv_dir

GHSA = {
    "schema_version": "1.4.0",
    "id": "GHSA-r9p9-mrjm-926w",
    "aliases": ["CVE-2020-28498"],
    "summary": "Use of a Broken or Risky Cryptographic Algorithm",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:N/A:N"}],
    "affected": [
        {
            "package": {"ecosystem": "npm", "name": "elliptic"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "6.5.4"}]}],
        }
    ],
    "database_specific": {"severity": "MODERATE"},
}


def _write(directory: Path, name: str, doc) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def test_reads_every_json_file_and_indexes_by_package(tmp_path):
    _write(tmp_path, "GHSA-r9p9-mrjm-926w.json", GHSA)
    pypi = {"id": "PYSEC-1", "affected": [{"package": {"ecosystem": "PyPI", "name": "Zope.Interface"},
                                           "versions": ["4.0.0"]}]}  # fmt: skip
    _write(tmp_path, "PYSEC-1.json", pypi)
    _write(tmp_path, "README.md", "not an advisory, not read")
    db = load_osv_dir(tmp_path)
    assert [a.id for a in db.advisories] == ["GHSA-r9p9-mrjm-926w", "PYSEC-1"]
    ((advisory, affected),) = db.lookup("npm", "elliptic")
    assert advisory.aliases == ("CVE-2020-28498",) and advisory.database_severity == "MODERATE"
    assert [(e.kind, e.version) for e in affected.ranges[0].events] == [
        ("introduced", "0"),
        ("fixed", "6.5.4"),
    ]
    assert advisory.path == f"{tmp_path}/GHSA-r9p9-mrjm-926w.json"
    # PyPI names are PEP 503-normalised on both sides.
    assert [a.id for a, _ in db.lookup("PyPI", "zope-interface")] == ["PYSEC-1"]
    assert db.lookup("npm", "lodash") == ()


def test_a_withdrawn_advisory_matches_nothing(tmp_path):
    _write(tmp_path, "a.json", {**GHSA, "withdrawn": "2021-04-01T00:00:00Z"})
    db = load_osv_dir(tmp_path)
    assert len(db.advisories) == 1 and db.lookup("npm", "elliptic") == ()


def test_an_empty_or_missing_directory_is_no_database(tmp_path):
    with pytest.raises(
        InputError, match=r"no advisories \(\*\.json\) in it; nothing to match against"
    ):
        load_osv_dir(tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        load_osv_dir(tmp_path / "nope")


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("{not json", r"bad\.json: not JSON \("),
        ([], r"bad\.json: expected an object, got a list$"),
        ({"summary": "x"}, r"bad\.json: id: expected a string, got nothing$"),
        ({"id": ""}, r"bad\.json: id: is empty"),
        ({"id": "X", "aliases": "CVE-1"}, r"bad\.json: aliases: expected a list, got a string$"),
        ({"id": "X", "affected": [{"package": {"name": "busybox"}}]},
         r"bad\.json: affected\[0\]\.package\.ecosystem: expected a string, got nothing$"),
        ({"id": "X", "affected": [{"package": {"ecosystem": "Debian", "name": "b"},
                                   "ranges": [{"type": "RPM", "events": []}]}]},
         r"affected\[0\]\.ranges\[0\]\.type: 'RPM' is not a range type \(valid: ECOSYSTEM, SEMVER, GIT\)$"),
        ({"id": "X", "affected": [{"package": {"ecosystem": "Debian", "name": "b"},
                                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]}]}]},
         r"affected\[0\]\.ranges\[0\]\.events\[0\]: expected one key of introduced, fixed, last_affected, limit"),
        ({"id": "X", "affected": [{"package": {"ecosystem": "Debian", "name": "b"},
                                   "ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": 1}]}]}]},
         r"affected\[0\]\.ranges\[0\]\.events\[0\]\.fixed: expected a string, got a number$"),
        ({"id": "X", "severity": [{"type": "CVSS_V3"}]}, r"severity\[0\]\.score: expected a string, got nothing$"),
    ],
)  # fmt: skip
def test_a_malformed_file_is_one_line_naming_the_file_and_field(tmp_path, doc, message):
    _write(tmp_path, "good.json", GHSA)
    _write(tmp_path, "bad.json", doc)
    with pytest.raises(InputError, match=message) as raised:
        load_osv_dir(tmp_path)
    assert str(raised.value).startswith(f"{tmp_path}/bad.json: ")
    assert "\n" not in str(raised.value)
