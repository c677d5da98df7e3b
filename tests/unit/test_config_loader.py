"""dockyard.toml accepted: defaults, the design.md example, interpolation, groups, policy merge."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockyard.config.interpolate import VariableError, interpolate, resolve
from dockyard.config.loader import find_config, load_config
from dockyard.config.model import Policy, Retry, TagsConfig
from dockyard.errors import InputError
from dockyard.platform import parse_platform

AMD64, ARM64 = parse_platform("linux/amd64"), parse_platform("linux/arm64")

DESIGN_EXAMPLE = """
[project]
name = "fleet"
platforms = ["linux/amd64", "linux/arm64"]
registries = ["ghcr.io/acme", "docker.io/acme"]   # image = <registry>/<target.image>

[variables]                       # ${NAME} in any string; env NAME overrides
VERSION = "dev"

[tags]
rules  = ["type=semver,pattern={{version}}", "type=sha", "type=ref,event=branch"]
flavor = ["latest=auto"]
require-semver = true             # a tag ref that is not vX.Y.Z is refused (exit 2)

[policy]                          # defaults for every target
max-size = "500MB"
non-root = true
healthcheck = true

[retry]
attempts = 3                      # exponential backoff, honours Retry-After

[targets.api]
context    = "services/api"
dockerfile = "Dockerfile"         # relative to context
image      = "fleet-api"
args       = { APP_VERSION = "${VERSION}" }
max-size   = "100MB"

[targets.web]
context = "services/web"

