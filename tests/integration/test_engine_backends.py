"""The podman and docker backends with the real engines: the cross-stage trap closed, HEALTHCHECK
kept.

podman 4.3 builds in storage of its own (a short --runroot under /tmp: podman
puts sockets there). docker builds on the session's own dockerd 20.10
(tests/helpers/dockerd.py) with its BuildKit; its image comes out through
`docker save` and dockyard's docker-archive reader.
"""

from __future__ import annotations

import gzip
import io
import tarfile

import pytest

from dockyard.builder.backends.docker import DockerBackend
from dockyard.builder.run import build_plan
from dockyard.oci.registry import RegistryClient
from dockyard.plan.load import plan_from_files
from dockyard.platform import EM_AARCH64, EM_X86_64, Platform
from tests.helpers.buildproject import base_index, project
from tests.helpers.engines import TRAP, config_of, elf_machines, image_of, podman_backend

pytestmark = pytest.mark.integration

AMD64, ARM64 = Platform("linux", "amd64"), Platform("linux", "arm64")
# How each engine's job log starts, and the flag that makes RUN steps work here.
FIRST_LINE = {"podman": "$ podman --root ", "docker": "$ /usr/bin/docker -H unix://"}
RUN_WITH = {"podman": " build --runtime runc --platform ", "docker": " build --platform "}


@pytest.fixture(scope="module")
def base(registry, tmp_path_factory) -> str:
    return base_index(registry.host, tmp_path_factory.mktemp("engines-base"))


@pytest.fixture(scope="module")
def podman():
    backend, cleanup = podman_backend()
    yield backend
    cleanup()


@pytest.fixture(params=["podman", "docker"])
def backend(request):
    if request.param == "podman":
        return request.getfixturevalue("podman")
    return DockerBackend(host=request.getfixturevalue("dockerd").host)


def build(config, backend):
    with RegistryClient() as client:
        return build_plan(
            plan_from_files(config), output=config.parent / "dist", backend=backend, jobs=2,
            client=client,
        )  # fmt: skip


def test_the_trap_ships_only_each_platforms_elf_files(tmp_path, base, backend):
    config = project(tmp_path, {"app": TRAP}, base=base, platforms=("linux/amd64", "linux/arm64"))
    result = build(config, backend)
    assert result.ok, result.failed
    assert {j.key: j.state for j in result.jobs} == {
        "app-linux-amd64": "built",
        "app-linux-arm64": "built",
    }
    for job in result.jobs:  # the engine ran it (not buildah)
        log = job.log_path.read_text()
        assert log.startswith(FIRST_LINE[backend.name]) and RUN_WITH[backend.name] in log
    (target,) = result.targets
    for platform, machine in ((ARM64, EM_AARCH64), (AMD64, EM_X86_64)):
        store, manifest = image_of(target, platform)
        files, machines = elf_machines(store, manifest, platform)
        assert files >= 1 and machines == {machine}, (platform, machines)
        assert config_of(store, manifest)["architecture"] == platform.architecture
        assert "marker" in _layer_names(store, manifest)


def test_a_healthcheck_survives_and_an_arm64_run_step_runs_under_qemu(
    tmp_path, base, backend, request
):
    dockerfile = (
        'ARG BASE\nFROM ${BASE}\nHEALTHCHECK --interval=5s CMD ["/bin/true"]\n'
        "COPY file.txt /file.txt\nRUN uname -m > /arch\n"
    )
    config = project(tmp_path, {"app": dockerfile}, base=base)
    result = build(config, backend)
    assert result.ok, result.failed
    store, manifest = image_of(result.targets[0], ARM64)
    health = config_of(store, manifest)["config"]["Healthcheck"]
    assert health["Test"] == ["CMD", "/bin/true"]
    assert health["Interval"] == 5_000_000_000
    assert _file(store, manifest, "arch") == b"aarch64\n"
    if backend.name == "docker":  # the config is the engine's, byte for byte: its id is its hash
        engine = request.getfixturevalue("dockerd")
        name = "localhost/dockyard/app-linux-arm64"
        image_id = engine.docker("image", "inspect", "--format", "{{.Id}}", name)
        assert image_id.stdout.strip() == str(manifest.config.digest)
    # What `dockyard clean` would remove: the job's image, named in the engine's storage.
    assert backend.local_images(["app-linux-arm64"]) == [
        "localhost/dockyard/app-linux-arm64:latest"
    ]


def test_without_pinning_podman_ships_the_build_platforms_busybox(tmp_path, base):
    """podman 4.3 has buildah 1.28's cross-stage bug: what dockyard's pinning prevents."""
    config = project(tmp_path, {"app": TRAP.replace("${BASE}", base)}, base=base)
    fresh, cleanup = podman_backend()  # no earlier pulls can change what podman picks
    try:
        with RegistryClient() as client:
            result = build_plan(
                plan_from_files(config), output=tmp_path / "dist", backend=fresh, client=client,
                pin_bases=False,
            )  # fmt: skip
    finally:
        cleanup()
    assert result.ok, result.failed
    store, manifest = image_of(result.targets[0], ARM64)
    assert EM_X86_64 in elf_machines(store, manifest, ARM64)[1]


def _file(store, manifest, name: str) -> bytes:
    """A file of the image's final view: the last layer holding it."""
    for layer in reversed(manifest.layers):
        with store.blob_open(layer.digest) as f:
            data = gzip.decompress(f.read())
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for member in tar.getmembers():
                if member.name.lstrip("./") == name and member.isfile():
                    return tar.extractfile(member).read()
    raise KeyError(name)


def _layer_names(store, manifest) -> list[str]:
    names: list[str] = []
    for layer in manifest.layers:
        with store.blob_open(layer.digest) as f:
            data = gzip.decompress(f.read())
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            names += [n.lstrip("./") for n in tar.getnames()]
    return names
