"""CI fan-out end to end: `build --push-by-digest` per platform, then `merge`; real buildah, real registry.

The project is a real git repository (one commit), so every plan here (the
two build jobs, the merge, the one-go build) has the same ref, sha and commit
time, which the plan uses for `created` (labels, annotations, the builder's
timestamp): the same commit gives the same images and the same index. Each build job has its own
output directory and digest directory, as two CI runners would; the merge
job gets the union of the digest directories (download-artifact's
merge-multiple). buildah runs with a storage of its own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dockyard.oci.models import Index, parse_manifest
from dockyard.oci.registry import RegistryClient
from tests.helpers.buildproject import base_index, project
from tests.integration.conftest import skopeo_json, skopeo_raw

pytestmark = pytest.mark.integration

COPY_ONLY = "ARG BASE\nFROM ${BASE}\nCOPY file.txt /file.txt\n"
REF = "refs/tags/v1.2.3"


@pytest.fixture(scope="module")
def base(registry, tmp_path_factory) -> str:
    return base_index(registry.host, tmp_path_factory.mktemp("busybox-base"))


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("buildah-fanout-storage")
    conf = root / "storage.conf"
    conf.write_text(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{root / "root"}"\nrunroot = "{root / "run"}"\n'
    )
    keep = {k: v for k, v in os.environ.items() if k not in ("DOCKYARD_DEBUG",) and not k.startswith("GITHUB_")}
    return {**keep, "CONTAINERS_STORAGE_CONF": str(conf)}


def dockyard(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=600,
    )  # fmt: skip


def git_repo(root: Path) -> str:
    def git(*args: str) -> str:
        proc = subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=root, capture_output=True, text=True, check=True,
            env={**os.environ, "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z", "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z"},
        )  # fmt: skip
        return proc.stdout.strip()

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "one")
    return git("rev-parse", "HEAD")


@pytest.fixture(scope="module")
def fanout(registry, base, env, tmp_path_factory):
    """The two build jobs, then the merge job's digest directory (both jobs' files)."""
    root = tmp_path_factory.mktemp("fanout-project")
    project(root, {"app": COPY_ONLY}, base=base, platforms=("linux/amd64", "linux/arm64"),
            registries=(f"{registry.host}/fan",))  # fmt: skip
    sha = git_repo(root)
    staging = f"{registry.host}/staging"
    jobs = {}
    for arch in ("amd64", "arm64"):
        proc = dockyard(
            env, root, "build", "--platform", f"linux/{arch}", "--ref", REF, "--sha", sha,
            "--output", f"job-{arch}", "--push-by-digest", staging, "--digest-dir", f"digests-{arch}",
            "--json",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        jobs[arch] = json.loads(proc.stdout)
    merged = root / "digests"
    for arch in ("amd64", "arm64"):
        shutil.copytree(root / f"digests-{arch}", merged, dirs_exist_ok=True)
    return {"root": root, "sha": sha, "staging": staging, "jobs": jobs, "digests": merged}


def tags_of(registry, repository: str) -> list[str]:
    with RegistryClient() as client:
        try:
            return sorted(client.store(f"{registry.host}/{repository}").tag_list())
        except Exception:  # NAME_UNKNOWN: the repository does not exist yet
            return []


def test_each_build_job_pushes_its_platform_by_digest_and_writes_one_file(registry, fanout):
    for arch in ("amd64", "arm64"):
        doc = fanout["jobs"][arch]
        (pushed,) = doc["pushed"]
        (job,) = doc["targets"][0]["jobs"]
        assert pushed["file"] == f"app/linux-{arch}.json"
        assert pushed["platform"] == f"linux/{arch}"
        assert pushed["digest"] == job["digest"] and pushed["input_hash"] == job["input_hash"]
        assert pushed["repository"] == fanout["staging"]
        assert pushed["plan"] == {"version": "v1.2.3", "ref": REF, "sha": fanout["sha"]}
        path = fanout["root"] / f"digests-{arch}" / "app" / f"linux-{arch}.json"
        on_disk = json.loads(path.read_text())
        assert on_disk == {k: v for k, v in pushed.items() if k != "file"}
        assert not any(str(fanout["root"]) in str(v) for v in on_disk.values())  # no absolute paths
        with RegistryClient() as client:
            store = client.store(fanout["staging"])
            head = store.manifest_head(pushed["digest"])
            assert head is not None and head[1] == pushed["size"] and head[2] == pushed["media_type"]
    # By digest only: the staging repository has no tag.
    assert tags_of(registry, "staging") == []


def test_merge_refuses_when_a_platform_is_missing_and_publishes_nothing(registry, fanout, env, tmp_path):
    partial = tmp_path / "digests"
    shutil.copytree(fanout["root"] / "digests-amd64", partial)
    before = tags_of(registry, "fan/app")
    proc = dockyard(env, fanout["root"], "merge", "--digest-dir", str(partial), "--ref", REF, "--sha", fanout["sha"])
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        "error: merge refused, nothing published: no digest file for app linux/arm64 "
        "(app/linux-arm64.json) (did that build job run with --push-by-digest, "
        "and was its digest directory downloaded?)"
    )
    assert tags_of(registry, "fan/app") == before


def test_merge_refuses_a_corrupted_digest_file_with_exit_2(registry, fanout, env, tmp_path):
    broken = tmp_path / "digests"
    shutil.copytree(fanout["digests"], broken)
    path = broken / "app" / "linux-arm64.json"
    doc = json.loads(path.read_text())
    doc["digest"] = "sha256:1234"
    path.write_text(json.dumps(doc))
    before = tags_of(registry, "fan/app")
    proc = dockyard(env, fanout["root"], "merge", "--digest-dir", str(broken), "--ref", REF, "--sha", fanout["sha"])
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        "error: app/linux-arm64.json: field 'digest': 'sha256:1234' is not a digest "
        "(expected sha256:<64 lower-case hex digits>)"
    )
    assert tags_of(registry, "fan/app") == before


def test_merge_refuses_files_from_another_commit(fanout, env):
    proc = dockyard(env, fanout["root"], "merge", "--digest-dir", str(fanout["digests"]), "--ref", "refs/tags/v1.2.4", "--sha", fanout["sha"])
    assert proc.returncode == 2, proc.stderr
    assert "app/linux-amd64.json: built for version v1.2.3, ref refs/tags/v1.2.3" in proc.stderr
    assert "but this merge plans version v1.2.4, ref refs/tags/v1.2.4" in proc.stderr


def test_merge_publishes_the_same_index_as_a_one_go_build(registry, fanout, env):
    root, sha = fanout["root"], fanout["sha"]
    # The one-go build first, while no tag exists (it cannot reuse the merged images).
    whole = dockyard(env, root, "build", "--ref", REF, "--sha", sha, "--output", "one-go", "--json")
    assert whole.returncode == 0, whole.stderr
    (target,) = json.loads(whole.stdout)["targets"]
    assert [j["state"] for j in target["jobs"]] == ["built", "built"]

    dry = dockyard(env, root, "merge", "--digest-dir", "digests", "--ref", REF, "--sha", sha, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["publish"]["dry_run"] is True
    assert tags_of(registry, "fan/app") == []

    proc = dockyard(env, root, "merge", "--digest-dir", "digests", "--ref", REF, "--sha", sha, "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    (merged,) = doc["targets"]
    assert merged["platforms"] == ["linux/amd64", "linux/arm64"]
    assert all(r["ok"] for r in merged["verify"])
    assert [c["digest"] for c in merged["children"]] == [
        fanout["jobs"][a]["pushed"][0]["digest"] for a in ("amd64", "arm64")
    ]
    (repo,) = doc["publish"]["repositories"]
    assert repo["repository"] == f"{registry.host}/fan/app"
    assert repo["state"] == "published"
    assert [(t["tag"], t["outcome"]) for t in repo["tags"]] == [("v1.2.3", "moved"), ("latest", "moved")]

    # The tag points at the merged index, which is byte for byte the one-go build's.
    with RegistryClient() as client:
        store = client.store(f"{registry.host}/fan/app")
        tag = repo["tags"][0]["tag"]
        raw, media_type = store.manifest_get(tag)
        index = parse_manifest(raw, media_type)
    assert isinstance(index, Index)
    assert [str(c.platform) for c in index.manifests] == ["linux/amd64", "linux/arm64"]
    assert str(index.digest) == merged["index_digest"] == repo["digest"]
    assert str(index.digest) == target["index_digest"]
    layout_raw = (root / "one-go" / "oci" / "app" / "blobs" / "sha256" / index.digest.hex).read_bytes()
    assert raw == layout_raw

    # Run again (human output): everything is there, nothing moves.
    wide = {**env, "COLUMNS": "300"}  # one table row a line
    again = dockyard(wide, root, "merge", "--digest-dir", "digests", "--ref", REF, "--sha", sha)
    assert again.returncode == 0, again.stderr
    assert again.stdout == ""
    assert "verifying app linux/arm64 (" in again.stderr
    rows = [line for line in again.stderr.splitlines() if f"{registry.host}/fan/app" in line]
    assert len(rows) == 1, again.stderr
    (row,) = rows
    assert "unchanged" in row and "passed" in row and index.digest.hex[:12] in row
    assert "info" not in again.stderr  # passed checks are not listed


def test_build_needs_both_fanout_options(tmp_path, env):
    proc = dockyard(env, tmp_path, "build", "--push-by-digest", "127.0.0.1:1/staging")
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == (
        "error: --push-by-digest needs the other: --push-by-digest REPO --digest-dir DIR"
    )


def test_merge_verifies_each_child_against_its_platform(registry, fanout, env, tmp_path):
    """An amd64 image filed as the arm64 one (a mixed-up artifact): verify refuses, nothing moves."""
    swapped = tmp_path / "digests"
    shutil.copytree(fanout["digests"], swapped)
    doc = json.loads((swapped / "app" / "linux-amd64.json").read_text())
    doc["platform"] = "linux/arm64"
    (swapped / "app" / "linux-arm64.json").write_text(json.dumps(doc))
    before = tags_of(registry, "fan/app")
    proc = dockyard(env, fanout["root"], "merge", "--digest-dir", str(swapped), "--ref", REF, "--sha", fanout["sha"], "--json")
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert out["ok"] is False
    # The config says amd64, and so does every ELF binary (busybox): two errors.
    assert out["error"] == (
        "merge refused, nothing published: 2 verification errors; first: linux/arm64: "
        "the index entry says linux/arm64 but the image config says linux/amd64"
    )
    assert proc.stderr.splitlines()[-1] == f"error: {out['error']}"
    assert tags_of(registry, "fan/app") == before


def test_merge_copies_the_children_to_every_registry(registry, auth_registry, fanout, env):
    """Two registries (the second with htpasswd): the staging repository's images reach both,
    the index and tags land on both, and skopeo reads the index and each child back."""
    from dockyard.oci.auth import env_credential_names

    root, sha = fanout["root"], fanout["sha"]
    config = root / "dockyard.toml"
    two = root / "two-registries.toml"  # same commit, same targets; other registries
    two.write_text(
        config.read_text().replace(
            f'registries = ["{registry.host}/fan"]',
            f'registries = ["{registry.host}/two", "{auth_registry.host}/two"]',
        )
    )
    user, password = env_credential_names(auth_registry.host)
    creds = {**env, user: auth_registry.username, password: auth_registry.password}
    proc = dockyard(creds, root, "merge", "-f", str(two), "--digest-dir", "digests", "--ref", REF, "--sha", sha, "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    (merged,) = doc["targets"]
    repos = {r["repository"]: r for r in doc["publish"]["repositories"]}
    assert set(repos) == {f"{registry.host}/two/app", f"{auth_registry.host}/two/app"}
    same = repos[f"{registry.host}/two/app"]["blobs"]
    other = repos[f"{auth_registry.host}/two/app"]["blobs"]
    assert same["uploaded"] == 0 and same["mounted"] > 0  # within the staging registry: mounted
    assert other["uploaded"] > 0  # across registries: copied
    for name, repo in repos.items():
        assert repo["state"] == "published" and repo["digest"] == merged["index_digest"], name
    # skopeo, an independent reader: the tag's bytes are the merged index; every child is served.
    raw = skopeo_raw(auth_registry, "two/app:v1.2.3")
    index = parse_manifest(raw, json.loads(raw)["mediaType"])
    assert str(index.digest) == merged["index_digest"]
    for child in index.manifests:
        config = skopeo_json(auth_registry, f"two/app@{child.digest}")["config"]
        assert config["mediaType"].endswith("config.v1+json")
