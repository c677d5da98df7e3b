"""Evidence stage: what a release carries besides its images (issue 13).

    artifacts.py  an artefact (one document) attached to an image by digest as an OCI
                  referrer (subject = the image), and read back digest-checked
    packages.py   pure: Package, what the SBOM lists and the scan judges
    provenance.py pure: SLSA v1 provenance of one platform image as an in-toto v1 statement
    sbom/         SBOMs per platform image (syft or the own readers; SPDX 2.3, CycloneDX 1.6)
    scan/         the vulnerability gate: OSV matching per ecosystem, grype/trivy, ignores
    sign/         cosign-compatible signatures of the index and every child, DSSE envelopes

Every artefact is an OCI 1.1 image manifest whose `subject` is the index or
platform image it describes, found through the referrers API or the
`sha256-<hex>` fallback tag (oci/referrers.py): never an entry of the index,
so tools that read platforms never see `unknown/unknown`. Signatures are
the exception, on purpose: they are stored as cosign stores them (a
`sha256-<hex>.sig` tag, no subject), so cosign and its users find them.
"""
