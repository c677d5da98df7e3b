"""[scan] in dockyard.toml, and its ignore entries: by id or alias, through their day, then expired."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from dockyard.config.model import IgnoreRule, ScanConfig
from dockyard.config.native import config_from_dict
from dockyard.errors import InputError
from dockyard.evidence.scan.ignore import apply_ignores
from dockyard.evidence.scan.result import Finding, ScanResult
from dockyard.evidence.scan.severity import Severity

HIGH = Finding("linux/arm64", "busybox-static", "1:1.35.0-4+deb12u1+b1", "DSA-1", aliases=("CVE-2099-0001",),
               severity=Severity("high", 7.5, "CVSS_V3"))  # fmt: skip
LOW = Finding(
    "linux/arm64", "busybox-static", "1:1.35.0-4+deb12u1+b1", "DSA-2", severity=Severity("low")
)
RULE = IgnoreRule(
    "cve-2099-0001", "ash is not reachable: no shell in this service", date(2027, 1, 31)
)


@pytest.mark.parametrize(("today", "ignored"), [(date(2027, 1, 30), True), (date(2027, 1, 31), True),
                                                (date(2027, 2, 1), False)])  # fmt: skip
def test_an_ignore_covers_its_advisory_through_its_day_then_expires(today, ignored):
    kept, covered, expired = apply_ignores([HIGH, LOW], [RULE], today=today)
    if ignored:
        assert kept == (LOW,) and [i.finding for i in covered] == [HIGH] and expired == ()
        assert covered[0].to_json()["ignored_by"] == "cve-2099-0001"
    else:  # expired: it ignores nothing and says so
        assert kept == (HIGH, LOW) and covered == () and expired == (RULE,)


def test_the_gate_counts_what_is_left_at_or_above_the_threshold():
    result = ScanResult("r", "sha256:x", "osv", "high", findings=(HIGH, LOW))
    assert not result.ok and result.failing == (HIGH,)
    assert result.verdict() == (
        "2 findings, 1 at or above high (CVE-2099-0001 in busybox-static 1:1.35.0-4+deb12u1+b1 on linux/arm64)"
    )
    assert ScanResult("r", "d", "osv", "critical", findings=(HIGH, LOW)).ok
    assert not ScanResult("r", "d", "osv", "unknown", findings=(LOW,)).ok
    assert ScanResult("r", "d", "osv", "high").verdict() == "0 findings, none at or above high"


def _config(scan: str, tmp_path: Path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    text = f'[project]\nname = "x"\n[targets.a]\n{scan}\n'
    return config_from_dict(tomllib.loads(text), tmp_path / "dockyard.toml", {})


def test_the_scan_table(tmp_path):
    config = _config(
        '[scan]\nosv-db = "db/osv"\nfail-on = "critical"\n'
        'ignore = [{id = "CVE-2099-0001", reason = "r", until = 2027-01-31},\n'
        '          {id = "GHSA-x", reason = "s", until = "2026-12-31"}]',
        tmp_path,
    )
    assert config.scan == ScanConfig(
        osv_db=tmp_path / "db" / "osv",
        fail_on="critical",
        ignore=(
            IgnoreRule("CVE-2099-0001", "r", date(2027, 1, 31)),
            IgnoreRule("GHSA-x", "s", date(2026, 12, 31)),
        ),
    )
    assert _config("", tmp_path).scan is None  # no [scan]: release runs no gate
    assert _config("[scan]", tmp_path).scan == ScanConfig()


@pytest.mark.parametrize(
    ("scan", "message"),
    [
        ('fail-on = "severe"',
         "scan.fail-on: 'severe' is not a severity (valid: critical, high, medium, low, unknown)"),
        ('ignore = [{id = "CVE-1", until = 2027-01-31}]',
         "scan.ignore[0]: missing 'reason' (each ignore needs id, reason and until, e.g. reason = "),
        ('ignore = [{id = "CVE-1", reason = "r"}]',
         "scan.ignore[0]: missing 'until' (each ignore needs id, reason and until, e.g. until = 2027-01-31)"),
        ('ignore = [{id = "CVE-1", reason = "  ", until = 2027-01-31}]',
         "scan.ignore[0].reason: is empty (say why the advisory does not apply)"),
        ('ignore = [{id = "CVE-1", reason = "r", until = "next year"}]',
         "scan.ignore[0].until: 'next year' is not a date (YYYY-MM-DD, e.g. 2027-01-31)"),
        ('ignore = [{id = "CVE-1", reason = "r", until = 2027-01-31T00:00:00}]',
         "scan.ignore[0].until: expected a date (YYYY-MM-DD, e.g. 2027-01-31), got a datetime"),
        ('ignore = [{id = "CVE-1", reason = "r", until = 2027-01-31, by = "me"}]',
         "scan.ignore[0].by: unknown key (valid: id, reason, until)"),
        ('ignore = "CVE-1"', "scan.ignore: expected a list of {id, reason, until} tables, got a string"),
        ('osv-dir = "x"', "scan.osv-dir: unknown key (did you mean 'osv-db'?)"),
    ],
)  # fmt: skip
def test_bad_scan_config_is_one_line_naming_the_field(tmp_path, scan, message):
    with pytest.raises(InputError) as raised:
        _config(f"[scan]\n{scan}", tmp_path)
    assert str(raised.value).startswith(f"dockyard.toml: {message}")
    assert raised.value.exit_code == 2
