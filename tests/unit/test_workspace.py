"""The workspace: settings -> config, plan, one registry client, builder, caches (read on demand)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.errors import InputError
from dockyard.oci.retry import RetryPolicy
from dockyard.workspace import Settings, Workspace

CONFIG = """
[project]
name = "demo"
platforms = ["linux/amd64", "linux/arm64"]
registries = ["registry.example/team"]

[retry]
attempts = 5

[targets.api]
image = "api"
cache-from = ["type=registry,ref=registry.example/team/api-cache"]
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    path = tmp_path / "dockyard.toml"
    path.write_text(CONFIG)
    return path


def test_nothing_is_read_until_asked(tmp_path):
    # A config file that does not exist: opening the workspace is still fine.
    with Workspace(Settings(config_file=tmp_path / "missing.toml", retry=RetryPolicy())) as ws:
        assert ws.registry_options.retry.attempts == RetryPolicy().attempts
        with pytest.raises(InputError, match=r"missing\.toml"):
            ws.config  # noqa: B018


def test_one_client_for_the_run_closed_once(config):
    ws = Workspace(Settings(config_file=config), environ={})
    client = ws.registry
    assert ws.registry is client  # every stage of the run shares it
    ws.close()
    ws.close()  # closing twice is harmless
    assert client.session._client.is_closed
    with pytest.raises(RuntimeError, match="closed"):
        closed = Workspace(Settings(config_file=config), environ={})
        closed.close()
        closed.registry  # noqa: B018  (no client is made after close)


def test_the_client_takes_the_projects_retry_unless_the_settings_give_one(config):
    with Workspace(Settings(config_file=config), environ={}) as ws:
        assert ws.registry_options.retry.attempts == 5
    given = Settings(
        config_file=config, retry=RetryPolicy(attempts=1), insecure_registries=frozenset({"r:5000"})
    )
    with Workspace(given, environ={}) as ws:
        options = ws.registry_options
        assert options.retry.attempts == 1 and options.insecure_registries == {"r:5000"}


def test_registries_caches_and_builder_come_from_settings_over_the_config(config):
    given = Settings(
        config_file=config,
        registries=("ghcr.io/acme",),
        cache_to=("type=registry,ref=ghcr.io/acme/cache",),
        builder="buildx",
    )
    with Workspace(given, environ={}) as ws:
        assert ws.config.project.registries == ("ghcr.io/acme",)
        assert [str(r) for r in ws.plan.targets[0].repositories] == ["ghcr.io/acme/api"]
        cache = ws.caches["api"]
        assert cache.cache_from == ("type=registry,ref=registry.example/team/api-cache",)
        assert cache.cache_to == ("type=registry,ref=ghcr.io/acme/cache",)
        assert ws.backend.name == "buildx"


def test_jobs_below_one_is_bad_input():
    with pytest.raises(InputError, match="--jobs 0: expected at least 1"):
        Settings(jobs=0)
