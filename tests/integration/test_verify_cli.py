"""`python -m dockyard verify` end to end: exit codes, one JSON document, the table, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dockyard.oci.imports import ImageSettings
from tests.helpers.verifyimages import import_busybox

pytestmark = pytest.mark.integration

BOTH = (("linux/amd64", "amd64"), ("linux/arm64", "arm64"))


def dockyard(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DOCKYARD_DEBUG"}
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args], capture_output=True, text=True, env=env, timeout=300
    )


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("error:")]


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return import_busybox(tmp_path_factory.mktemp("verify-cli"), BOTH)[0]


@pytest.fixture(scope="module")
def rooted(tmp_path_factory):
    settings = ImageSettings(user="root", labels={"org.opencontainers.image.source": "x"})
    return import_busybox(tmp_path_factory.mktemp("verify-cli-root"), BOTH, settings=settings)[0]


POLICY = ("--platforms", "linux/amd64,linux/arm64", "--non-root", "--healthcheck", "--max-size", "10MB",
          "--require-label", "org.opencontainers.image.source")


def test_a_clean_image_exits_0_with_one_json_document(clean):
    proc = dockyard("verify", clean, *POLICY, "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # the whole of stdout is one document
    assert doc["ok"] is True and doc["errors"] == 0 and doc["reference"] == clean
    assert [p["platform"] for p in doc["platforms"]] == ["linux/amd64", "linux/arm64"]
    assert set(doc) == {"reference", "digest", "media_type", "ok", "errors", "platforms",
                        "attestations", "findings"}
    assert proc.stderr == ""  # --json: no progress lines either


def test_findings_exit_1_with_the_report_and_one_error_line(rooted):
    proc = dockyard("verify", rooted, *POLICY, "--json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["ok"] is False and doc["errors"] == 4
    assert sorted({(f["rule"], f["platform"]) for f in doc["findings"] if f["severity"] == "error"}) == [
        ("policy.healthcheck", "linux/amd64"), ("policy.healthcheck", "linux/arm64"),
        ("policy.non-root", "linux/amd64"), ("policy.non-root", "linux/arm64"),
    ]
    assert error_lines(proc) == [
        f"error: {rooted}: 4 error finding(s) (policy.healthcheck, policy.non-root)"
    ]


def test_the_table_goes_to_stderr(rooted):
    proc = dockyard("verify", rooted, "--non-root", "--platforms", "linux/amd64,linux/arm64,linux/s390x")
    assert proc.returncode == 1 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert any("index.missing-platform" in line and "linux/s390x" in line for line in lines)
    assert any(line.startswith("linux/arm64") and "arch.mismatch" in line and " ok" in line for line in lines)
    assert any(line.startswith("linux/amd64") and "policy.non-root" in line and "error" in line for line in lines)


def test_smoke_cmd_implies_smoke(clean):
    proc = dockyard("verify", clean, "--platforms", "linux/amd64,linux/arm64", "--smoke-cmd",
                    '["sh", "-c", "exit 7"]', "--json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert [p["smoke"]["exit_code"] for p in doc["platforms"]] == [7, 7]
    assert [p["smoke"]["argv"] for p in doc["platforms"]] == [["sh", "-c", "exit 7"]] * 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--platforms", "linux/nope"),
         "error: 'linux/nope' is not a platform (expected os/arch[/variant], e.g. linux/arm64)"),
        (("--max-size", "5M"),
         "error: '5M' is not a size (expected a number of bytes, or a number with kB, MB, GB, TB, "
         "KiB, MiB, GiB or TiB, e.g. 500MB or 1.5GiB)"),
        (("--smoke-timeout", "0"), "error: --smoke-timeout 0: expected a number of seconds above 0"),
    ],
)
def test_bad_input_exits_2(clean, args, message):
    proc = dockyard("verify", clean, *args, "--json")
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["error"] == {
        "code": "InputError", "message": message.removeprefix("error: "), "exit_code": 2
    }
    assert error_lines(proc) == [message]


def test_a_missing_layout_is_one_line(tmp_path):
    proc = dockyard("verify", f"oci:{tmp_path}/none:t", "--json")
    assert proc.returncode in (1, 2)
    assert json.loads(proc.stdout)["error"]["exit_code"] == proc.returncode
    assert len(error_lines(proc)) == 1 and str(tmp_path) in error_lines(proc)[0]
