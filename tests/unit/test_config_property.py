"""Property: any TOML-shaped document gives a Config or an InputError, nothing else.

Documents are built as dicts (what tomllib returns) from the schema's own keys
mixed with random ones, and values of every TOML type, biased towards values
that are nearly right so that generation reaches deep into validation.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockyard.config.model import Config
from dockyard.config.native import (
    POLICY_KEYS,
    PROJECT_KEYS,
    RETRY_KEYS,
    SECTIONS,
    SIGN_KEYS,
    TAGS_KEYS,
    TARGET_KEYS,
    config_from_dict,
)
from dockyard.errors import InputError


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A project directory the generated configs point into (removed with pytest's tmp dirs)."""
    path = tmp_path_factory.mktemp("config-prop")
    (path / "svc").mkdir()
    (path / "Dockerfile").write_text("FROM scratch\n")
    (path / "svc" / "Dockerfile").write_text("FROM scratch\n")
    return path


NEAR_STRINGS = st.sampled_from(
    [
        "", ".", "svc", "Dockerfile", "../x", "linux/amd64", "linux/arm64/v8", "linux/arm65",
        "500MB", "1.5GiB", "12 kb", "${V}", "$${V}", "${", "${A}", "api", "web", "default",
        "ghcr.io/acme", "127.0.0.1:5000/fleet", "Fleet", "a\x00b", "\ud800", "type=sha",
    ]
)  # fmt: skip
SCALARS = st.one_of(
    NEAR_STRINGS,
    st.text(max_size=8),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(timezones=st.none() | st.just(dt.UTC)),
    st.dates(),
    st.times(),
)
KEYS = st.sampled_from(
    [*SECTIONS, *PROJECT_KEYS, *TAGS_KEYS, *POLICY_KEYS, *RETRY_KEYS, *SIGN_KEYS, *TARGET_KEYS, "V", "A"]
) | st.text(max_size=6)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)


def section(keys: tuple[str, ...]) -> st.SearchStrategy[dict]:
    return st.dictionaries(st.sampled_from(keys) | st.text(max_size=4), VALUES, max_size=len(keys))


DOCUMENTS = st.fixed_dictionaries(
    {},
    optional={
        "project": section(PROJECT_KEYS),
        "variables": st.dictionaries(st.sampled_from(["V", "A", "1x"]) | st.text(max_size=3), SCALARS | VALUES),
        "tags": section(TAGS_KEYS),
        "policy": section(POLICY_KEYS),
        "retry": section(RETRY_KEYS),
        "targets": st.dictionaries(st.sampled_from(["api", "web", "a b"]) | st.text(max_size=4), section(TARGET_KEYS) | VALUES, max_size=3),
        "groups": st.dictionaries(st.sampled_from(["default", "all", "api"]) | st.text(max_size=4), st.lists(NEAR_STRINGS, max_size=3) | VALUES, max_size=3),
    },
) | st.dictionaries(KEYS, VALUES, max_size=4)  # fmt: skip


# Nearly valid documents: each key mostly gets a value of the right shape, so most
# examples pass the early checks and exercise targets, groups and policy merging.
PLATFORM_LISTS = st.lists(st.sampled_from(["linux/amd64", "linux/arm64", "linux/arm/v7", "x"]), min_size=1, max_size=3)
RIGHT = {
    "context": st.sampled_from([".", "svc", "${V}", "nope"]),
    "dockerfile": st.sampled_from(["Dockerfile", "../Dockerfile", "x"]),
    "image": st.sampled_from(["api", "acme/api", "${V}", "A"]),
    "args": st.dictionaries(st.sampled_from(["A", "B C", "V"]), st.sampled_from(["1", "${V}", "$${V}"]) | SCALARS, max_size=3),
    "platforms": PLATFORM_LISTS,
    "max-size": st.sampled_from(["500MB", "1.5GiB", 1000, "x"]),
    "non-root": st.booleans(),
    "healthcheck": st.booleans(),
    "require-labels": st.lists(st.sampled_from(["a", "b"]), max_size=2),
    "allow-foreign": st.lists(st.sampled_from(["/usr/bin/qemu-*-static", "/opt/**", "rel/x", "/a//b", "${V}"]), max_size=2),
    "smoke": st.lists(st.sampled_from(["/bin/sh", "-c", "${V}"]), max_size=3),
    "labels": st.dictionaries(st.sampled_from(["a", "o.c.i"]), SCALARS, max_size=2),
    "cache-from": st.lists(st.sampled_from(["type=local,src=c"]), max_size=1),
    "cache-to": st.lists(st.sampled_from(["type=local,dest=c"]), max_size=1),
}
TARGET = st.fixed_dictionaries({}, optional={key: value | VALUES if key == "image" else value for key, value in RIGHT.items()})
NEAR_DOCUMENTS = st.fixed_dictionaries(
    {"targets": st.dictionaries(st.sampled_from(["api", "web", "worker"]), TARGET, min_size=1, max_size=3)},
    optional={
        "project": st.fixed_dictionaries({}, optional={"platforms": PLATFORM_LISTS, "registries": st.lists(st.sampled_from(["ghcr.io/acme", "127.0.0.1:5000", "Acme"]), max_size=2)}),
        "variables": st.dictionaries(st.sampled_from(["V", "A"]), st.sampled_from(["svc", "${A}", "${V}", "api"])),
        "policy": st.fixed_dictionaries({}, optional={key: RIGHT[key] for key in POLICY_KEYS}),
        "retry": st.fixed_dictionaries({}, optional={"attempts": st.integers(0, 11), "backoff": st.floats(0, 70), "max-delay": st.floats(0, 100)}),
        "groups": st.dictionaries(st.sampled_from(["default", "all", "front"]), st.lists(st.sampled_from(["api", "web", "worker", "default", "all", "front"]), max_size=3), max_size=3),
    },
)  # fmt: skip


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(NEAR_DOCUMENTS, st.dictionaries(st.sampled_from(["V", "A"]), st.sampled_from(["svc", "api", "${A}"])))
def test_nearly_valid_document_gives_a_config_or_an_input_error(root, document, env):
    check_config_or_input_error(root, document, env)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS, st.dictionaries(st.sampled_from(["V", "A"]), st.text(max_size=6)))
def test_any_document_gives_a_config_or_an_input_error(root, document, env):
    check_config_or_input_error(root, document, env)


def check_config_or_input_error(root: Path, document: dict, env: dict[str, str]) -> None:
    try:
        config = config_from_dict(document, root / "dockyard.toml", env)
    except InputError as exc:
        message = str(exc)
        assert message.startswith("dockyard.toml: ")
        assert "\n" not in message or "\n" in repr(document)  # one line unless the input had one
    else:
        assert isinstance(config, Config)
        assert config.targets
        for target in config.targets.values():
            assert target.context.is_dir() and target.dockerfile.is_file()
            assert target.platforms
        assert set(config.select([])) <= set(config.targets)
