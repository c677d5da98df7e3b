"""`dockyard init`: the starter dockyard.toml a scanned repository gets, and what it refuses."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from dockyard.bake.project import load_project
from dockyard.config.loader import load_config
from dockyard.config.starter import Starter, StarterTarget, render, target_names
from dockyard.errors import InputError
from dockyard.pipeline.init import init_project
from dockyard.plan.load import plan_from_config

ROOTLESS = "FROM debian:12\nUSER 1000\nHEALTHCHECK CMD true\nCOPY . /app\n"
AS_ROOT = "FROM debian:12\nCOPY . /app\n"


def files(root: Path, tree: dict[str, str]) -> Path:
    for name, text in tree.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def dockyard(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dockyard", "init", *args],
        capture_output=True, text=True, cwd=cwd, timeout=60,
    )  # fmt: skip


def test_two_dockerfiles_give_a_config_plan_accepts(tmp_path):
    repo = files(tmp_path / "shop", {"api/Dockerfile": ROOTLESS, "web/Dockerfile": AS_ROOT})
    result = init_project(repo)
    assert result.targets == {"api": "api/Dockerfile", "web": "web/Dockerfile"}
    config = load_config(cwd=repo, env={})
    assert [str(p) for p in config.project.platforms] == ["linux/amd64", "linux/arm64"]
    plan = plan_from_config(config, ref="refs/tags/v1.2.3", sha="a" * 40, event="push")
    assert [t.name for t in plan.targets] == ["api", "web"]
    api = plan.targets[0]
    assert [str(r) for r in api.references] == [
        "localhost:5000/shop/api:1.2.3", "localhost:5000/shop/api:1.2",
        "localhost:5000/shop/api:sha-aaaaaaa", "localhost:5000/shop/api:latest",
    ]  # fmt: skip
    assert api.dockerfile == repo / "api/Dockerfile" and len(api.jobs) == 2


def test_the_policy_is_one_the_dockerfiles_already_meet(tmp_path):
    repo = files(tmp_path / "r", {"a/Dockerfile": ROOTLESS, "b/Dockerfile": ROOTLESS})
    policy = tomllib.loads(init_project(repo).text)["policy"]
    assert (policy["non-root"], policy["healthcheck"]) == (True, True)
    other = files(tmp_path / "o", {"a/Dockerfile": ROOTLESS, "b/Dockerfile": AS_ROOT})
    text = init_project(other).text
    assert (tomllib.loads(text)["policy"]["non-root"], tomllib.loads(text)["policy"]["healthcheck"]) == (False, False)
    assert "non-root = false    # a final stage runs as root (lint DY005)" in text


def test_names_follow_compose_services_and_dockerfile_suffixes(tmp_path):
    repo = files(tmp_path / "app", {
        "Dockerfile": AS_ROOT,
        "Dockerfile.worker": AS_ROOT,
        "tools/cli.Containerfile": AS_ROOT,
        "svc/backend/Dockerfile": AS_ROOT,
        "compose.yaml": "services:\n  gateway:\n    build:\n      context: svc/backend\n  db:\n    image: postgres\n",
    })  # fmt: skip
    result = init_project(repo)
    # The compose service builds svc/backend: it comes from [bake], not a [targets] table.
    assert result.targets == {
        "app": "Dockerfile",
        "worker": "Dockerfile.worker",
        "tools-cli": "tools/cli.Containerfile",
    }
    assert result.bake_files == ("compose.yaml",)
    assert '[bake]\nfiles = ["compose.yaml"]\n' in (repo / "dockyard.toml").read_text()
    config = load_project(cwd=repo, env={})
    assert list(config.targets) == ["app", "worker", "tools-cli", "gateway"]
    assert config.targets["worker"].dockerfile == repo / "Dockerfile.worker"
    assert config.targets["gateway"].dockerfile == repo / "svc/backend/Dockerfile"


def test_a_bake_file_that_does_not_resolve_is_named_commented_out(tmp_path):
    repo = files(tmp_path / "b", {
        "api/Dockerfile": AS_ROOT,
        "docker-bake.json": '{"group": {"default": {"targets": ["api"]}},'
                            ' "target": {"api": {"context": "https://github.com/acme/api.git"}}}',
    })  # fmt: skip
    result = init_project(repo)
    assert result.targets == {"api": "api/Dockerfile"} and result.bake_files == ()
    text = (repo / "dockyard.toml").read_text()
    assert "# Not enabled: the bake/compose files do not resolve (" in text
    assert 'is not a local path' in text
    assert '# [bake]\n# files = ["docker-bake.json"]\n' in text
    assert "bake" not in tomllib.loads(text)


def test_with_a_bake_file_the_other_dockerfiles_are_written_commented_out(tmp_path):
    # Its targets outside the default group are not known to init: one may build them.
    repo = files(tmp_path / "c", {
        "api/Dockerfile": AS_ROOT, "tools/api/Dockerfile": AS_ROOT, "extra/Dockerfile": AS_ROOT,
        "docker-bake.json": '{"group": {"default": {"targets": ["api"]}},'
                            ' "target": {"api": {"context": "tools/api"},'
                            ' "extra": {"context": "extra"}}}',
    })  # fmt: skip
    result = init_project(repo)
    assert result.targets == {} and result.bake_files == ("docker-bake.json",)
    text = (repo / "dockyard.toml").read_text()
    # Named clear of the bake file's "api"; "extra" is not in its default group, so not known.
    assert '# [targets.api-2]\n# context = "api"\n' in text
    assert '# [targets.extra]\n# context = "extra"\n' in text
    assert "targets" not in tomllib.loads(text)
    config = load_project(cwd=repo, env={}, select=["api", "extra"])
    assert list(config.targets) == ["api", "extra"]


def test_clashing_names_get_their_parent_directory():
    targets = [StarterTarget(context="a/api"), StarterTarget(context="b/api"), StarterTarget(context="api")]
    assert target_names(targets, "p") == ["a-api", "b-api", "api"]
    same = [StarterTarget(context="x", name="svc"), StarterTarget(context="y", name="svc")]
    assert target_names(same, "p") == ["svc", "svc-2"]


def test_hidden_vendored_and_output_directories_are_not_scanned(tmp_path):
    repo = files(tmp_path / "r", {
        "app/Dockerfile": AS_ROOT,
        ".git/Dockerfile": AS_ROOT, "node_modules/x/Dockerfile": AS_ROOT,
        "vendor/y/Dockerfile": AS_ROOT, "dist/z/Dockerfile": AS_ROOT,
        "app/.dockerignore": "*.tmp\n", "app/Dockerfile.dockerignore": "x\n",
    })  # fmt: skip
    assert init_project(repo).targets == {"app": "app/Dockerfile"}


def test_args_without_a_default_are_named_for_the_user(tmp_path):
    repo = files(tmp_path / "r", {"app/Dockerfile": "ARG BASE\nARG TAG=1\nFROM ${BASE}:${TAG}\n"})
    text = init_project(repo).text
    assert 'build args without a default in the Dockerfile (set them: args = { NAME = "…" }): BASE' in text


def test_a_dockerfile_that_does_not_parse_is_skipped_and_named(tmp_path):
    repo = files(tmp_path / "r", {"good/Dockerfile": AS_ROOT, "bad/Dockerfile": "RUN echo no from\n"})
    result = init_project(repo)
    assert list(result.targets) == ["good"]
    (skipped,) = result.skipped
    assert skipped.startswith("bad/Dockerfile: ")


def test_registries_and_platforms_from_the_command_line(tmp_path):
    repo = files(tmp_path / "r", {"Dockerfile": AS_ROOT})
    proc = dockyard(repo, "--registry", "ghcr.io/acme", "--registry", "registry.example.com/team",
                    "--platform", "linux/amd64,linux/arm/v7", "--platform", "linux/s390x")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    project = tomllib.loads((repo / "dockyard.toml").read_text())["project"]
    assert project["registries"] == ["ghcr.io/acme", "registry.example.com/team"]
    assert project["platforms"] == ["linux/amd64", "linux/arm/v7", "linux/s390x"]
    assert "[variables]" not in (repo / "dockyard.toml").read_text()


def test_the_registry_default_follows_a_github_remote(tmp_path):
    repo = files(tmp_path / "Shop", {"Dockerfile": AS_ROOT})
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "remote", "add", "origin", "git@github.com:Acme/Shop.git"], check=True)
    config = tomllib.loads(init_project(repo).text)
    assert config["variables"]["REGISTRY"] == "ghcr.io/acme"
    assert config["project"]["name"] == "shop"


def test_an_existing_config_is_never_replaced_without_force(tmp_path):
    repo = files(tmp_path / "r", {"Dockerfile": AS_ROOT, "dockyard.toml": "# mine\n"})
    proc = dockyard(repo)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"error: {repo / 'dockyard.toml'} already exists (use --force to replace it)\n"
    assert (repo / "dockyard.toml").read_text() == "# mine\n"
    forced = dockyard(repo, "--force", "--json")
    assert forced.returncode == 0, forced.stderr
    assert '"targets": {\n    "r": "Dockerfile"' in forced.stdout
    assert "[targets.r]" in (repo / "dockyard.toml").read_text()


@pytest.mark.parametrize(
    ("tree", "args", "message"),
    [
        ({"README": "x"}, [], "no Dockerfile or Containerfile under {repo} (expected e.g. services/api/Dockerfile)"),
        ({"Dockerfile": AS_ROOT}, ["--platform", "linux/sparc"], "linux/sparc"),
        ({"Dockerfile": AS_ROOT}, ["--registry", "Not A Registry"], "registries"),
        ({"Dockerfile": AS_ROOT}, ["--dir", "missing"], "--dir {repo}/missing: not a directory"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_and_writes_nothing(tmp_path, tree, args, message):
    repo = files(tmp_path / "r", tree)
    proc = dockyard(repo, *args)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1
    assert message.format(repo=repo) in proc.stderr
    assert sorted(p.name for p in repo.iterdir()) == sorted(tree)


def test_render_is_valid_toml_for_awkward_values():
    starter = Starter(
        project="p",
        targets=(StarterTarget(context='we"ird dir', args={"A B": 'x"y\\z'}),),
        registries=("ghcr.io/acme",),
    )
    doc = tomllib.loads(render(starter))
    assert doc["targets"]["we-ird-dir"]["context"] == 'we"ird dir'
    assert doc["targets"]["we-ird-dir"]["args"] == {"A B": 'x"y\\z'}


def test_init_refuses_a_directory_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        init_project(tmp_path / "f")
