"""The verification record (pure): settings hash, the document, its artifact, parsing."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from dockyard.config.model import HealthCheck, Policy
from dockyard.digest import parse_digest, sha256_digest
from dockyard.errors import RecordInvalid
from dockyard.findings import Finding
from dockyard.oci import mediatypes as mt
from dockyard.oci.models import EMPTY_DESCRIPTOR, Descriptor, Manifest, parse_manifest
from dockyard.pipeline.release import TargetVerify
from dockyard.platform import parse_platform
from dockyard.verify.image import VerifyOptions
from dockyard.verify.record import (
    RECORD_TYPE,
    SETTINGS_ANNOTATION,
    applied_settings,
    make_record,
    parse_record,
    record_artifact,
    record_layer,
    settings_hash,
)
from dockyard.verify.report import PlatformReport, Report

INDEX = "sha256:" + "b" * 64
AMD, ARM = "sha256:" + "1" * 64, "sha256:" + "2" * 64
NOW = datetime(2026, 12, 2, 11, 40, 5, 123456, tzinfo=UTC)
SUBJECT = Descriptor(mt.OCI_INDEX, parse_digest(INDEX), 500)
OPTIONS = VerifyOptions(
    platforms=(parse_platform("linux/amd64"), parse_platform("linux/arm64")),
    max_size=100,
    non_root=True,
    smoke=True,
    smoke_cmd=("cat", "/f"),
)


def report(*findings: Finding) -> Report:
    platforms = tuple(
        PlatformReport(p, d, "", 1, 1, 1, 0, "1")
        for p, d in (("linux/amd64", AMD), ("linux/arm64", ARM))
    )
    return Report("oci:x:v1", INDEX, mt.OCI_INDEX, platforms, findings)


def finding(severity: str, platform: str) -> Finding:
    return Finding("r", severity, platform, "/", "m")


def test_the_settings_hash_is_sha256_of_sorted_compact_json():
    settings = {"b": [1, 2], "a": {"y": None, "x": "é"}}
    expected = sha256_digest('{"a":{"x":"é","y":null},"b":[1,2]}'.encode())
    assert settings_hash(settings) == str(expected)


def test_the_whole_policy_and_every_option_are_in_the_settings():
    settings = applied_settings(Policy(max_size=100, non_root=True), OPTIONS)
    # Every Policy field, whatever fields Policy has (new keys are covered by themselves).
    assert set(settings["policy"]) == {f.name for f in dataclasses.fields(Policy)}
    assert set(settings["verify"]) == {f.name for f in dataclasses.fields(VerifyOptions)}
    assert settings["verify"]["smoke_cmd"] == ["cat", "/f"]
    assert settings["verify"]["platforms"][0] == {
        "os": "linux",
        "architecture": "amd64",
        "variant": "",
    }
    json.dumps(settings)  # JSON-ready


def test_a_record_of_a_verify_that_checked_less_does_not_match(monkeypatch):
    # A newer dockyard that checks more bumps CHECKS: an older record no longer skips verify.
    from dockyard.verify import record as rec

    policy = Policy(max_size=100, non_root=True)
    before = settings_hash(applied_settings(policy, OPTIONS))
    assert applied_settings(policy, OPTIONS)["checks"] == rec.CHECKS
    monkeypatch.setattr(rec, "CHECKS", rec.CHECKS + 1)
    assert settings_hash(applied_settings(policy, OPTIONS)) != before


@pytest.mark.parametrize(
    "change",
    [
        lambda p, o: (dataclasses.replace(p, max_size=99), o),  # [policy] max-size tightened
        lambda p, o: (dataclasses.replace(p, non_root=False), o),
        lambda p, o: (p, dataclasses.replace(o, smoke_cmd=("true",))),  # smoke argv
        lambda p, o: (p, dataclasses.replace(o, smoke=False, smoke_cmd=())),
        lambda p, o: (p, dataclasses.replace(o, platforms=o.platforms[:1])),
        lambda p, o: (p, dataclasses.replace(o, health=HealthCheck(http="/health"))),  # health on
    ],
)
def test_changing_policy_or_smoke_changes_the_hash(change):
    policy = Policy(max_size=100, non_root=True)
    before = settings_hash(applied_settings(policy, OPTIONS))
    assert settings_hash(applied_settings(*change(policy, OPTIONS))) != before
    assert settings_hash(applied_settings(policy, OPTIONS)) == before  # and it is stable


def test_a_record_counts_findings_per_child_by_severity():
    rep = report(
        finding("warning", "linux/arm64"), finding("info", "linux/arm64"), finding("info", "")
    )
    record = make_record(rep, settings={"k": 1}, version="9.9", now=NOW)
    doc = record.to_json()
    assert doc == {
        "format": 1,
        "index": INDEX,
        "settings_hash": settings_hash({"k": 1}),
        "settings": {"k": 1},
        "children": [
            {
                "platform": "linux/amd64",
                "digest": AMD,
                "findings": {"error": 0, "warning": 0, "info": 0},
                "health": None,
            },
            {
                "platform": "linux/arm64",
                "digest": ARM,
                "findings": {"error": 0, "warning": 1, "info": 1},
                "health": None,
            },
        ],
        "findings": {"error": 0, "warning": 1, "info": 2},
        "dockyard_version": "9.9",
        "verified_at": "2026-12-02T11:40:05Z",
    }
    assert record.date == "2026-12-02"


def test_a_failed_report_gets_no_record():
    with pytest.raises(ValueError, match="error findings"):
        make_record(report(finding("error", "linux/amd64")), settings={}, version="1", now=NOW)


def test_a_local_time_is_recorded_in_utc():
    local = NOW.astimezone(timezone(timedelta(hours=-5)))
    record = make_record(report(), settings={}, version="1", now=local)
    assert record.to_json()["verified_at"] == "2026-12-02T11:40:05Z"


def test_the_artifact_is_an_oci_11_referrer_of_the_index():
    record = make_record(report(), settings={"k": 1}, version="1", now=NOW)
    raw, blobs = record_artifact(record, SUBJECT)
    manifest = parse_manifest(raw)
    assert isinstance(manifest, Manifest)
    assert manifest.artifact_type == RECORD_TYPE
    assert manifest.config == EMPTY_DESCRIPTOR
    assert manifest.subject == SUBJECT
    assert manifest.annotations[SETTINGS_ANNOTATION] == record.settings_hash
    assert manifest.annotations["org.opencontainers.image.created"] == "2026-12-02T11:40:05Z"
    layer = record_layer(manifest, SUBJECT.digest, "here")
    assert layer.media_type == RECORD_TYPE
    assert parse_record(blobs[layer.digest], "here") == record
    assert set(blobs) == {EMPTY_DESCRIPTOR.digest, layer.digest}
    with pytest.raises(ValueError):
        record_artifact(record, Descriptor(mt.OCI_INDEX, parse_digest(AMD), 1))


def test_a_record_of_another_subject_or_type_is_refused():
    record = make_record(report(), settings={}, version="1", now=NOW)
    raw, _ = record_artifact(record, SUBJECT)
    manifest = parse_manifest(raw)
    with pytest.raises(RecordInvalid, match="subject"):
        record_layer(manifest, parse_digest(AMD), "here")
    other = dataclasses.replace(manifest, artifact_type="application/vnd.other")
    with pytest.raises(RecordInvalid, match="artifactType"):
        record_layer(other, SUBJECT.digest, "here")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda d: d.update(format=2),
        lambda d: d.pop("index"),
        lambda d: d.update(index="sha256:xyz"),
        lambda d: d.update(children={}),
        lambda d: d["findings"].pop("info"),
        lambda d: d["findings"].update(error=-1),
        lambda d: d.update(verified_at="yesterday"),
        lambda d: d.update(verified_at="2026-12-02T11:40:05"),  # no zone
        lambda d: d["settings"].update(k=2),  # settings that do not hash to settings_hash
    ],
)
def test_a_record_that_does_not_parse_is_refused(mangle):
    doc = make_record(report(), settings={"k": 1}, version="1", now=NOW).to_json()
    mangle(doc)
    with pytest.raises(RecordInvalid, match="here"):
        parse_record(json.dumps(doc).encode(), "here")
    for junk in (b"", b"[]", b"\xff"):
        with pytest.raises(RecordInvalid):
            parse_record(junk, "here")


def test_the_release_cell_for_a_skip_says_the_date_and_record_never_passed():
    record = make_record(report(), settings={}, version="1", now=NOW)
    skipped = TargetVerify("a", None, recorded=record)
    assert (skipped.summary, skipped.ok) == ("verified 2026-12-02 (record)", True)
    assert "passed" not in skipped.summary
    doc = skipped.to_json()
    assert (doc["skipped"], doc["report"], doc["record"]["verified_at"]) == (
        True, None, "2026-12-02T11:40:05Z",
    )  # fmt: skip
    ran = TargetVerify("a", report(), record=record)
    assert ran.summary == "passed" and ran.to_json()["skipped"] is False
    from dockyard.verify.report import HealthResult

    live = report()
    live = dataclasses.replace(
        live, platforms=tuple(dataclasses.replace(p, health=HealthResult("healthy", 1.0)) for p in live.platforms)
    )
    assert TargetVerify("a", live).summary == "passed, healthy"


# ---------------------------------------------------------------- in a store (an OCI layout)


def layout_with_index(tmp_path):
    from dockyard.oci.layout import LayoutStore
    from dockyard.oci.models import build_index
    from tests.helpers.images import make_image, push_image

    store = LayoutStore(tmp_path / "lay")
    image = make_image((10,))
    push_image(store, image)
    raw, desc = build_index([image.descriptor])
    store.manifest_put(raw, mt.OCI_INDEX, tag="v1")
    return store, desc


def put_raw_record(store, subject: Descriptor, document: bytes, *, annotations=None) -> None:
    """A referrer that claims to be a record, with whatever `document` holds."""
    import io

    from dockyard.oci.models import EMPTY_JSON, build_manifest, descriptor_of

    layer = descriptor_of(document, RECORD_TYPE)
    for digest, data in ((EMPTY_DESCRIPTOR.digest, EMPTY_JSON), (layer.digest, document)):
        store.blob_put(digest, len(data), io.BytesIO(data))
    raw, _ = build_manifest(
        EMPTY_DESCRIPTOR,
        [layer],
        artifact_type=RECORD_TYPE,
        subject=subject,
        annotations=annotations,
    )
    store.referrer_put(raw, mt.OCI_MANIFEST)


def test_find_record_takes_only_a_valid_record_of_the_same_digest_and_settings(tmp_path):
    from dockyard.verify.attach import attach_record, find_record

    store, subject = layout_with_index(tmp_path)
    record = make_record(
        dataclasses.replace(report(), digest=str(subject.digest)),
        settings={"k": 1},
        version="1",
        now=NOW,
    )
    wanted = record.settings_hash
    assert find_record(store, subject.digest, wanted) is None
    # Junk that claims the record type, a record of other settings, one naming another index.
    put_raw_record(store, subject, b"not json")
    other = make_record(
        dataclasses.replace(report(), digest=str(subject.digest)),
        settings={"k": 2},
        version="1",
        now=NOW,
    )
    attach_record(store, other, subject)
    stray = json.loads(json.dumps(record.to_json()))
    stray["index"] = AMD
    put_raw_record(
        store, subject, json.dumps(stray).encode()
    )  # no hint annotation: fetched, refused
    assert len(store.referrers(subject.digest, artifact_type=RECORD_TYPE)) == 3
    assert find_record(store, subject.digest, wanted) is None
    attach_record(store, record, subject)
    found = find_record(store, subject.digest, wanted)
    assert found == record
    # The newest of two matching records.
    later = dataclasses.replace(record, verified_at=record.verified_at + timedelta(days=1))
    attach_record(store, later, subject)
    assert find_record(store, subject.digest, wanted).verified_at == later.verified_at


def test_a_record_states_each_childs_live_health_and_reads_back():
    from dockyard.verify.report import HealthResult

    rep = report()
    healthy = HealthResult("healthy", 2.5, emulated=True, http_url="http://127.0.0.1:1/health", http_status=200)
    rep = dataclasses.replace(
        rep, platforms=(rep.platforms[0], dataclasses.replace(rep.platforms[1], health=healthy))
    )
    record = make_record(rep, settings={"k": 1}, version="9.9", now=NOW)
    children = record.to_json()["children"]
    assert [c["health"] for c in children] == [
        None,
        {"status": "healthy", "seconds": 2.5, "emulated": True, "http_status": 200},
    ]
    again = parse_record(json.dumps(record.to_json()).encode(), "r")
    assert again.children[1].health == {"status": "healthy", "seconds": 2.5, "emulated": True, "http_status": 200}
    # A record from before CHECKS 2 has no "health" in its children: read as not run.
    old = record.to_json()
    for child in old["children"]:
        del child["health"]
    assert parse_record(json.dumps(old).encode(), "r").children[1].health is None