[groups]
default = ["api", "web"]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for service in ("api", "web", "worker"):
        (tmp_path / "services" / service).mkdir(parents=True)
        (tmp_path / "services" / service / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    return tmp_path


def load(project: Path, text: str, env: dict[str, str] | None = None):
    (project / "dockyard.toml").write_text(text)
    return load_config(cwd=project, env=env or {})


def test_design_example(project: Path):
    config = load(project, DESIGN_EXAMPLE)
    assert config.path == project / "dockyard.toml"
    assert config.root == project
    assert config.project.name == "fleet"
    assert config.project.platforms == (AMD64, ARM64)
    assert config.project.registries == ("ghcr.io/acme", "docker.io/acme")
    assert dict(config.variables) == {"VERSION": "dev"}
    assert config.tags == TagsConfig(
        rules=("type=semver,pattern={{version}}", "type=sha", "type=ref,event=branch"),
        flavor=("latest=auto",),
        require_semver=True,
        labels={},
    )
    assert config.policy == Policy(max_size=500_000_000, non_root=True, healthcheck=True)
    assert config.retry == Retry(attempts=3, backoff=1.0, max_delay=30.0)
    api = config.targets["api"]
    assert api.context == project / "services" / "api"
    assert api.dockerfile == project / "services" / "api" / "Dockerfile"
    assert api.image == "fleet-api"
    assert dict(api.args) == {"APP_VERSION": "dev"}
    assert api.platforms == (AMD64, ARM64)
    assert api.policy == Policy(max_size=100_000_000, non_root=True, healthcheck=True)
    web = config.targets["web"]
    assert web.image == "web"
    assert web.policy == config.policy
    assert dict(config.groups) == {"default": ("api", "web")}
    assert config.select([]) == ("api", "web")


def test_defaults_of_a_minimal_config(project: Path):
    config = load(project, "[targets.app]\n")
    assert config.project.name == project.name
    assert config.project.platforms == (AMD64,)
    assert config.project.registries == ()
    assert config.project.builder == "buildah"
    assert config.tags == TagsConfig()
    assert config.policy == Policy()
    assert config.retry == Retry()
    assert dict(config.groups) == {}
    app = config.targets["app"]
    assert (app.context, app.dockerfile, app.image) == (project, project / "Dockerfile", "app")
    assert (app.smoke, app.cache_from, app.cache_to, dict(app.labels), dict(app.args)) == (
        (),
        (),
        (),
        {},
        {},
    )
    assert config.select([]) == ("app",)


def test_builder_from_the_project_table(project: Path):
    text = '[project]\nbuilder = "${B}"\n[variables]\nB = "buildah"\n[targets.app]\n'
    config = load(project, text, {"B": "buildx"})  # interpolated, env override applied
    assert config.project.builder == "buildx"


def test_paths_relative_to_config_and_context(project: Path):
    (project / "docker").mkdir()
    (project / "docker" / "api.Dockerfile").write_text("FROM scratch\n")
    config = load(
        project,
        '[targets.api]\ncontext = "services/../services/api"\ndockerfile = "../../docker/api.Dockerfile"\n'
        f'[targets.abs]\ncontext = "{project / "services" / "web"}"\n',
    )
    assert config.targets["api"].context == project / "services" / "api"
    assert config.targets["api"].dockerfile == project / "docker" / "api.Dockerfile"
    assert config.targets["abs"].dockerfile == project / "services" / "web" / "Dockerfile"


def test_interpolation_everywhere_with_env_override_and_escape(project: Path):
    text = """
[project]
name = "${PROJECT}"
registries = ["${REGISTRY}/acme"]
[variables]
PROJECT = "fleet"
REGISTRY = "127.0.0.1:5000"
VERSION = "dev"
SERVICE = "api"
FULL = "${PROJECT}-${VERSION}"
[tags]
rules = ["type=raw,value=${VERSION}"]
labels = { "org.opencontainers.image.version" = "${FULL}" }
[targets.api]
context = "services/${SERVICE}"
image = "${PROJECT}/api"
args = { FULL = "${FULL}", LITERAL = "$${NOT_A_VAR}", SHELL = "$HOME $$" }
smoke = ["/bin/sh", "-c", "echo ${VERSION}"]
"""
    config = load(project, text, env={"VERSION": "1.2.3", "UNDECLARED": "x"})
    assert config.project.name == "fleet"
    assert config.project.registries == ("127.0.0.1:5000/acme",)
    assert dict(config.variables) == {
        "PROJECT": "fleet",
        "REGISTRY": "127.0.0.1:5000",
        "VERSION": "1.2.3",
        "SERVICE": "api",
        "FULL": "fleet-1.2.3",
    }
    assert config.tags.rules == ("type=raw,value=1.2.3",)
    assert dict(config.tags.labels) == {"org.opencontainers.image.version": "fleet-1.2.3"}
    api = config.targets["api"]
    assert api.context == project / "services" / "api"
    assert api.image == "fleet/api"
    assert dict(api.args) == {"FULL": "fleet-1.2.3", "LITERAL": "${NOT_A_VAR}", "SHELL": "$HOME $$"}
    assert api.smoke == ("/bin/sh", "-c", "echo 1.2.3")


def test_env_value_is_taken_literally(project: Path):
    config = load(project, '[variables]\nA = "a"\nB = "${A}"\n[targets.x]\n', env={"B": "${A}"})
    assert dict(config.variables) == {"A": "a", "B": "${A}"}


def test_non_string_values_become_strings_as_bake_does(project: Path):
    config = load(
        project,
        "[variables]\nN = 3\n[targets.x]\n"
        'args = { INT = 1, FLOAT = 1.5, YES = true, NO = false, REF = "${N}" }\n'
        "labels = { n = 7 }\n",
    )
    x = config.targets["x"]
    assert dict(x.args) == {"INT": "1", "FLOAT": "1.5", "YES": "true", "NO": "false", "REF": "3"}
    assert dict(x.labels) == {"n": "7"}


def test_policy_merge_per_target(project: Path):
    config = load(
        project,
        '[policy]\nmax-size = "1.5GiB"\nnon-root = true\nrequire-labels = ["a", "b"]\n'
        '[targets.api]\ncontext = "services/api"\nhealthcheck = true\nrequire-labels = []\n'
        '[targets.web]\ncontext = "services/web"\nmax-size = 1000\nnon-root = false\n'
        '[targets.worker]\ncontext = "services/worker"\nmax-size = "100 MiB"\n',
    )
    assert config.policy == Policy(max_size=1_610_612_736, non_root=True, require_labels=("a", "b"))
    assert config.targets["api"].policy == Policy(
        max_size=1_610_612_736, non_root=True, healthcheck=True, require_labels=()
    )
    assert config.targets["web"].policy == Policy(
        max_size=1000, non_root=False, require_labels=("a", "b")
    )
    assert config.targets["worker"].policy.max_size == 104_857_600


def test_allow_foreign_is_policy_and_a_target_list_replaces_the_projects(project: Path):
    config = load(
        project,
        '[variables]\nQEMU = "qemu"\n'
        '[policy]\nallow-foreign = ["/usr/bin/${QEMU}-*-static", "/opt/cross/**"]\n'
        '[targets.api]\ncontext = "services/api"\nallow-foreign = []\n'
        '[targets.web]\ncontext = "services/web"\n'
        '[targets.worker]\ncontext = "services/worker"\nallow-foreign = ["/usr/lib/x/*.so"]\n',
    )
    assert config.policy == Policy(allow_foreign=("/usr/bin/qemu-*-static", "/opt/cross/**"))
    assert config.targets["api"].policy.allow_foreign == ()
    assert config.targets["web"].policy == config.policy
    assert config.targets["worker"].policy.allow_foreign == ("/usr/lib/x/*.so",)
    # The policy is one hashable value: a settings hash over it sees the globs.
    assert hash(config.targets["web"].policy) != hash(config.targets["api"].policy)


def test_target_platforms_override_and_normalise(project: Path):
    config = load(
        project,
        '[project]\nplatforms = ["linux/amd64", "linux/arm64"]\n'
        '[targets.api]\ncontext = "services/api"\nplatforms = ["linux/arm64/v8"]\n'
        '[targets.web]\ncontext = "services/web"\n',
    )
    assert config.targets["api"].platforms == (ARM64,)
    assert config.targets["web"].platforms == (AMD64, ARM64)


def test_nested_groups(project: Path):
    config = load(
        project,
        '[targets.api]\ncontext = "services/api"\n'
        '[targets.web]\ncontext = "services/web"\n'
        '[targets.worker]\ncontext = "services/worker"\n'
        '[groups]\nall = ["front", "back"]\nfront = ["web"]\nback = ["worker", "api", "front"]\n',
    )
    assert dict(config.groups) == {
        "all": ("front", "back"),
        "front": ("web",),
        "back": ("worker", "api", "front"),
    }
    assert config.select(["back"]) == ("api", "web", "worker")
    assert config.select(["front", "web"]) == ("web",)
    assert config.select([]) == ("api", "web", "worker")  # no "default" group: every target
    with pytest.raises(InputError) as info:
        config.select(["nope"])
    assert str(info.value) == (
        "unknown target or group 'nope' (known: api, web, worker; groups: all, front, back)"
    )


def test_retry_and_smoke_and_cache(project: Path):
    config = load(
        project,
        "[retry]\nattempts = 10\nbackoff = 0\nmax-delay = 5\n[targets.x]\n"
        'smoke = ["/app", "--version"]\ncache-from = ["type=local,src=/c"]\ncache-to = ["type=local,dest=/c"]\n',
    )
    assert config.retry == Retry(attempts=10, backoff=0.0, max_delay=5.0)
    x = config.targets["x"]
    assert (x.smoke, x.cache_from, x.cache_to) == (
        ("/app", "--version"),
        ("type=local,src=/c",),
        ("type=local,dest=/c",),
    )


def test_config_is_read_only(project: Path):
    config = load(project, "[targets.x]\nargs = { A = '1' }\n")
    with pytest.raises(TypeError):
        config.targets["x"].args["A"] = "2"  # type: ignore[index]
    with pytest.raises(TypeError):
        config.targets["y"] = config.targets["x"]  # type: ignore[index]


def test_load_given_file_and_default_env(project: Path, monkeypatch: pytest.MonkeyPatch):
    (project / "ci.toml").write_text('[variables]\nV = "file"\n[targets.x]\nimage = "x-${V}"\n')
    monkeypatch.setenv("V", "env")
    monkeypatch.chdir(project)
    config = load_config(Path("ci.toml"))
    assert config.path == project / "ci.toml"
    assert config.targets["x"].image == "x-env"


# -- find_config ---------------------------------------------------------------


def test_find_config_walks_up(project: Path):
    (project / "dockyard.toml").write_text("[targets.x]\n")
    deep = project / "services" / "api" / "src"
    deep.mkdir()
    assert find_config(deep) == project / "dockyard.toml"
    assert find_config(project) == project / "dockyard.toml"
    assert load_config(cwd=deep, env={}).root == project


def test_find_config_prefers_the_nearest(project: Path):
    (project / "dockyard.toml").write_text("[targets.x]\n")
    (project / "services" / "dockyard.toml").write_text("[targets.y]\n")
    assert find_config(project / "services" / "api") == project / "services" / "dockyard.toml"


def test_find_config_ignores_a_directory_named_like_it(project: Path):
    (project / "services" / "dockyard.toml").mkdir()
    (project / "dockyard.toml").write_text("[targets.x]\n")
    assert find_config(project / "services") == project / "dockyard.toml"


def test_find_config_not_found(tmp_path: Path):
    start = tmp_path / "a" / "b"
    start.mkdir(parents=True)
    if any((p / "dockyard.toml").exists() for p in start.parents):
        pytest.skip("a dockyard.toml above the temporary directory")
    with pytest.raises(InputError) as info:
        find_config(start)
    assert str(info.value) == f"no dockyard.toml found in {start} or any parent (use -f FILE)"


def test_find_config_relative_start(project: Path, monkeypatch: pytest.MonkeyPatch):
    (project / "dockyard.toml").write_text("[targets.x]\n")
    monkeypatch.chdir(project / "services")
    assert find_config(Path(".")) == project / "dockyard.toml"
    assert os.path.isabs(find_config(Path("api")))


# -- interpolation, directly ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("${A}", "1"),
        ("x${A}y${B_2}z", "x1y2z"),
        ("$${A}", "${A}"),
        ("$$${A}", "$${A}"),  # scanned left to right as HCL does: "$", then the escape "$${"
        ("$A ${A}", "$A 1"),
        ("$", "$"),
        ("a}b", "a}b"),
    ],
)
def test_interpolate(text, expected):
    assert interpolate(text, {"A": "1", "B_2": "2"}) == expected


@pytest.mark.parametrize(
    ("declared", "message", "variable"),
    [
        ({"A": "${A}"}, "cycle A -> A (a variable cannot depend on itself)", "A"),
        ({"A": "x", "B": "${C}", "C": "${B}"}, "cycle B -> C -> B (a variable cannot depend on itself)", "B"),
        ({"A": "${Z}"}, "undefined variable ${Z} (defined in [variables]: A)", "A"),
        ({"A": "ok", "B": "${"}, "'${' is not a variable reference (expected ${NAME} with NAME of letters, digits and _, or $${ for a literal ${)", "B"),
    ],
)
def test_resolve_refuses(declared, message, variable):
    with pytest.raises(VariableError) as info:
        resolve(declared, {})
    assert (str(info.value), info.value.variable) == (message, variable)


def test_resolve_override_breaks_a_cycle():
    assert resolve({"A": "${B}", "B": "${A}"}, {"B": "b"}) == {"A": "b", "B": "b"}
