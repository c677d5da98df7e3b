"""The one dict of builder backends: lookup, the config's name, what each backend answers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dockyard.builder.backends import BACKENDS, DEFAULT_BACKEND, check_builder, get_backend
from dockyard.builder.backends.buildah import BuildahBackend
from dockyard.builder.backends.buildx import BuildxBackend
from dockyard.config.model import Config, Project
from dockyard.errors import InputError
from dockyard.ref import parse_ref
from dockyard.workspace import Settings, Workspace


def config(builder: str, display: str = "") -> Config:
    project = Project(name="fleet", platforms=(), builder=builder)
    return Config(path=Path("/r/dockyard.toml"), root=Path("/r"), project=project, display=display)


def test_every_registered_name_loads_a_backend_of_that_name():
    # The dict names classes as "module:Class": a typo would only show at lookup.
    assert list(BACKENDS) == ["buildah", "buildx"]
    for name in BACKENDS:
        backend = get_backend(name)
        assert backend.name == name
        assert isinstance(backend.emulates_on_host, bool)
    assert isinstance(get_backend("buildah"), BuildahBackend)
    assert isinstance(get_backend("buildx"), BuildxBackend)
    assert get_backend().name == DEFAULT_BACKEND


def workspace(tmp_path: Path, in_file: str, flag: str | None = None) -> Workspace:
    (tmp_path / "dockyard.toml").write_text(f'[project]\nbuilder = "{in_file}"\n[targets.app]\n')
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    return Workspace(Settings(builder=flag), cwd=tmp_path, environ={})


def test_the_workspace_checks_the_configs_builder_as_it_loads_the_config(tmp_path):
    with workspace(tmp_path, "buildx") as ws:
        assert ws.backend.name == "buildx"
    with workspace(tmp_path, "buildx", flag="buildah") as ws:
        assert ws.backend.name == "buildah"  # the flag wins
    message = "dockyard.toml: project.builder: unknown builder 'kaniko' (valid: buildah, buildx)"
    with workspace(tmp_path, "kaniko") as ws, pytest.raises(InputError) as info:
        ws.plan  # noqa: B018 -- a plan builds nothing, but its config is refused
    assert (str(info.value), info.value.exit_code) == (message, 2)
    # As when the config refused it itself: a flag does not excuse a wrong file.
    with workspace(tmp_path, "kaniko", flag="buildah") as ws, pytest.raises(InputError) as info:
        ws.backend  # noqa: B018
    assert str(info.value) == message
    with workspace(tmp_path, "buildah", flag="kaniko") as ws, pytest.raises(InputError) as info:
        ws.backend  # noqa: B018
    assert str(info.value) == "unknown builder 'kaniko' (valid: buildah, buildx)"


def test_check_builder_names_the_file_as_the_loader_showed_it():
    check_builder(config("buildah"))
    with pytest.raises(InputError) as info:
        check_builder(config("kaniko", display="ci/release.toml"))
    assert str(info.value) == (
        "ci/release.toml: project.builder: unknown builder 'kaniko' (valid: buildah, buildx)"
    )
    with pytest.raises(InputError) as info:
        check_builder(config("kaniko"))  # a Config made by hand: its file's name
    assert str(info.value).startswith("dockyard.toml: project.builder: unknown builder 'kaniko'")


@pytest.mark.parametrize(
    ("name", "ref", "expected"),
    [
        # buildah ignores a cache tag (one tag per step): the repository is per platform.
        ("buildah", "ghcr.io/acme/api:cache", "ghcr.io/acme/api-cache-linux-arm64"),
        ("buildah", "ghcr.io/acme/api", "ghcr.io/acme/api-linux-arm64"),
        # buildx: the tag is.
        ("buildx", "ghcr.io/acme/api:cache", "ghcr.io/acme/api:cache-linux-arm64"),
        ("buildx", "ghcr.io/acme/api", "ghcr.io/acme/api:linux-arm64"),
    ],
)
def test_each_backend_names_its_registry_cache_per_platform(name, ref, expected):
    parsed = parse_ref(ref, default_tag=None)
    assert get_backend(name).registry_cache(parsed, "linux-arm64") == expected


def test_the_cli_names_the_builders_without_importing_them():
    # --builder's metavar is built from BACKENDS on every start-up.
    code = (
        "import sys\n"
        "from dockyard.cli.main import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('dockyard.builder.')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "build", "--help"], capture_output=True, text=True
    )
    assert "--builder buildah|buildx" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "['dockyard.builder.backends']"
