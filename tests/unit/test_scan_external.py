"""grype and trivy: their JSON reports read back (fixtures written from their documentation; the
binaries are not installed here), the command lines, and which scanner a scan picks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockyard.errors import InputError, ScanFailed
from dockyard.evidence.scan.external import ExternalScanner, ImageSource, find_scanner
from dockyard.evidence.scan.image import OsvMatcher
from dockyard.evidence.scan.scannerjson import parse_grype, parse_trivy
from dockyard.pipeline.scan import NO_SCANNER, choose_scanner, scan_options
from dockyard.workspace import Settings, Workspace

DATA = Path(__file__).parent / "data" / "scan"


def _summary(findings):
    return [(f.package, f.source, f.installed, f.fixed, f.advisory, f.aliases, f.severity.level,
             f.severity.score, f.ecosystem) for f in findings]  # fmt: skip


def test_grype_json():
    findings = parse_grype((DATA / "grype.json").read_bytes(), platform="linux/amd64")
    assert _summary(findings) == [
        ("busybox-static", "busybox", "1:1.35.0-4+deb12u1+b1", "1:1.35.0-4+deb12u2", "CVE-2022-48174", (),
         "critical", 9.8, "Debian"),
        ("golang.org/x/net", "", "v0.15.0", "0.17.0", "GHSA-qppj-fm5r-hxr3", ("CVE-2023-44487", "CVE-2023-39325"),
         "medium", None, "Go"),
        ("tar", "", "1.34+dfsg-1.2+deb12u1", "", "CVE-2005-2541", (), "low", None, "Debian"),  # Negligible
    ]  # fmt: skip
    assert {f.platform for f in findings} == {"linux/amd64"}
    assert (
        findings[0].summary
        == "There is a stack overflow vulnerability in ash.c:6030 in busybox before 1.35."
    )


def test_trivy_json():
    findings = parse_trivy((DATA / "trivy.json").read_bytes(), platform="linux/arm64")
    assert _summary(findings) == [
        ("libcrypto3", "", "3.1.4-r2", "3.1.4-r5", "CVE-2024-0727", (), "medium", 5.5, "Alpine"),
        ("golang.org/x/net", "", "v0.15.0", "0.23.0", "CVE-2023-45288", (), "high", None, "Go"),
    ]  # fmt: skip
    # trivy before SchemaVersion 2: a top-level list of results
    old = json.loads((DATA / "trivy.json").read_text())["Results"]
    assert len(parse_trivy(json.dumps(old).encode(), platform="p")) == 2


@pytest.mark.parametrize(
    ("parse", "data", "message"),
    [
        (parse_grype, b"<html>", r"^grype: its report is not JSON"),
        (parse_grype, b'{"results": []}', r"^grype: its report has no 'matches' list"),
        (parse_grype, b'{"matches": [{"artifact": {}}]}', r"^grype: matches\[0\] has no vulnerability id"),
        (parse_trivy, b'{"Results": []}', r"^trivy: its report has no 'Results' list"),
        (parse_trivy, b'{"SchemaVersion": 2, "Results": [{"Vulnerabilities": [{}]}]}',
         r"^trivy: Results\[0\]\.Vulnerabilities\[0\] has no VulnerabilityID"),
    ],
)  # fmt: skip
def test_a_report_that_cannot_be_read_fails_the_scan(parse, data, message):
    with pytest.raises(ScanFailed, match=message):
        parse(data, platform="p")


def test_command_lines():
    grype, trivy = (
        ExternalScanner("grype", "/usr/bin/grype"),
        ExternalScanner("trivy", "/usr/bin/trivy"),
    )
    registry = ImageSource(repository="127.0.0.1:5000/app", plain_http=True, ca_cert="/ca.pem")
    layout = ImageSource(layout="/dist/oci/app")
    assert grype.command(registry, "sha256:c0fa", "linux/amd64") == [
        "/usr/bin/grype", "registry:127.0.0.1:5000/app@sha256:c0fa", "-o", "json"]  # fmt: skip
    assert grype.command(layout, "sha256:c0fa", "linux/arm64") == [
        "/usr/bin/grype", "oci-dir:/dist/oci/app", "-o", "json", "--platform", "linux/arm64"]  # fmt: skip
    env = grype.environment(registry, {"PATH": "/bin"})
    assert (
        env["GRYPE_REGISTRY_INSECURE_USE_HTTP"] == "true"
        and env["GRYPE_REGISTRY_CA_CERT"] == "/ca.pem"
    )
    assert env["GRYPE_CHECK_FOR_APP_UPDATE"] == "false"
    assert trivy.command(registry, "sha256:c0fa", "linux/amd64") == [
        "/usr/bin/trivy", "image", "--format", "json", "--quiet", "--insecure", "--image-src", "remote",
        "127.0.0.1:5000/app@sha256:c0fa"]  # fmt: skip
    assert trivy.command(layout, "sha256:c0fa", "linux/arm64")[-4:] == [
        "--input",
        "/dist/oci/app",
        "--platform",
        "linux/arm64",
    ]


def test_a_scanner_that_fails_is_a_scan_failure(tmp_path):
    tool = tmp_path / "grype"
    tool.write_text("#!/bin/sh\necho 'failed to load vulnerability db: no network' >&2\nexit 1\n")
    tool.chmod(0o755)
    scanner = ExternalScanner("grype", str(tool))
    with pytest.raises(
        ScanFailed,
        match=r"^grype failed on linux/amd64 \(exit 1\): failed to load vulnerability db",
    ):
        scanner.scan(ImageSource(layout=str(tmp_path)), "sha256:x", "linux/amd64", environ={})
    tool.write_text(f"#!/bin/sh\ncat {DATA / 'grype.json'}\n")
    assert (
        len(scanner.scan(ImageSource(layout=str(tmp_path)), "sha256:x", "linux/amd64", environ={}))
        == 3
    )


def test_which_scanner(tmp_path):
    paths = {"trivy": "/opt/trivy", "grype": "/opt/grype"}
    assert find_scanner(paths.get) == ExternalScanner("grype", "/opt/grype")
    assert find_scanner({"trivy": "/opt/trivy"}.get) == ExternalScanner("trivy", "/opt/trivy")
    assert find_scanner({}.get) is None
    with pytest.raises(InputError) as raised:
        choose_scanner(None, which={}.get)
    assert str(raised.value) == NO_SCANNER and raised.value.exit_code == 2
    (tmp_path / "osv").mkdir()
    (tmp_path / "osv" / "a.json").write_text('{"id": "A"}')
    # An OSV directory given wins over a scanner on PATH.
    assert isinstance(choose_scanner(tmp_path / "osv", which=paths.get), OsvMatcher)


def test_flags_over_the_projects_scan_table(tmp_path):
    outside = Workspace(Settings(), cwd=tmp_path)
    assert scan_options(outside) == scan_options(outside, fail_on=None)
    assert scan_options(outside, osv_db=Path("db")).osv_db == tmp_path / "db"
    with pytest.raises(
        InputError, match=r"^--fail-on 'severe': not a severity \(valid: critical, high"
    ):
        scan_options(outside, fail_on="severe")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "dockyard.toml").write_text(
        '[project]\nname = "x"\n[targets.a]\n[scan]\nosv-db = "osv"\nfail-on = "critical"\n'
        'ignore = [{id = "CVE-1", reason = "r", until = 2027-01-31}]\n'
    )
    (tmp_path / "sub").mkdir()
    inside = Workspace(Settings(), cwd=tmp_path / "sub")  # dockyard.toml found walking up
    options = scan_options(inside)
    assert (options.osv_db, options.fail_on, [r.id for r in options.ignore]) == (
        tmp_path / "osv",
        "critical",
        ["CVE-1"],
    )
    assert scan_options(inside, fail_on="low").fail_on == "low"
