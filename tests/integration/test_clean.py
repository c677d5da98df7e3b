"""`dockyard clean` with real buildah (a storage of its own): what goes, what always stays."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.buildproject import base_index, project

pytestmark = pytest.mark.integration

RUNS = "ARG BASE\nFROM ${BASE}\nRUN echo built > /built.txt\nCOPY file.txt /file.txt\n"


@pytest.fixture(scope="module")
def base(registry, tmp_path_factory) -> str:
    return base_index(registry.host, tmp_path_factory.mktemp("clean-base"))


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    root = tmp_path / "storage"
    root.mkdir()
    conf = root / "storage.conf"
    conf.write_text(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{root / "root"}"\nrunroot = "{root / "run"}"\n'
    )
    env = {k: v for k, v in os.environ.items() if k != "DOCKYARD_DEBUG"}
    return {**env, "CONTAINERS_STORAGE_CONF": str(conf)}


def run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=300,
    )  # fmt: skip


def images(env: dict[str, str]) -> list[str]:
    """Every image id in the storage, intermediate ones included."""
    proc = subprocess.run(["buildah", "images", "--all", "--json"], capture_output=True, text=True, env=env, check=True)
    return sorted(image["id"] for image in json.loads(proc.stdout or "[]"))


def names(env: dict[str, str]) -> set[str]:
    proc = subprocess.run(["buildah", "images", "--json"], capture_output=True, text=True, env=env, check=True)
    return {name for image in json.loads(proc.stdout or "[]") for name in image.get("names") or ()}


def test_clean_removes_outputs_and_builder_images_and_keeps_the_rest(tmp_path, base, env):
    repo = project(tmp_path, {"app": RUNS}, base=base).parent
    built = run(env, repo, "build")
    assert built.returncode == 0, built.stderr
    # The user's own files in dist/, and an image of theirs in the same storage.
    (repo / "dist/notes.txt").write_text("mine")
    (repo / "dist/oci/not-a-layout").mkdir()
    mine = subprocess.run(["buildah", "from", "--tls-verify=false", base], capture_output=True, text=True, env=env, check=True).stdout.strip()
    subprocess.run(["buildah", "commit", "-q", mine, "localhost/mine:1"], env=env, check=True, capture_output=True)
    before = images(env)
    assert "localhost/dockyard/app-linux-arm64:latest" in names(env)

    dry = run(env, repo, "clean", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    listed = json.loads(dry.stdout)
    assert listed["paths"] == ["dist/oci/app", "dist/logs/app-linux-arm64.log"]
    assert listed["images"] == ["localhost/dockyard/app-linux-arm64:latest"]
    assert (repo / "dist/oci/app/index.json").is_file() and images(env) == before  # nothing removed

    done = run(env, repo, "clean")
    assert done.returncode == 0, done.stderr
    assert "removed 2 outputs and 1 builder images" in done.stderr
    assert not (repo / "dist/oci/app").exists() and not (repo / "dist/logs").exists()
    assert (repo / "dist/notes.txt").read_text() == "mine" and (repo / "dist/oci/not-a-layout").is_dir()
    left = names(env)
    assert "localhost/dockyard/app-linux-arm64:latest" not in left
    assert "localhost/mine:1" in left
    # The RUN step's intermediate image (the layer cache of that build) went with it.
    assert len(images(env)) < len(before) - 1

    rebuilt = run(env, repo, "build")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "app-linux-arm64: skipped" not in rebuilt.stderr  # built again: nothing was left to reuse


def test_without_a_config_only_all_is_accepted(tmp_path, env):
    proc = run(env, tmp_path, "clean")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert "or use --all to remove every dockyard builder image" in proc.stderr
    everything = run(env, tmp_path, "clean", "--all", "--dry-run")
    assert everything.returncode == 0, everything.stderr
    assert "would remove 0 outputs and 0 builder images" in everything.stderr
