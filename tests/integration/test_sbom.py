"""`dockyard sbom` on real images made from Debian packages: schemas, the dpkg packages, attach.

The images hold a dpkg status written from the .debs' control files
(tests/helpers/debianimage.py); `dpkg-query` reads that status independently
and every document must list exactly those packages with their versions
(and nothing that is not in the image). SPDX documents are parsed back with
spdx-tools' JSON parser and validated with its validator; CycloneDX ones
with cyclonedx-python-lib's strict JSON schema validator.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import unquote

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from dockyard.evidence.artifacts import find
from dockyard.evidence.sbom.generate import packages_of
from dockyard.oci import mediatypes as mt
from dockyard.oci.copy import copy_image
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import parse_manifest
from dockyard.oci.registry import RegistryClient
from tests.helpers.debianimage import CREATED, debian_index, installed

pytestmark = pytest.mark.integration

SPDX, CDX = "application/spdx+json", "application/vnd.cyclonedx+json"
OWN = {"DOCKYARD_SYFT": "0"}


def dockyard(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("DOCKYARD_DEBUG", "DOCKYARD_SYFT")}
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args],
        capture_output=True, env={**base, **(env or {})}, timeout=600,
    )  # fmt: skip


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """(location, store, import result, {platform: rootfs}) of a two-platform Debian index."""
    return debian_index(tmp_path_factory.mktemp("sbom"))


def dpkg_expected(root) -> set[tuple[str, str]]:
    return {(name, version) for name, version, _, _ in installed(root)}


def spdx_packages(doc_bytes: bytes, tmp_path, name: str) -> tuple[dict, set[tuple[str, str]]]:
    """(the JSON, {(name, version)} of its deb packages), after spdx-tools parses and validates it."""
    path = tmp_path / f"{name}.spdx.json"
    path.write_bytes(doc_bytes)
    problems = validate_full_spdx_document(parse_file(str(path)))
    assert problems == [], [p.validation_message for p in problems]
    doc = json.loads(doc_bytes)
    debs = {
        (p["name"], p["versionInfo"])
        for p in doc["packages"]
        if any(r["referenceLocator"].startswith("pkg:deb/") for r in p.get("externalRefs", []))
    }
    return doc, debs


def test_spdx_lists_each_platforms_dpkg_packages_own_readers(image, tmp_path):
    location, _store, result, roots = image
    proc = dockyard("sbom", location, env=OWN)
    assert proc.returncode == 0, proc.stderr
    docs = json.loads(proc.stdout)  # one JSON list, one document per platform
    assert len(docs) == 2
    for imported, doc_json in zip(result.images, docs, strict=True):
        platform = str(imported.platform)
        doc, debs = spdx_packages(json.dumps(doc_json).encode(), tmp_path, imported.platform.slug)
        assert debs == dpkg_expected(roots[platform])
        described = doc["packages"][0]
        assert described["SPDXID"] == "SPDXRef-Image"
        assert described["versionInfo"] == str(imported.manifest.digest)
        assert platform in described["comment"]
        assert doc["creationInfo"]["created"] == CREATED  # the config's, not the clock
        assert doc["creationInfo"]["creators"] == ["Tool: dockyard-0.1.0"]
        libc6 = next(p for p in doc["packages"] if p["name"] == "libc6")
        assert "source package glibc" in libc6["sourceInfo"]
        assert "packaging" in {p["name"] for p in doc["packages"]}  # the dist-info
    # the arm64 document names arm64 packages (not the amd64 ones)
    arm = json.dumps(docs[1])
    assert "arch=arm64" in arm and "arch=amd64" not in arm


def test_cyclonedx_with_syft_lists_the_dpkg_packages_and_validates(image):
    location, _store, result, roots = image
    proc = dockyard("sbom", location, "--format", "cyclonedx", "--platform", "linux/arm64")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)  # the one document, not a list
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.6"
    assert bom["metadata"]["component"]["version"] == str(result.images[1].manifest.digest)
    assert {"name": "syft", "type": "application", "version": "1.18.1"} in (
        bom["metadata"]["tools"]["components"]
    )
    assert bom["metadata"]["timestamp"].startswith("2023-11-14T22:13:20")
    debs = {(c["name"], c["version"]) for c in bom["components"] if c["purl"].startswith("pkg:deb/")}
    assert debs == dpkg_expected(roots["linux/arm64"])


def test_syft_and_the_own_readers_agree_on_the_dpkg_packages(image):
    location, _store, _result, roots = image
    got = {}
    for name, env in (("syft", None), ("own", OWN)):
        proc = dockyard("sbom", location, "--platform", "linux/amd64", "--format", "cyclonedx", env=env)
        assert proc.returncode == 0, proc.stderr
        bom = json.loads(proc.stdout)
        got[name] = {
            unquote(c["purl"])
            for c in bom["components"]
            if c["purl"].startswith("pkg:deb/")
        }
    assert got["syft"] == got["own"]
    assert len(got["own"]) == len(installed(roots["linux/amd64"]))


def test_a_docker_format_image_is_read_by_syft_and_the_own_readers(image, tmp_path):
    # buildah --format docker (kept for HEALTHCHECK) writes Docker schema 2 manifests into layouts.
    _location, store, result, roots = image
    child = parse_manifest(*store.manifest_get(str(result.images[0].manifest.digest)))
    docker = LayoutStore(tmp_path / "docker")
    for desc in child.blobs:
        with store.blob_open(desc.digest) as blob:
            docker.blob_put(desc.digest, desc.size, blob)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": mt.DOCKER_MANIFEST,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "digest": str(child.config.digest), "size": child.config.size},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "digest": str(d.digest), "size": d.size} for d in child.layers],
    }).encode()  # fmt: skip
    docker.manifest_put(manifest, mt.DOCKER_MANIFEST, tag="d")
    for env in (None, OWN):
        proc = dockyard("sbom", f"oci:{tmp_path / 'docker'}:d", "--format", "cyclonedx", env=env)
        assert proc.returncode == 0, proc.stderr
        [bom] = json.loads(proc.stdout)
        debs = {(c["name"], c["version"]) for c in bom["components"] if c["purl"].startswith("pkg:deb/")}
        assert debs == dpkg_expected(roots["linux/amd64"])


def test_packages_of_is_what_the_sbom_lists(image):
    # The scan judges packages_of(store, child digest, platform): the SBOM's own list.
    location, store, result, _roots = image
    child = result.images[1]
    proc = dockyard("sbom", location, "--platform", str(child.platform), "--format", "cyclonedx", env=OWN)
    assert proc.returncode == 0, proc.stderr
    listed = {unquote(c["purl"]) for c in json.loads(proc.stdout)["components"]}
    got = packages_of(store, str(child.manifest.digest), child.platform, environ=OWN)
    assert {unquote(p.purl) for p in got} == listed


def test_two_runs_give_the_same_bytes(image):
    location = image[0]
    for env in (OWN, None):
        first = dockyard("sbom", location, "--platform", "linux/arm64", env=env)
        second = dockyard("sbom", location, "--platform", "linux/arm64", env=env)
        assert first.returncode == second.returncode == 0, first.stderr
        assert first.stdout == second.stdout


def test_attach_then_find_on_a_registry(image, registry):
    _location, store, result, _roots = image
    with RegistryClient() as client:
        copy_image(store, "t", client.store(f"{registry.host}/sbom/debian", push=True), tag="1")
    ref = f"{registry.host}/sbom/debian:1"
    with RegistryClient() as client:
        index_before = client.store(f"{registry.host}/sbom/debian").manifest_get("1")[0]
    proc = dockyard("sbom", ref, "--attach", env=OWN)
    assert proc.returncode == 0, proc.stderr
    docs = json.loads(proc.stdout)
    with RegistryClient() as client:
        remote = client.store(f"{registry.host}/sbom/debian")
        for imported, doc in zip(result.images, docs, strict=True):
            found = find(remote, imported.manifest.digest, artifact_type=SPDX)
            assert len(found) == 1
            assert json.loads(found[0].data) == doc
            assert found[0].manifest.annotations["dev.dockyard.platform"] == str(imported.platform)
            assert found[0].manifest.subject.digest == imported.manifest.digest
        # the evidence hangs off the children: the index is byte for byte what it was
        assert remote.manifest_get("1")[0] == index_before
    # again: the same artefact (same bytes, same created), not a second one
    again = dockyard("sbom", ref, "--attach", env=OWN)
    assert again.returncode == 0, again.stderr
    with RegistryClient() as client:
        remote = client.store(f"{registry.host}/sbom/debian")
        assert len(find(remote, result.images[0].manifest.digest, artifact_type=SPDX)) == 1


def test_a_cyclonedx_document_attached_to_a_layout_is_found_by_its_type(image):
    location, store, result, _roots = image
    proc = dockyard("sbom", location, "--format", "cyclonedx", "--platform", "linux/amd64",
                    "--attach", env=OWN)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    found = find(store, result.images[0].manifest.digest, artifact_type=CDX)
    assert [f.data for f in found] == [proc.stdout]
    assert find(store, result.images[0].manifest.digest, artifact_type=SPDX) == []


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (("--format", "xml"), OWN, "--format xml: not an SBOM format (expected spdx or cyclonedx)"),
        (("--platform", "linux/s390x"), OWN, "no linux/s390x image (it has linux/amd64, linux/arm64)"),
        (("--platform", "linux/arm65"), OWN, "'linux/arm65' is not a platform"),
        ((), {"DOCKYARD_SYFT": "/nonexistent/syft"}, "DOCKYARD_SYFT=/nonexistent/syft: not an executable"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_prints_nothing(image, args, env, says):
    location, store, result, _roots = image
    proc = dockyard("sbom", location, *args, "--attach", env=env)
    assert proc.returncode == 2
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], lines
    assert proc.stdout == b""
    for child in result.images:  # nothing attached
        assert find(store, child.manifest.digest, artifact_type=SPDX) == []
