"""The pure parts of the builder backends: log summaries, messages, flags, cache specs, TLS."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.builder.backends import get_backend
from dockyard.builder.backends.buildah import (
    authfile_doc,
    build_flags,
    cache_repository,
    local_name,
    registry_hosts,
    skip_tls_verify,
)
from dockyard.builder.backends.buildx import (
    BuildxBackend,
    buildx_flags,
    parse_inspect,
    plain_progress_counts,
    uses_containerd_store,
)
from dockyard.builder.backends.common import failure, summarize_log
from dockyard.builder.backends.request import BuildRequest
from dockyard.errors import BuildFailed, InputError, OperationError
from dockyard.platform import Platform

ARM64 = Platform("linux", "arm64")
DIGEST = "sha256:" + "a" * 64

BUILDAH_LOG = """STEP 1/3: FROM 127.0.0.1:5000/base@sha256:aaaa
STEP 2/3: RUN echo hi > /x
--> Using cache a60a60d1f060b889cf569190eac7b67cd710c8ef1001a110306a17da2862b6f2
--> a60a60d1f06
STEP 3/3: RUN exit 3
subprocess exited with status 3
Error: building at STEP "RUN exit 3": exit status 3
""".splitlines(keepends=True)


def req(**kw) -> BuildRequest:
    base = {
        "target": "api",
        "job_key": "api-linux-arm64",
        "platform": ARM64,
        "context": Path("ctx"),
        "dockerfile_text": "FROM x\n",
        "log_path": Path("dist/logs/api-linux-arm64.log"),
    }
    return BuildRequest(**{**base, **kw})


def test_summarize_log_counts_steps_and_cache_hits_and_finds_the_error():
    summary = summarize_log(BUILDAH_LOG)
    assert (summary.steps, summary.cache_hits) == (3, 1)
    assert summary.error_line == 'Error: building at STEP "RUN exit 3": exit status 3'


def test_summarize_log_counts_the_steps_of_every_stage_of_a_multi_stage_build():
    log = [
        "[1/2] STEP 1/3: FROM base@sha256:aaaa AS build\n",
        "[1/2] STEP 2/3: RUN make\n",
        "--> Using cache 1111\n",
        "[1/2] STEP 3/3: RUN strip app\n",
        "[2/2] STEP 1/2: FROM base@sha256:bbbb\n",
        "[2/2] STEP 2/2: COPY --from=build /app /app\n",
        "--> Using cache 2222\n",
    ]
    summary = summarize_log(log)
    assert (summary.steps, summary.cache_hits) == (5, 2)


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        ([], ""),
        (["STEP 1/1: FROM x\n", "something odd\n", "\n"], "something odd"),
        (["error: first\n", "noise\n", "Error: second\n", "tail\n"], "Error: second"),
    ],
)
def test_the_error_line_is_the_last_error_else_the_last_line(lines, error):
    assert summarize_log(lines).error_line == error


def test_failure_is_one_line_with_the_log_and_carries_the_tail():
    err = failure(req(), 3, BUILDAH_LOG)
    assert isinstance(err, BuildFailed)
    assert str(err) == (
        'build api linux/arm64 failed (exit 3): Error: building at STEP "RUN exit 3": '
        "exit status 3; log: dist/logs/api-linux-arm64.log"
    )
    assert err.log_tail[-1] == 'Error: building at STEP "RUN exit 3": exit status 3'
    many = [f"line {i}\n" for i in range(50)]
    assert failure(req(), 1, many).log_tail == tuple(f"line {i}" for i in range(30, 50))


def test_failure_without_output_and_with_a_long_line():
    assert str(failure(req(), 1, [])) == (
        "build api linux/arm64 failed (exit 1); log: dist/logs/api-linux-arm64.log"
    )
    message = str(failure(req(), 1, ["Error: " + "x" * 1000]))
    assert "\n" not in message and len(message) < 600


@pytest.mark.parametrize(
    ("job_key", "target"),
    [("api-linux-arm64", "api"), ("my-api-linux-arm64", "my-api"), ("odd", "odd")],
)
def test_request_target_is_the_jobs_target_whatever_the_key(job_key, target):
    # The job's target is carried, not cut back out of its key.
    request = req(target=target, job_key=job_key)
    assert request.target == target
    assert str(failure(request, 1, [])).startswith(f"build {target} linux/arm64 failed (exit 1)")


def test_get_backend_refuses_unknown_names():
    with pytest.raises(InputError) as info:
        get_backend("kaniko")
    assert str(info.value) == "unknown builder 'kaniko' (valid: buildah, buildx, podman, docker)"


def test_build_flags_in_order():
    r = req(
        args={"B": "2", "A": "1"},
        target_stage="final",
        format="docker",
        timestamp=0,
        no_cache=True,
        labels={"org.opencontainers.image.version": "1.0"},
    )
    flags = build_flags(r, cache_from="127.0.0.1:5000/c", cache_to="127.0.0.1:5000/c", tls_off=True)
    assert flags == [
        "--isolation", "chroot", "--platform", "linux/arm64", "--layers", "--force-rm",
        "--build-arg", "A=1", "--build-arg", "B=2",
        "--target", "final", "--format", "docker", "--timestamp", "0", "--no-cache",
        "--label", "org.opencontainers.image.version=1.0",
        "--cache-from", "127.0.0.1:5000/c", "--cache-to", "127.0.0.1:5000/c",
        "--tls-verify=false",
    ]  # fmt: skip
    assert build_flags(req(), cache_from=None, cache_to=None, tls_off=False) == [
        "--isolation", "chroot", "--platform", "linux/arm64", "--layers", "--force-rm",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("api-linux-arm64", "localhost/dockyard/api-linux-arm64"),
        ("Web_UI-linux-arm-v7", "localhost/dockyard/web_ui-linux-arm-v7"),
    ],
)
def test_local_name(key, name):
    assert local_name(key) == name


@pytest.mark.parametrize(
    ("spec", "repo"),
    [
        ("127.0.0.1:5000/fleet/cache", "127.0.0.1:5000/fleet/cache"),
        ("type=registry,ref=ghcr.io/acme/api:cache-arm64", "ghcr.io/acme/api"),
        ("ref=ghcr.io/acme/api,mode=max", "ghcr.io/acme/api"),
        ("acme/cache", "docker.io/acme/cache"),
    ],
)
def test_cache_repository(spec, repo):
    assert cache_repository(spec) == repo


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("type=local,dest=/tmp/c", "cache 'type=local,dest=/tmp/c': buildah can only keep its layer cache in a registry (type=registry,ref=REPO), not type=local"),
        ("type=registry,mode=max", "cache 'type=registry,mode=max': no ref= (expected type=registry,ref=REPO)"),
        (f"ghcr.io/a/b@{DIGEST}", f"cache 'ghcr.io/a/b@{DIGEST}': a cache repository cannot be a digest"),
    ],
)  # fmt: skip
def test_cache_repository_refusals(spec, message):
    with pytest.raises(InputError) as info:
        cache_repository(spec)
    assert str(info.value) == message


def test_registry_hosts_from_from_lines_and_cache():
    text = f"""ARG BASE
