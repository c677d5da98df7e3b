"""bake/project.py and the Workspace: dockyard.toml + bake files -> one config, and `plan -f`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dockyard.bake.project import load_project
from dockyard.errors import InputError
from dockyard.workspace import Settings, Workspace

DOCKERFILE = "FROM 127.0.0.1:5000/base:1\n"
REPO = Path(__file__).resolve().parents[2]


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def bake_json(targets: dict, groups: dict | None = None) -> str:
    document: dict = {"target": targets}
    if groups:
        document["group"] = {name: {"targets": members} for name, members in groups.items()}
    return json.dumps(document)


def two_services(root: Path, **extra: str) -> Path:
    return tree(root, {
        "api/Dockerfile": DOCKERFILE, "ui/Dockerfile": DOCKERFILE,
        "docker-bake.json": bake_json(
            {
                "api": {"context": "api", "tags": ["127.0.0.1:5000/shop/api:1.0"],
                        "platforms": ["linux/amd64", "linux/arm64"], "output": ["type=docker"]},
                "ui": {"context": "ui", "tags": ["127.0.0.1:5000/shop/ui:1.0"]},
            },
            {"default": ["api", "ui"]},
        ),
        **extra,
    })  # fmt: skip


def test_bake_files_alone_give_targets_registries_and_raw_tag_rules(tmp_path):
    root = two_services(tmp_path)
    config = load_project(bake_files=[Path("docker-bake.json")], cwd=root, env={})
    assert list(config.targets) == ["api", "ui"]
    assert config.targets["api"].context == root / "api"
    assert [str(p) for p in config.targets["api"].platforms] == ["linux/amd64", "linux/arm64"]
    # Without dockyard.toml: the default platform, registries and tags from the bake tags.
    assert [str(p) for p in config.targets["ui"].platforms] == ["linux/amd64"]
    assert config.project.registries == ("127.0.0.1:5000/shop",)
    assert config.tags.rules == ("type=raw,value=1.0",)
    assert config.tags.flavor == ("latest=false",)
    assert dict(config.groups) == {"default": ("api", "ui")}
    assert config.warnings == ('docker-bake.json: target "api": not acted on by dockyard: output',)


def test_dockyard_toml_beside_gives_policy_registries_and_tag_rules(tmp_path):
    root = two_services(tmp_path, **{"dockyard.toml": (
        '[project]\nname = "shop"\nregistries = ["ghcr.io/acme"]\n'
        '[tags]\nrules = ["type=sha"]\n[policy]\nnon-root = true\n[retry]\nattempts = 5\n'
    )})  # fmt: skip
    config = load_project(bake_files=[root / "docker-bake.json"], cwd=tmp_path, env={})
    assert config.project.name == "shop" and config.retry.attempts == 5
    assert config.targets["api"].policy.non_root is True
    assert config.project.registries == ("ghcr.io/acme",)
    assert config.tags.rules == ("type=sha",)
    assert "dockyard.toml's [project] registries (ghcr.io/acme)" in " ".join(config.warnings)
    assert "[tags] rules name the tags" in " ".join(config.warnings)


def test_a_bake_table_points_at_the_files_and_set_applies_after_it(tmp_path):
    root = two_services(tmp_path, **{"dockyard.toml": (
        '[bake]\nfiles = ["docker-bake.json"]\nset = ["*.platform=linux/arm64"]\n'
    )})  # fmt: skip
    config = load_project(cwd=root, env={})
    assert [str(p) for p in config.targets["ui"].platforms] == ["linux/arm64"]
    # The command line's come after: a repeated key adds a platform, as buildx does.
    config = load_project(cwd=root, env={}, overrides=["ui.platform=linux/amd64", "*.args.M=cli"])
    assert [str(p) for p in config.targets["ui"].platforms] == ["linux/arm64", "linux/amd64"]
    assert [str(p) for p in config.targets["api"].platforms] == ["linux/arm64"]
    assert config.targets["api"].args["M"] == "cli"


def test_without_dockyard_toml_the_default_bake_files_are_found(tmp_path):
    root = two_services(tmp_path)
    config = load_project(cwd=root, env={})
    assert list(config.targets) == ["api", "ui"]


def test_a_target_in_both_files_is_refused(tmp_path):
    root = two_services(tmp_path, **{"dockyard.toml": (
        '[targets.api]\ncontext = "api"\n'
    )})  # fmt: skip
    with pytest.raises(
        InputError, match=r'docker-bake.json: "api" is also defined in dockyard.toml'
    ):
        load_project(bake_files=[Path("docker-bake.json")], cwd=root, env={})


def test_a_missing_context_names_target_and_path(tmp_path):
    tree(tmp_path, {"docker-bake.json": bake_json({"api": {"context": "nope"}})})
    with pytest.raises(
        InputError, match=r'docker-bake.json: target "api": context nope does not exist'
    ):
        load_project(bake_files=[Path("docker-bake.json")], cwd=tmp_path, env={}, select=["api"])


def test_set_without_a_bake_file_is_refused(tmp_path):
    tree(tmp_path, {"dockyard.toml": '[targets.api]\ncontext = "."\n', "Dockerfile": DOCKERFILE})
    with pytest.raises(InputError, match=r"--set \*.platform=linux/arm64: no bake file"):
        load_project(cwd=tmp_path, env={}, overrides=["*.platform=linux/arm64"])


def test_the_workspace_plans_bake_targets_with_their_stage_and_warnings(tmp_path):
    root = two_services(tmp_path)
    settings = Settings(bake_files=(Path("docker-bake.json"),), bake_set=("api.target=runtime",))
    with Workspace(settings, cwd=root, environ={}) as ws:
        plan = ws.plan
    api = next(t for t in plan.targets if t.name == "api")
    assert api.stage == "runtime"
    assert [r.name for r in api.repositories] == ["127.0.0.1:5000/shop/api"]
    assert plan.to_json()["warnings"] == list(plan.warnings) != []


def dockyard(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=120,
    )  # fmt: skip


def test_plan_dash_f_prints_warnings_on_stderr_and_in_json(tmp_path):
    root = two_services(tmp_path)
    proc = dockyard(root, "plan", "--json", "-f", "docker-bake.json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [t["name"] for t in doc["targets"]] == ["api", "ui"]
    assert doc["warnings"] == ['docker-bake.json: target "api": not acted on by dockyard: output']
    assert (
        'warning: docker-bake.json: target "api": not acted on by dockyard: output' in proc.stderr
    )


def test_plan_refusal_exits_2_naming_target_and_attribute(tmp_path):
    root = two_services(tmp_path)
    proc = dockyard(
        root,
        "plan",
        "-f",
        "docker-bake.json",
        "--set",
        "api.context=https://github.com/acme/api.git",
    )
    assert proc.returncode == 2
    assert 'docker-bake.json: target "api": context' in proc.stderr
    assert "not a local path" in proc.stderr


def test_the_example_resolves_all_six_targets():
    proc = dockyard(REPO, "plan", "--json", "-f", "examples/bake/docker-bake.hcl", "all")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    targets = {t["name"]: t for t in doc["targets"]}
    assert sorted(targets) == ["api", "gateway", "jobrunner", "mlflow", "otel", "ui"]
    assert targets["otel"]["platforms"] == ["linux/amd64"]
    assert targets["api"]["platforms"] == ["linux/amd64", "linux/arm64"]
    assert targets["mlflow"]["stage"] == "runtime"
    assert targets["mlflow"]["dockerfile"].endswith("examples/bake/services/mlflow/Containerfile")
    assert targets["api"]["images"] == ["127.0.0.1:5000/shop/api"]
    assert targets["api"]["policy"]["non_root"] is True  # from dockyard.toml beside it
    assert targets["api"]["jobs"][0]["args"]["BASE"] == "127.0.0.1:5000/base/busybox:1.35"
    # The gha cache is reported for each target, never dropped silently.
    assert len(doc["warnings"]) == 6
    assert all("cache-from type=gha" in w for w in doc["warnings"])


def test_without_dockyard_toml_the_first_bake_file_is_the_configs_path(tmp_path):
    root = two_services(tmp_path)
    config = load_project(bake_files=[Path("docker-bake.json")], cwd=root, env={})
    assert (config.path, config.root) == (root / "docker-bake.json", root)
    assert config.project.name == root.name


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('files = [""]', r"dockyard.toml: bake.files\[0\]: is empty"),
        (
            'files = ["docker-bake.json"]\nset = ["nope"]',
            r"bake.set\[0\]: 'nope' is not an override",
        ),
        ("files = 3", r"bake.files: "),
        ('file = ["x"]', r"dockyard.toml: bake.file: unknown key \(did you mean 'files'\?\)"),
    ],
)
def test_a_bad_bake_table_names_the_field(tmp_path, table, message):
    root = two_services(tmp_path, **{"dockyard.toml": f"[bake]\n{table}\n"})
    with pytest.raises(InputError, match=message):
        load_project(cwd=root, env={})


def test_a_compose_file_plans_its_built_services(tmp_path):
    root = tree(tmp_path, {
        "api/Dockerfile": DOCKERFILE,
        "compose.yaml": (
            "services:\n"
            "  api:\n    build:\n      context: api\n      args:\n        MODE: prod\n"
            "      platforms: [linux/arm64]\n    image: 127.0.0.1:5000/shop/api:2.0\n"
            "  db:\n    image: postgres\n"
        ),
    })  # fmt: skip
    proc = dockyard(root, "plan", "--json", "-f", "compose.yaml")
    assert proc.returncode == 0, proc.stderr
    (api,) = json.loads(proc.stdout)["targets"]
    assert (api["name"], api["platforms"], api["images"]) == (
        "api", ["linux/arm64"], ["127.0.0.1:5000/shop/api"],
    )  # fmt: skip
    assert api["jobs"][0]["args"]["MODE"] == "prod"


def test_dash_f_takes_a_dockyard_toml_and_bake_files_together(tmp_path):
    root = two_services(tmp_path)
    tree(root / "conf", {"dockyard.toml": '[project]\nplatforms = ["linux/arm64"]\n'})
    proc = dockyard(
        root, "plan", "--json", "-f", "conf/dockyard.toml", "-f", "docker-bake.json", "ui"
    )
    assert proc.returncode == 0, proc.stderr
    (ui,) = json.loads(proc.stdout)["targets"]
    # ui names no platforms: dockyard.toml's [project] platforms.
    assert ui["platforms"] == ["linux/arm64"]
    two = dockyard(root, "plan", "-f", "a.toml", "-f", "b.toml")
    assert two.returncode == 2 and "-f b.toml: a second dockyard.toml" in two.stderr


def test_bake_tags_are_pushed_as_written_with_no_latest_added(tmp_path):
    root = two_services(tmp_path)
    settings = Settings(
        bake_files=(Path("docker-bake.json"),), select=("api",), ref="refs/tags/v1.0.0",
        sha="0123456789abcdef0123456789abcdef01234567",
    )  # fmt: skip
    with Workspace(settings, cwd=root, environ={}) as ws:
        (api,) = ws.plan.targets
    assert [str(r) for r in api.references] == ["127.0.0.1:5000/shop/api:1.0"]


def test_index_annotations_reach_the_plan(tmp_path):
    root = tree(tmp_path, {
        "Dockerfile": DOCKERFILE,
        "docker-bake.json": bake_json({"app": {"annotations": ["index:com.example.team=core"]}}),
    })  # fmt: skip
    settings = Settings(bake_files=(Path("docker-bake.json"),), select=("app",))
    with Workspace(settings, cwd=root, environ={}) as ws:
        (app,) = ws.plan.targets
    assert app.annotations["com.example.team"] == "core"


def test_a_group_in_both_files_is_refused(tmp_path):
    root = two_services(tmp_path, **{
        "dockyard.toml": '[targets.tools]\ncontext = "api"\n[groups]\ndefault = ["tools"]\n',
    })  # fmt: skip
    with pytest.raises(InputError, match=r'"default" is also defined in dockyard.toml'):
        load_project(bake_files=[Path("docker-bake.json")], cwd=root, env={}, select=["ui"])


def test_lint_reads_the_bake_targets(tmp_path):
    root = two_services(tmp_path)
    proc = dockyard(root, "lint", "--json", "--no-hadolint", "-f", "docker-bake.json")
    assert proc.returncode in (0, 1), proc.stderr
    assert json.loads(proc.stdout)["files"] == ["api/Dockerfile", "ui/Dockerfile"]


def test_doctor_checks_the_bake_targets_platforms_and_registries(tmp_path):
    from dockyard.pipeline.doctor import doctor_inputs

    root = two_services(tmp_path)
    inputs = doctor_inputs(Path("docker-bake.json"), cwd=root, env={})
    assert [str(p) for p in inputs.platforms] == ["linux/amd64", "linux/arm64"]
    assert list(inputs.registries) == ["127.0.0.1:5000"]


def test_in_the_example_directory_plan_reads_the_bake_table_and_the_default_group():
    proc = dockyard(REPO / "examples" / "bake", "plan", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [t["name"] for t in json.loads(proc.stdout)["targets"]] == ["api", "ui", "gateway"]


def test_the_library_plan_call_reads_bake_files_too(tmp_path, monkeypatch):
    from dockyard.plan.load import plan_from_files

    root = two_services(tmp_path)
    monkeypatch.chdir(root)
    plan = plan_from_files(None, bake_files=[Path("docker-bake.json")], select=["ui"])
    assert [t.name for t in plan.targets] == ["ui"]


def test_bake_targets_in_the_table_are_what_a_command_naming_none_builds(tmp_path):
    root = two_services(tmp_path, **{
        "dockyard.toml": '[bake]\nfiles = ["docker-bake.json"]\ntargets = ["ui"]\n',
    })  # fmt: skip
    with Workspace(Settings(), cwd=root, environ={}) as ws:
        assert [t.name for t in ws.plan.targets] == ["ui"]
    with Workspace(Settings(select=("api",)), cwd=root, environ={}) as ws:
        assert [t.name for t in ws.plan.targets] == ["api"]
