"""An Inventory as an SPDX 2.3 JSON document, written and validated by spdx-tools.

    data = spdx_json(inventory)      # bytes; SbomFailed if spdx-tools finds it invalid

The document DESCRIBES one package, the image (`SPDXRef-Image`, purpose
CONTAINER, version = the platform image's manifest digest, its SHA256
checksum, an `oci` purl, the platform in its comment), which CONTAINS one
SPDX package per Package: name, version, purl (an external reference),
`sourceInfo` saying the ecosystem, the source package and where in the image
it was read, and the declared license: an SPDX expression where the text is
one as written, else a `LicenseRef-` whose extracted text is the text
(licenses.py); NOASSERTION when none is known. Files are not analysed.

Creators are the tools that read the image (`Tool: dockyard-0.1.0`, `Tool:
syft-1.18.1`); `created` is the image's, and the namespace a UUID of the
inventory (inventory.py), so the same image gives the same bytes.
spdx-tools validates the model (validate_full_spdx_document: the SPDX 2.3
rules, ids, license expressions, relationships) before its JSON writer
writes it.
"""

from __future__ import annotations

import io
import re

from spdx_tools.spdx.model import (
    Actor,
    ActorType,
    Checksum,
    ChecksumAlgorithm,
    CreationInfo,
    Document,
    ExternalPackageRef,
    ExternalPackageRefCategory,
    ExtractedLicensingInfo,
    PackagePurpose,
    Relationship,
    RelationshipType,
    SpdxNoAssertion,
)
from spdx_tools.spdx.model import Package as SpdxPackage
from spdx_tools.spdx.parser.jsonlikedict.license_expression_parser import LicenseExpressionParser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

from dockyard.errors import SbomFailed
from dockyard.evidence.packages import Package
from dockyard.evidence.sbom.inventory import Inventory
from dockyard.evidence.sbom.licenses import license_ref, spdx_expression

IMAGE_ID = "SPDXRef-Image"
_ID_CHARS = re.compile(r"[^A-Za-z0-9.-]+")


def spdx_json(inventory: Inventory) -> bytes:
    """The SPDX 2.3 JSON document of `inventory` (see the module docstring)."""
    document = spdx_document(inventory)
    problems = validate_full_spdx_document(document)
    if problems:
        shown = "; ".join(p.validation_message for p in problems[:3])
        raise SbomFailed(f"the SPDX document is not valid SPDX 2.3 ({len(problems)}): {shown}")
    out = io.StringIO()
    write_document_to_stream(document, out, validate=False)
    return out.getvalue().encode() + b"\n"


def spdx_document(inventory: Inventory) -> Document:
    image = inventory.image
    refs: dict[str, ExtractedLicensingInfo] = {}
    packages = [_image_package(inventory)]
    relationships = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, IMAGE_ID)]
    for index, package in enumerate(inventory.packages, 1):
        spdx_id = f"SPDXRef-Package-{index}-{_ID_CHARS.sub('-', package.name).strip('-')}"
        packages.append(_package(spdx_id, package, refs))
        relationships.append(Relationship(IMAGE_ID, RelationshipType.CONTAINS, spdx_id))
    info = CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id="SPDXRef-DOCUMENT",
        name=f"{image.name}@{image.digest} ({image.platform})",
        document_namespace=f"urn:uuid:{inventory.document_uuid()}",
        creators=[Actor(ActorType.TOOL, f"{name}-{version}") for name, version in inventory.tools],
        created=image.created,
        document_comment=(
            f"The packages of the {image.platform} image {image.digest} of {image.name}."
        ),
    )
    return Document(
        info,
        packages=packages,
        relationships=relationships,
        extracted_licensing_info=[refs[k] for k in sorted(refs)],
    )


def _image_package(inventory: Inventory) -> SpdxPackage:
    image = inventory.image
    return SpdxPackage(
        spdx_id=IMAGE_ID,
        name=image.name,
        download_location=SpdxNoAssertion(),
        version=str(image.digest),
        supplier=SpdxNoAssertion(),
        files_analyzed=False,
        checksums=[Checksum(ChecksumAlgorithm.SHA256, image.digest.hex)],
        license_concluded=SpdxNoAssertion(),
        license_declared=SpdxNoAssertion(),
        copyright_text=SpdxNoAssertion(),
        external_references=[
            ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", image.purl())
        ],
        primary_package_purpose=PackagePurpose.CONTAINER,
        comment=f"platform {image.platform}; manifest {image.media_type}, {image.size} bytes",
    )


def _package(spdx_id: str, package: Package, refs: dict[str, ExtractedLicensingInfo]) -> SpdxPackage:
    origin = [f"ecosystem {package.ecosystem}"]
    if package.source and package.source != package.name:
        origin.append(f"source package {package.source}")
    if package.path:
        origin.append(f"read from {package.path}")
    external = []
    if package.purl:
        external.append(
            ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", package.purl)
        )
    return SpdxPackage(
        spdx_id=spdx_id,
        name=package.name,
        download_location=SpdxNoAssertion(),
        version=package.version or None,
        supplier=SpdxNoAssertion(),
        files_analyzed=False,
        source_info="; ".join(origin),
        license_concluded=SpdxNoAssertion(),
        license_declared=_declared(package.licenses, refs),
        copyright_text=SpdxNoAssertion(),
        external_references=external,
    )


def _declared(licenses: tuple[str, ...], refs: dict[str, ExtractedLicensingInfo]):
    """The licenses as one SPDX expression (AND), unknown texts as LicenseRefs; NOASSERTION if none."""
    if not licenses:
        return SpdxNoAssertion()
    terms = []
    for text in licenses:
        expression = spdx_expression(text)
        if expression is None:
            ref = license_ref(text)
            refs.setdefault(ref, ExtractedLicensingInfo(ref, text, text))
            terms.append(ref)
        else:
            terms.append(expression if len(licenses) == 1 else f"({expression})")
    return LicenseExpressionParser().parse_license_expression(" AND ".join(terms))
