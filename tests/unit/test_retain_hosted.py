"""publish/hosted.py (pure): which API retain deletes through, the URLs a token may go to,
and what is deleted there; config's [retain] table."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.config.native import config_from_dict
from dockyard.digest import parse_digest
from dockyard.errors import InputError, OperationError
from dockyard.publish.hosted import (
    PackageVersion,
    api_url,
    choose_api,
    dockerhub_deletions,
    github_deletions,
    github_package,
    hub_repository,
    version_from_json,
)


def d(n: int) -> str:
    return f"sha256:{n:064x}"


@pytest.mark.parametrize(
    ("api", "host", "chosen"),
    [
        ("auto", "ghcr.io", "github"),
        ("auto", "docker.io", "dockerhub"),
        ("auto", "registry-1.docker.io", "dockerhub"),
        ("auto", "127.0.0.1:5000", "registry"),
        ("auto", "quay.io", "registry"),
        ("github", "127.0.0.1:5000", "github"),
        ("registry", "ghcr.io", "registry"),
    ],
)
def test_choose_api(api, host, chosen):
    assert choose_api(api, host) == chosen


def test_an_unknown_api_is_bad_input():
    with pytest.raises(
        InputError, match="--api 'gitlab': expected one of auto, registry, github, dockerhub"
    ):
        choose_api("gitlab", "ghcr.io")


def test_api_urls_default_and_overrides():
    assert api_url({}, "github") == "https://api.github.com"
    assert api_url({}, "dockerhub") == "https://hub.docker.com"
    assert api_url({"DOCKYARD_GITHUB_API_URL": "https://ghe.example.com/api/v3/"}, "github") == (
        "https://ghe.example.com/api/v3"
    )
    for loopback in ("http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9"):
        assert api_url({"DOCKYARD_DOCKERHUB_API_URL": loopback}, "dockerhub") == loopback


@pytest.mark.parametrize(
    "url", ["http://api.example.com", "http://10.0.0.1:80", "ftp://x", "https://"]
)
def test_a_token_never_goes_over_plain_http_to_another_host(url):
    with pytest.raises(InputError) as err:
        api_url({"DOCKYARD_GITHUB_API_URL": url}, "github")
    assert "DOCKYARD_GITHUB_API_URL" in str(err.value) and "https://" in str(err.value)


def test_package_and_repository_names():
    assert github_package("acme/api") == ("acme", "api")
    assert github_package("acme/team/api") == ("acme", "team%2Fapi")
    assert hub_repository("acme/api") == ("acme", "api")
    with pytest.raises(InputError):
        github_package("api")
    with pytest.raises(InputError):
        hub_repository("acme/team/api")


def test_github_deletes_exactly_the_plans_manifests_in_its_order():
    versions = [
        PackageVersion(1, d(1), ("v1",)),
        PackageVersion(2, d(2), ()),  # a child of a kept index: not in the plan, never deleted
        PackageVersion(3, d(3), ("v3", "latest")),
        PackageVersion(4, d(4), ()),  # an orphaned child of v1
    ]
    manifests = [parse_digest(d(1)), parse_digest(d(4)), parse_digest(d(9))]  # 9: gone already
    chosen = github_deletions(manifests, {"v3", "latest"}, versions)
    assert [v.id for v in chosen] == [1, 4]


def test_github_refuses_a_version_that_carries_a_kept_tag():
    versions = [PackageVersion(1, d(1), ("v1", "latest"))]  # latest moved onto it meanwhile
    with pytest.raises(OperationError, match="kept tag latest"):
        github_deletions([parse_digest(d(1))], {"latest"}, versions)


def test_dockerhub_deletes_the_plans_tags_never_a_kept_one():
    assert dockerhub_deletions(["v1", "v0", "latest"], {"latest", "v3"}) == ("v1", "v0")


def test_version_json():
    doc = {
        "id": 7,
        "name": d(7),
        "metadata": {"package_type": "container", "container": {"tags": ["a"]}},
    }
    assert version_from_json(doc) == PackageVersion(7, d(7), ("a",))
    assert version_from_json({"id": 8, "name": d(8), "metadata": {}}) == PackageVersion(8, d(8), ())
    assert version_from_json({"name": "x"}) is None


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    return tmp_path / "dockyard.toml"


TARGETS = {"targets": {"app": {"context": "."}}}


def _config(path: Path, retain: dict | None) -> object:
    data = dict(TARGETS) if retain is None else {**TARGETS, "retain": retain}
    return config_from_dict(data, path, {})


def test_retain_table(project):
    config = _config(project, {"keep": 5, "match": r"^\d+\.\d+\.\d+$", "api": "github"})
    assert (config.retain.keep, config.retain.match, config.retain.api) == (
        5,
        r"^\d+\.\d+\.\d+$",
        "github",
    )
    assert _config(project, {"keep": 0}).retain.api == "auto"
    assert _config(project, None).retain is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({}, "dockyard.toml: retain.keep: missing"),
        ({"keep": -1}, "dockyard.toml: retain.keep: -1 is out of range"),
        ({"keep": "5"}, "dockyard.toml: retain.keep: expected an integer"),
        ({"keep": 1, "match": "("}, "dockyard.toml: retain.match: '(' is not a regular expression"),
        (
            {"keep": 1, "api": "gitlab"},
            "dockyard.toml: retain.api: 'gitlab' is not an API (valid: auto",
        ),
        ({"keep": 1, "kep": 2}, "dockyard.toml: retain.kep: unknown key (did you mean 'keep'?)"),
    ],
)
def test_retain_table_errors_name_the_field(project, table, message):
    with pytest.raises(InputError) as err:
        _config(project, table)
    assert err.value.exit_code == 2
    assert str(err.value).startswith(message)
