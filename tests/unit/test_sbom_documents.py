"""The SBOM documents: SPDX 2.3 and CycloneDX 1.6 from one Inventory, valid and deterministic."""

from __future__ import annotations

import io
import json
import random
import uuid

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from dockyard.config.model import SBOM_FORMATS
from dockyard.digest import parse_digest
from dockyard.errors import InputError
from dockyard.evidence.packages import DEBIAN, GO, PYPI, Package
from dockyard.evidence.sbom.cyclonedx import cyclonedx_json
from dockyard.evidence.sbom.formats import FORMATS, get_format
from dockyard.evidence.sbom.generate import platform_images
from dockyard.evidence.sbom.inventory import EPOCH, ImageSubject, make_inventory, parse_created
from dockyard.evidence.sbom.licenses import license_ref, spdx_expression
from dockyard.evidence.sbom.spdx import spdx_json
from dockyard.oci import mediatypes as mt
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import build_index, build_manifest, descriptor_of
from dockyard.platform import Platform, parse_platform

DIGEST = parse_digest("sha256:" + "ab" * 32)
IMAGE = ImageSubject(
    name="127.0.0.1:5000/acme/api",
    digest=DIGEST,
    media_type=mt.OCI_MANIFEST,
    size=1043,
    platform=parse_platform("linux/arm64"),
    created=parse_created("2024-05-06T07:08:09.123456789Z"),
)
PACKAGES = [
    Package(DEBIAN, "libc6", "2.36-9+deb12u14", "glibc",
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=arm64&distro=debian-12&upstream=glibc",
            "/var/lib/dpkg/status", ("GPL-2.0-only", "LGPL-2.1")),
    Package(DEBIAN, "zlib1g", "1:1.2.13.dfsg-1", "zlib", "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=arm64",
            "/var/lib/dpkg/status", ("Zlib",)),
    Package(PYPI, "packaging", "23.0", "", "pkg:pypi/packaging@23.0",
            "/usr/lib/python3/dist-packages/packaging-23.0.dist-info/METADATA", ("Apache Software License",)),
    Package(GO, "stdlib", "go1.23.4", "", "pkg:golang/stdlib@go1.23.4", "/usr/bin/app"),
    Package("binary", "busybox", "1.35.0", "", "", "/bin/busybox", ("GPL",)),
]  # fmt: skip
TOOLS = (("dockyard", "0.1.0"), ("syft", "1.18.1"))


def inventory(packages=PACKAGES):
    return make_inventory(IMAGE, packages, tools=TOOLS)


def test_spdx_parses_back_and_validates_with_spdx_tools(tmp_path):
    data = spdx_json(inventory())
    (tmp_path / "doc.spdx.json").write_bytes(data)
    assert validate_full_spdx_document(parse_file(str(tmp_path / "doc.spdx.json"))) == []
    doc = json.loads(data)
    assert doc["spdxVersion"] == "SPDX-2.3"
    assert doc["creationInfo"] == {"created": "2024-05-06T07:08:09Z",
                                   "creators": ["Tool: dockyard-0.1.0", "Tool: syft-1.18.1"]}  # fmt: skip
    image, *packages = doc["packages"]
    assert image["versionInfo"] == str(DIGEST) and image["primaryPackagePurpose"] == "CONTAINER"
    assert image["checksums"] == [{"algorithm": "SHA256", "checksumValue": DIGEST.hex}]
    assert "linux/arm64" in image["comment"]
    # sorted by (ecosystem, name, version, …): the order of the Package fields
    assert [p["name"] for p in packages] == ["libc6", "zlib1g", "stdlib", "packaging", "busybox"]
    libc6 = packages[0]
    assert libc6["licenseDeclared"] == "GPL-2.0-only AND LicenseRef-dockyard-LGPL-2.1"
    assert libc6["sourceInfo"] == "ecosystem Debian; source package glibc; read from /var/lib/dpkg/status"
    assert libc6["externalRefs"][0]["referenceLocator"] == PACKAGES[0].purl
    refs = {r["licenseId"]: r["extractedText"] for r in doc["hasExtractedLicensingInfos"]}
    assert refs["LicenseRef-dockyard-GPL"] == "GPL"  # kept as written, not read as GPL-1.0-or-later
    contains = [r for r in doc["relationships"] if r["relationshipType"] == "CONTAINS"]
    assert len(contains) == 5 and {r["spdxElementId"] for r in contains} == {"SPDXRef-Image"}
    assert doc["documentNamespace"] == f"urn:uuid:{inventory().document_uuid()}"


