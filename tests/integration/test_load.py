"""`dockyard load`: a built target (or a registry image) into podman and Docker, then run there.

The target is built once with buildah (storage of its own) for amd64 and
arm64; `dockyard load` runs as a real process. podman uses a storage of its
own through CONTAINERS_STORAGE_CONF; docker is the session's own dockerd
(tests/helpers/dockerd.py). The arm64 image runs under qemu in both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dockyard.builder.backends.buildah import BuildahBackend, BuildahStorage
from dockyard.builder.run import build_plan
from dockyard.oci.registry import RegistryClient
from dockyard.plan.load import plan_from_files
from tests.helpers.buildproject import base_index, project
from tests.helpers.engines import podman_storage

pytestmark = pytest.mark.integration

SRC = Path(__file__).resolve().parents[2] / "src"
COPY_ONLY = 'ARG BASE\nFROM ${BASE}\nCOPY file.txt /file.txt\nCMD ["/bin/cat", "/file.txt"]\n'
# podman run here: the host lacks CAP_SYS_RESOURCE, so the default rlimits cannot be set.
ULIMITS = ("--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768")


@pytest.fixture(scope="module")
def built(registry, tmp_path_factory) -> Path:
    """A project whose target `app` is built for amd64 and arm64 in its dist/."""
    root = tmp_path_factory.mktemp("load-project")
    base = base_index(registry.host, root / "base")
    config = project(
        root / "p", {"app": COPY_ONLY}, base=base, platforms=("linux/amd64", "linux/arm64"),
        registries=(f"{registry.host}/loaded",),
    )  # fmt: skip
    storage = root / "buildah"
    backend = BuildahBackend(storage=BuildahStorage(root=storage / "root", runroot=storage / "run"))
    with RegistryClient() as client:
        result = build_plan(
            plan_from_files(config), output=config.parent / "dist", backend=backend, jobs=2,
            client=client,
        )  # fmt: skip
    assert result.ok, result.failed
    return config.parent


@pytest.fixture(scope="module")
def podman_env():
    storage, top = podman_storage()
    conf = top / "storage.conf"
    conf.write_text(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{storage.root}"\nrunroot = "{storage.runroot}"\n'
    )
    yield {**os.environ, "CONTAINERS_STORAGE_CONF": str(conf)}
    subprocess.run(["podman", *storage.flags(), "system", "reset", "--force"], capture_output=True)
    subprocess.run(["rm", "-rf", str(top)], check=False)


def dockyard(cwd: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args], capture_output=True, text=True, cwd=cwd,
        env={**env, "PYTHONPATH": str(SRC)}, timeout=300,
    )  # fmt: skip


def run(env: dict, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.parametrize(
    "platform,machine", [("linux/arm64", "aarch64"), ("linux/amd64", "x86_64")]
)
def test_a_target_loaded_into_podman_runs_there(built, podman_env, platform, machine):
    proc = dockyard(
        built, podman_env, "load", "app", "--engine", "podman", "--platform", platform, "--json"
    )
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout)
    assert loaded["engine"] == "podman" and loaded["platform"] == platform
    tag = loaded["tags"][0]

    images = run(podman_env, "podman", "images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
    assert f"{tag} {loaded['image_id'].split(':')[1][:12]}" in images.stdout
    ran = run(podman_env, "podman", "run", "--rm", *ULIMITS, "--network", "none", tag)
    assert (ran.returncode, ran.stdout) == (0, "app\n"), ran.stderr
    arch = run(
        podman_env, "podman", "run", "--rm", *ULIMITS, "--network", "none", tag, "uname", "-m"
    )
    assert arch.stdout == f"{machine}\n", arch.stderr


def test_a_target_loaded_into_docker_runs_there(built, dockerd):
    proc = dockyard(
        built,
        dockerd.env,
        "load",
        "app",
        "--engine",
        "docker",
        "--platform",
        "linux/arm64",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout)
    for tag in loaded["tags"]:  # every tag of the plan names the one image
        inspect = dockerd.docker("image", "inspect", "--format", "{{.Id}} {{.Architecture}}", tag)
        assert inspect.stdout.split() == [loaded["image_id"], "arm64"], inspect.stderr
    ran = dockerd.docker("run", "--rm", "--network", "none", loaded["tags"][0])
    assert (ran.returncode, ran.stdout) == (0, "app\n"), ran.stderr
    arch = dockerd.docker("run", "--rm", "--network", "none", loaded["tags"][0], "uname", "-m")
    assert arch.stdout == "aarch64\n", arch.stderr


def test_a_registry_reference_loads_under_its_own_tag(registry, built, dockerd):
    ref = f"{registry.host}/base:1"
    proc = dockyard(
        built, dockerd.env, "load", ref, "--engine", "docker", "--platform", "linux/arm64"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines()[-1].startswith("loaded linux/arm64 sha256:")
    assert proc.stderr.splitlines()[-1].endswith(f" into docker: {ref}")
    arch = dockerd.docker("run", "--rm", "--network", "none", ref, "uname", "-m")
    assert arch.stdout == "aarch64\n", arch.stderr


def test_bad_input_is_one_line_and_exit_2(built, dockerd):
    unknown = dockyard(built, dockerd.env, "load", "nope", "--engine", "docker")
    assert unknown.returncode == 2
    assert unknown.stderr == (
        "error: 'nope' is neither a target of the config (targets: app) nor a reference "
        "(oci:DIR[:TAG] or host/repo:tag)\n"
    )
    engine = dockyard(built, dockerd.env, "load", "app", "--engine", "containerd")
    assert (engine.returncode, engine.stderr) == (
        2,
        "error: unknown engine 'containerd' (valid: podman, docker)\n",
    )
    missing = dockyard(
        built, dockerd.env, "load", "app", "--platform", "linux/s390x", "--engine", "docker"
    )
    assert missing.returncode == 2
    assert "no linux/s390x image (it has linux/amd64, linux/arm64)" in missing.stderr
