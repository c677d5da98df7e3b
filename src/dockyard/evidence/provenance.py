"""SLSA v1 provenance for one platform image, as an in-toto v1 statement (pure).

    statement = provenance(ProvenanceInputs(...))      # a dict, the statement
    data = statement_bytes(statement)                   # canonical JSON, what gets attached

The statement's subject is the platform image (its repository and manifest
digest); the predicate (https://slsa.dev/spec/v1.0/provenance) says:

    buildDefinition.buildType             BUILD_TYPE (dockyard's build of one target for one platform)
    buildDefinition.externalParameters    target, platform, the config file and its digest,
                                          the source (repository, ref, sha, event), build args
                                          minus those whose name looks like a secret
    buildDefinition.internalParameters    dockyard's version, the builder and its version, the input hash
    buildDefinition.resolvedDependencies  the source commit, and every pinned base image by digest
    runDetails.builder.id                 the CI workflow run when GitHub Actions ran it, else
                                          LOCAL_BUILDER
    runDetails.metadata                   invocationId, startedOn, finishedOn

Written by hand rather than with the in-toto packages: the statement is a
small JSON document whose fields the spec fixes, `in-toto` (3.x) models
layouts and links rather than v1 statements, and `in-toto-attestation`
brings protobuf for the same few keys. The tests check every field the spec
requires.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dockyard.context import GitContext
from dockyard.digest import Digest
from dockyard.platform import Platform

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
# dockyard has no web home yet: its annotations use the reverse-DNS `dev.dockyard.`,
# and these URIs the matching `https://dockyard.dev/` (stable names, not fetched).
BUILD_TYPE = "https://dockyard.dev/provenance/build/v1"
LOCAL_BUILDER = "https://dockyard.dev/provenance/builder/local"
# How the statement is attached: the in-toto media type, the predicate type as artifactType.
MEDIA_TYPE = "application/vnd.in-toto+json"
# Build args never written into provenance: a secret passed as a build arg is
# already a mistake (it lands in the image history); provenance does not copy it.
_SECRET_ARG = re.compile(r"(?i)(secret|token|password|passwd|credential|private|api_?key|access_?key)")


@dataclass(frozen=True)
class BasePinned:
    """One base image a stage was built from, by digest (builder.result.BasePin's facts)."""

    reference: str  # docker.io/library/golang:1.22 as resolved
    digest: Digest
    platform: Platform


@dataclass(frozen=True)
class ProvenanceInputs:
    """Everything the statement says, gathered by the caller from the plan and the build."""

    repository: str  # the subject's repository name (host/path), no tag
    digest: Digest  # the platform image's manifest digest
    target: str
    platform: Platform
    context: GitContext
    dockyard_version: str
    builder: str  # "buildah 1.28.2"
    config_path: str = ""  # relative to the project root, e.g. dockyard.toml
    config_digest: Digest | None = None
    args: Mapping[str, str] = field(default_factory=dict)
    bases: Sequence[BasePinned] = ()
    input_hash: Digest | None = None
    started: datetime | None = None
    finished: datetime | None = None
    environ: Mapping[str, str] = field(default_factory=dict)  # for the CI run's identity


def provenance(inputs: ProvenanceInputs) -> dict[str, Any]:
    """The in-toto statement with its SLSA v1 provenance predicate."""
    ctx = inputs.context
    external: dict[str, Any] = {
        "target": inputs.target,
        "platform": str(inputs.platform),
        "source": _source(ctx),
        "args": {k: v for k, v in sorted(inputs.args.items()) if not _SECRET_ARG.search(k)},
    }
    if inputs.config_path:
        external["config"] = {"path": inputs.config_path}
        if inputs.config_digest is not None:
            external["config"]["digest"] = _digest_set(inputs.config_digest)
    internal: dict[str, Any] = {"dockyardVersion": inputs.dockyard_version, "builder": inputs.builder}
    if inputs.input_hash is not None:
        internal["inputHash"] = str(inputs.input_hash)
    builder_id, invocation = _run_identity(ctx, inputs.environ)
    metadata: dict[str, Any] = {}
    if invocation:
        metadata["invocationId"] = invocation
    if inputs.started is not None:
        metadata["startedOn"] = _time(inputs.started)
    if inputs.finished is not None:
        metadata["finishedOn"] = _time(inputs.finished)
    run: dict[str, Any] = {"builder": {"id": builder_id}}
    if metadata:
        run["metadata"] = metadata
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": inputs.repository, "digest": _digest_set(inputs.digest)}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": external,
                "internalParameters": internal,
                "resolvedDependencies": _dependencies(ctx, inputs.bases),
            },
            "runDetails": run,
        },
    }


def statement_bytes(statement: Mapping[str, Any]) -> bytes:
    """Canonical JSON (sorted keys, compact): the same inputs give the same bytes."""
    return json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()


def _source(ctx: GitContext) -> dict[str, str]:
    out = {"ref": ctx.ref, "sha": ctx.sha, "event": ctx.event}
    if ctx.repository:
        out["repository"] = f"{ctx.server_url.rstrip('/')}/{ctx.repository}"
    return {k: v for k, v in out.items() if v}


def _dependencies(ctx: GitContext, bases: Sequence[BasePinned]) -> list[dict[str, Any]]:
    deps: list[dict[str, Any]] = []
    if ctx.sha:
        where = f"{ctx.server_url.rstrip('/')}/{ctx.repository}" if ctx.repository else "."
        uri = f"git+{where}" + (f"@{ctx.ref}" if ctx.ref else "")
        deps.append({"uri": uri, "digest": {"gitCommit": ctx.sha}})
    seen: set[tuple[str, str]] = set()
    for base in bases:
        key = (base.reference, str(base.digest))
        if key in seen:
            continue
        seen.add(key)
        deps.append(
            {
                "uri": f"pkg:docker/{base.reference}?platform={str(base.platform).replace('/', '%2F')}",
                "digest": _digest_set(base.digest),
            }
        )
    return deps


def _run_identity(ctx: GitContext, environ: Mapping[str, str]) -> tuple[str, str]:
    """(builder id, invocation id): the GitHub Actions workflow run, else the local builder."""
    server = environ.get("GITHUB_SERVER_URL", "").rstrip("/")
    repo = environ.get("GITHUB_REPOSITORY", "")
    run_id = environ.get("GITHUB_RUN_ID", "")
    workflow = environ.get("GITHUB_WORKFLOW_REF", "")
    if server and repo and run_id:
        attempt = environ.get("GITHUB_RUN_ATTEMPT", "1")
        builder = f"{server}/{workflow}" if workflow else f"{server}/{repo}/actions"
        return builder, f"{server}/{repo}/actions/runs/{run_id}/attempts/{attempt}"
    return LOCAL_BUILDER, ""


def _digest_set(digest: Digest) -> dict[str, str]:
    return {digest.algorithm: digest.hex}


def _time(when: datetime) -> str:
    """RFC 3339 in UTC; a naive time is taken as UTC."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
