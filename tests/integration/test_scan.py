"""`dockyard scan` and release's gate on real images: Debian's busybox-static with its dpkg status,
an OSV directory written here, a real registry, and (for release) real buildah.

The OSV directory: one advisory affecting the image's busybox (Debian names the SOURCE package,
busybox; the image has the binary busybox-static), one fixed before it, one for a package the
image does not have. The scan must find exactly the first, on every platform.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest

from dockyard.oci.layout import LayoutStore
from dockyard.oci.registry import RegistryClient
from tests.helpers.buildproject import base_index
from tests.helpers.dpkgimage import busybox_version, import_dpkg_busybox, status_text
from tests.integration.test_release import commit, tag_digests, unmount_under

pytestmark = pytest.mark.integration

PLATFORMS = ["linux/amd64", "linux/arm64"]
HIGH = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"  # 7.5


def advisory(
    ident: str, name: str, events: list[dict], *, ecosystem: str = "Debian:12", **extra
) -> dict:
    return {
        "schema_version": "1.6.0",
        "id": ident,
        "modified": "2026-11-30T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
            }
        ],
        **extra,
    }


def write_osv(directory: Path) -> Path:
    """The three advisories; the busybox fix is the next Debian 12 update after the image's."""
    directory.mkdir(parents=True, exist_ok=True)
    docs = {
        "DEBIAN-TEST-0001": advisory(
            "DEBIAN-TEST-0001", "busybox", [{"introduced": "0"}, {"fixed": "1:1.35.0-4+deb12u99"}],
            aliases=["CVE-2099-0001"], summary="busybox: test advisory affecting the image",
            severity=[{"type": "CVSS_V3", "score": HIGH}],
        ),
        "DEBIAN-TEST-0002": advisory(
            "DEBIAN-TEST-0002", "busybox", [{"introduced": "0"}, {"fixed": "1:1.30.1-1"}],
            aliases=["CVE-2099-0002"], severity=[{"type": "CVSS_V3", "score": HIGH}],
        ),
        "DEBIAN-TEST-0003": advisory(
            "DEBIAN-TEST-0003", "zlib", [{"introduced": "0"}], aliases=["CVE-2099-0003"],
            database_specific={"severity": "critical"},
        ),
    }  # fmt: skip
    for ident, doc in docs.items():
        (directory / f"{ident}.json").write_text(json.dumps(doc, indent=2))
    return directory


def dockyard(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=600,
    )  # fmt: skip


def no_scanner_env() -> dict[str, str]:
    """The environment with a PATH that has neither grype nor trivy."""
    path = os.pathsep.join(
        d for d in os.environ.get("PATH", "").split(os.pathsep)
        if not any(Path(d, tool).exists() for tool in ("grype", "trivy"))
    )  # fmt: skip
    return {k: v for k, v in os.environ.items() if k != "DOCKYARD_DEBUG"} | {"PATH": path}


@pytest.fixture(scope="module")
def images(registry, tmp_path_factory) -> dict[str, str]:
    """The same busybox + dpkg index in a layout and in the registry: {"layout": …, "registry": …}."""
    work = tmp_path_factory.mktemp("scan-images")
    layout = work / "oci"
    digest = import_dpkg_busybox(work / "rootfs", LayoutStore(layout), platforms=PLATFORMS, tag="1")
    with RegistryClient(environ={}) as client:
        pushed = import_dpkg_busybox(
            work / "rootfs",
            client.store(f"{registry.host}/scan/busybox", push=True),
            platforms=PLATFORMS,
        )
    assert pushed == digest
    return {"layout": f"oci:{layout}:1", "registry": f"{registry.host}/scan/busybox:1"}


@pytest.mark.parametrize("where", ["layout", "registry"])
def test_the_scan_finds_exactly_the_advisory_affecting_busybox(images, tmp_path, where):
    osv = write_osv(tmp_path / "osv")
    # dockyard's own SBOM readers: the image's dpkg packages and nothing else. (syft also
    # lists the busybox binary itself, an ecosystem no advisory here names: one note more.)
    env = no_scanner_env() | {"DOCKYARD_SYFT": "0"}
    proc = dockyard("scan", images[where], "--osv-db", str(osv), "--json", cwd=tmp_path, env=env)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    version = busybox_version()
    assert [(f["platform"], f["package"], f["source"], f["installed"], f["fixed"], f["advisory"], f["aliases"],
             f["severity"], f["score"]) for f in doc["findings"]] == [
        (p, "busybox-static", "busybox", version, "1:1.35.0-4+deb12u99", "DEBIAN-TEST-0001", ["CVE-2099-0001"],
         "high", 7.5)
        for p in PLATFORMS
    ]  # fmt: skip
    assert [(p["platform"], p["packages"]) for p in doc["platforms"]] == [(p, 1) for p in PLATFORMS]
    assert (doc["ok"], doc["failing"], doc["fail_on"], doc["notes"]) == (False, 2, "high", [])
    assert proc.stderr.strip().splitlines()[-1] == (
        f"error: {images[where]}: 2 findings, 2 at or above high "
        f"(CVE-2099-0001 in busybox-static {version} on linux/amd64)"
    )


