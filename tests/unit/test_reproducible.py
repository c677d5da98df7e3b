"""build.reproducible: a Docker-format config loses exactly the builder run's own ids."""

from __future__ import annotations

import json

from dockyard.builder.reproducible import reproducible_config, with_config
from dockyard.digest import parse_digest
from dockyard.oci.mediatypes import DOCKER_CONFIG, OCI_CONFIG

# The shape buildah 1.28 writes with --format docker (trimmed): ids from one run.
BUILDAH = {
    "created": "2026-01-01T00:00:00Z",
    "container": "efa957a849a7d13057c1ce9de1196aaebe00165be0187fa9915b7f7ae3856296",
    "container_config": {"Hostname": "bec2032b8423", "User": "10001:10001", "Cmd": ["python3"]},
    "config": {"Hostname": "bec2032b8423", "User": "10001:10001", "Cmd": ["python3"],
               "Healthcheck": {"Test": ["CMD", "true"]}},
    "architecture": "amd64",
    "os": "linux",
    "parent": "sha256:e230ecab9b296e279be736029c0fcbf195c166fbe7a31957772da8fb363c8236",
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "1" * 64]},
    "history": [
        {"created": "2026-01-01T00:00:00Z", "created_by": "/bin/sh -c #(nop) COPY dir:843b in /app ",
         "comment": "FROM 127.0.0.1:5000/base/python@sha256:" + "e" * 64},
        {"created": "2026-01-01T00:00:00Z", "created_by": "/bin/sh -c #(nop) USER 10001:10001",
         "comment": "FROM 7435fbf232f4", "empty_layer": True},
    ],
}  # fmt: skip


def test_a_docker_config_loses_the_runs_ids_and_keeps_the_rest():
    raw = json.dumps(BUILDAH).encode()
    doc = json.loads(reproducible_config(raw, DOCKER_CONFIG))
    assert "container" not in doc and "parent" not in doc
    assert doc["config"]["Hostname"] == "" and doc["container_config"]["Hostname"] == ""
    assert doc["history"][0]["comment"] == BUILDAH["history"][0]["comment"]  # a base, by digest
    assert "comment" not in doc["history"][1]
    assert doc["config"]["Healthcheck"] == BUILDAH["config"]["Healthcheck"]
    assert doc["rootfs"] == BUILDAH["rootfs"] and doc["created"] == BUILDAH["created"]


def test_two_runs_that_differ_only_in_their_ids_give_the_same_bytes():
    other = json.loads(json.dumps(BUILDAH))
    other["container"] = "7f71a092ba32244d908c259dabf15b23dd52d55d0da55a06e3ca85980fda2760"
    other["config"]["Hostname"] = other["container_config"]["Hostname"] = "564cfdb919f0"
    other["parent"] = "sha256:" + "f" * 64
    other["history"][1]["comment"] = "FROM 86a60c1f071a"
    first = reproducible_config(json.dumps(BUILDAH).encode(), DOCKER_CONFIG)
    assert reproducible_config(json.dumps(other).encode(), DOCKER_CONFIG) == first
    assert reproducible_config(first, DOCKER_CONFIG) == first  # nothing left to clear: same bytes


def test_an_oci_config_is_returned_as_written():
    raw = b'{"architecture": "arm64", "os": "linux", "parent": "kept: not a docker config"}'
    assert reproducible_config(raw, OCI_CONFIG) is raw


def test_with_config_points_the_manifest_at_the_new_config():
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": DOCKER_CONFIG, "digest": "sha256:" + "a" * 64, "size": 10},
        "layers": [],
    }
    digest = parse_digest("sha256:" + "b" * 64)
    doc = json.loads(with_config(json.dumps(manifest).encode(), digest, 7))
    assert doc["config"] == {"mediaType": DOCKER_CONFIG, "digest": str(digest), "size": 7}
    assert {k: v for k, v in doc.items() if k != "config"} == {
        k: v for k, v in manifest.items() if k != "config"
    }
