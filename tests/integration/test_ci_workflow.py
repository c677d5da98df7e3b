"""The generated GitHub workflow, run here: its jobs' steps in order with the matrix substituted.

A COPY-only project (two platforms) in a git repository with dockyard's action.yml
at its root (`uses: ./`). `dockyard ci github` writes the workflow for a real
local registry; tests/helpers/actions.py then runs it as a runner would on a
tag push: the plan job (its `dockyard ci matrix` output becomes the build
matrix), one build job per matrix entry, each in its own clone with an empty
buildah storage of its own, pushing by digest to the staging repository and
uploading its digest file, then the merge job, which downloads them all and
publishes. One index with both platforms must be tagged in the registry.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dockyard.oci.registry import RegistryClient
from tests.helpers.actions import Runner
from tests.helpers.buildproject import base_index, project
from tests.integration.conftest import skopeo_json, skopeo_raw
from tests.integration.test_fanout import checkout, git, git_repo, runner_env

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
COPY_ONLY = "ARG BASE\nFROM ${BASE}\nCOPY file.txt /file.txt\n"


@pytest.fixture(scope="module")
def base(registry, tmp_path_factory) -> str:
    return base_index(registry.host, tmp_path_factory.mktemp("ci-base"))


def _runner(tmp_path_factory, workspace: Path, artifacts: Path, sha: str) -> Runner:
    env = runner_env(tmp_path_factory)  # an empty buildah storage of its own
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"  # `dockyard` is on PATH
    env["PYTHONPATH"] = str(ROOT / "src")
    env.update(GITHUB_ACTIONS="true", GITHUB_REF="refs/tags/v1.2.3", GITHUB_SHA=sha,
               GITHUB_EVENT_NAME="push", GITHUB_REPOSITORY_OWNER="Acme")  # fmt: skip
    temp = tmp_path_factory.mktemp("runner-temp")
    github = {"event_name": "push", "ref": "refs/tags/v1.2.3", "sha": sha}
    return Runner(workspace=workspace, env=env, artifacts=artifacts, github=github, temp=temp)


@pytest.fixture(scope="module")
def repo(registry, base, tmp_path_factory) -> dict:
    """The project's repository with the generated workflow committed, as a tag push sees it."""
    work = tmp_path_factory.mktemp("ci-workflow")
    origin = work / "origin"
    origin.mkdir()
    project(origin, {"app": COPY_ONLY}, base=base, platforms=("linux/amd64", "linux/arm64"),
            registries=(f"{registry.host}/unused",))  # fmt: skip
    shutil.copy(ROOT / "action.yml", origin / "action.yml")
    git_repo(origin)
    proc = subprocess.run(
        [sys.executable, "-m", "dockyard", "ci", "github", "--registry", f"{registry.host}/ci",
         "--staging", f"{registry.host}/ci-staging", "-o", ".github/workflows/dockyard.yml"],
        cwd=origin, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    workflow = yaml.safe_load((origin / ".github/workflows/dockyard.yml").read_text())
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "workflow")
    return {
        "work": work,
        "origin": origin,
        "workflow": workflow,
        "sha": git(origin, "rev-parse", "HEAD"),
    }


def staging_tags(registry) -> list[str]:
    with RegistryClient() as client:
        try:
            return sorted(client.store(f"{registry.host}/ci-staging").tag_list())
        except Exception:  # NAME_UNKNOWN: nothing pushed there yet
            return []


def test_a_pull_request_builds_without_pushing_and_skips_merge(registry, repo, tmp_path_factory):
    """On `pull_request`: the build-only step builds; nothing is pushed or uploaded; no merge job."""
    jobs, work = repo["workflow"]["jobs"], repo["work"]
    artifacts = tmp_path_factory.mktemp("pr-artifacts")
    before = staging_tags(registry)
    ws = checkout(repo["origin"], work / "pr-build", 1_767_050_000)
    runner = _runner(tmp_path_factory, ws, artifacts, repo["sha"])
    runner.github["event_name"] = "pull_request"
    runner.env.update(GITHUB_EVENT_NAME="pull_request", GITHUB_REF="refs/pull/7/merge")
    entry = {"target": "app", "platform": "linux/amd64", "runner": "ubuntu-24.04", "qemu": False,
             "artifact": "digests-app-linux-amd64"}  # fmt: skip
    runner.run_job(jobs["build"], matrix=entry, needs={"plan": {"outputs": {"owner": "acme"}}})
    assert (ws / "dist" / "oci" / "app" / "index.json").is_file()  # it built
    assert not (ws / "digests").exists() and list(artifacts.iterdir()) == []
    assert staging_tags(registry) == before
    assert runner.run_job(jobs["merge"]) == {}  # the job's `if:` is false: nothing runs


def test_generated_workflow_runs_plan_builds_and_merge_into_one_tagged_index(
    registry, repo, tmp_path_factory
):
    origin, work, sha = repo["origin"], repo["work"], repo["sha"]
    workflow = repo["workflow"]
    jobs = workflow["jobs"]
    artifacts = work / "artifacts"
    artifacts.mkdir()

    plan_ws = checkout(origin, work / "plan", 1_767_000_000)
    plan = _runner(tmp_path_factory, plan_ws, artifacts, sha).run_job(jobs["plan"])
    assert plan["owner"] == "acme"
    entries = json.loads(plan["matrix"])["include"]
    assert [(e["target"], e["platform"]) for e in entries] == [
        ("app", "linux/amd64"),
        ("app", "linux/arm64"),
    ]
    needs = {"plan": {"outputs": plan}}

    runners = []
    for i, entry in enumerate(entries):
        ws = checkout(origin, work / f"build-{i}", 1_767_100_000 + i)
        runner = _runner(tmp_path_factory, ws, artifacts, sha)
        runner.run_job(jobs["build"], matrix=entry, needs=needs)
        runners.append(runner)
        # The push step ran (not the pull-request one) and wrote this platform's file only.
        slug = entry["platform"].replace("/", "-")
        assert [p.name for p in (ws / "digests" / "app").iterdir()] == [f"{slug}.json"]
    assert sorted(p.name for p in artifacts.iterdir()) == [
        "digests-app-linux-amd64",
        "digests-app-linux-arm64",
    ]

    merge_ws = checkout(origin, work / "merge", 1_767_200_000)
    merged = _runner(tmp_path_factory, merge_ws, artifacts, sha)
    outputs = merged.run_job(jobs["merge"], needs={**needs, "build": {"outputs": {}}})
    assert sorted(p.name for p in (merge_ws / "digests" / "app").iterdir()) == [
        "linux-amd64.json",
        "linux-arm64.json",
    ]

    digests = json.loads(outputs["digests"])
    index = skopeo_json(registry, "ci/app:v1.2.3")
    assert sorted(m["platform"]["architecture"] for m in index["manifests"]) == ["amd64", "arm64"]
    assert (
        "sha256:" + hashlib.sha256(skopeo_raw(registry, "ci/app:v1.2.3")).hexdigest()
        == digests["app"]
    )
    assert json.loads(outputs["tags"])["app"] == [
        f"{registry.host}/ci/app:v1.2.3",
        f"{registry.host}/ci/app:latest",
    ]
