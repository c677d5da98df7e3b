"""`python -m dockyard copy` end to end: one JSON document, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dockyard.oci.layout import LayoutStore
from tests.helpers.faultproxy import Fault, FaultProxy
from tests.integration.conftest import skopeo_raw
from tests.integration.test_copy import make_busybox_layout

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    path, imported = make_busybox_layout(tmp_path_factory.mktemp("copy-cli"))
    data, _ = LayoutStore(path).manifest_get("v1")
    return path, imported, data


@pytest.fixture
def proxy(registry):
    p = FaultProxy(registry.host).start()
    yield p
    p.stop()


def dockyard(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DOCKYARD_DEBUG"}
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def errors(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("error:")]


def test_json_is_one_document_and_skopeo_reads_the_result(layout, registry):
    proc = dockyard("copy", "--json", f"oci:{layout[0]}:v1", f"{registry.host}/cli/json:v1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # not a terminal: no progress
    doc = json.loads(proc.stdout)
    assert list(doc) == [
        "source", "destination", "digest", "media_type", "platforms", "tag", "up_to_date",
        "blobs", "manifests", "evidence", "seconds",
    ]  # fmt: skip
    assert doc["source"] == f"oci:{layout[0]}:v1"
    assert doc["destination"] == f"{registry.host}/cli/json:v1"
    assert doc["digest"] == str(layout[1].index.digest)
    assert doc["platforms"] == ["linux/amd64", "linux/arm64"]
    assert doc["blobs"]["copied"] == 4 and doc["manifests"] == {"copied": 3, "skipped": 0}
    assert doc["evidence"] == {  # the layout has none: looked for, nothing carried
        "referrers": {"copied": 0, "skipped": 0},
        "cosign_tags": {"copied": 0, "skipped": 0, "diverged": 0},
    }
    assert skopeo_raw(registry, "cli/json:v1") == layout[2]

    again = dockyard("copy", "--json", f"oci:{layout[0]}:v1", f"{registry.host}/cli/json:v1")
    doc = json.loads(again.stdout)
    assert doc["up_to_date"] is True and doc["blobs"]["bytes"] == 0


def test_platform_by_cli(layout, registry):
    proc = dockyard(
        "copy", "--json", "--platform", "linux/arm64",
        f"oci:{layout[0]}:v1", f"{registry.host}/cli/arm:v1",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    arm = next(i for i in layout[1].images if i.platform.architecture == "arm64")
    assert json.loads(proc.stdout)["digest"] == str(arm.manifest.digest)
    assert json.loads(skopeo_raw(registry, "cli/arm:v1"))["config"]["digest"] == str(
        arm.config.digest
    )


def test_all_is_the_default_spelled_out_and_copies_what_skopeo_copy_all_does(layout, tmp_path):
    """skopeo copies only the host's platform unless given --all; dockyard copies the whole
    index either way, so a `skopeo copy --all` line pastes in with the meaning it had."""
    source = f"oci:{layout[0]}:v1"
    for name, flags in (("all", ["--all"]), ("default", [])):
        proc = dockyard("copy", "--json", *flags, source, f"oci:{tmp_path / name}:v1")
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        assert doc["digest"] == str(layout[1].index.digest), name
        assert doc["platforms"] == ["linux/amd64", "linux/arm64"], name
    subprocess.run(
        ["skopeo", "--insecure-policy", "copy", "-q", "--all", source, f"oci:{tmp_path / 'skopeo'}:v1"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    by_skopeo, _ = LayoutStore(tmp_path / "skopeo").manifest_get("v1")
    for name in ("all", "default"):
        assert LayoutStore(tmp_path / name).manifest_get("v1")[0] == by_skopeo == layout[2]


def test_human_summary_goes_to_stderr(layout, tmp_path):
    proc = dockyard("copy", f"oci:{layout[0]}:v1", f"oci:{tmp_path / 'out'}:v1")
    assert proc.returncode == 0 and proc.stdout == ""
    assert proc.stderr.startswith(
        f"oci:{tmp_path / 'out'}:v1  {layout[1].index.digest}  blobs: 4 copied"
    )


def test_permanent_fault_exits_1_with_one_line_and_no_tag(layout, registry, proxy):
    proxy.add(Fault("PUT", r"/manifests/v1$", status=500, times=None))
    proc = dockyard(
        "copy", "--retry-attempts", "2", f"oci:{layout[0]}:v1", f"{proxy.host}/cli/fail:v1"
    )
    assert proc.returncode == 1
    assert errors(proc) == [
        f"error: registry {proxy.host}: PUT http://{proxy.host}/v2/cli/fail/manifests/v1 "
        "failed: HTTP 500"
    ]
    assert proc.stderr.endswith(errors(proc)[0] + "\n")
    assert proxy.count("PUT", r"/manifests/v1$") == 2
    proxy.reset()
    head = dockyard("copy", "--json", f"{registry.host}/cli/fail:v1", f"oci:{layout[0]}-x")
    assert head.returncode == 1
    assert errors(head) == [f"error: {registry.host}/cli/fail: no manifest 'v1'"]


def test_altered_bytes_exit_1_and_nothing_is_tagged(layout, registry, proxy, tmp_path):
    assert dockyard("copy", f"oci:{layout[0]}:v1", f"{registry.host}/cli/src:v1").returncode == 0
    proxy.add(Fault("GET", r"/blobs/sha256:", action="alter", offset=10, times=None))
    proc = dockyard("copy", f"{proxy.host}/cli/src:v1", f"oci:{tmp_path / 'bad'}:v1")
    assert proc.returncode == 1
    (line,) = errors(proc)
    assert line.startswith(f"error: {proxy.host}/cli/src: blob sha256:")
    assert ": content hashes to sha256:" in line
    assert list(LayoutStore(tmp_path / "bad").tag_list()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--all", "--platform", "linux/arm64"],
            "error: --all and --platform exclude each other (--all copies every platform)",
        ),
        (["--jobs", "0"], "error: --jobs 0: expected a number from 1 to 16"),
        (["--retry-attempts", "0"], "error: --retry-attempts 0: expected at least 1"),
    ],
)
def test_bad_options_exit_2(layout, tmp_path, args, message):
    proc = dockyard("copy", *args, f"oci:{layout[0]}:v1", f"oci:{tmp_path / 'o'}")
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [message]
    assert not (tmp_path / "o").exists()


def test_bad_reference_exits_2(layout):
    proc = dockyard("copy", f"oci:{layout[0]}:v1", "127.0.0.1:5000/UPPER:v1")
    assert proc.returncode == 2
    (line,) = errors(proc)
    assert line.startswith("error: '127.0.0.1:5000/UPPER:v1'")
