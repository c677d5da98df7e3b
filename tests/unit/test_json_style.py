"""One key style in every `--json` document (README, "The CLI contract").

dockyard's own fields are snake_case. Two kinds of map are left alone, named
here by the key that holds them: maps whose keys are data (labels,
annotations, build args: a user or Docker picks those names) and an OCI
object embedded verbatim (a config's Healthcheck keeps `Test`, `Interval`).
Everything else in the documents below is walked, key by key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dockyard.builder.resolve import ResolvedBase
from dockyard.config.model import Config, Policy, Project, TagsConfig, Target
from dockyard.context import GitContext
from dockyard.digest import sha256_digest
from dockyard.oci import mediatypes as mt
from dockyard.oci.attached import Attached, CosignTag
from dockyard.oci.imports import ImportedImage, ImportResult
from dockyard.oci.inspect import ImageSummary, InspectResult
from dockyard.oci.models import (
    ATTESTATION_ANNOTATION,
    Descriptor,
    build_manifest,
    parse_config,
    parse_manifest,
)
from dockyard.plan.model import make_plan
from dockyard.platform import Platform, parse_platform
from dockyard.ref import parse_ref
from dockyard.verify.checks import check_healthcheck, check_smoke, select_children
from dockyard.verify.report import PlatformReport, Report, SmokeResult

KEY = re.compile(r"^[a-z][a-z0-9_]*$")
# Keys whose value is not walked: data-keyed maps and verbatim OCI objects.
OPAQUE = frozenset({"labels", "annotations", "args", "healthcheck"})

AMD64 = parse_platform("linux/amd64")
ARM64 = parse_platform("linux/arm64")
NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
SHA = "0123456789abcdef0123456789abcdef01234567"
HEALTHCHECK = {"Test": ["NONE"], "Interval": 30_000_000_000}
CONFIG = json.dumps(
    {
        "os": "linux",
        "architecture": "arm64",
        "created": "2026-11-24T12:00:00Z",
        "config": {
            "User": "1000",
            "WorkingDir": "/app",
            "Labels": {"org.opencontainers.image.version": "1.2.3"},
            "Healthcheck": HEALTHCHECK,
        },
        "rootfs": {"type": "layers", "diff_ids": []},
    }
).encode()


def _digest(seed: str):
    return sha256_digest(seed.encode())


def bad_keys(doc: Any, where: str = "$") -> Iterator[str]:
    """Every key path whose key is not snake_case, skipping OPAQUE values."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            path = f"{where}.{key}"
            if not isinstance(key, str) or not KEY.fullmatch(key):
                yield path
            if key not in OPAQUE:
                yield from bad_keys(value, path)
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from bad_keys(value, f"{where}[{i}]")


def verify_report() -> dict[str, Any]:
    smoke = SmokeResult(argv=("/bin/true",), exit_code=None, seconds=60.2, output="", timed_out=True)
    manifest_raw, _ = build_manifest(
        Descriptor(mt.OCI_CONFIG, _digest("config"), 100),
        [Descriptor(mt.OCI_LAYER_GZIP, _digest("layer"), 1000)],
    )
    _, not_an_index = select_children(parse_manifest(manifest_raw), (AMD64, ARM64))
    findings = (
        *not_an_index,
        *check_smoke("linux/arm64", smoke),
        *check_healthcheck("linux/arm64", HEALTHCHECK),
    )
    platform = PlatformReport(
        platform="linux/arm64",
        digest=str(_digest("manifest")),
        config=str(_digest("config")),
        compressed_size=1100,
        uncompressed_size=2048,
        layers=1,
        elf_files=3,
        user="1000",
        checks=("policy.healthcheck", "smoke"),
        smoke=smoke,
    )
    report = Report(
        reference="oci:dist/api:1.2.3",
        digest=str(_digest("manifest")),
        media_type=mt.OCI_MANIFEST,
        platforms=(platform,),
        findings=findings,
    )
    return report.to_json()


def inspect_result() -> dict[str, Any]:
    image = Descriptor(mt.OCI_MANIFEST, _digest("manifest"), 400, ARM64)
    attestation = Descriptor(
        mt.OCI_MANIFEST, _digest("att"), 300, Platform("unknown", "unknown"),
        {ATTESTATION_ANNOTATION: "attestation-manifest", "vnd.docker.reference.digest": str(image.digest)},
    )
    summary = ImageSummary(
        manifest=image,
        config_digest=_digest("config"),
        config=parse_config(CONFIG),
        layers=(Descriptor(mt.OCI_LAYER_GZIP, _digest("layer"), 1000),),
        uncompressed_size=2048,
        attached=Attached(
            image.digest,
            (
                Descriptor(
                    mt.OCI_MANIFEST,
                    _digest("sbom"),
                    500,
                    annotations={"org.opencontainers.image.created": "2026-11-24T12:00:00Z"},
                    artifact_type="application/spdx+json",
                ),
            ),
            (CosignTag(f"sha256-{image.digest.hex}.sig", _digest("sig"), 2),),
        ),
    )
    return InspectResult(
        name="oci:dist/api:1.2.3",
        descriptor=Descriptor(mt.OCI_INDEX, _digest("index"), 700),
        raw=b"{}",
        children=(image, attestation),
        images=(summary,),
        attached=Attached(_digest("index")),
    ).to_json()


