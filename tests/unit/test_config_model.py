"""Config.select (groups expanded, config order, unknown names refused) and the builder choice."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.builder.backends import BACKENDS, DEFAULT_BACKEND
from dockyard.config.model import (
    DEFAULT_BUILDER,
    Config,
    Policy,
    Project,
    Target,
    chosen_builder,
)
from dockyard.errors import InputError


def target(name: str) -> Target:
    return Target(name=name, context=Path("/r"), dockerfile=Path("/r/Dockerfile"), image=name)


def config(groups=None, names=("api", "web", "worker")) -> Config:
    return Config(
        path=Path("/r/dockyard.toml"),
        root=Path("/r"),
        project=Project(name="fleet", platforms=()),
        targets={name: target(name) for name in names},
        groups=groups or {},
    )


NESTED = {"default": ("web", "back"), "back": ("worker", "api"), "all": ("default", "api")}


@pytest.mark.parametrize(
    ("groups", "names", "expected"),
    [
        ({}, [], ("api", "web", "worker")),
        (NESTED, [], ("api", "web", "worker")),
        ({"default": ("worker",)}, [], ("worker",)),
        ({"default": ("worker", "api")}, [], ("api", "worker")),
        ({}, ["worker", "api"], ("api", "worker")),
        ({}, ["web", "web"], ("web",)),
        (NESTED, ["back"], ("api", "worker")),
        (NESTED, ["back", "api", "all"], ("api", "web", "worker")),
        ({"empty": ()}, ["empty"], ()),
        ({"loop": ("loop", "api")}, ["loop"], ("api",)),  # built by hand: no endless recursion
    ],
)
def test_select(groups, names, expected):
    assert config(groups).select(names) == expected


@pytest.mark.parametrize(
    ("groups", "names", "message"),
    [
        ({"default": ("api",)}, ["x"], "unknown target or group 'x' (known: api, web, worker; groups: default)"),
        ({}, ["api", "Web"], "unknown target or group 'Web' (known: api, web, worker)"),
    ],
)
def test_select_refuses_unknown(groups, names, message):
    with pytest.raises(InputError) as info:
        config(groups).select(names)
    assert str(info.value) == message


def test_models_are_frozen_and_hashable():
    t = target("api")
    with pytest.raises(AttributeError):
        t.name = "x"  # type: ignore[misc]
    assert hash(t) == hash(target("api"))
    assert Policy() == Policy(max_size=None, non_root=False, healthcheck=False, require_labels=())


BUILDX_PROJECT = Project(name="fleet", platforms=(), builder="buildx")


@pytest.mark.parametrize(
    ("flag", "project", "expected"),
    [
        ("buildah", BUILDX_PROJECT, "buildah"),  # the flag wins over the config
        ("buildx", Project(name="fleet", platforms=()), "buildx"),
        (None, BUILDX_PROJECT, "buildx"),  # the config wins over the default
        (None, Project(name="fleet", platforms=()), "buildah"),  # the config's default
        (None, None, "buildah"),  # no config at all
        ("buildx", None, "buildx"),
    ],
)
def test_chosen_builder_flag_then_config_then_default(flag, project, expected):
    assert chosen_builder(flag, project) == expected


def test_config_knows_the_backends_build_has():
    # One list (dockyard.builders): what the config accepts is what get_backend loads.
    assert DEFAULT_BUILDER == DEFAULT_BACKEND and DEFAULT_BUILDER in BACKENDS