FROM --platform=linux/amd64 127.0.0.1:5000/base@{DIGEST} AS build
FROM build AS second
from golang:1.22 as go
FROM scratch
FROM ${{BASE}}
FROM ghcr.io/acme/x@{DIGEST}
"""
    assert registry_hosts(text, ["localhost:5001/cache"]) == {
        "127.0.0.1:5000",
        "docker.io",
        "ghcr.io",
        "localhost:5001",
    }


@pytest.mark.parametrize(
    ("hosts", "insecure", "skip"),
    [
        ({"127.0.0.1:5000"}, (), True),
        ({"localhost:5000", "[::1]:5000"}, (), True),
        ({"ghcr.io"}, (), False),
        (set(), (), False),
        ({"registry.lan:5000"}, ("registry.lan",), True),
        ({"registry.lan:5000", "127.0.0.1:5000"}, ("registry.lan:5000",), True),
    ],
)
def test_skip_tls_verify(hosts, insecure, skip):
    assert skip_tls_verify(hosts, insecure) is skip


@pytest.mark.parametrize(
    ("hosts", "verified", "skip"),
    [
        ({"127.0.0.1:5443"}, ("127.0.0.1:5443",), False),  # a TLS registry on loopback
        ({"127.0.0.1:5443", "ghcr.io"}, ("127.0.0.1:5443",), False),
        ({"127.0.0.1:5000"}, ("127.0.0.1:5443",), True),
    ],
)
def test_skip_tls_verify_keeps_verified_loopback_hosts_verified(hosts, verified, skip):
    assert skip_tls_verify(hosts, (), verified=verified) is skip


def test_skip_tls_verify_refuses_a_plain_and_a_verified_loopback_host():
    with pytest.raises(OperationError, match=r"cannot use 127\.0\.0\.1:5000 without TLS"):
        skip_tls_verify({"127.0.0.1:5000", "127.0.0.1:5443"}, (), verified=("127.0.0.1:5443",))


def test_skip_tls_verify_refuses_a_mix():
    with pytest.raises(OperationError) as info:
        skip_tls_verify({"127.0.0.1:5000", "ghcr.io"}, ())
    assert str(info.value) == (
        "buildah cannot use 127.0.0.1:5000 without TLS verification and ghcr.io with it in one "
        "build (its --tls-verify is global); serve them all over verified TLS or all from "
        "insecure registries"
    )


# ------------------------------------------------------------------ buildx


def test_buildx_refuses_in_one_line_when_docker_is_absent(tmp_path):
    backend = BuildxBackend(binary="docker-not-installed-here")
    message = (
        "docker buildx is not available: no 'docker-not-installed-here' on PATH "
        "(install Docker with the buildx plugin, or use --builder buildah)"
    )
    with pytest.raises(OperationError) as info:
        backend.version()
    assert str(info.value) == message
    with pytest.raises(OperationError) as info:
        backend.build(req(context=tmp_path, log_path=tmp_path / "log"))
    assert str(info.value) == message
    assert not (tmp_path / "log").exists()


def test_buildx_flags():
    r = req(args={"A": "1"}, timestamp=5, labels={"k": "v"}, cache_from=("type=registry,ref=r:c",))
    assert buildx_flags(r) == [
        "--platform", "linux/arm64", "--provenance=false", "--progress=plain",
        "--build-arg", "A=1", "--build-arg", "SOURCE_DATE_EPOCH=5",
        "--label", "k=v", "--cache-from", "type=registry,ref=r:c",
    ]  # fmt: skip


def test_buildx_plain_progress_counts():
    lines = [
        "#1 [internal] load build definition from Dockerfile\n",
        "#5 [1/3] FROM docker.io/library/busybox@sha256:abc\n",
        "#5 CACHED\n",
        "#6 [build 2/3] RUN echo hi\n",
        "#6 CACHED\n",
        "#7 [3/3] COPY --from=build /x /x\n",
        "#7 DONE 0.1s\n",
    ]
    assert plain_progress_counts(lines) == (3, 2)


def test_authfile_doc_carries_what_dockyard_finds():
    from dockyard.oci.auth.credentials.credential import Credential

    found = {
        "127.0.0.1:5000": Credential("ci", "pw", source="env"),
        "ghcr.io": Credential("", identity_token="tok", source="helper docker-credential-x"),
    }
    doc = authfile_doc(["ghcr.io", "docker.io", "127.0.0.1:5000"], found.get)
    assert doc == {
        "auths": {
            "127.0.0.1:5000": {"auth": "Y2k6cHc="},  # base64 of "ci:pw"
            "ghcr.io": {"identitytoken": "tok"},
        }
    }
    assert authfile_doc(["docker.io"], found.get) is None


# `docker buildx inspect` of Docker's default builder (buildx 0.12) and of a container builder.
INSPECT_DOCKER = """Name:          default
Driver:        docker
Last Activity: 2026-01-02 03:04:05 +0000 UTC

Nodes:
Name:      default
Endpoint:  default
Status:    running
Buildkit:  v0.12.5
Platforms: linux/amd64, linux/386
"""
INSPECT_CONTAINER = INSPECT_DOCKER.replace("Name:          default", "Name:          ci").replace(
    "Driver:        docker", "Driver:        docker-container"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (INSPECT_DOCKER, ("default", "docker")),
        (INSPECT_CONTAINER, ("ci", "docker-container")),
        ("", ("", "")),
    ],
)
def test_parse_inspect_reads_the_builders_own_name_and_driver(text, expected):
    assert parse_inspect(text) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ('[["driver-type","io.containerd.snapshotter.v1"]]', True),
        ('[["Backing Filesystem","extfs"],["Supports d_type","true"]]', False),  # overlay2
        ("null", False),
        ("", False),
        ("not json", False),
    ],
)
def test_uses_containerd_store(status, expected):
    assert uses_containerd_store(status) is expected