def test_cyclonedx_matches_the_strict_16_schema():
    text = cyclonedx_json(inventory()).decode()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6" and bom["serialNumber"] == f"urn:uuid:{inventory().document_uuid()}"
    assert bom["metadata"]["timestamp"] == "2024-05-06T07:08:09+00:00"
    root = bom["metadata"]["component"]
    assert root["type"] == "container" and root["version"] == str(DIGEST)
    assert {"name": "dockyard:platform", "value": "linux/arm64"} in root["properties"]
    by_name = {c["name"]: c for c in bom["components"]}
    assert by_name["zlib1g"]["licenses"] == [{"expression": "Zlib"}]
    assert by_name["libc6"]["licenses"] == [{"license": {"name": "GPL-2.0-only"}},
                                            {"license": {"name": "LGPL-2.1"}}]  # fmt: skip
    assert by_name["libc6"]["evidence"] == {"occurrences": [{"location": "/var/lib/dpkg/status"}]}
    assert {"name": "dockyard:source-package", "value": "glibc"} in by_name["libc6"]["properties"]
    assert "purl" not in by_name["busybox"]
    [deps] = [d for d in bom["dependencies"] if d["ref"] == "image"]
    assert len(deps["dependsOn"]) == 5


@pytest.mark.parametrize("write", [spdx_json, cyclonedx_json])
def test_the_same_packages_in_any_order_give_the_same_bytes(write):
    shuffled = PACKAGES * 2  # duplicates are dropped
    random.Random(7).shuffle(shuffled)
    assert write(inventory(shuffled)) == write(inventory())


def test_other_packages_are_another_document():
    assert inventory(PACKAGES[:2]).document_uuid() != inventory().document_uuid()
    assert isinstance(inventory().document_uuid(), uuid.UUID)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2024-05-06T07:08:09Z", "2024-05-06T07:08:09+00:00"),
     ("2024-05-06T09:08:09.5+02:00", "2024-05-06T07:08:09+00:00"),
     ("", EPOCH.isoformat()), ("yesterday", EPOCH.isoformat()),
     ("2024-13-06T07:08:09Z", EPOCH.isoformat())],
)  # fmt: skip
def test_created_comes_from_the_config_in_whole_utc_seconds(text, expected):
    assert parse_created(text).isoformat() == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("GPL-2.0-only", "GPL-2.0-only"), ("bsd-3-clause", "BSD-3-Clause"),
     ("(MIT OR Apache-2.0)", "MIT OR Apache-2.0"), ("GPL", None), ("LGPL-2.1", None),
     ("Apache Software License", None), ("MIT AND (", None)],
)  # fmt: skip
def test_a_license_is_spdx_only_as_written(text, expected):
    assert spdx_expression(text) == expected


def test_license_refs_are_valid_and_unique_per_text():
    assert license_ref("GPL") == "LicenseRef-dockyard-GPL"
    a, b = license_ref("GPL 2"), license_ref("GPL/2")
    assert a != b and a.startswith("LicenseRef-dockyard-GPL-2-") and all(
        c.isalnum() or c in ".-" for c in a)  # fmt: skip


def test_the_image_purl():
    assert IMAGE.purl() == (
        f"pkg:oci/api@sha256:{DIGEST.hex}?arch=arm64&repository_url=127.0.0.1:5000/acme/api")
    layout = ImageSubject("oci:dist/oci/API", DIGEST, mt.OCI_MANIFEST, 1, Platform("linux", "amd64"), EPOCH)
    assert layout.purl() == f"pkg:oci/api@sha256:{DIGEST.hex}?arch=amd64"


def test_the_config_names_the_formats_this_module_writes():
    assert set(SBOM_FORMATS) == set(FORMATS)  # [evidence] sbom = [...] is checked against the former


def test_formats_are_one_dict_and_an_unknown_one_is_bad_input():
    assert get_format("CycloneDX") is FORMATS["cyclonedx"]
    assert get_format("spdx").media_type == "application/spdx+json"
    assert FORMATS["cyclonedx"].media_type == "application/vnd.cyclonedx+json"
    with pytest.raises(InputError, match=r"^--format xml: not an SBOM format \(expected spdx or cyclonedx\)$"):
        get_format("xml")


def _index(tmp_path) -> LayoutStore:
    store = LayoutStore(tmp_path / "oci")
    children = []
    for platform in ("linux/amd64", "linux/arm/v7"):
        p = parse_platform(platform)
        config = json.dumps({"architecture": p.architecture, "os": p.os, "variant": p.variant}).encode()
        desc = descriptor_of(config, mt.OCI_CONFIG)
        store.blob_put(desc.digest, desc.size, io.BytesIO(config))
        raw, child = build_manifest(desc, [])
        store.manifest_put(raw, mt.OCI_MANIFEST)
        children.append(child.__class__(child.media_type, child.digest, child.size, p))
    raw, _ = build_index(children)
    store.manifest_put(raw, mt.OCI_INDEX, tag="t")
    return store


def test_platform_images_are_every_platform_or_the_one_asked_for(tmp_path):
    store = _index(tmp_path)
    assert [str(i.platform) for i in platform_images(store, "t")] == ["linux/amd64", "linux/arm/v7"]
    [arm] = platform_images(store, "t", platform=parse_platform("linux/arm"))  # arm means arm/v7
    assert arm.config.variant == "v7"
    with pytest.raises(InputError, match=r"^oci:x:t: no linux/s390x image \(it has linux/amd64, linux/arm/v7\)$"):
        platform_images(store, "t", platform=parse_platform("linux/s390x"), where="oci:x:t")
