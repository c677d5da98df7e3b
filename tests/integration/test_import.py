"""`dockyard import` of Debian's busybox-static (amd64 + arm64): reproducible, and skopeo agrees."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from dockyard.digest import sha256_digest
from dockyard.errors import InputError
from dockyard.oci import mediatypes as mt
from dockyard.oci.imports import (
    ImageSettings,
    RootfsSource,
    import_rootfs,
    parse_command,
    parse_source,
    source_date_epoch,
    write_layer,
)
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import Manifest, parse_config, parse_manifest
from dockyard.platform import Platform
from tests.helpers.busybox import busybox_rootfs, busybox_tar

pytestmark = pytest.mark.integration

AMD64, ARM64 = Platform("linux", "amd64"), Platform("linux", "arm64")
ELF_MACHINE = {"amd64": 62, "arm64": 183}  # e_machine: EM_X86_64, EM_AARCH64


@pytest.fixture(scope="session")
def rootfs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("busybox")
    return {
        "amd64": busybox_rootfs("amd64", base / "amd64"),
        "arm64": busybox_rootfs("arm64", base / "arm64"),
        "arm64.tar": busybox_tar("arm64", base / "arm64.tar"),
    }


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def skopeo(*args: str) -> bytes:
    proc = subprocess.run(["skopeo", *args], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def dockyard_import(rootfs, dest: Path, *extra: str, env: dict | None = None) -> dict:
    proc = run(
        "import",
        "--platform", f"linux/amd64={rootfs['amd64']}",
        "--platform", f"linux/arm64={rootfs['arm64.tar']}",
        "--entrypoint", '["/bin/sh"]',
        "--cmd", "-c 'echo hi'",
        "--env", "GREETING=hello",
        "--user", "1000:1000",
        "--workdir", "/tmp",
        "--label", "org.opencontainers.image.title=busybox",
        "--healthcheck", "true",
        "--json",
        *extra,
        f"oci:{dest}:base",
        env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def layer_members(store: LayoutStore, manifest_digest: str) -> list[tarfile.TarInfo]:
    manifest = parse_manifest(store.manifest_get(manifest_digest)[0])
    assert isinstance(manifest, Manifest)
    with (
        store.blob_open(manifest.layers[0].digest) as f,
        tarfile.open(fileobj=f, mode="r|gz") as tar,
    ):
        return [m for m in tar]


def test_import_is_reproducible_and_skopeo_reads_it(rootfs, tmp_path):
    first = dockyard_import(rootfs, tmp_path / "one")
    second = dockyard_import(rootfs, tmp_path / "two")
    assert first["digest"] == second["digest"]
    assert [m["layer"] for m in first["manifests"]] == [m["layer"] for m in second["manifests"]]
    assert (tmp_path / "one" / "index.json").read_bytes() == (
        tmp_path / "two" / "index.json"
    ).read_bytes()

    raw = skopeo("inspect", "--raw", f"oci:{tmp_path / 'one'}:base")
    assert raw == LayoutStore(tmp_path / "one").manifest_get("base")[0]
    index = json.loads(raw)
    assert index["mediaType"] == mt.OCI_INDEX
    assert [m["platform"] for m in index["manifests"]] == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux"},
    ]
    for arch in ("amd64", "arm64"):
        config = json.loads(
            skopeo(
                "inspect",
                "--override-arch",
                arch,
                "--config",
                "--raw",
                f"oci:{tmp_path / 'one'}:base",
            )
        )
        assert (config["os"], config["architecture"]) == ("linux", arch)
        assert config["config"]["Healthcheck"]["Test"] == ["CMD-SHELL", "true"]
        assert config["config"]["User"] == "1000:1000"
        assert config["config"]["Entrypoint"] == ["/bin/sh"]
        assert config["config"]["Cmd"] == ["-c", "echo hi"]
        assert "GREETING=hello" in config["config"]["Env"]
        assert config["config"]["Labels"] == {"org.opencontainers.image.title": "busybox"}
        assert config["created"] == "1970-01-01T00:00:00Z"


def test_each_platform_carries_its_own_busybox(rootfs, tmp_path):
    result = dockyard_import(rootfs, tmp_path / "l")
    store = LayoutStore(tmp_path / "l")
    for entry in result["manifests"]:
        arch = entry["platform"].split("/")[1]
        manifest = parse_manifest(store.manifest_get(entry["digest"])[0])
        with store.blob_open(manifest.config.digest) as f:
            assert parse_config(f.read()).architecture == arch
        with (
            store.blob_open(manifest.layers[0].digest) as f,
            tarfile.open(fileobj=f, mode="r|gz") as tar,
        ):
            for member in tar:
                if member.name == "bin/busybox":
                    head = tar.extractfile(member).read(20)
                    break
        assert head[:4] == b"\x7fELF"
        assert int.from_bytes(head[18:20], "little") == ELF_MACHINE[arch]


def test_directory_and_tarball_of_one_tree_give_the_same_layer(rootfs, tmp_path):
    from_dir = write_layer(rootfs["arm64"], tmp_path / "a.tgz", epoch=0)
    from_tar = write_layer(rootfs["arm64.tar"], tmp_path / "b.tgz", epoch=0)
    assert from_dir == from_tar
    assert (tmp_path / "a.tgz").read_bytes() == (tmp_path / "b.tgz").read_bytes()


def test_layer_entries_sorted_mtimes_clamped_owners_kept(rootfs, tmp_path):
    tree = tmp_path / "tree"
    (tree / "b").mkdir(parents=True)
    (tree / "a-file").write_text("x")
    (tree / "b" / "inner").write_text("y")
    os.chown(tree / "b" / "inner", 1234, 5678)
    os.utime(tree / "a-file", (2_000_000_000, 2_000_000_000))
    os.utime(tree / "b" / "inner", (100, 100))
    store = LayoutStore(tmp_path / "l")
    result = import_rootfs([RootfsSource(AMD64, tree)], store, tag="t", epoch=1000)
    members = layer_members(store, str(result.images[0].manifest.digest))
    assert [m.name for m in members] == ["a-file", "b", "b/inner"]
    assert [m.mtime for m in members] == [1000, 1000, 100]
    inner = members[2]
    assert (inner.uid, inner.gid, inner.uname, inner.gname) == (1234, 5678, "", "")


def test_hard_links_point_at_the_first_name_in_order(tmp_path):
    # In the archive the content is under z/real; sorted, 'a/link' comes first.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in ("a", "z"):
            d = tarfile.TarInfo(name)
            d.type = tarfile.DIRTYPE
            tar.addfile(d)
        real = tarfile.TarInfo("./z/real")
        real.size = 4
        tar.addfile(real, io.BytesIO(b"data"))
        link = tarfile.TarInfo("./a/link")
        link.type, link.linkname = tarfile.LNKTYPE, "./z/real"
        tar.addfile(link)
    (tmp_path / "in.tar").write_bytes(buf.getvalue())
    store = LayoutStore(tmp_path / "l")
    result = import_rootfs([RootfsSource(AMD64, tmp_path / "in.tar")], store, tag="t")
    members = layer_members(store, str(result.images[0].manifest.digest))
    got = {m.name: (m.type, m.linkname, m.size) for m in members}
    assert [m.name for m in members] == ["a", "a/link", "z", "z/real"]
    assert got["a/link"] == (tarfile.REGTYPE, "", 4)
    assert got["z/real"] == (tarfile.LNKTYPE, "a/link", 0)


def test_compressed_tarball_input(rootfs, tmp_path):
    gz = tmp_path / "rootfs.tar.gz"
    subprocess.run(["gzip", "-k", "-c", str(rootfs["arm64.tar"])], stdout=gz.open("wb"), check=True)
    assert write_layer(gz, tmp_path / "x.tgz", epoch=0) == write_layer(
        rootfs["arm64.tar"], tmp_path / "y.tgz", epoch=0
    )


def test_source_date_epoch_changes_created_and_digest(rootfs, tmp_path):
    zero = dockyard_import(rootfs, tmp_path / "a")
    later = dockyard_import(rootfs, tmp_path / "b", env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert zero["digest"] != later["digest"]
    config = json.loads(
        skopeo(
            "inspect", "--override-arch", "arm64", "--config", "--raw", f"oci:{tmp_path / 'b'}:base"
        )
    )
    assert config["created"] == "2023-11-14T22:13:20Z"


def test_inspect_reports_platforms_and_sizes(rootfs, tmp_path):
    imported = dockyard_import(rootfs, tmp_path / "l")
    proc = run("inspect", "--json", f"oci:{tmp_path / 'l'}:base")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["digest"] == imported["digest"]
    assert [(m["platform"], m["attestation"]) for m in doc["manifests"]] == [
        ("linux/amd64", False),
        ("linux/arm64", False),
    ]
    for image, made in zip(doc["images"], imported["manifests"], strict=True):
        assert image["layers"] == 1
        assert image["compressed_size"] == made["layer_size"]
        assert image["uncompressed_size"] == made["uncompressed_size"]
        assert image["config"]["user"] == "1000:1000"
        assert image["config"]["healthcheck"]["Test"] == ["CMD-SHELL", "true"]
    raw = run("inspect", "--raw", f"oci:{tmp_path / 'l'}")
    assert (
        raw.stdout.encode()
        == (tmp_path / "l" / "blobs" / "sha256" / imported["digest"][7:]).read_bytes()
    )
    assert raw.stderr == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--platform", "linux/amd64"],
            "error: --platform 'linux/amd64': expected PLATFORM=ROOTFS, e.g. linux/arm64=rootfs.tar",
        ),
        (
            ["--platform", "linux/amd64=/nonexistent"],
            "error: --platform 'linux/amd64=/nonexistent': '/nonexistent' does not exist "
            "(expected a rootfs tarball or directory)",
        ),
        (
            ["--platform", "linux/amd64=/", "--platform", "x86_64=/"],
            "error: --platform linux/amd64 is given twice (one rootfs per platform)",
        ),
        (
            ["--platform", "linux/amd64=/", "--label", "novalue"],
            "error: --label 'novalue': expected KEY=VALUE",
        ),
        (["--platform", "linux/amd64=/", "--env", "=x"], "error: --env '=x': expected KEY=VALUE"),
        (
            ["--platform", "linux/amd64=/", "--cmd", "[1]"],
            "error: --cmd '[1]': expected a JSON array of strings or shell words",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, args, message):
    proc = run("import", *args, f"oci:{tmp_path}/out")
    assert (proc.returncode, proc.stdout, proc.stderr.strip()) == (2, "", message)
    assert not (tmp_path / "out").exists()


def test_bad_source_date_epoch_exits_2(tmp_path):
    proc = run(
        "import",
        "--platform",
        "linux/amd64=/",
        f"oci:{tmp_path}/out",
        env={"SOURCE_DATE_EPOCH": "soon"},
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: SOURCE_DATE_EPOCH 'soon' is not a Unix time (expected whole seconds, e.g. 1700000000)"
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('["/bin/sh","-c","a b"]', ("/bin/sh", "-c", "a b")),
        ("/bin/sh -c 'a b'", ("/bin/sh", "-c", "a b")),
        ("[]", ()),
    ],
)
def test_parse_command(text, words):
    assert parse_command(text, option="--cmd") == words


def test_parse_source_and_epoch(tmp_path):
    assert parse_source(f"aarch64={tmp_path}") == RootfsSource(ARM64, tmp_path)
    assert source_date_epoch({}) == 0
    assert source_date_epoch({"SOURCE_DATE_EPOCH": "42"}) == 42
    with pytest.raises(InputError):
        parse_source(f"linux/arm65={tmp_path}")


def test_import_writes_settings_defaults(tmp_path):
    tree = tmp_path / "t"
    tree.mkdir()
    store = LayoutStore(tmp_path / "l")
    result = import_rootfs([RootfsSource(ARM64, tree)], store, settings=ImageSettings(), tag="t")
    with store.blob_open(result.images[0].config.digest) as f:
        config = json.loads(f.read())
    assert config["config"] == {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    }
    assert config["rootfs"] == {"type": "layers", "diff_ids": [str(result.images[0].diff_id)]}


def test_import_into_a_registry_then_inspect_it(rootfs, registry, tmp_path):
    from tests.integration.conftest import skopeo_raw

    dest = f"{registry.host}/imported/busybox:v1"
    proc = run(
        "import",
        "--platform", f"linux/amd64={rootfs['amd64']}",
        "--platform", f"linux/arm64={rootfs['arm64']}",
        "--json",
        dest,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    made = json.loads(proc.stdout)
    raw = skopeo_raw(registry, "imported/busybox:v1")
    assert str(sha256_digest(raw)) == made["digest"]
    again = run("inspect", "--json", dest)
    assert again.returncode == 0, again.stderr
    doc = json.loads(again.stdout)
    assert doc["digest"] == made["digest"]
    assert [i["config"]["architecture"] for i in doc["images"]] == ["amd64", "arm64"]
    assert [i["uncompressed_size"] for i in doc["images"]] == [None, None]  # remote: not by default
