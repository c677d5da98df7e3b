"""pipeline.release's decisions that need no builder or registry: tags per repository, the verify
cell, the --registry override, and a plan that is the same on every run of one commit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.builder.result import BuildResult, TargetResult
from dockyard.config.model import Config, Project, TagsConfig, Target
from dockyard.context import GitContext
from dockyard.digest import Digest
from dockyard.errors import InputError
from dockyard.findings import Finding
from dockyard.pipeline.release import TargetVerify, publish_items
from dockyard.plan.load import with_registries
from dockyard.plan.model import make_plan
from dockyard.platform import parse_platform
from dockyard.verify.report import PlatformReport, Report, SmokeResult

AMD64 = parse_platform("linux/amd64")
SHA = "0123456789abcdef0123456789abcdef01234567"
_NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
_INDEX = Digest("sha256", "c" * 64)


def _items(config: Config, rules: tuple[str, ...]):
    """publish_items of a plan of `config` with these tag rules (a built index for every target)."""
    config = replace(config, tags=TagsConfig(rules=rules))
    plan = make_plan(config, GitContext("push", "refs/tags/v1.0.0", SHA), build_platform=AMD64, now=_NOW)
    built = BuildResult(Path("dist"), "test", tuple(
        TargetResult(t.name, Path("dist/oci") / t.name, "v1.0.0", (), index_digest=_INDEX)
        for t in plan.targets
    ))  # fmt: skip
    return plan, publish_items(plan, built)


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (("type=raw,value=1.0", "type=raw,value=latest"), ("1.0", "latest")),
        (("type=raw,value=1", "type=raw,value=1"), ("1",)),  # once each
        (("type=raw,value=1,enable=false",), ()),
    ],
)
def test_every_repository_gets_its_targets_tags(rules, expected):
    plan, items = _items(_config(registries=("h:5000/ns", "ghcr.io/a")), rules)
    (item,) = items
    assert [r.name for r in item.repositories] == ["h:5000/ns/fleet-api", "ghcr.io/a/fleet-api"]
    assert item.tags == expected
    # What `plan` shows: the same tags on each repository.
    assert plan.to_json()["targets"][0]["tags"] == [
        f"{r}:{t}" for r in ("h:5000/ns/fleet-api", "ghcr.io/a/fleet-api") for t in expected
    ]


def test_another_targets_repository_and_tags_are_not_ours():
    # `api-x` is under the same registry and its name extends `api`'s: each item has its own.
    config = _config(registries=("h:5000/ns",))
    other = Target("api-x", Path("/repo/x"), Path("/repo/x/Dockerfile"), "fleet-api-x", platforms=(AMD64,))
    config = replace(config, targets={**config.targets, "api-x": other})
    _, items = _items(config, ("type=raw,value=3",))
    assert [(i.target, [r.name for r in i.repositories], i.tags) for i in items] == [
        ("api", ["h:5000/ns/fleet-api"], ("3",)),
        ("api-x", ["h:5000/ns/fleet-api-x"], ("3",)),
    ]


@given(st.lists(st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True), min_size=1, max_size=6))
def test_tags_round_trip(tags):
    """The plan's shown `repository:tag` strings and the tags publish moves agree, each once."""
    plan, (item,) = _items(_config(registries=("127.0.0.1:5000/fleet",)), tuple(f"type=raw,value={t}" for t in tags))
    assert item.tags == tuple(dict.fromkeys(tags))
    image = "127.0.0.1:5000/fleet/fleet-api"
    assert plan.to_json()["targets"][0]["tags"] == [f"{image}:{t}" for t in dict.fromkeys(tags)]


def _report(*findings: Finding, smoke: bool = False) -> Report:
    run = SmokeResult(("true",), 0, 0.1, "") if smoke else None
    platform = PlatformReport("linux/amd64", "sha256:" + "a" * 64, "", 1, 1, 1, 0, "1", smoke=run)
    return Report("oci:x", "sha256:" + "b" * 64, "", (platform,), tuple(findings))


def _finding(severity: str, rule: str = "policy.non-root") -> Finding:
    return Finding(rule, severity, "linux/amd64", "/", "m")


@pytest.mark.parametrize(
    ("verify", "cell", "ok"),
    [
        (TargetVerify("a", _report()), "passed", True),
        (TargetVerify("a", _report(smoke=True)), "passed, smoke ok", True),
        (TargetVerify("a", _report(_finding("info"), _finding("warning"))), "passed, 1 warning", True),
        (TargetVerify("a", _report(_finding("error"), _finding("error"))), "2 errors", False),
        (TargetVerify("a", None, error="a: cannot read"), "failed", False),
        (TargetVerify("a", _report(), error="a: not the index the build wrote"), "failed", False),
    ],
)
def test_the_verify_cell(verify, cell, ok):
    assert (verify.summary, verify.ok) == (cell, ok)


def _config(registries=("ghcr.io/acme",)) -> Config:
    root = Path("/repo")
    target = Target("api", root / "api", root / "api/Dockerfile", "fleet-api", platforms=(AMD64,))
    return Config(
        path=root / "dockyard.toml",
        root=root,
        project=Project("fleet", (AMD64,), registries),
        tags=TagsConfig(rules=("type=semver,pattern={{version}}",)),
        targets={"api": target},
    )


def test_registries_given_replace_the_configs_once_each():
    config = with_registries(_config(), ["127.0.0.1:5000/fleet/", "127.0.0.1:5001/fleet", "127.0.0.1:5000/fleet"])
    assert config.project.registries == ("127.0.0.1:5000/fleet", "127.0.0.1:5001/fleet")
    assert with_registries(_config(), []) == _config()


@pytest.mark.parametrize("text", ["", "  ", "Bad Host/x", "ghcr.io/acme@sha256:abc", "ghcr.io/UPPER"])
def test_a_bad_registry_is_refused(text):
    with pytest.raises(InputError) as info:
        with_registries(_config(), [text])
    assert str(info.value) == (
        f"--registry {text!r}: not a registry prefix (expected host[:port][/path] with a "
        "lower-case path, e.g. ghcr.io/acme or 127.0.0.1:5000/fleet)"
    )


def test_two_runs_of_one_commit_plan_the_same_index_metadata():
    """`created` is the commit's time, not the clock: a re-run gives the same index."""
    context = GitContext("push", "refs/tags/v1.2.3", SHA, "main", timestamp="2026-01-02T03:04:05Z")
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    one = make_plan(_config(), context, build_platform=AMD64, now=now)
    two = make_plan(_config(), context, build_platform=AMD64, now=now + timedelta(hours=1))
    assert one.targets[0].annotations == two.targets[0].annotations
    assert one.targets[0].labels == two.targets[0].labels
    assert one.targets[0].annotations["org.opencontainers.image.created"] == "2026-01-02T03:04:05Z"
