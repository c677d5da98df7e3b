"""A release carries its evidence: every platform image's SBOM and provenance on every registry.

One two-platform target released to two real registries; then, in each
registry, every child of the published index has an SPDX SBOM (that the SPDX
validator accepts) and an in-toto statement whose SLSA provenance names the
pinned base by digest and the released commit, both attached by digest (the
index gains no platform entry). A second release attaches nothing again.
"""

from __future__ import annotations

import json

import pytest
from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from dockyard.evidence.artifacts import find
from dockyard.evidence.provenance import MEDIA_TYPE as IN_TOTO
from dockyard.evidence.provenance import PREDICATE_TYPE
from dockyard.oci.models import Index, parse_manifest
from dockyard.oci.registry import RegistryClient
from tests.integration.test_release import (  # noqa: F401  (fixtures)
    NON_ROOT,
    PLATFORMS,
    base,
    dockyard_release,
    env,
    make_project,
    second,
)

pytestmark = pytest.mark.integration
SPDX = "application/spdx+json"


def test_every_registry_gets_each_platform_images_sbom_and_provenance(
    tmp_path, base, registry, second, env  # noqa: F811
):
    root, sha, prefixes = make_project(
        tmp_path / "p", base, [registry.host, second.host], {"api": NON_ROOT}
    )
    proc = dockyard_release(env, root, sha, "refs/tags/v1.0.0", "--json", DOCKYARD_SYFT="0")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["evidence"] == {"api": {"attached": 4, "present": 0}}  # 2 platforms x (SBOM + provenance)
    with RegistryClient(environ={}) as client:
        for prefix in prefixes:
            store = client.store(f"{prefix}/api")
            index = parse_manifest(*store.manifest_get("1.0.0"))
            assert isinstance(index, Index)
            assert sorted(str(e.platform) for e in index.manifests) == PLATFORMS  # no attestation entries
            for entry in index.manifests:
                [sbom] = find(store, entry.digest, artifact_type=SPDX)
                spdx = JsonLikeDictParser().parse(json.loads(sbom.data))
                assert validate_full_spdx_document(spdx) == []
                assert sbom.manifest.annotations["dev.dockyard.platform"] == str(entry.platform)
                [prov] = find(store, entry.digest, artifact_type=IN_TOTO)
                statement = json.loads(prov.data)
                assert statement["predicateType"] == PREDICATE_TYPE
                assert statement["subject"][0]["digest"] == {"sha256": entry.digest.hex}
                build = statement["predicate"]["buildDefinition"]
                assert build["externalParameters"]["platform"] == str(entry.platform)
                assert {"gitCommit": sha} in [d["digest"] for d in build["resolvedDependencies"]]
                pinned = [d for d in build["resolvedDependencies"] if d["uri"].startswith("pkg:docker/")]
                assert pinned and all("sha256" in d["digest"] for d in pinned)
    again = dockyard_release(env, root, sha, "refs/tags/v1.0.0", "--json", DOCKYARD_SYFT="0")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["evidence"] == {"api": {"attached": 0, "present": 4}}
