"""The podman and docker backends' pure parts: the flags they pass, what they refuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.builder.backends.buildah import build_flags
from dockyard.builder.backends.docker import DockerBackend, docker_build_flags
from dockyard.builder.backends.podman import PodmanBackend
from dockyard.builder.backends.request import BuildRequest
from dockyard.errors import OperationError
from dockyard.platform import Platform

ARM64 = Platform("linux", "arm64")


def req(tmp_path: Path, **kw) -> BuildRequest:
    return BuildRequest(
        target="api", job_key="api-linux-arm64", platform=ARM64, context=tmp_path,
        dockerfile_text="FROM scratch\n", **kw,
    )  # fmt: skip


def test_podman_runs_run_steps_with_runc_and_buildah_in_a_chroot(tmp_path):
    flags = build_flags(
        req(tmp_path), cache_from=None, cache_to=None, tls_off=False, run=PodmanBackend.run_flags
    )
    assert flags[:4] == ["--runtime", "runc", "--platform", "linux/arm64"]
    assert PodmanBackend().binary == "podman" and PodmanBackend()._env() == {}


def test_docker_build_flags_in_order(tmp_path):
    r = req(
        tmp_path, args={"B": "2", "A": "1"}, target_stage="final", timestamp=5, no_cache=True,
        labels={"k": "v"}, cache_from=("127.0.0.1:5000/c:linux-arm64",),
    )  # fmt: skip
    assert docker_build_flags(r) == [
        "--platform", "linux/arm64", "--progress=plain",
        "--build-arg", "A=1", "--build-arg", "B=2", "--build-arg", "SOURCE_DATE_EPOCH=5",
        "--target", "final", "--no-cache", "--label", "k=v",
        "--cache-from", "127.0.0.1:5000/c:linux-arm64",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "kw,message",
    [
        ({"cache_to": ("type=registry,ref=r/c",)}, "docker build cannot write a registry cache"),
        ({"insecure_registries": ("registry.lan:5000",)}, "dockerd takes insecure registries"),
        ({"ca_cert": Path("/ca.pem")}, "dockerd takes insecure registries and CAs"),
    ],
)
def test_docker_refuses_what_docker_build_cannot_do_before_running(tmp_path, kw, message):
    backend = DockerBackend(binary=str(tmp_path / "no-docker"))  # never reached
    with pytest.raises(OperationError, match=message):
        backend.build(req(tmp_path, **kw))


def test_a_loopback_insecure_registry_is_fine_for_docker(tmp_path):
    # dockerd allows 127.0.0.0/8 without TLS by default: only the missing CLI is reported.
    backend = DockerBackend(binary=str(tmp_path / "no-docker"))
    with pytest.raises(OperationError, match="no-docker is not installed"):
        backend.build(req(tmp_path, insecure_registries=("127.0.0.1:5000",)))
