"""`dockyard plan` end to end on the bundled example and on broken configs (subprocess)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FLEET = Path(__file__).resolve().parents[2] / "examples" / "fleet"
SHA = "0123456789abcdef0123456789abcdef01234567"


def dockyard(*args, cwd=FLEET, env=None):
    env = {**os.environ, **(env or {})}
    env.pop("GITHUB_ACTIONS", None)
    env.pop("GITHUB_EVENT_NAME", None)
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_plan_json_is_one_document_with_every_job_and_arg():
    proc = dockyard("plan", "--json", "--ref", "refs/tags/v1.4.2", "--sha", SHA)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # the whole of stdout is one JSON document
    assert [t["name"] for t in doc["targets"]] == ["api", "web", "worker"]
    for target in doc["targets"]:
        assert [j["platform"] for j in target["jobs"]] == ["linux/amd64", "linux/arm64"]
        for job in target["jobs"]:
            assert {"VERSION", "BUILD_DATE", "VCS_REF", "BUILDPLATFORM", "TARGETARCH"} <= set(job["args"])
            assert job["args"]["TARGETPLATFORM"] == job["platform"]
    assert doc["version"] == "1.4.2"
    assert "127.0.0.1:5000/fleet/fleet-api:1.4" in doc["targets"][0]["tags"]


def test_plan_table_goes_to_stderr():
    proc = dockyard("plan", "backend", "--ref", "main", "--sha", SHA)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "api" in proc.stderr and "worker" in proc.stderr and "fleet-web" not in proc.stderr
    assert "2 targets, 4 jobs" in proc.stderr


def test_registry_override_from_the_environment():
    proc = dockyard("plan", "api", "--json", "--ref", "main", "--sha", SHA, env={"REGISTRY": "ghcr.io/acme"})
    assert json.loads(proc.stdout)["targets"][0]["images"] == ["ghcr.io/acme/fleet-api"]


def test_registry_flags_replace_the_configs_registries():
    proc = dockyard(
        "plan", "api", "--json", "--ref", "main", "--sha", SHA,
        "--registry", "ghcr.io/acme", "--registry", "docker.io/acme/",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    target = json.loads(proc.stdout)["targets"][0]
    assert target["images"] == ["ghcr.io/acme/fleet-api", "docker.io/acme/fleet-api"]
    assert all(not tag.startswith("127.0.0.1:5000/") for tag in target["tags"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "nope"], "error: unknown target or group 'nope' (known: api, web, worker; groups: default, backend)"),
        (["plan", "--platform", "linux/arm65"], "error: 'linux/arm65' is not a platform (expected os/arch[/variant], e.g. linux/arm64)"),
        (["plan", "--ref", "refs/tags/v1.0", "--sha", SHA], "error: ref refs/tags/v1.0 is not a semver tag"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, message):
    proc = dockyard(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(message)


def test_bad_config_names_file_and_field(tmp_path):
    (tmp_path / "dockyard.toml").write_text(
        '[project]\nname = "x"\nplatforms = ["linux/amd64", "linux/arm65"]\n'
        '[targets.api]\ncontext = "."\n'
    )
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    proc = dockyard("plan", "--json", cwd=tmp_path)
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["ok"] is False  # --json: one document, also on failure
    assert proc.stderr == (
        "error: dockyard.toml: project.platforms[1]: 'linux/arm65' is not a platform "
        "(expected os/arch[/variant], e.g. linux/arm64)\n"
    )


def test_no_config_anywhere(tmp_path):
    proc = dockyard("plan", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: no dockyard.toml found in ")


def test_outside_git_the_plan_uses_the_dev_version(tmp_path):
    (tmp_path / "dockyard.toml").write_text('[project]\nname = "x"\n[targets.app]\n')
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    proc = dockyard("plan", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["version"] == "dev"
    assert doc["targets"][0]["tags"] == ["app:dev"]
