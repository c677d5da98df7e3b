"""SLSA v1 provenance as an in-toto v1 statement (evidence/provenance.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from dockyard.context import GitContext
from dockyard.digest import sha256_digest
from dockyard.evidence.provenance import (
    BUILD_TYPE,
    LOCAL_BUILDER,
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    BasePinned,
    ProvenanceInputs,
    provenance,
    statement_bytes,
)
from dockyard.platform import parse_platform

IMAGE = sha256_digest(b"image")
BASE = sha256_digest(b"golang")
CONFIG = sha256_digest(b"dockyard.toml")
ARM64 = parse_platform("linux/arm64")
CONTEXT = GitContext(
    event="push", ref="refs/tags/v1.2.3", sha="a" * 40, repository="acme/fleet"
)


def inputs(**changes) -> ProvenanceInputs:
    base = dict(
        repository="ghcr.io/acme/api",
        digest=IMAGE,
        target="api",
        platform=ARM64,
        context=CONTEXT,
        dockyard_version="0.1.0",
        builder="buildah 1.28.2",
        config_path="dockyard.toml",
        config_digest=CONFIG,
        args={"GO_VERSION": "1.22", "NPM_TOKEN": "s3cret", "db_password": "x", "API_KEY": "k"},
        bases=(
            BasePinned("docker.io/library/golang:1.22", BASE, parse_platform("linux/amd64")),
            BasePinned("docker.io/library/golang:1.22", BASE, parse_platform("linux/amd64")),
        ),
        input_hash=sha256_digest(b"inputs"),
        started=datetime(2026, 12, 2, 10, 0, 0, tzinfo=UTC),
        finished=datetime(2026, 12, 2, 10, 1, 30, tzinfo=UTC),
    )
    base.update(changes)
    return ProvenanceInputs(**base)


def test_the_statement_has_every_field_the_specs_require():
    s = provenance(inputs())
    assert s["_type"] == STATEMENT_TYPE and s["predicateType"] == PREDICATE_TYPE
    assert s["subject"] == [{"name": "ghcr.io/acme/api", "digest": {"sha256": IMAGE.hex}}]
    build = s["predicate"]["buildDefinition"]
    assert build["buildType"] == BUILD_TYPE
    assert build["externalParameters"]["target"] == "api"
    assert build["externalParameters"]["platform"] == "linux/arm64"
    assert build["externalParameters"]["config"] == {
        "path": "dockyard.toml",
        "digest": {"sha256": CONFIG.hex},
    }
    assert build["externalParameters"]["source"] == {
        "ref": "refs/tags/v1.2.3",
        "sha": "a" * 40,
        "event": "push",
        "repository": "https://github.com/acme/fleet",
    }
    assert build["internalParameters"]["builder"] == "buildah 1.28.2"
    assert s["predicate"]["runDetails"]["builder"]["id"] == LOCAL_BUILDER
    assert s["predicate"]["runDetails"]["metadata"] == {
        "startedOn": "2026-12-02T10:00:00Z",
        "finishedOn": "2026-12-02T10:01:30Z",
    }


def test_pinned_bases_and_the_commit_are_the_resolved_dependencies_once_each():
    deps = provenance(inputs())["predicate"]["buildDefinition"]["resolvedDependencies"]
    assert deps == [
        {"uri": "git+https://github.com/acme/fleet@refs/tags/v1.2.3", "digest": {"gitCommit": "a" * 40}},
        {
            "uri": "pkg:docker/docker.io/library/golang:1.22?platform=linux%2Famd64",
            "digest": {"sha256": BASE.hex},
        },
    ]


def test_build_args_that_look_like_secrets_are_left_out():
    args = provenance(inputs())["predicate"]["buildDefinition"]["externalParameters"]["args"]
    assert args == {"GO_VERSION": "1.22"}
    assert "s3cret" not in statement_bytes(provenance(inputs())).decode()


def test_a_github_actions_run_is_the_builder_and_the_invocation():
    env = {
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/fleet",
        "GITHUB_RUN_ID": "42",
        "GITHUB_RUN_ATTEMPT": "2",
        "GITHUB_WORKFLOW_REF": "acme/fleet/.github/workflows/release.yml@refs/tags/v1.2.3",
    }
    run = provenance(inputs(environ=env))["predicate"]["runDetails"]
    assert run["builder"]["id"] == (
        "https://github.com/acme/fleet/.github/workflows/release.yml@refs/tags/v1.2.3"
    )
    assert run["metadata"]["invocationId"] == "https://github.com/acme/fleet/actions/runs/42/attempts/2"


def test_the_same_inputs_give_the_same_bytes_and_they_are_json():
    one, two = statement_bytes(provenance(inputs())), statement_bytes(provenance(inputs()))
    assert one == two
    assert json.loads(one)["subject"][0]["digest"]["sha256"] == IMAGE.hex


def test_outside_git_there_is_no_source_commit_and_no_empty_fields():
    s = provenance(inputs(context=GitContext(event="push"), started=None, finished=None))
    build = s["predicate"]["buildDefinition"]
    assert build["externalParameters"]["source"] == {"event": "push"}
    assert [d["uri"].split(":")[0] for d in build["resolvedDependencies"]] == ["pkg"]
    assert "metadata" not in s["predicate"]["runDetails"]
