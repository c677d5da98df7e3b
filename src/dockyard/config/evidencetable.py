"""dockyard.toml's [evidence] table -> EvidenceConfig (pure; native.py calls it).

    [evidence]
    sbom       = ["spdx", "cyclonedx"]   # SBOM formats attached to each platform image; [] for none
    provenance = true                     # the SLSA v1 provenance statement of each platform image

Without the table, release attaches an SPDX SBOM and the provenance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dockyard.config.fields import Fields, index_path
from dockyard.config.model import SBOM_FORMATS, EvidenceConfig

EVIDENCE_KEYS = ("sbom", "provenance")


def evidence_config(fields: Fields, table: Mapping[str, Any]) -> EvidenceConfig:
    default = EvidenceConfig()
    formats = default.sbom
    if "sbom" in table:
        formats = fields.strings(table["sbom"], "evidence.sbom")
        for i, name in enumerate(formats):
            if name not in SBOM_FORMATS:
                raise fields.error(
                    index_path("evidence.sbom", i),
                    f"{name!r} is not an SBOM format (valid: {', '.join(SBOM_FORMATS)})",
                )
        formats = tuple(dict.fromkeys(formats))
    provenance = default.provenance
    if "provenance" in table:
        provenance = fields.boolean(table["provenance"], "evidence.provenance")
    return EvidenceConfig(sbom=formats, provenance=provenance)
