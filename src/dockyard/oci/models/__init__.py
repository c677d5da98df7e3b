"""OCI / Docker schema 2 manifests, indexes, configs and descriptors (pure).

    descriptor.py   Descriptor (a platform entry when it has a platform), descriptor_of,
                    the empty descriptor, the attestation and ref-name annotations
    manifest.py     Manifest and Index from their exact bytes (parse_manifest);
                    build_manifest / build_index
    imageconfig.py  ImageConfig and parse_config
    fields.py       the JSON under them: field readers with exact errors, canonical_json,
                    the size cap

Models keep the exact bytes they were parsed from: a manifest's digest is the
sha256 of those bytes, never of a re-serialisation (style.md §3). Building a
manifest or an index is a pure function returning new bytes and the
descriptor that points at them.

JSON is written compact, with keys in the order Go's encoding/json gives the
spec's structs (what skopeo, buildah and crane write), and always with
`schemaVersion: 2` and `mediaType` (ECR needs it; it also pins the type
against manifest confusion).

Malformed or unsafe content (it usually comes from a registry or a layout on
disk, not from the user) raises ManifestInvalid, an OperationError.

Import from here (`from dockyard.oci.models import Descriptor, parse_manifest`):
the modules above are how the code is divided, this package is the interface.
"""

from dockyard.oci.models.descriptor import (
    ATTESTATION_ANNOTATION,
    EMPTY_DESCRIPTOR,
    EMPTY_JSON,
    REF_NAME_ANNOTATION,
    Descriptor,
    descriptor_of,
)
from dockyard.oci.models.fields import MAX_MANIFEST_SIZE, canonical_json
from dockyard.oci.models.imageconfig import ImageConfig, parse_config
from dockyard.oci.models.manifest import (
    Index,
    Manifest,
    build_index,
    build_manifest,
    parse_manifest,
)

__all__ = [
    "ATTESTATION_ANNOTATION",
    "EMPTY_DESCRIPTOR",
    "EMPTY_JSON",
    "MAX_MANIFEST_SIZE",
    "REF_NAME_ANNOTATION",
    "Descriptor",
    "ImageConfig",
    "Index",
    "Manifest",
    "build_index",
    "build_manifest",
    "canonical_json",
    "descriptor_of",
    "parse_config",
    "parse_manifest",
]
