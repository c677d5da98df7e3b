"""The vulnerability gate (issue 13): an image's packages judged against advisories.

    image.py        scan_image: each platform image of an index judged, ignores applied
    osv.py          an OSV advisory directory read into frozen models (malformed: exit 2)
    match.py        pure: the OSV evaluation (versions[], ranges) over Packages -> Findings
    versions.py     pure: each ecosystem's version order and naming, the one dict
    apk.py          pure: Alpine's (apk-tools') version order
    semver.py       pure: SemVer 2.0 and Go's versions (v prefix, +incompatible, go1.x)
    severity.py     pure: critical/high/medium/low/unknown from CVSS v2/v3 or the database
    ignore.py       pure: `[scan] ignore` entries applied, expired ones reported
    result.py       pure: Finding, ScanResult (failing, ok, to_json)
    scannerjson.py  pure: grype's and trivy's JSON reports -> Findings
    external.py     grype or trivy on PATH, run per platform image (subprocess)

The pipeline (pipeline/scan.py) chooses the scanner: an OSV directory
(`--osv-db`, `[scan] osv-db`), else grype, else trivy on PATH, else exit 2.
"""
