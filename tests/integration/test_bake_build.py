"""`dockyard build|release -f examples/bake/docker-bake.hcl`: one bake target for amd64 and arm64.

mlflow is the target: its bake `target = "runtime"` names a stage before a last stage that fails
when built, so a built image shows the stage was honoured; its platforms come from the
PLATFORMS variable through `_common`, its base from the BASE variable (set from the environment
to the test registry's busybox index, as buildx reads a variable's environment override).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.buildproject import base_index
from tests.integration.conftest import skopeo_json

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BAKE = REPO / "examples" / "bake" / "docker-bake.hcl"


@pytest.fixture(scope="module")
def env(registry, tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("bake-storage")
    conf = root / "storage.conf"
    conf.write_text(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{root / "root"}"\nrunroot = "{root / "run"}"\n'
    )
    base = base_index(registry.host, tmp_path_factory.mktemp("bake-base"))
    drop = (
        "DOCKYARD_DEBUG",
        "GITHUB_OUTPUT",
        "GITHUB_STEP_SUMMARY",
        "GITHUB_ACTIONS",
        "GITHUB_EVENT_NAME",
    )
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return {
        **env,
        "PYTHONPATH": str(REPO / "src"),
        "CONTAINERS_STORAGE_CONF": str(conf),
        "BASE": base,
        "REGISTRY": registry.host,
    }


def blob(layout: Path, digest: str) -> dict:
    return json.loads((layout / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_text())


def test_one_bake_target_builds_for_both_platforms_with_its_stage(tmp_path, env, registry):
    proc = subprocess.run(
        [sys.executable, "-m", "dockyard", "build", "-f", str(BAKE), "mlflow",
         "--output", str(tmp_path / "out"), "--json"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(proc.stdout)
    (target,) = doc["targets"]
    assert target["name"] == "mlflow" and target["error"] is None
    assert sorted(j["platform"] for j in target["jobs"]) == ["linux/amd64", "linux/arm64"]
    assert {j["state"] for j in target["jobs"]} == {"built"}
    # The gha cache of the bake file is reported, not dropped.
    assert (
        "warning: " in proc.stderr
        and 'target "mlflow": not acted on by dockyard: cache-from type=gha,scope=mlflow'
        in proc.stderr
    )

    layout = tmp_path / "out" / "oci" / "mlflow"
    index = blob(layout, target["index_digest"])
    platforms = sorted(m["platform"]["architecture"] for m in index["manifests"])
    assert platforms == ["amd64", "arm64"]
    for entry in index["manifests"]:
        config = blob(layout, blob(layout, entry["digest"])["config"]["digest"])
        assert config["architecture"] == entry["platform"]["architecture"]
        # _common's label and the runtime stage's entrypoint and user.
        assert config["config"]["Labels"]["org.opencontainers.image.vendor"] == "acme"
        assert config["config"]["Entrypoint"] == ["/usr/local/bin/mlflow"]
        assert config["config"]["User"] == "65534:65534"


def test_the_stage_decides_what_is_built(tmp_path, env):
    # --set picks the stage after runtime, which fails: the bake `target` reaches the builder.
    proc = subprocess.run(
        [sys.executable, "-m", "dockyard", "build", "-f", str(BAKE), "mlflow",
         "--set", "mlflow.target=test", "--platform", "linux/amd64",
         "--output", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "the test stage is CI's, not an image" in proc.stderr


def test_release_publishes_where_the_bake_tags_say_with_the_tomls_policy(tmp_path, env, registry):
    # VERSION and REGISTRY are bake variables: the tag is ${REGISTRY}/${IMAGE_PREFIX}mlflow:${VERSION}.
    proc = subprocess.run(
        [sys.executable, "-m", "dockyard", "release", "-f", str(BAKE), "mlflow",
         "--output", str(tmp_path / "out"), "--json"],
        capture_output=True, text=True, env={**env, "VERSION": "1.4.0"}, cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(proc.stdout)
    assert doc["ok"] is True
    # dockyard.toml beside the bake file: non-root, healthcheck and max-size were checked.
    (verified,) = doc["verify"]
    for platform in verified["report"]["platforms"]:
        assert {"policy.non-root", "policy.healthcheck", "policy.max-size"} <= set(
            platform["checks"]
        )
    index = skopeo_json(registry, "shop/mlflow:1.4.0")
    assert sorted(m["platform"]["architecture"] for m in index["manifests"]) == ["amd64", "arm64"]