def test_threshold_platform_and_the_human_table(images, tmp_path):
    osv = write_osv(tmp_path / "osv")
    env = no_scanner_env()
    proc = dockyard(
        "scan",
        images["layout"],
        "--osv-db",
        str(osv),
        "--fail-on",
        "critical",
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert busybox_version() in proc.stderr
    assert (
        "DEBIAN-TEST-0001 (CVE-2099-0001)" in proc.stderr and "DEBIAN-TEST-0002" not in proc.stderr
    )
    assert proc.stderr.rstrip().endswith("ok")
    one = dockyard("scan", images["registry"], "--osv-db", str(osv), "--platform", "linux/arm64", "--json",
                   cwd=tmp_path, env=env)  # fmt: skip
    assert one.returncode == 1
    assert [f["platform"] for f in json.loads(one.stdout)["findings"]] == ["linux/arm64"]
    bad = dockyard(
        "scan",
        images["layout"],
        "--osv-db",
        str(osv),
        "--platform",
        "linux/s390x",
        cwd=tmp_path,
        env=env,
    )
    assert bad.returncode == 2
    assert "no linux/s390x image in the index (it holds: linux/amd64, linux/arm64)" in bad.stderr


def test_ignores_from_dockyard_toml_until_they_expire(images, tmp_path):
    write_osv(tmp_path / "osv")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")

    def config(until: date) -> None:
        (tmp_path / "dockyard.toml").write_text(
            '[project]\nname = "x"\n[targets.a]\n[scan]\nosv-db = "osv"\n'
            f'ignore = [{{id = "CVE-2099-0001", reason = "no shell in this service", until = {until}}}]\n'
        )

    config(date.today())  # through today
    proc = dockyard("scan", images["layout"], "--json", cwd=tmp_path, env=no_scanner_env())
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert (
        doc["findings"] == [] and [i["ignored_by"] for i in doc["ignored"]] == ["CVE-2099-0001"] * 2
    )
    assert "ignored: DEBIAN-TEST-0001 in busybox-static on linux/amd64" in proc.stderr

    config(date.today() - timedelta(days=1))  # expired yesterday: counts again, and says so
    proc = dockyard("scan", images["layout"], "--json", cwd=tmp_path, env=no_scanner_env())
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert [f["advisory"] for f in doc["findings"]] == ["DEBIAN-TEST-0001"] * 2 and doc[
        "ignored"
    ] == []
    assert [e["id"] for e in doc["expired_ignores"]] == ["CVE-2099-0001"]
    assert "warning: [scan] ignore CVE-2099-0001 expired on" in proc.stderr


def test_no_scanner_and_no_database_is_exit_2(images, tmp_path):
    proc = dockyard("scan", images["layout"], cwd=tmp_path, env=no_scanner_env())
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: no vulnerability database: pass --osv-db DIR (a directory of OSV *.json advisories), "
        "set [scan] osv-db in dockyard.toml, or put grype or trivy on PATH"
    )
    (tmp_path / "empty").mkdir()
    proc = dockyard(
        "scan", images["layout"], "--osv-db", "empty", cwd=tmp_path, env=no_scanner_env()
    )
    assert proc.returncode == 2
    assert "no advisories (*.json) in it; nothing to match against" in proc.stderr
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "X.json").write_text('{"id": "X", "affected": [{"package": {}}]}')
    proc = dockyard(
        "scan", images["layout"], "--osv-db", "broken", cwd=tmp_path, env=no_scanner_env()
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: broken/X.json: affected[0].package.ecosystem: expected a string, got nothing"
    )


# ---------------------------------------------------------------- release's gate


