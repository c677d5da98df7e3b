"""An Inventory as a CycloneDX 1.6 JSON document, written and validated by cyclonedx-python-lib.

    data = cyclonedx_json(inventory)   # bytes; SbomFailed if the schema check fails

The BOM's metadata component is the image (type `container`, version = the
platform image's manifest digest, its SHA-256, an `oci` purl, the platform as
the property `dockyard:platform`); each Package is a `library` component
with its name, version, purl, licenses (one SPDX expression where the texts
are SPDX as written, else each text as a license name; licenses.py), the
path it was read from as evidence (an occurrence), and the ecosystem and
source package as `dockyard:` properties. The image depends on every
component. The tools are the ones that read the image.

Deterministic: the timestamp is the image's `created`, the serial number a
UUID of the inventory, bom-refs are positions in the sorted package list.
The JSON is checked against the CycloneDX 1.6 strict schema by the
library's validator. That validator needs the library's `json-validation`
extra (jsonschema); without it installed the check is skipped (the document
is still the library's own serialisation of its model).
"""

from __future__ import annotations

from cyclonedx.exception import MissingOptionalDependencyException
from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
from cyclonedx.model.license import DisjunctiveLicense, License, LicenseExpression
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL

from dockyard.errors import SbomFailed
from dockyard.evidence.packages import Package
from dockyard.evidence.sbom.inventory import Inventory
from dockyard.evidence.sbom.licenses import spdx_expression

SCHEMA = SchemaVersion.V1_6
IMAGE_REF = "image"


def cyclonedx_json(inventory: Inventory) -> bytes:
    """The CycloneDX 1.6 JSON document of `inventory` (see the module docstring)."""
    text = JsonV1Dot6(cyclonedx_bom(inventory)).output_as_string(indent=2)
    try:
        error = JsonStrictValidator(SCHEMA).validate_str(text)
    except MissingOptionalDependencyException:
        error = None  # no jsonschema installed: see the module docstring
    if error is not None:
        raise SbomFailed(f"the CycloneDX document does not match the 1.6 schema: {error}")
    return text.encode() + b"\n"


def cyclonedx_bom(inventory: Inventory) -> Bom:
    image = inventory.image
    root = Component(
        type=ComponentType.CONTAINER,
        name=image.name,
        version=str(image.digest),
        bom_ref=IMAGE_REF,
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=image.digest.hex)],
        purl=PackageURL.from_string(image.purl()),
        properties=[
            Property(name="dockyard:platform", value=str(image.platform)),
            Property(name="dockyard:media-type", value=image.media_type),
        ],
    )
    bom = Bom(serial_number=inventory.document_uuid(), version=1)
    bom.metadata.timestamp = image.created
    bom.metadata.component = root
    for name, version in inventory.tools:
        bom.metadata.tools.components.add(
            Component(type=ComponentType.APPLICATION, name=name, version=version)
        )
    components = [_component(i, p) for i, p in enumerate(inventory.packages, 1)]
    bom.components.update(components)
    bom.register_dependency(root, components)
    return bom


def _component(index: int, package: Package) -> Component:
    properties = [Property(name="dockyard:ecosystem", value=package.ecosystem)]
    if package.source:
        properties.append(Property(name="dockyard:source-package", value=package.source))
    evidence = None
    if package.path:
        evidence = ComponentEvidence(occurrences=[Occurrence(location=package.path)])
    return Component(
        type=ComponentType.LIBRARY,
        name=package.name,
        version=package.version or None,
        bom_ref=f"package-{index}",
        purl=PackageURL.from_string(package.purl) if package.purl else None,
        licenses=_licenses(package.licenses),
        properties=properties,
        evidence=evidence,
    )


def _licenses(texts: tuple[str, ...]) -> list[License]:
    """One SPDX expression when every text is one, else each text as a license name."""
    expressions = [spdx_expression(text) for text in texts]
    if texts and all(expressions):
        joined = " AND ".join(e if len(texts) == 1 else f"({e})" for e in expressions)
        return [LicenseExpression(joined)]
    return [DisjunctiveLicense(name=text) for text in texts]
