"""The buildah backend with real buildah, real qemu and a busybox base in the real registry."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from dockyard.builder.backends import get_backend
from dockyard.builder.backends.buildah import BuildahBackend, BuildahStorage
from dockyard.builder.backends.request import BuildRequest
from dockyard.emulation import ensure_emulation
from dockyard.errors import BuildFailed
from dockyard.oci.auth.credentials.env import env_credential_names
from dockyard.oci.auth.credentials.sources import find_credential
from dockyard.oci.imports import RootfsSource, import_rootfs
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import Manifest, parse_manifest
from dockyard.oci.registry import RegistryClient
from dockyard.platform import Platform
from tests.helpers.busybox import busybox_rootfs

pytestmark = pytest.mark.integration

AMD64, ARM64 = Platform("linux", "amd64"), Platform("linux", "arm64")
UNAME = {"amd64": "x86_64", "arm64": "aarch64"}


@pytest.fixture(scope="module")
def bases(registry, tmp_path_factory) -> dict[str, str]:
    """platform arch -> `host/base@sha256:<that platform's manifest>`, pushed to the registry."""
    work = tmp_path_factory.mktemp("busybox-base")
    sources = [
        RootfsSource(p, busybox_rootfs(p.architecture, work / p.architecture))
        for p in (AMD64, ARM64)
    ]
    with RegistryClient() as client:
        store = client.store(f"{registry.host}/base", push=True)
        result = import_rootfs(sources, store, tag="1")
    return {i.platform.architecture: f"{registry.host}/base@{i.manifest.digest}" for i in result.images}


@pytest.fixture(scope="module")
def backend(tmp_path_factory) -> BuildahBackend:
    # Storage of its own: the cache-hit assertions do not depend on earlier runs.
    storage = tmp_path_factory.mktemp("buildah-storage")
    return BuildahBackend(storage=BuildahStorage(root=storage / "root", runroot=storage / "run"))


@pytest.fixture()
def context(tmp_path) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "hello.txt").write_text("hello\n")
    return ctx


def request(tmp_path: Path, context: Path, platform: Platform, dockerfile: str, **kw) -> BuildRequest:
    key = "-".join(["api", *str(platform).split("/")])
    return BuildRequest(
        target="api",
        job_key=key,
        platform=platform,
        context=context,
        dockerfile_text=dockerfile,
        args={"TARGETARCH": platform.architecture},
        output=tmp_path / "dist" / "oci" / "api",
        tag=f"{platform.os}-{platform.architecture}",
        log_path=tmp_path / "dist" / "logs" / f"{key}.log",
        timestamp=0,
        **kw,
    )


def image(store: LayoutStore, tag: str) -> tuple[Manifest, dict]:
    manifest = parse_manifest(*store.manifest_get(tag))
    assert isinstance(manifest, Manifest)
    with store.blob_open(manifest.config.digest) as f:
        return manifest, json.loads(f.read())


def file_in_layer(store: LayoutStore, manifest: Manifest, name: str) -> bytes:
    with store.blob_open(manifest.layers[-1].digest) as f:
        data = gzip.decompress(f.read())
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.extractfile(name)
        assert member is not None
        return member.read()


def test_the_default_backend_is_buildah_and_reports_its_version():
    backend = get_backend()
    assert backend.name == "buildah"
    assert backend.version().startswith("1.")


def test_this_host_can_emulate_arm64():
    ensure_emulation([AMD64, ARM64], host=AMD64)


@pytest.mark.parametrize("platform", [AMD64, ARM64], ids=str)
def test_build_writes_the_platform_image_into_the_layout(backend, bases, tmp_path, context, platform):
    dockerfile = (
        f"FROM {bases[platform.architecture]}\n"
        "ARG TARGETARCH\n"
        "COPY hello.txt /hello.txt\n"
        "RUN uname -m > /arch && echo $TARGETARCH > /targetarch\n"
    )
    req = request(tmp_path, context, platform, dockerfile, labels={"org.example.k": "v"})
    out = backend.build(req)

    store = LayoutStore(req.output)
    assert list(store.tag_list()) == [req.tag]
    assert store.manifest_head(req.tag)[0] == out.digest
    manifest, config = image(store, req.tag)
    assert (config["os"], config["architecture"]) == ("linux", platform.architecture)
    assert config["config"]["Labels"]["org.example.k"] == "v"
    assert config["created"] == "1970-01-01T00:00:00Z"
    # The RUN ran as the target's CPU: under qemu for arm64.
    assert file_in_layer(store, manifest, "arch") == f"{UNAME[platform.architecture]}\n".encode()
    assert (out.steps, out.cache_hits) == (5, 0)  # the --label is a step of its own
    log = req.log_path.read_text()
    assert "STEP 4/5: RUN uname -m" in log
    # The Dockerfile was written outside the context.
    assert sorted(p.name for p in context.iterdir()) == ["hello.txt"]


def test_a_second_identical_build_hits_the_cache(backend, bases, tmp_path, context):
    dockerfile = f"FROM {bases['arm64']}\nRUN echo cached > /c\nRUN echo again > /d\n"
    first = backend.build(request(tmp_path / "one", context, ARM64, dockerfile))
    second = backend.build(request(tmp_path / "two", context, ARM64, dockerfile))
    assert (first.cache_hits, second.cache_hits) == (0, 2)
    assert second.steps == 3
    assert second.digest == first.digest  # same inputs, --timestamp: the same image

    third = backend.build(request(tmp_path / "three", context, ARM64, dockerfile, no_cache=True))
    assert third.cache_hits == 0


def test_docker_format_keeps_the_healthcheck(backend, bases, tmp_path, context):
    dockerfile = f"FROM {bases['amd64']}\nHEALTHCHECK CMD true\n"
    docker = backend.build(request(tmp_path / "d", context, AMD64, dockerfile, format="docker"))
    oci = backend.build(request(tmp_path / "o", context, AMD64, dockerfile))
    d_manifest, d_config = image(LayoutStore(tmp_path / "d/dist/oci/api"), "linux-amd64")
    o_manifest, o_config = image(LayoutStore(tmp_path / "o/dist/oci/api"), "linux-amd64")
    assert d_manifest.media_type == "application/vnd.docker.distribution.manifest.v2+json"
    assert d_config["config"]["Healthcheck"]["Test"] == ["CMD-SHELL", "true"]
    assert o_manifest.media_type == "application/vnd.oci.image.manifest.v1+json"
    assert "Healthcheck" not in o_config["config"]
    assert docker.digest != oci.digest


def test_platforms_of_one_target_share_the_layout(backend, bases, tmp_path, context):
    for platform in (AMD64, ARM64):
        backend.build(request(tmp_path, context, platform, f"FROM {bases[platform.architecture]}\n"))
    assert sorted(LayoutStore(tmp_path / "dist/oci/api").tag_list()) == ["linux-amd64", "linux-arm64"]


def test_a_failing_run_raises_one_line_build_failed(backend, bases, tmp_path, context):
    dockerfile = f"FROM {bases['arm64']}\nRUN echo about to fail && exit 3\n"
    req = request(tmp_path, context, ARM64, dockerfile)
    with pytest.raises(BuildFailed) as info:
        backend.build(req)
    assert str(info.value) == (
        "build api linux/arm64 failed (exit 3): Error: building at STEP "
        '"RUN echo about to fail && exit 3": exit status 3; '
        f"log: {req.log_path}"
    )
    assert "about to fail" in info.value.log_tail
    assert "about to fail" in req.log_path.read_text()
    assert not (req.output / "index.json").exists()


def test_a_base_behind_auth_is_pulled_with_dockyards_credentials(auth_registry, tmp_path, context):
    """Credentials only in DOCKYARD_REGISTRY_* variables, which buildah alone does not read."""
    user_var, password_var = env_credential_names(auth_registry.host)
    env = {user_var: auth_registry.username, password_var: auth_registry.password}
    source = [RootfsSource(AMD64, busybox_rootfs("amd64", tmp_path / "rootfs"))]
    with RegistryClient(environ=env) as client:
        result = import_rootfs(source, client.store(f"{auth_registry.host}/base", push=True), tag="1")
    base = f"{auth_registry.host}/base@{result.images[0].manifest.digest}"
    storage = tmp_path / "storage"
    backend = BuildahBackend(
        storage=BuildahStorage(root=storage / "root", runroot=storage / "run"),
        find_credential=lambda host: find_credential(host, environ=env),
    )
    req = request(tmp_path, context, AMD64, f"FROM {base}\nRUN echo ok > /ok\n")
    out = backend.build(req)
    assert LayoutStore(req.output).manifest_head(req.tag)[0] == out.digest
    assert auth_registry.password not in req.log_path.read_text()

    # Fresh storage, so the base must be pulled again: refused without credentials.
    fresh = BuildahStorage(root=storage / "root2", runroot=storage / "run2")
    anonymous = BuildahBackend(storage=fresh, find_credential=lambda host: None)
    anon = request(tmp_path / "anon", context, AMD64, f"FROM {base}\nRUN echo no > /no\n")
    with pytest.raises(BuildFailed) as info:
        anonymous.build(anon)
    digest = base.rsplit("@", 1)[1]
    assert str(info.value) == (
        "build api linux/amd64 failed (exit 125): Error: creating build container: "
        f"initializing source docker://{base}: reading manifest {digest} in "
        f"{auth_registry.host}/base: unauthorized: authentication required; log: {anon.log_path}"
    )
