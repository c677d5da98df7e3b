"""OCI models: parsing keeps exact bytes, refuses confusion, building is pure."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.digest import parse_digest, sha256_digest
from dockyard.errors import ManifestInvalid, OperationError
from dockyard.oci import mediatypes as mt
from dockyard.oci.models import (
    MAX_MANIFEST_SIZE,
    Descriptor,
    Index,
    Manifest,
    build_index,
    build_manifest,
    parse_config,
    parse_manifest,
)
from dockyard.platform import Platform

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
C = "sha256:" + "c" * 64


def desc(media_type=mt.OCI_MANIFEST, digest=A, size=10, **extra):
    return {"mediaType": media_type, "digest": digest, "size": size, **extra}


def raw(doc) -> bytes:
    return json.dumps(doc).encode()


MANIFEST = {
    "schemaVersion": 2,
    "mediaType": mt.OCI_MANIFEST,
    "config": desc(mt.OCI_CONFIG, A, 100),
    "layers": [desc(mt.OCI_LAYER_GZIP, B, 2000)],
}
INDEX = {
    "schemaVersion": 2,
    "mediaType": mt.OCI_INDEX,
    "manifests": [
        desc(digest=A, platform={"architecture": "amd64", "os": "linux"}),
        desc(digest=B, platform={"architecture": "arm64", "os": "linux", "variant": "v8"}),
        desc(
            digest=C,
            platform={"architecture": "unknown", "os": "unknown"},
            annotations={"vnd.docker.reference.type": "attestation-manifest"},
        ),
    ],
}


def test_manifest_keeps_exact_bytes_and_digest():
    data = json.dumps(MANIFEST, indent=3).encode()  # not our formatting: must be kept
    m = parse_manifest(data)
    assert isinstance(m, Manifest)
    assert m.raw == data
    assert str(m.digest) == "sha256:" + hashlib.sha256(data).hexdigest()
    assert m.size == len(data)
    assert m.config.digest == parse_digest(A)
    assert [str(layer.digest) for layer in m.layers] == [B]
    assert m.descriptor().media_type == mt.OCI_MANIFEST


def test_index_platforms_exclude_attestations():
    idx = parse_manifest(raw(INDEX), mt.OCI_INDEX)
    assert isinstance(idx, Index)
    assert [str(d.platform) for d in idx.platforms()] == ["linux/amd64", "linux/arm64/v8"]
    assert [str(d.digest) for d in idx.attestations()] == [C]
    assert idx.manifests[2].is_attestation
    assert not idx.manifests[0].is_attestation


def test_index_find_by_platform():
    idx = parse_manifest(raw(INDEX))
    assert str(idx.find(Platform("linux", "amd64")).digest) == A
    assert idx.find(Platform("linux", "s390x")) is None
    assert idx.find(Platform("unknown", "unknown")) is None


def test_docker_schema2_types_parse():
    doc = dict(MANIFEST, mediaType=mt.DOCKER_MANIFEST)
    m = parse_manifest(raw(doc), mt.DOCKER_MANIFEST + "; charset=utf-8")
    assert m.media_type == mt.DOCKER_MANIFEST
    lst = parse_manifest(raw(dict(INDEX, mediaType=mt.DOCKER_LIST)))
    assert lst.media_type == mt.DOCKER_LIST


@pytest.mark.parametrize(
    ("doc", "content_type", "expected"),
    [
        ({k: v for k, v in MANIFEST.items() if k != "mediaType"}, None, mt.OCI_MANIFEST),
        ({k: v for k, v in INDEX.items() if k != "mediaType"}, None, mt.OCI_INDEX),
        (
            {k: v for k, v in MANIFEST.items() if k != "mediaType"},
            mt.DOCKER_MANIFEST,
            mt.DOCKER_MANIFEST,
        ),
        (MANIFEST, "application/json", mt.OCI_MANIFEST),
        (MANIFEST, "application/octet-stream", mt.OCI_MANIFEST),
    ],
)
def test_media_type_from_field_header_or_shape(doc, content_type, expected):
    assert parse_manifest(raw(doc), content_type).media_type == expected


BAD = [
    (
        dict(MANIFEST, manifests=[]),
        None,
        "manifest has both 'manifests' and 'config'/'layers' (ambiguous: refused)",
    ),
    (
        MANIFEST,
        mt.OCI_INDEX,
        f"manifest: mediaType '{mt.OCI_MANIFEST}' differs from Content-Type '{mt.OCI_INDEX}' (refused)",
    ),
    (
        dict(MANIFEST, mediaType=mt.OCI_INDEX),
        None,
        f"manifest: content does not match media type '{mt.OCI_INDEX}'",
    ),
    (
        dict(MANIFEST, schemaVersion=1),
        None,
        "manifest: schemaVersion 1 is not supported (expected 2)",
    ),
    (
        dict(MANIFEST, mediaType="application/vnd.docker.distribution.manifest.v1+prettyjws"),
        None,
        "manifest: media type 'application/vnd.docker.distribution.manifest.v1+prettyjws' "
        "is not supported (expected one of " + ", ".join(sorted(mt.ALL_MANIFEST_TYPES)) + ")",
    ),
    (
        dict(MANIFEST, layers=[desc(digest="sha256:../../etc/passwd")]),
        None,
        "manifest.layers[0].digest: 'sha256:../../etc/passwd' is not a digest "
        "(expected sha256:<64 lower-case hex digits>)",
    ),
    (
        dict(MANIFEST, layers=[desc(size=-1)]),
        None,
        "manifest.layers[0].size: -1 is not a size (expected an integer >= 0)",
    ),
    (
        dict(MANIFEST, layers=[desc(size=True)]),
        None,
        "manifest.layers[0].size: True is not a size (expected an integer >= 0)",
    ),
    (
        dict(MANIFEST, config={"digest": A, "size": 1}),
        None,
        "manifest.config.mediaType: missing (expected a non-empty string)",
    ),
    (
        dict(MANIFEST, layers={}),
        None,
        "manifest.layers: expected a list, got an object",
    ),
    (
        dict(INDEX, manifests=[desc(platform={"os": "linux"})]),
        None,
        "index.manifests[0].platform.architecture: missing (expected a non-empty string)",
    ),
    (
        dict(INDEX, manifests=[desc(annotations={"a": 1})]),
        None,
        "index.manifests[0].annotations: expected an object of strings",
    ),
    ([], None, "manifest: expected a JSON object, got a list"),
]


@pytest.mark.parametrize(("doc", "content_type", "message"), BAD)
def test_refused_manifests(doc, content_type, message):
    with pytest.raises(ManifestInvalid) as info:
        parse_manifest(raw(doc), content_type)
    assert str(info.value) == message
    assert isinstance(info.value, OperationError)


def test_not_json_is_refused():
    with pytest.raises(ManifestInvalid, match=r"^manifest: not valid JSON \("):
        parse_manifest(b"{nope")


def test_oversized_manifest_is_refused_unparsed():
    data = b" " * (MAX_MANIFEST_SIZE + 1)
    with pytest.raises(ManifestInvalid) as info:
        parse_manifest(data)
    assert (
        str(info.value)
        == f"manifest: {MAX_MANIFEST_SIZE + 1} bytes exceeds the 4194304 byte limit (refused)"
    )


def test_build_manifest_is_canonical_and_parses_back():
    config = Descriptor(mt.OCI_CONFIG, parse_digest(A), 100)
    layer = Descriptor(mt.OCI_LAYER_GZIP, parse_digest(B), 2000)
    data, d = build_manifest(config, [layer], annotations={"k": "v"})
    assert data == (
        b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
        b'"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"'
        + A.encode()
        + b'","size":100},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip",'
        b'"digest":"' + B.encode() + b'","size":2000}],"annotations":{"k":"v"}}'
    )
    assert d == Descriptor(mt.OCI_MANIFEST, sha256_digest(data), len(data))
    m = parse_manifest(data)
    assert (m.config, m.layers, dict(m.annotations)) == (config, (layer,), {"k": "v"})


def test_build_index_descriptor_key_order_matches_go():
    child = Descriptor(
        mt.OCI_MANIFEST,
        parse_digest(A),
        5,
        Platform("linux", "arm", "v7"),
        {"org.opencontainers.image.ref.name": "t"},
    )
    data, d = build_index([child])
    assert data == (
        b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":'
        b'[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"'
        + A.encode()
        + b'","size":5,"annotations":{"org.opencontainers.image.ref.name":"t"},'
        b'"platform":{"architecture":"arm","os":"linux","variant":"v7"}}]}'
    )
    assert d.digest == sha256_digest(data)
    assert parse_manifest(data).manifests == (child,)


def test_build_docker_list_and_refuse_non_index_type():
    data, d = build_index([], media_type=mt.DOCKER_LIST)
    assert d.media_type == mt.DOCKER_LIST
    assert parse_manifest(data, mt.DOCKER_LIST).manifests == ()
    with pytest.raises(ValueError):
        build_index([], media_type=mt.OCI_MANIFEST)


def test_descriptor_is_hashable_and_read_only():
    d = Descriptor(mt.OCI_MANIFEST, parse_digest(A), 1, annotations={"a": "b"})
    assert hash(d) == hash(Descriptor(mt.OCI_MANIFEST, parse_digest(A), 1))
    with pytest.raises(TypeError):
        d.annotations["a"] = "c"  # type: ignore[index]


CONFIG = {
    "created": "1970-01-01T00:00:00Z",
    "architecture": "arm",
    "variant": "v7",
    "os": "linux",
    "config": {
        "User": "1000:1000",
        "Env": ["PATH=/bin"],
        "Entrypoint": ["/bin/sh"],
        "Cmd": ["-c", "true"],
        "WorkingDir": "/app",
        "Labels": {"org.opencontainers.image.title": "x"},
        "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 30000000000},
    },
    "rootfs": {"type": "layers", "diff_ids": [A, B]},
}


def test_parse_config_fields():
    c = parse_config(raw(CONFIG))
    assert (c.os, c.architecture, c.variant, str(c.platform)) == (
        "linux",
        "arm",
        "v7",
        "linux/arm/v7",
    )
    assert (c.user, c.working_dir, c.created) == ("1000:1000", "/app", "1970-01-01T00:00:00Z")
    assert (c.env, c.entrypoint, c.cmd) == (("PATH=/bin",), ("/bin/sh",), ("-c", "true"))
    assert dict(c.labels) == {"org.opencontainers.image.title": "x"}
    assert c.healthcheck["Test"] == ["CMD-SHELL", "true"]
    assert [str(d) for d in c.diff_ids] == [A, B]
    assert c.rootfs_type == "layers"
    assert c.digest == sha256_digest(raw(CONFIG))


def test_parse_minimal_config_defaults():
    c = parse_config(b'{"os":"linux","architecture":"amd64"}')
    assert (c.user, c.healthcheck, dict(c.labels), c.diff_ids, c.rootfs_type) == (
        "",
        None,
        {},
        (),
        "",
    )


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"os": "linux"}, "config.architecture: missing (expected a non-empty string)"),
        (
            {"os": "linux", "architecture": 1},
            "config.architecture: expected a string, got a number",
        ),
        (
            dict(CONFIG, rootfs={"diff_ids": ["md5:x"]}),
            "config.rootfs.diff_ids[0]: 'md5:x': unsupported digest algorithm 'md5' "
            "(expected sha256 or sha512)",
        ),
        (
            dict(CONFIG, rootfs={"type": 1, "diff_ids": []}),
            "config.rootfs.type: expected a string, got a number",
        ),
        (dict(CONFIG, config=[]), "config.config: expected an object, got a list"),
        (
            dict(CONFIG, config={"Env": "PATH=/bin"}),
            "config.config.Env: expected a list of strings",
        ),
    ],
)
def test_refused_configs(doc, message):
    with pytest.raises(ManifestInvalid) as info:
        parse_config(raw(doc))
    assert str(info.value) == message


_hex = st.text("0123456789abcdef", min_size=64, max_size=64)
_platforms = st.builds(
    Platform,
    st.sampled_from(["linux", "windows"]),
    st.sampled_from(["amd64", "arm64", "arm", "s390x"]),
    st.sampled_from(["", "v7", "v8"]),
)
_descriptors = st.builds(
    Descriptor,
    st.sampled_from(sorted(mt.ALL_MANIFEST_TYPES)),
    _hex.map(lambda h: parse_digest("sha256:" + h)),
    st.integers(0, 2**40),
    st.none() | _platforms,
    st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8), max_size=3),
)


@given(
    st.lists(_descriptors, max_size=5), st.dictionaries(st.text(max_size=5), st.text(max_size=5))
)
def test_build_index_round_trips(children, annotations):
    data, d = build_index(children, annotations=annotations)
    idx = parse_manifest(data, d.media_type)
    assert idx.manifests == tuple(children)
    assert dict(idx.annotations) == annotations
    assert idx.raw == data and idx.digest == d.digest and idx.size == d.size
