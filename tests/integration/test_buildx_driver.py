"""buildx with a builder that cannot export OCI is refused up front by doctor, build and release.

There is no Docker engine or buildx plugin here, so a stand-in `docker`
script on PATH answers the few questions dockyard asks (`buildx version`,
`info`, `buildx inspect`) like Docker 24 with buildx 0.12 whose current
builder uses the `docker` driver on the classic (non-containerd) image
store. It records every call; `buildx build` must never be reached.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

FAKE_DOCKER = """#!/bin/sh
echo "$*" >> "$FAKE_DOCKER_CALLS"
case "$*" in
  "buildx version") echo "github.com/docker/buildx v0.12.1 30feaa1" ;;
  "info --format {{.ServerVersion}}") echo "24.0.7" ;;
  "info --format {{json .DriverStatus}}") echo "$FAKE_DRIVER_STATUS" ;;
  "buildx inspect") printf 'Name:          default\\nDriver:        %s\\n\\nNodes:\\nName:      default\\nEndpoint:  default\\nStatus:    running\\n' "$FAKE_DRIVER" ;;
  *) echo "fake docker: not answered: $*" >&2; exit 1 ;;
esac
"""
OVERLAY2 = '[["Backing Filesystem","extfs"],["Supports d_type","true"],["Using metacopy","false"]]'
CONTAINERD = '[["driver-type","io.containerd.snapshotter.v1"]]'
REFUSAL = (
    "docker buildx builder 'default' uses the docker driver, which cannot export OCI images "
    "(dockyard builds with --output type=oci): create a builder that can: docker buildx create "
    "--use --driver docker-container; or turn on Docker's containerd image store; "
    "or use --builder buildah"
)


@pytest.fixture
def fake(tmp_path: Path) -> dict:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(0o755)
    project = tmp_path / "project"
    (project / "app").mkdir(parents=True)
    (project / "app" / "Dockerfile").write_text("FROM scratch\nCOPY Dockerfile /\n")
    (project / "dockyard.toml").write_text(
        '[project]\nname = "t"\nplatforms = ["linux/amd64"]\n[targets.app]\ncontext = "app"\n'
    )
    calls = tmp_path / "calls"
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "FAKE_DOCKER_CALLS": str(calls),
        "FAKE_DRIVER": "docker",
        "FAKE_DRIVER_STATUS": OVERLAY2,
    }
    return {"env": env, "project": project, "calls": calls}


def run(fake: dict, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args],
        capture_output=True, text=True, cwd=fake["project"], env={**fake["env"], **env}, timeout=120,
    )  # fmt: skip


def calls(fake: dict) -> list[str]:
    return fake["calls"].read_text().splitlines() if fake["calls"].exists() else []


@pytest.mark.parametrize("command", [["build"], ["release", "--registry", "127.0.0.1:9/t"]])
def test_build_and_release_refuse_the_docker_driver_before_any_job(fake, command):
    proc = run(fake, *command, "--builder", "buildx")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines()[-1] == f"error: {REFUSAL}"
    assert not any(c.startswith("buildx build") for c in calls(fake))
    assert not (fake["project"] / "dist").exists()  # no job started: no log, no layout


def test_doctor_fails_the_chosen_buildx_builder_with_the_same_line(fake):
    import json

    proc = run(fake, "doctor", "--builder", "buildx", "--json")
    assert proc.returncode == 1, proc.stderr
    rows = {r["check"]: (r["status"], r["detail"]) for r in json.loads(proc.stdout)["checks"]}
    assert rows["builder buildx"] == ("fail", REFUSAL)
    # Not chosen: the same finding is a warning, and buildah's row decides.
    proc = run(fake, "doctor", "--builder", "buildah", "--json")
    rows = {r["check"]: (r["status"], r["detail"]) for r in json.loads(proc.stdout)["checks"]}
    assert rows["builder buildx"] == ("warn", REFUSAL)


@pytest.mark.parametrize(
    ("driver", "status"), [("docker-container", OVERLAY2), ("docker", CONTAINERD)]
)
def test_a_builder_that_can_export_oci_is_accepted(fake, driver, status):
    proc = run(fake, "doctor", "--builder", "buildx", FAKE_DRIVER=driver, FAKE_DRIVER_STATUS=status)
    assert "builder buildx" in proc.stderr and "buildx 0.12.1 (default)" in proc.stderr
    # build gets past the check and reaches `buildx build` (which the stand-in cannot do).
    build = run(fake, "build", "--builder", "buildx", FAKE_DRIVER=driver, FAKE_DRIVER_STATUS=status)
    assert build.returncode == 1
    assert any(c.startswith("buildx build") for c in calls(fake)), build.stderr
