"""Smoke runs of real busybox images with buildah: native, arm64 and arm/v7 under qemu,
failing and hanging commands, images without anything to run, pulls from a registry."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from dockyard.emulation import binfmt_status
from dockyard.oci.imports import ImageSettings
from dockyard.platform import parse_platform, parse_platforms
from dockyard.verify.image import VerifyOptions, verify_image
from tests.helpers.verifyimages import import_busybox

pytestmark = pytest.mark.integration

BOTH = (("linux/amd64", "amd64"), ("linux/arm64", "arm64"))


def _needs_qemu(*platforms: str) -> None:
    for p in platforms:
        # make test enables binfmt (scripts/setup-system.sh): a missing
        # interpreter is a broken machine, said out loud rather than skipped.
        status = binfmt_status(parse_platform(p))
        assert status.ok, status.problem


def smoke_findings(report):
    return [(f.rule, f.platform) for f in report.findings if f.rule.startswith("smoke.")]


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return import_busybox(tmp_path_factory.mktemp("smoke"), BOTH)


def test_the_healthcheck_runs_natively_and_under_qemu(clean):
    _needs_qemu("linux/arm64")
    location, _, _ = clean
    report = verify_image(location, expect=VerifyOptions(smoke=True))
    assert report.ok, report.findings
    assert smoke_findings(report) == [("smoke.ok", "linux/amd64"), ("smoke.ok", "linux/arm64")]
    amd64, arm64 = (p.smoke for p in report.platforms)
    assert amd64.argv == arm64.argv == ("/bin/sh", "-c", "true")  # HEALTHCHECK CMD-SHELL true
    assert (amd64.emulated, arm64.emulated) == (False, True)
    assert arm64.exit_code == 0 and not arm64.timed_out


def test_a_smoke_command_sees_the_platforms_cpu(clean):
    _needs_qemu("linux/arm64")
    location, _, _ = clean
    report = verify_image(location, expect=VerifyOptions(smoke=True, smoke_cmd=("uname", "-m")))
    assert report.ok
    assert [p.smoke.output for p in report.platforms] == ["x86_64\n", "aarch64\n"]
    assert report.to_json()["platforms"][1]["smoke"]["output"] == "aarch64\n"


def test_a_failing_smoke_command(clean):
    _needs_qemu("linux/arm64")
    location, _, _ = clean
    expect = VerifyOptions(
        platforms=parse_platforms("linux/arm64,linux/amd64"),
        smoke=True,
        smoke_cmd=("sh", "-c", "echo broken on $(uname -m); exit 3"),
    )
    report = verify_image(location, expect=expect)
    assert smoke_findings(report) == [("smoke.failed", "linux/amd64"), ("smoke.failed", "linux/arm64")]
    assert report.errors[1].message == (
        "'sh -c echo broken on $(uname -m); exit 3' exited with status 3: broken on aarch64"
    )
    assert report.platforms[1].smoke.exit_code == 3


def test_a_hanging_smoke_command_times_out_and_leaves_no_process(clean):
    _needs_qemu("linux/arm64")
    location, _, _ = clean
    marker = f"dockyard-smoke-hang-{uuid.uuid4().hex}"  # in the command line of what runs
    busy = ("sh", "-c", f"while :; do :; done # {marker}")
    expect = VerifyOptions(smoke=True, smoke_cmd=busy, smoke_timeout=2)
    report = verify_image(location, expect=expect)
    assert smoke_findings(report) == [("smoke.timeout", "linux/amd64"), ("smoke.timeout", "linux/arm64")]
    assert all(p.smoke.timed_out and p.smoke.exit_code is None for p in report.platforms)
    # Under runc the container's process is in a session of its own: it must die too,
    # natively and under qemu (SIGKILL is asynchronous: give the kernel a moment).
    deadline = time.monotonic() + 10
    while (left := _running(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == []


def _running(marker: str) -> list[int]:
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if marker in text:
            pids.append(int(cmdline.parent.name))
    return pids


def test_nothing_to_run(tmp_path):
    location, _, _ = import_busybox(tmp_path, BOTH[:1], settings=ImageSettings(user="1000"))
    report = verify_image(location, expect=VerifyOptions(smoke=True))
    assert smoke_findings(report) == [("smoke.no-command", "linux/amd64")]
    assert report.platforms[0].smoke is None


def test_arm_v7_under_qemu(tmp_path):
    _needs_qemu("linux/arm/v7")
    location, _, _ = import_busybox(tmp_path, (("linux/arm/v7", "armhf"),))
    report = verify_image(location, expect=VerifyOptions(smoke=True, smoke_cmd=("uname", "-m")))
    assert report.ok, report.findings
    assert report.platforms[0].smoke.output == "armv7l\n"


def test_smoke_pulls_from_a_registry(clean, registry):
    _needs_qemu("linux/arm64")
    from tests.helpers.locations import copy_location, verify_location

    location, _, _ = clean
    copy_location(location, f"{registry.host}/verify/smoke:1")
    report = verify_location(f"{registry.host}/verify/smoke:1", expect=VerifyOptions(smoke=True))
    assert report.ok, report.findings
    assert smoke_findings(report) == [("smoke.ok", "linux/amd64"), ("smoke.ok", "linux/arm64")]


def test_a_layout_store_and_digest(clean):
    _, store, result = clean
    index = str(result.index.digest)
    report = verify_image((store, index), expect=VerifyOptions(smoke=True, smoke_cmd=("true",)))
    assert report.ok, report.findings
    assert report.reference == f"oci:{store.path}@{index}"
    untagged = str(result.images[0].manifest.digest)
    report = verify_image((store, untagged), expect=VerifyOptions(smoke=True, smoke_cmd=("true",)))
    assert [(f.rule, f.message) for f in report.errors] == [
        ("smoke.failed", f"smoke runs need a tag for {untagged} in the layout (buildah reads layouts by tag)")
    ]


def test_a_layout_whose_path_is_no_valid_image_name(tmp_path):
    # buildah names an `oci:PATH` image after PATH, and refuses upper case or a
    # component ending in "_" (a mkdtemp name can): the smoke run must not care.
    _needs_qemu("linux/arm64")
    odd = tmp_path / "My_Images_"
    odd.mkdir()
    location, _, _ = import_busybox(odd, BOTH)
    report = verify_image(location, expect=VerifyOptions(smoke=True))
    assert report.ok, report.findings
    assert smoke_findings(report) == [("smoke.ok", "linux/amd64"), ("smoke.ok", "linux/arm64")]
