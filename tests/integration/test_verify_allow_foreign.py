"""allow-foreign on a real image: an amd64 busybox image shipping the arm64 busybox at
/usr/bin/qemu-aarch64-static fails verify, and passes with a glob that allows it (the file
still listed, as info), from `dockyard verify --allow-foreign` and from dockyard.toml's
[policy] through the options release uses."""

from __future__ import annotations

import json

import pytest

from dockyard.config.loader import load_config
from dockyard.verify.image import VerifyOptions, verify_image
from tests.helpers.busybox import busybox_rootfs
from tests.helpers.verifyimages import add_layers, import_busybox, layer, write_index
from tests.integration.test_verify_cli import dockyard, error_lines

pytestmark = pytest.mark.integration

QEMU = "/usr/bin/qemu-aarch64-static"
GLOB = "/usr/bin/qemu-*-static"


@pytest.fixture(scope="module")
def shipping_qemu(tmp_path_factory):
    """oci:DIR:qemu: linux/amd64 busybox plus an aarch64 ELF program at QEMU."""
    tmp = tmp_path_factory.mktemp("foreign")
    _, store, result = import_busybox(tmp, (("linux/amd64", "amd64"),))
    arm64 = (busybox_rootfs("arm64", tmp / "arm64") / "bin" / "busybox").read_bytes()
    child = add_layers(store, result.images[0].manifest, [layer([(QEMU.lstrip("/"), arm64)])])
    return write_index(store, [child], tag="qemu")


def test_without_a_glob_the_foreign_file_fails(shipping_qemu):
    proc = dockyard("verify", shipping_qemu, "--json")
    assert proc.returncode == 1
    errors = [f for f in json.loads(proc.stdout)["findings"] if f["severity"] == "error"]
    assert [(f["rule"], f["path"]) for f in errors] == [("arch.mismatch", QEMU)]
    assert error_lines(proc) == [f"error: {shipping_qemu}: 1 error finding(s) (arch.mismatch)"]


def test_the_cli_glob_allows_it_and_still_lists_it(shipping_qemu):
    proc = dockyard(
        "verify", shipping_qemu, "--allow-foreign", "/opt/**", "--allow-foreign", GLOB, "--json"
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] is True
    (allowed,) = [f for f in doc["findings"] if f["rule"] == "arch.foreign-allowed"]
    assert (allowed["severity"], allowed["path"], allowed["detail"]["glob"]) == ("info", QEMU, GLOB)
    assert allowed["message"] == f"{QEMU} is aarch64, not x86-64: allowed by allow-foreign {GLOB}"


def test_star_does_not_cross_a_slash(shipping_qemu):
    proc = dockyard("verify", shipping_qemu, "--allow-foreign", "/usr/*-static", "--json")
    assert proc.returncode == 1
    proc = dockyard("verify", shipping_qemu, "--allow-foreign", "/usr/**/qemu-*-static", "--json")
    assert proc.returncode == 0, proc.stderr


def test_the_table_shows_the_allowed_file_as_info(shipping_qemu):
    proc = dockyard("verify", shipping_qemu, "--allow-foreign", GLOB)
    assert proc.returncode == 0
    assert any(
        "arch.foreign-allowed" in line and "info" in line and QEMU in line
        for line in proc.stderr.splitlines()
    )


def test_a_relative_glob_exits_2(shipping_qemu):
    proc = dockyard("verify", shipping_qemu, "--allow-foreign", "usr/bin/qemu-*", "--json")
    assert proc.returncode == 2 and json.loads(proc.stdout)["error"]["exit_code"] == 2
    assert error_lines(proc) == [
        "error: --allow-foreign: 'usr/bin/qemu-*' is not a path glob (expected an absolute path glob: "
        "'/' then names or patterns separated by single '/', e.g. /usr/bin/qemu-*-static)"
    ]


def test_the_policy_in_dockyard_toml_allows_it(shipping_qemu, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "dockyard.toml").write_text(
        f'[policy]\nallow-foreign = ["{GLOB}"]\n'
        '[targets.tools]\ncontext = "."\n'
        '[targets.strict]\ncontext = "."\nallow-foreign = []\n'
    )
    config = load_config(cwd=tmp_path, env={})
    tools = verify_image(
        shipping_qemu, expect=VerifyOptions.from_policy(config.targets["tools"].policy)
    )
    assert tools.ok and [f.rule for f in tools.findings if f.severity == "info"] == [
        "arch.checked",
        "arch.foreign-allowed",
    ]
    strict = verify_image(
        shipping_qemu, expect=VerifyOptions.from_policy(config.targets["strict"].policy)
    )
    assert [f.rule for f in strict.errors] == ["arch.mismatch"]