@pytest.fixture(scope="module")
def base(registry, tmp_path_factory) -> str:
    return base_index(registry.host, tmp_path_factory.mktemp("scan-base"))


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A buildah storage of this module's own (vfs), no grype or trivy on PATH."""
    root = tmp_path_factory.mktemp("buildah-scan-storage")
    conf = root / "storage.conf"
    conf.write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = "{root / "root"}"\nrunroot = "{root / "run"}"\n'
    )
    (root / "tmp").mkdir()
    drop = ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS", "GITHUB_EVENT_NAME")
    base_env = {k: v for k, v in no_scanner_env().items() if k not in drop}
    yield {**base_env, "CONTAINERS_STORAGE_CONF": str(conf), "TMPDIR": str(root / "tmp")}
    unmount_under(root)


def test_a_release_whose_scan_finds_a_high_advisory_publishes_nothing(
    tmp_path, base, registry, env
):
    root = tmp_path / "p"
    (root / "app").mkdir(parents=True)
    (root / "app" / "Dockerfile").write_text(
        "ARG BASE\nFROM ${BASE}\nCOPY status /var/lib/dpkg/status\n"
    )
    (root / "app" / "status").write_text(status_text(["busybox-static"], "amd64"))
    write_osv(root / "osv")
    prefix = f"{registry.host}/scan{uuid.uuid4().hex[:8]}"

    def configure(ignore: str = "") -> str:
        (root / "dockyard.toml").write_text(
            f'[project]\nname = "scanrel"\nplatforms = ["linux/amd64"]\nregistries = ["{prefix}"]\n'
            '[tags]\nrules = ["type=semver,pattern={{version}}", "type=raw,value=latest"]\n'
            f'[scan]\nosv-db = "osv"\n{ignore}\n'
            f'[targets.app]\ncontext = "app"\nargs = {{ BASE = "{base}" }}\n'
        )
        return commit(root)

    sha = configure()
    release = ["release", "--ref", "v1.0.0", "--sha", sha, "--json"]
    proc = dockyard(*release, cwd=root, env=env)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert (doc["ok"], doc["stopped"], doc["publish"]) == (False, "scan", None)
    assert [v["ok"] for v in doc["verify"]] == [True]  # verify passed; the scan stopped it
    (scan,) = doc["scan"]
    assert [(f["advisory"], f["platform"], f["severity"]) for f in scan["result"]["findings"]] == [
        ("DEBIAN-TEST-0001", "linux/amd64", "high")
    ]
    assert {row["state"] for row in doc["summary"]} == {"not published (scan failed)"}
    assert proc.stderr.strip().splitlines()[-1] == (
        f"error: scan failed, nothing was published: app: 1 finding, 1 at or above high "
        f"(CVE-2099-0001 in busybox-static {busybox_version()} on linux/amd64)"
    )
    assert "app  linux/amd64  scan  high  DEBIAN-TEST-0001 in busybox-static" in proc.stderr
    assert tag_digests(registry, f"{prefix}/app") == {}  # nothing under the release's tags

    # The same release with the advisory ignored (a reason and a date): the gate opens.
    until = date.today() + timedelta(days=30)
    sha = configure(f'ignore = [{{id = "CVE-2099-0001", reason = "test", until = {until}}}]')
    proc = dockyard("release", "--ref", "v1.0.0", "--sha", sha, "--json", cwd=root, env=env)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] and [i["ignored_by"] for i in doc["scan"][0]["result"]["ignored"]] == [
        "CVE-2099-0001"
    ]
    index = doc["build"]["targets"][0]["index_digest"]
    tags = tag_digests(registry, f"{prefix}/app")
    assert {t: d for t, d in tags.items() if not t.startswith("sha256-")} == {
        "1.0.0": index,
        "latest": index,
    }


def test_a_release_with_scan_and_no_database_stops_before_building(tmp_path, base, registry, env):
    root = tmp_path / "p"
    (root / "app").mkdir(parents=True)
    (root / "app" / "Dockerfile").write_text("ARG BASE\nFROM ${BASE}\n")
    (root / "dockyard.toml").write_text(
        f'[project]\nname = "x"\nplatforms = ["linux/amd64"]\nregistries = ["{registry.host}/nodb"]\n'
        f'[scan]\n[targets.app]\ncontext = "app"\nargs = {{ BASE = "{base}" }}\n'
    )
    proc = dockyard("release", "--ref", "v1.0.0", "--sha", commit(root), cwd=root, env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error: no vulnerability database: ")
    assert not (root / "dist").exists()
