"""`dockyard tags` end to end, as a subprocess: stdout, stderr and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

SHA = "860c1904a1ce19322e91ac35af1ab07466440c37"


@pytest.fixture
def run(tmp_path):
    # Outside any git repository and outside GitHub Actions: only the flags count.
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "DOCKYARD_"))}

    def run(*args, env=None):
        return subprocess.run(
            [sys.executable, "-m", "dockyard", "tags", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**base, **(env or {})},
        )

    return run


def test_one_image_tag_a_line_on_stdout(run):
    proc = run(
        "--ref",
        "refs/tags/v1.2.3",
        "--sha",
        SHA,
        "--image",
        "name/app",
        "--tag",
        "type=semver,pattern={{version}}",
        "--tag",
        "type=semver,pattern={{major}}.{{minor}}",
        "--tag",
        "type=sha",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "name/app:1.2.3\nname/app:1.2\nname/app:sha-860c190\nname/app:latest\n"


def test_a_pasted_multi_line_block_is_one_rule_a_line(run):
    block = """
      # from the workflow
      type=ref,event=branch
      type=sha,format=long
    """
    proc = run(
        "--event",
        "push",
        "--ref",
        "refs/heads/dev",
        "--sha",
        SHA,
        "--image",
        "name/app\nghcr.io/Name/App",
        "--tag",
        block,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "name/app:dev",
        f"name/app:sha-{SHA}",
        "ghcr.io/name/app:dev",
        f"ghcr.io/name/app:sha-{SHA}",
    ]


def test_json_is_exactly_one_document(run):
    proc = run(
        "--ref",
        "refs/tags/v1.2.3",
        "--sha",
        SHA,
        "--image",
        "name/app",
        "--label",
        "org.opencontainers.image.vendor=ACME",
        "--flavor",
        "latest=false",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # the whole of stdout: nothing before or after
    assert list(doc) == ["version", "tags", "labels", "annotations"]
    assert doc["version"] == "v1.2.3"
    assert doc["tags"] == ["name/app:v1.2.3"]
    assert doc["labels"]["org.opencontainers.image.vendor"] == "ACME"
    assert doc["labels"]["org.opencontainers.image.revision"] == SHA
    assert doc["annotations"] == doc["labels"]


def test_bad_rule_exits_2_with_one_line(run):
    proc = run(
        "--ref",
        "refs/tags/v1.2.3",
        "--sha",
        SHA,
        "--image",
        "name/app",
        "--tag",
        "type=semver",
        "--json",
    )
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["error"]["code"] == "InputError"
    assert proc.stderr.splitlines() == [
        "error: tag rule 'type=semver': missing pattern attribute "
        "(semver type requires a pattern, e.g. pattern={{version}})"
    ]


def test_require_semver_refuses_a_non_semver_tag(run):
    proc = run(
        "--ref", "refs/tags/release1", "--sha", SHA, "--image", "name/app", "--require-semver"
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "error: ref refs/tags/release1 is not a semver tag (expected vX.Y.Z[-pre][+build], e.g. v1.2.3)"
    ]


def test_default_branch_and_timestamp_flags(run):
    proc = run(
        "--ref",
        "refs/heads/trunk",
        "--sha",
        SHA,
        "--default-branch",
        "trunk",
        "--timestamp",
        "2020-01-10T00:30:00Z",
        "--tag",
        "type=edge",
        "--tag",
        "type=raw,value={{commit_date 'YYYYMMDD'}}",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "edge\n20200110\n"  # no --image: bare tags, as metadata-action


def test_no_tag_generated_warns_on_stderr(run):
    proc = run("--ref", "refs/heads/dev", "--sha", SHA, "--image", "name/app", "--tag", "type=edge")
    assert proc.returncode == 0
    assert proc.stdout == ""
    assert "no tag was generated" in proc.stderr


def test_context_from_github_actions_environment(run, tmp_path):
    # Without --ref/--sha the context is GitHub Actions' (env + event payload), as metadata-action reads it.
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {
                "repository": {
                    "name": "Hello-World",
                    "description": "This your first repo!",
                    "default_branch": "master",
                    "html_url": "https://github.com/octocat/Hello-World",
                    "license": {"spdx_id": "MIT"},
                }
            }
        )
    )
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_REF": "refs/heads/master",
        "GITHUB_SHA": SHA,
        "GITHUB_REPOSITORY": "octocat/Hello-World",
        "GITHUB_EVENT_PATH": str(event),
    }
    proc = run(
        "--image",
        "name/app",
        "--tag",
        "type=edge",
        "--tag",
        "type=raw,value=latest,enable={{is_default_branch}}",
        "--json",
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["tags"] == ["name/app:edge", "name/app:latest"]
    assert doc["labels"]["org.opencontainers.image.title"] == "Hello-World"
    assert doc["labels"]["org.opencontainers.image.licenses"] == "MIT"
    assert (
        doc["labels"]["org.opencontainers.image.source"] == "https://github.com/octocat/Hello-World"
    )
