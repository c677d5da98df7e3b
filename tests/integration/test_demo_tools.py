"""The demo's tools (examples/tools): base images made from Debian packages, demo registries.

make_bases runs for busybox only (seconds; the demo's mmdebstrap bases take
minutes and are exercised by `make demo`; its foreign-architecture mmdebstrap
path runs on a small base in test_demo_bases_foreign.py), into a temporary
cache and the session's registry. registries.py runs real docker-registry processes on free ports.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest

from dockyard.digest import sha256_digest
from dockyard.errors import InputError, OperationError, RegistryError
from dockyard.oci.models import parse_config, parse_manifest
from dockyard.oci.registry import RegistryClient
from dockyard.platform import parse_platform
from dockyard.verify.elf import matches_platform, parse_elf_header
from tests.helpers.registry import free_port

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS = REPO_ROOT / "examples" / "tools"


def _load(name: str):
    """An examples/tools script as a module (they are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"demo_tools_{name}", TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


registries = _load("registries")


def _tool(name: str, *args: str, env: dict[str, str] | None = None) -> dict:
    proc = subprocess.run(
        [sys.executable, str(TOOLS / f"{name}.py"), *args, "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# ---------------------------------------------------------------- make_bases


def _layer_files(store, manifest) -> dict[str, tarfile.TarInfo | bytes]:
    """name -> TarInfo, plus the bytes of bin/busybox and etc/passwd."""
    (layer,) = manifest.layers
    with store.blob_open(layer.digest) as stream:
        data = gzip.decompress(stream.read())
    out: dict[str, tarfile.TarInfo | bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for info in tar.getmembers():
            out[info.name] = info
            if info.name in ("bin/busybox", "etc/passwd"):
                out[info.name + ":data"] = tar.extractfile(info).read()
    return out


def test_make_bases_busybox_is_multi_arch_and_cached(tmp_path, registry):
    prefix = f"{registry.host}/demo-{uuid.uuid4().hex[:8]}/base"
    args = ("--registry", prefix, "--only", "busybox", "--cache", str(tmp_path))

    first = _tool("make_bases", *args)["bases"]
    assert [(b["name"], b["tag"], b["cached"], b["up_to_date"]) for b in first] == [
        ("busybox", "1.35", False, False)
    ]
    assert first[0]["pushed_to"] == f"{prefix}/busybox:1.35"

    with RegistryClient() as client:
        store = client.store(f"{prefix}/busybox")
        raw, _ = store.manifest_get("1.35")
        assert str(sha256_digest(raw)) == first[0]["digest"]
        index = parse_manifest(raw)
        assert [str(d.platform) for d in index.platforms()] == ["linux/amd64", "linux/arm64"]
        for child in index.platforms():
            manifest = parse_manifest(store.manifest_get(str(child.digest))[0])
            with store.blob_open(manifest.config.digest) as f:
                config = parse_config(f.read())
            assert str(config.platform) == str(child.platform)
            files = _layer_files(store, manifest)
            header = parse_elf_header(files["bin/busybox:data"])
            assert header is not None and matches_platform(
                header, parse_platform(str(child.platform))
            )
            assert files["bin/sh"].issym() and files["bin/sh"].linkname == "/bin/busybox"
            assert files["usr/bin/env"].linkname == "/bin/busybox"
            assert files["tmp"].mode == 0o1777
            assert files["home/nonroot"].uid == 65532
            passwd = files["etc/passwd:data"].decode()
            assert "nobody:x:65534:65534:" in passwd and "nonroot:x:65532:65532:" in passwd

    second = _tool("make_bases", *args)["bases"]
    assert (second[0]["cached"], second[0]["up_to_date"]) == (True, True)
    assert second[0]["digest"] == first[0]["digest"]
    assert second[0]["layout"] == first[0]["layout"]


def test_make_bases_rejects_an_unknown_base(tmp_path):
    make_bases = _load("make_bases")
    with pytest.raises(InputError) as err:
        make_bases.make_bases(["alpine"], registry=None, cache=tmp_path)
    assert str(err.value) == "--only alpine: no such base (expected one of busybox, golang, python)"


# ---------------------------------------------------------------- registries


@pytest.fixture
def demo_root(tmp_path):
    root = tmp_path / "demo"
    yield root
    registries.stop(root)  # whatever a test left running


def _specs() -> list:
    return [
        registries.RegistrySpec("plain", f"127.0.0.1:{free_port()}", False),
        registries.RegistrySpec("auth", f"127.0.0.1:{free_port()}", True),
    ]


def _start_on_free_ports(root) -> list:
    """registries.start on ports free a moment ago: another process (a registry of a
    parallel run, an outgoing connection's ephemeral port) may take one between the
    probe and the bind, which start() rightly refuses; then try two new ports."""
    for _ in range(3):
        specs = _specs()
        try:
            registries.start(root, specs)
        except OperationError as exc:
            if "already in use by another program" not in str(exc):
                raise
            registries.stop(root)
            continue
        return specs
    raise AssertionError("no two free ports in three tries")


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_registries_start_is_idempotent_and_stop_stops(demo_root):
    plain, auth = _specs()
    cli = ("--root", str(demo_root), "--plain", plain.address, "--auth", auth.address)

    started = _tool("registries", "start", *cli)
    assert [(r["name"], r["address"], r["auth"], r["reused"]) for r in started["registries"]] == [
        ("plain", plain.address, False, False),
        ("auth", auth.address, True, False),
    ]
    config = demo_root / "docker" / "config.json"
    assert started["docker_config"] == str(config.parent)
    assert config.stat().st_mode & 0o777 == 0o600
    assert list(json.loads(config.read_text())["auths"]) == [auth.address]

    login = config.read_text()
    again = _tool("registries", "start", *cli)
    assert [(r["pid"], r["reused"]) for r in again["registries"]] == [
        (r["pid"], True) for r in started["registries"]
    ]
    assert config.read_text() == login  # the same password: logins stay valid
    assert _tool("registries", "status", "--root", str(demo_root))["registries"] == [
        {"name": "auth", "pid": started["registries"][1]["pid"], "running": True},
        {"name": "plain", "pid": started["registries"][0]["pid"], "running": True},
    ]

    assert _tool("registries", "stop", "--root", str(demo_root)) == {"stopped": ["auth", "plain"]}
    assert not any(_alive(r["pid"]) for r in started["registries"])
    assert _tool("registries", "stop", "--root", str(demo_root)) == {"stopped": []}


def test_auth_registry_login_through_the_written_config(demo_root):
    specs = _start_on_free_ports(demo_root)
    plain, auth = (s.address for s in specs)
    data = b"demo blob\n"
    digest = sha256_digest(data)
    docker_config = {"DOCKER_CONFIG": str(registries.docker_config_dir(demo_root))}

    with RegistryClient(environ=docker_config) as client:
        store = client.store(f"{auth}/demo/login", push=True)
        store.blob_put(digest, len(data), io.BytesIO(data))
        assert store.blob_exists(digest) == len(data)
        client.store(f"{plain}/demo/plain", push=True).blob_put(digest, len(data), io.BytesIO(data))

    with (
        RegistryClient(environ={"HOME": str(demo_root / "nobody")}) as client,
        pytest.raises(RegistryError) as err,
    ):
        client.store(f"{auth}/demo/login", push=True).blob_put(digest, len(data), io.BytesIO(data))
    assert str(err.value) == (
        f"registry {auth}: POST http://{auth}/v2/demo/login/blobs/uploads/ failed: HTTP 401; "
        f"check the credentials for {auth}"
    )

    # A restart keeps the password (and the data): the written login stays valid.
    before = (demo_root / "docker" / "config.json").read_text()
    registries.stop(demo_root)
    again = registries.start(demo_root, specs)
    assert [r.reused for r in again] == [False, False]
    assert (demo_root / "docker" / "config.json").read_text() == before
    with RegistryClient(environ=docker_config) as client:
        assert client.store(f"{auth}/demo/login").blob_exists(digest) == len(data)


def test_start_refuses_a_port_another_program_holds(demo_root):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        taken = f"127.0.0.1:{other.getsockname()[1]}"
        with pytest.raises(OperationError) as err:
            registries.start(demo_root, [registries.RegistrySpec("plain", taken, False)])
    assert str(err.value) == (
        f"{taken} is already in use by another program; "
        "choose a free port (e.g. --plain 127.0.0.1:15000)"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("127.0.0.1", "registry address '127.0.0.1': expected HOST:PORT, e.g. 127.0.0.1:5000"),
        ("127.0.0.1:0", "registry address '127.0.0.1:0': expected HOST:PORT, e.g. 127.0.0.1:5000"),
        ("0.0.0.0:5000", "registry address '0.0.0.0:5000': expected a loopback host (127.x.x.x)"),
    ],
)
def test_registry_addresses_are_loopback_host_port(text, message):
    with pytest.raises(InputError) as err:
        registries.parse_address(text)
    assert str(err.value) == message
