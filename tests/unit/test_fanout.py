"""Digest files (pipeline.fanout) and merge's pure checks (pipeline.merge): format, errors, index."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.builder.inputs import INPUT_HASH_ANNOTATION
from dockyard.builder.result import BasePin
from dockyard.builder.targetlayout import index_child, target_index
from dockyard.config.model import Config, Policy, Project, TagsConfig, Target
from dockyard.context import GitContext
from dockyard.digest import Digest
from dockyard.errors import InputError
from dockyard.oci import mediatypes as mt
from dockyard.oci.models import Index, parse_manifest
from dockyard.pipeline.fanout import (
    DigestRecord,
    PlanStamp,
    format_record,
    parse_record,
    platform_file,
    read_records,
    record_name,
    write_record,
)
from dockyard.pipeline.merge import (
    check_records,
    index_for,
    missing_platforms,
    publish_repositories,
)
from dockyard.plan.model import Plan, TargetPlan, make_plan
from dockyard.platform import Platform
from dockyard.ref import parse_repository

AMD64, ARM64, ARMV7 = Platform("linux", "amd64"), Platform("linux", "arm64"), Platform("linux", "arm", "v7")
STAMP = PlanStamp("1.2.3", "refs/tags/v1.2.3", "a" * 40)


def digest(c: str) -> Digest:
    return Digest("sha256", c * 64)


def pin(platform: Platform, stage: int = 1) -> BasePin:
    return BasePin(stage, "reg/base:1", "127.0.0.1:5000/base:1", platform, digest("b"))


def record(platform: Platform = ARM64, **changes) -> DigestRecord:
    base = DigestRecord(
        target="api",
        platform=platform,
        repository=parse_repository("127.0.0.1:5000/staging"),
        digest=digest("1" if platform == AMD64 else "2"),
        media_type=mt.OCI_MANIFEST,
        size=1234,
        input_hash=digest("3" if platform == AMD64 else "4"),
        image_base=pin(platform),
        bases=(pin(AMD64, 0), pin(platform)),
        created="2026-01-02T03:04:05Z",
        plan=STAMP,
    )
    return replace(base, **changes)


def doc(**changes) -> bytes:
    d = record().to_json()
    for key, value in changes.items():
        if value is _DROP:
            del d[key]
        else:
            d[key] = value
    return json.dumps(d).encode()


_DROP = object()


def target_plan(platforms=(AMD64, ARM64), repositories=("127.0.0.1:5000/acme/api", "127.0.0.1:5001/acme/api"),
                tags=("1.2.3", "1.2", "latest"), image="acme/api") -> TargetPlan:
    return TargetPlan(
        name="api", context=Path("api"), dockerfile=Path("api/Dockerfile"), platforms=platforms,
        image=image, repositories=tuple(parse_repository(r) for r in repositories), tag_names=tags,
        labels={}, annotations={"org.opencontainers.image.version": "1.2.3"},
        policy=Policy(), smoke=(), jobs=(),
    )


def plan_of(*targets: TargetPlan) -> Plan:
    context = GitContext(event="push", ref=STAMP.ref, sha=STAMP.sha)
    return Plan("t", STAMP.version, context, AMD64, "2026-01-02T03:04:05Z", targets)


# ---------------------------------------------------------------- names and format


@pytest.mark.parametrize(
    ("platform", "name"),
    [(AMD64, "linux-amd64.json"), (ARM64, "linux-arm64.json"), (ARMV7, "linux-arm-v7.json")],
)
def test_platform_file_names(platform, name):
    assert platform_file(platform) == name
    assert record_name("api", platform) == f"api/{name}"


def test_format_is_the_documented_json():
    data = format_record(record())
    assert data.endswith(b"\n") and data.isascii()
    d = json.loads(data)
    assert list(d) == [
        "version", "target", "platform", "repository", "digest", "media_type", "size",
        "input_hash", "image_base", "bases", "created", "plan",
    ]
    assert d["version"] == 1
    assert d["repository"] == "127.0.0.1:5000/staging"
    assert d["plan"] == {"version": "1.2.3", "ref": "refs/tags/v1.2.3", "sha": "a" * 40}
    assert d["image_base"]["platform"] == "linux/arm64"


@pytest.mark.parametrize("platform", [AMD64, ARM64, ARMV7])
def test_round_trip(platform):
    r = record(platform)
    assert parse_record(format_record(r), name=r.name) == r


def test_round_trip_without_a_base():
    r = record(image_base=None, bases=())
    assert parse_record(format_record(r), name=r.name) == r


_text = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF), max_size=20)


@given(
    platform=st.sampled_from([AMD64, ARM64, ARMV7]),
    size=st.integers(min_value=1, max_value=2**40),
    created=_text,
    version=_text,
    base=_text,
    stage=st.integers(min_value=0, max_value=50),
    with_base=st.booleans(),
)
def test_format_parse_round_trips(platform, size, created, version, base, stage, with_base):
    p = BasePin(stage, base, "127.0.0.1:5000/base:1", platform, digest("c"))
    r = record(
        platform, size=size, created=created, plan=replace(STAMP, version=version),
        image_base=p if with_base else None, bases=(p,),
    )
    assert parse_record(format_record(r), name=r.name) == r


N = "api/linux-arm64.json"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{", f"{N}: not a JSON digest file (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
        (b"[]", f"{N}: not a JSON object (expected a digest file, version 1)"),
        (b"\xff", f"{N}: not a JSON digest file ('utf-8' codec can't decode byte 0xff in position 0: invalid start byte)"),
        (doc(digest=_DROP), f"{N}: field 'digest' is missing (a digest file has version, target, platform, repository, digest, media_type, size, input_hash, image_base, bases, created, plan)"),
        (doc(extra=1), f"{N}: unknown field 'extra' (a digest file has version, target, platform, repository, digest, media_type, size, input_hash, image_base, bases, created, plan)"),
        (doc(version=2), f"{N}: version 2 is not a digest file version this dockyard reads (expected 1)"),
        (doc(version="1"), f"{N}: field 'version' is \"1\" (expected an integer)"),
        (doc(size=True), f"{N}: field 'size' is true (expected an integer)"),
        (doc(size=0), f"{N}: size 0 is not a manifest size (expected a positive integer)"),
        (doc(media_type=mt.OCI_INDEX), f"{N}: media_type '{mt.OCI_INDEX}' is not an image manifest type (expected one of {', '.join(sorted(mt.MANIFEST_TYPES))})"),
        (doc(digest="sha256:xyz"), f"{N}: field 'digest': 'sha256:xyz' is not a digest (expected sha256:<64 lower-case hex digits>)"),
        (doc(input_hash=None), f"{N}: field 'input_hash' is null (expected a string)"),
        (doc(repository="127.0.0.1:5000/staging:v1"), f"{N}: field 'repository': "),
        (doc(platform="linux/aarch64"), f"{N}: field 'platform': 'linux/aarch64' is not written canonically (expected 'linux/arm64')"),
        (doc(plan={"version": "1"}), f"{N}: field 'plan': expected an object with version, ref, sha"),
        (doc(plan={"version": 1, "ref": "", "sha": ""}), f"{N}: plan: field 'version' is 1 (expected a string)"),
        (doc(bases=[{"stage": 0}]), f"{N}: bases[0]: expected an object with stage, base, reference, platform, digest"),
        (doc(image_base="x"), f"{N}: image_base: expected an object with stage, base, reference, platform, digest"),
        (doc(platform="linux/amd64"), f"{N}: holds target 'api', platform linux/amd64 (expected at api/linux-amd64.json; digest files are not to be renamed)"),
        (doc(target="web"), f"{N}: holds target 'web', platform linux/arm64 (expected at web/linux-arm64.json; digest files are not to be renamed)"),
    ],
)
def test_malformed_files_are_refused_naming_file_and_field(data, message):
    with pytest.raises(InputError) as err:
        parse_record(data, name=N)
    if message.endswith(": "):  # the reference parser's own wording follows
        assert str(err.value).startswith(message)
    else:
        assert str(err.value) == message


# ---------------------------------------------------------------- files


def test_write_then_read_a_directory(tmp_path):
    a, b = record(AMD64), record(ARM64)
    for r in (a, b):
        write_record(tmp_path, r)
    (tmp_path / "api" / "notes.txt").write_text("ignored")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json")) == [
        "api/linux-amd64.json", "api/linux-arm64.json",
    ]
    assert (tmp_path / a.name).stat().st_mode & 0o777 == 0o644
    assert read_records(tmp_path, ["api", "web"]) == {"api": {AMD64: a, ARM64: b}, "web": {}}


def test_read_refuses_a_symlink_and_a_missing_directory(tmp_path):
    write_record(tmp_path, record(AMD64))
    (tmp_path / "api" / "linux-arm64.json").symlink_to(tmp_path / "api" / "linux-amd64.json")
    with pytest.raises(InputError) as err:
        read_records(tmp_path, ["api"])
    assert str(err.value) == (
        f"{tmp_path}/api/linux-arm64.json: not a regular file (digest files are plain files, no symlinks)"
    )
    with pytest.raises(InputError) as err:
        read_records(tmp_path / "nope", ["api"])
    assert str(err.value) == (
        f"--digest-dir {tmp_path}/nope: no such directory (the build jobs' digest files go there)"
    )


# ---------------------------------------------------------------- merge's checks


def test_check_records_accepts_a_matching_set():
    check_records(target_plan(), {AMD64: record(AMD64), ARM64: record(ARM64)}, STAMP)


@pytest.mark.parametrize(
    ("records", "message"),
    [
        (
            {ARMV7: record(ARMV7)},
            "api/linux-arm-v7.json: linux/arm/v7 is not a platform of target 'api' (planned: linux/amd64, linux/arm64)",
        ),
        (
            {ARM64: record(ARM64, plan=PlanStamp("1.2.4", "refs/tags/v1.2.4", "b" * 40))},
            "api/linux-arm64.json: built for version 1.2.4, ref refs/tags/v1.2.4, sha " + "b" * 40
            + ", but this merge plans version 1.2.3, ref refs/tags/v1.2.3, sha " + "a" * 40
            + " (run merge with the build jobs' --ref/--sha, on the same commit)",
        ),
        (
            {AMD64: record(AMD64), ARM64: record(ARM64, repository=parse_repository("127.0.0.1:5000/other"))},
            "target 'api': its images were pushed to 127.0.0.1:5000/staging (api/linux-amd64.json) and "
            "127.0.0.1:5000/other (api/linux-arm64.json) (expected one --push-by-digest repository per target)",
        ),
    ],
)
def test_check_records_refuses(records, message):
    with pytest.raises(InputError) as err:
        check_records(target_plan(), records, STAMP)
    assert str(err.value) == message


def test_missing_platforms_in_plan_order():
    plan = plan_of(target_plan())
    assert missing_platforms(plan, {"api": {ARM64: record()}}) == [("api", AMD64)]
    assert missing_platforms(plan, {}) == [("api", AMD64), ("api", ARM64)]
    assert missing_platforms(plan, {"api": {AMD64: record(AMD64), ARM64: record()}}) == []


def _planned(*rules: str) -> TargetPlan:
    root = Path("/repo")
    config = Config(
        path=root / "dockyard.toml", root=root,
        project=Project("t", (AMD64,), ("127.0.0.1:5000/acme", "127.0.0.1:5001/acme")),
        tags=TagsConfig(rules=rules),
        targets={"api": Target("api", root / "api", root / "api/Dockerfile", "api", platforms=(AMD64,))},
    )  # fmt: skip
    context = GitContext(event="push", ref=STAMP.ref, sha=STAMP.sha)
    return make_plan(config, context, build_platform=AMD64, now=datetime(2026, 1, 2, tzinfo=UTC)).targets[0]


def test_merge_publishes_the_plans_tags_in_the_engine_order_once_each():
    # merge hands publish the plan's tags as they are: bare, in the engine's order, once
    # each, although the engine lists `latest` twice here (the raw rule's and its own).
    rules = ("type=semver,pattern={{version}}", "type=semver,pattern={{major}}.{{minor}}", "type=raw,value=latest")
    assert _planned(*rules).tag_names == ("1.2.3", "1.2", "latest")
    assert _planned("type=raw,value=x,enable=false").tag_names == ()


def test_publish_repositories_need_a_registry():
    assert [r.name for r in publish_repositories(target_plan())] == [
        "127.0.0.1:5000/acme/api", "127.0.0.1:5001/acme/api",
    ]
    with pytest.raises(InputError) as err:
        publish_repositories(target_plan(repositories=(), image="fleet-api"))
    assert str(err.value) == (
        "target 'api': no registry to publish to (image fleet-api; "
        "set [project] registries in dockyard.toml or pass --registry)"
    )


def test_index_is_the_one_the_build_writes_in_plan_order():
    records = {ARM64: record(ARM64), AMD64: record(AMD64)}  # file order does not matter
    raw, desc = index_for(target_plan(), records)
    index = parse_manifest(raw, desc.media_type)
    assert isinstance(index, Index) and index.digest == desc.digest
    assert [str(c.platform) for c in index.manifests] == ["linux/amd64", "linux/arm64"]
    child = index.manifests[1]
    assert child.annotations == {
        INPUT_HASH_ANNOTATION: str(digest("4")),
        "org.opencontainers.image.base.name": "127.0.0.1:5000/base:1",
        "org.opencontainers.image.base.digest": str(digest("b")),
    }
    assert index.annotations == {"org.opencontainers.image.version": "1.2.3"}
    # The same function the build's write_index uses, on the same entries: the same bytes.
    same = target_index(
        [
            index_child(r.media_type, r.digest, r.size, r.platform, input_hash=r.input_hash, image_base=r.image_base)
            for r in (records[AMD64], records[ARM64])
        ],
        annotations={"org.opencontainers.image.version": "1.2.3"},
    )
    assert same == (raw, desc)
