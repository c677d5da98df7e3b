"""`dockyard build` as a user runs it: exit codes, one JSON document, progress and log tails on stderr.

buildah runs with a storage of its own through CONTAINERS_STORAGE_CONF, so
the machine's storage is neither used nor changed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.buildproject import base_index, project

pytestmark = pytest.mark.integration

COPY_ONLY = "ARG BASE\nFROM ${BASE}\nCOPY file.txt /file.txt\n"
FAILS = "ARG BASE\nFROM ${BASE}\nRUN echo about to fail && false\n"


@pytest.fixture(scope="module")
def base(registry, tmp_path_factory) -> str:
    return base_index(registry.host, tmp_path_factory.mktemp("busybox-base"))


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("buildah-cli-storage")
    conf = root / "storage.conf"
    conf.write_text(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{root / "root"}"\nrunroot = "{root / "run"}"\n'
    )
    env = {k: v for k, v in os.environ.items() if k != "DOCKYARD_DEBUG"}
    return {**env, "CONTAINERS_STORAGE_CONF": str(conf)}


def dockyard(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dockyard", "build", *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=300,
    )  # fmt: skip


def test_json_is_one_document_and_progress_goes_to_stderr(tmp_path, base, env):
    project(tmp_path, {"app": COPY_ONLY}, base=base)
    proc = dockyard(env, tmp_path, "--json", "-j", "2")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    (target,) = doc["targets"]
    (job,) = target["jobs"]
    assert (target["name"], target["tag"], target["layout"]) == ("app", "dev", "dist/oci/app")
    assert target["index_digest"].startswith("sha256:") and target["error"] is None
    assert (job["platform"], job["state"], job["error"]) == ("linux/arm64", "built", None)
    assert job["layers"] == 2 and job["size"]["uncompressed"] > job["size"]["compressed"] > 0
    assert job["log"] == "dist/logs/app-linux-arm64.log"
    assert [b["platform"] for b in job["bases"]] == ["linux/arm64"]
    assert "app-linux-arm64: building" in proc.stderr
    assert (tmp_path / "dist/oci/app/index.json").is_file()

    again = dockyard(env, tmp_path, "--json")
    assert json.loads(again.stdout)["targets"][0]["jobs"][0]["state"] == "skipped"
    assert "app-linux-arm64: skipped (unchanged)" in again.stderr


def test_a_failed_job_exits_1_and_shows_its_log_tail(tmp_path, base, env):
    project(tmp_path, {"good": COPY_ONLY, "bad": FAILS}, base=base)
    proc = dockyard(env, tmp_path, "--json", "--output", "out")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    by_name = {t["name"]: t for t in doc["targets"]}
    assert by_name["good"]["ok"] and by_name["good"]["index_digest"]
    assert not by_name["bad"]["ok"] and by_name["bad"]["index_digest"] is None
    log = "out/logs/bad-linux-arm64.log"
    assert "── bad-linux-arm64: last " in proc.stderr and "about to fail" in proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        'error: build bad linux/arm64 failed (exit 1): Error: building at STEP '
        f'"RUN echo about to fail && false": exit status 1; log: {log}'
    )
    assert not (tmp_path / "out/oci/bad/index.json").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "error: unknown target or group 'nope' (known: app)"),
        (["--builder", "kaniko"], "error: unknown builder 'kaniko' (valid: buildah, buildx, podman, docker)"),
        (["--jobs", "0"], "error: --jobs 0: expected at least 1"),
        (["--platform", "linux/s390x"],
         "error: --platform linux/s390x: target 'app' is not built for it (configured: linux/arm64)"),
    ],
)  # fmt: skip
def test_bad_input_exits_2(tmp_path, base, env, args, message):
    project(tmp_path, {"app": COPY_ONLY}, base=base)
    proc = dockyard(env, tmp_path, *args)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", message + "\n")


def test_a_cache_form_buildah_cannot_use_is_refused(tmp_path, base, env):
    project(tmp_path, {"app": COPY_ONLY}, base=base)
    proc = dockyard(env, tmp_path, "--cache-to", "type=local,dest=cache")
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == (
        "error: build app linux/arm64: cache 'type=local,dest=cache/linux-arm64': buildah can "
        "only keep its layer cache in a registry (type=registry,ref=REPO), not type=local"
    )
