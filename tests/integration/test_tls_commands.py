"""--ca-cert on every command that talks to a registry, against a real TLS registry.

The registry (session fixture `tls_registry`) serves https on 127.0.0.1 with
a certificate from a throw-away test CA that no system store trusts: each
command fails with the one-line TLS error without --ca-cert and works with
it. The build pulls its base from that registry through buildah, which gets
the CA as --cert-dir and keeps TLS verification on (a loopback registry that
dockyard reached over verified https is not given --tls-verify=false).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.buildproject import project
from tests.helpers.busybox import busybox_rootfs
from tests.helpers.relay import TcpRelay, this_host
from tests.integration.conftest import skopeo_raw

pytestmark = pytest.mark.integration

COPY_ONLY = "ARG BASE\nFROM ${BASE}\nCOPY file.txt /file.txt\n"
UNTRUSTED = "TLS certificate not trusted ("


def dockyard(*args: str, cwd: Path | None = None, env: dict | None = None):
    base = {k: v for k, v in os.environ.items() if k != "DOCKYARD_DEBUG"}
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**base, **(env or {})},
        timeout=600,
    )


def assert_untrusted(proc: subprocess.CompletedProcess, host: str) -> None:
    """Exit 1 and one line naming the TLS problem and its fix."""
    assert proc.returncode == 1, proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert UNTRUSTED in line and f"registry {host}" in line, proc.stderr
    assert line.endswith(
        f"pass --ca-cert FILE, or --insecure-registry {host} to skip verification"
    ), line


@pytest.fixture(scope="module")
def tls_base(tls_registry, tmp_path_factory) -> str:
    """`dockyard import` of busybox (amd64, arm64) into the TLS registry, with --ca-cert."""
    work = tmp_path_factory.mktemp("tls-base")
    ca = str(tls_registry.ca_cert)
    specs = []
    for arch in ("amd64", "arm64"):
        specs += ["--platform", f"linux/{arch}={busybox_rootfs(arch, work / arch)}"]
    ref = f"{tls_registry.host}/tls/base:1"
    without = dockyard("import", *specs, ref)
    assert_untrusted(without, tls_registry.host)
    proc = dockyard("import", *specs, ref, "--ca-cert", ca)
    assert proc.returncode == 0, proc.stderr
    return ref


def test_import_needs_the_ca_and_pushes_with_it(tls_registry, tls_base):
    raw = json.loads(skopeo_raw(tls_registry, "tls/base:1"))
    platforms = sorted(m["platform"]["architecture"] for m in raw["manifests"])
    assert platforms == ["amd64", "arm64"]


def test_inspect_needs_the_ca(tls_registry, tls_base):
    assert_untrusted(dockyard("inspect", tls_base), tls_registry.host)
    proc = dockyard("inspect", tls_base, "--json", "--ca-cert", str(tls_registry.ca_cert))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert sorted(i["platform"] for i in doc["images"]) == ["linux/amd64", "linux/arm64"]
    raw = dockyard("inspect", "--raw", tls_base, "--ca-cert", str(tls_registry.ca_cert))
    assert raw.stdout.encode() == skopeo_raw(tls_registry, "tls/base:1")


def test_a_bad_ca_file_is_bad_input(tls_base, tmp_path):
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n")
    proc = dockyard("inspect", tls_base, "--ca-cert", str(bogus))
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        .splitlines()[-1]
        .startswith(f"error: --ca-cert {bogus}: cannot load a PEM certificate")
    )


def test_build_pulls_its_base_through_buildah_with_the_ca_then_merge(
    tls_registry, tls_base, tmp_path
):
    """build (buildah --cert-dir, TLS verified) --push-by-digest, then merge; each with --ca-cert."""
    ca = str(tls_registry.ca_cert)
    host = tls_registry.host
    project(tmp_path, {"app": COPY_ONLY}, base=tls_base, registries=(f"{host}/tls",))
    storage = tmp_path / "storage"
    conf = tmp_path / "storage.conf"
    conf.write_text(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{storage / "root"}"\n'
        f'runroot = "{storage / "run"}"\n'
    )
    env = {"CONTAINERS_STORAGE_CONF": str(conf)}
    fanout = ("--push-by-digest", f"{host}/tls/staging", "--digest-dir", "digests")

    assert_untrusted(dockyard("build", *fanout, cwd=tmp_path, env=env), host)
    proc = dockyard("build", *fanout, "--ca-cert", ca, "--json", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    log = (tmp_path / "dist/logs/app-linux-arm64.log").read_text()
    argv = next(line for line in log.splitlines() if line.startswith("$ ") and " build " in line)
    assert "--cert-dir " in argv and "--tls-verify=false" not in argv

    assert_untrusted(dockyard("merge", "--digest-dir", "digests", cwd=tmp_path, env=env), host)
    merged = dockyard("merge", "--digest-dir", "digests", "--ca-cert", ca, "--json",
                      cwd=tmp_path, env=env)  # fmt: skip
    assert merged.returncode == 0, merged.stderr
    index = json.loads(skopeo_raw(tls_registry, "tls/app:dev"))
    assert [m["platform"]["architecture"] for m in index["manifests"]] == ["arm64"]


def test_verify_smoke_pulls_through_buildah_with_the_ca(tls_registry, tls_base):
    """The registry by this machine's name (not loopback to dockyard): buildah verifies TLS."""
    name, address = this_host()
    with TcpRelay(address, tls_registry.host) as relay:
        ref = tls_base.replace(tls_registry.host, f"{name}:{relay.port}", 1)
        ca = str(tls_registry.ca_cert)
        args = ("verify", ref, "--smoke-cmd", "true", "--json")
        assert_untrusted(dockyard(*args), ref.split("/")[0])
        proc = dockyard(*args, "--ca-cert", ca)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [p["smoke"]["exit_code"] for p in doc["platforms"]] == [0, 0], doc["platforms"]


def test_copy_and_retain_need_the_ca(tls_registry, tls_base, tmp_path):
    ca = str(tls_registry.ca_cert)
    host = tls_registry.host
    layout = f"oci:{tmp_path / 'copy'}:1"
    assert_untrusted(dockyard("copy", tls_base, layout), host)
    proc = dockyard("copy", tls_base, layout, "--ca-cert", ca)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "copy" / "index.json").is_file()
    retain = ("retain", f"{host}/tls/base", "--keep", "5", "--dry-run", "--json")
    assert_untrusted(dockyard(*retain), host)
    proc = dockyard(*retain, "--ca-cert", ca)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["deleted"] == []