def import_result() -> dict[str, Any]:
    image = ImportedImage(
        platform=ARM64,
        manifest=Descriptor(mt.OCI_MANIFEST, _digest("manifest"), 400),
        config=Descriptor(mt.OCI_CONFIG, _digest("config"), 100),
        layer=Descriptor(mt.OCI_LAYER_GZIP, _digest("layer"), 1000),
        diff_id=_digest("tar"),
        uncompressed_size=2048,
    )
    return ImportResult(
        destination="oci:dist/base", tag="base",
        index=Descriptor(mt.OCI_INDEX, _digest("index"), 700), images=(image,),
    ).to_json()


def resolved_base() -> dict[str, Any]:
    return ResolvedBase(
        stage=0, line=1, base="127.0.0.1:5000/base/busybox:1.35",
        reference=parse_ref("127.0.0.1:5000/base/busybox:1.35"), platform=ARM64,
        digest=_digest("manifest"), index_digest=_digest("index"), media_type=mt.OCI_MANIFEST,
    ).to_json()


def plan() -> dict[str, Any]:
    root = Path("/repo")
    target = Target(
        name="api",
        context=root / "services/api",
        dockerfile=root / "services/api/Dockerfile",
        image="fleet-api",
        args={"BASE_REGISTRY": "127.0.0.1:5000/base"},
        platforms=(AMD64, ARM64),
        policy=Policy(max_size=40_000_000, non_root=True),
        smoke=("/app/api", "-version"),
    )
    config = Config(
        path=root / "dockyard.toml",
        root=root,
        project=Project(name="fleet", platforms=(AMD64, ARM64), registries=("127.0.0.1:5000/fleet",)),
        tags=TagsConfig(),
        targets={"api": target},
        groups={},
    )
    context = GitContext(event="push", ref="refs/tags/v1.2.3", sha=SHA, default_branch="main")
    return make_plan(config, context, build_platform=AMD64, now=NOW).to_json()


DOCUMENTS = {
    "verify": verify_report,
    "inspect": inspect_result,
    "import": import_result,
    "resolve": resolved_base,
    "plan": plan,
}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_own_key_is_snake_case(name):
    doc = DOCUMENTS[name]()
    assert json.loads(json.dumps(doc)) == doc  # what emit_json would print
    assert list(bad_keys(doc)) == []


def test_the_documents_reach_the_nested_parts():
    """The walk is only as good as what it sees: the nested objects are there."""
    verify = verify_report()
    assert verify["platforms"][0]["smoke"]["timed_out"] is True
    assert {f["rule"] for f in verify["findings"]} == {
        "index.not-an-index", "smoke.timeout", "policy.healthcheck",
    }
    inspect = inspect_result()
    assert inspect["images"][0]["config"]["working_dir"] == "/app"
    assert inspect["manifests"][1]["attestation"] is True
    assert inspect["images"][0]["referrers"][0]["artifact_type"] == "application/spdx+json"
    assert inspect["images"][0]["cosign_tags"][0]["kind"] == "signatures"
    assert inspect["referrers"] == [] and inspect["cosign_tags"] == []
    assert plan()["targets"][0]["jobs"][0]["args"]["BASE_REGISTRY"] == "127.0.0.1:5000/base"


@pytest.mark.parametrize(
    ("doc", "bad"),
    [
        ({"mediaType": "x"}, ["$.mediaType"]),
        ({"platforms": [{"smoke": {"exitCode": 1}}]}, ["$.platforms[0].smoke.exitCode"]),
        ({"detail": {"Test": []}}, ["$.detail.Test"]),
        ({"a-b": 1, "_x": 2, "9": 3}, ["$.a-b", "$._x", "$.9"]),
        ({"labels": {"org.example.Key": "v"}, "healthcheck": {"Test": []}}, []),
        ({"config": {"labels": {"A": 1}, "workingDir": "/"}}, ["$.config.workingDir"]),
    ],
)
def test_the_walk_catches_camel_case(doc, bad):
    assert list(bad_keys(doc)) == bad
