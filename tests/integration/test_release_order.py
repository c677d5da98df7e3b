"""Ordered releases: real `dockyard release` runs (buildah) to a real registry, in both orders.

An older release finishing after a newer one must not move a tag backwards:
the run fails (exit 1) naming the tag and both versions, and no tag of the
run moves (all-or-nothing); `--force` moves them; the same release again is
a no-op. `dockyard copy` onto a tag holds to the same rule.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.integration.test_release import (  # the same busybox base and buildah storage
    NON_ROOT,
    base,  # noqa: F401 (a fixture)
    commit,
    dockyard_release,
    env,  # noqa: F401 (a fixture)
    tag_digests,
)

pytestmark = pytest.mark.integration


def order_project(root: Path, base_ref: str, host: str) -> tuple[str, str]:
    """(commit sha, repository): one amd64 target, semver tags with latest=auto, committed."""
    prefix = f"{host}/order{uuid.uuid4().hex[:8]}"
    (root / "app").mkdir(parents=True)
    (root / "app" / "Dockerfile").write_text(NON_ROOT)
    (root / "app" / "file.txt").write_text("app\n")
    (root / "dockyard.toml").write_text(
        "\n".join(
            [
                "[project]",
                'name = "order"',
                'platforms = ["linux/amd64"]',
                f"registries = {json.dumps([prefix])}",
                "[tags]",
                'rules = ["type=semver,pattern={{version}}", "type=semver,pattern={{major}}.{{minor}}"]',
                'flavor = ["latest=auto"]',
                "[targets.app]",
                'context = "app"',
                f'args = {{ BASE = "{base_ref}" }}',
                "",
            ]
        )
    )
    return commit(root), f"{prefix}/app"


def copy(environ, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dockyard", "copy", *args],
        capture_output=True, text=True, env=environ, timeout=300,
    )  # fmt: skip


def test_a_tag_never_moves_to_an_older_release_unless_forced(tmp_path, base, registry, env):  # noqa: F811
    sha, repo = order_project(tmp_path, base, registry.host)

    def release(version: str, *extra: str) -> subprocess.CompletedProcess:
        return dockyard_release(env, tmp_path, sha, f"v{version}", *extra)

    # Older, then newer: every tag moves forwards.
    for version in ("1.0.0", "1.1.0"):
        proc = release(version)
        assert proc.returncode == 0, proc.stderr
    tags = tag_digests(registry, repo)
    assert tags["latest"] == tags["1.1.0"] != tags["1.0.0"]

    # Newer, then older (the older commit's run finishing last): refused, nothing moves,
    # not even the tags that would have moved forwards (1.0 from 1.0.0 to 1.0.1).
    proc = release("1.0.1")
    assert proc.returncode == 1, proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert f"{repo}:latest" in line and "1.1.0" in line and "1.0.1" in line
    assert "--force" in line
    assert tag_digests(registry, repo) == tags  # 1.0.1 not created, 1.0 and latest unchanged

    # --force moves them.
    proc = release("1.0.1", "--force")
    assert proc.returncode == 0, proc.stderr
    forced = tag_digests(registry, repo)
    assert forced["latest"] == forced["1.0.1"] == forced["1.0"]
    assert forced["1.1.0"] == tags["1.1.0"]

    # The same release again: every tag already there, a no-op (no refusal, nothing moved).
    proc = release("1.0.1", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    outcomes = {t["tag"]: t["outcome"] for t in doc["publish"]["repositories"][0]["tags"]}
    assert outcomes == {"1.0.1": "unchanged", "1.0": "unchanged", "latest": "unchanged"}
    assert tag_digests(registry, repo) == forced

    # copy onto a tag: the same rule (1.0.0 is older than the 1.0.1 latest is at).
    proc = copy(env, f"{repo}:1.0.0", f"{repo}:latest")
    assert proc.returncode == 1
    assert f"{repo}:latest" in proc.stderr and "1.0.0" in proc.stderr and "1.0.1" in proc.stderr
    assert tag_digests(registry, repo) == forced
    proc = copy(env, f"{repo}:1.1.0", f"{repo}:latest")  # newer: moves
    assert proc.returncode == 0, proc.stderr
    assert tag_digests(registry, repo)["latest"] == tags["1.1.0"]
    proc = copy(env, f"{repo}:1.0.0", f"{repo}:latest", "--force")
    assert proc.returncode == 0, proc.stderr
    assert tag_digests(registry, repo)["latest"] == tags["1.0.0"]
