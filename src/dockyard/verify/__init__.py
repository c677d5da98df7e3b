"""Verify stage: prove each image is what its platform entry claims.

    image.py        verify_image: the index, each child, the policy, the smoke runs, live health
    checks.py       pure: index, config-vs-descriptor and policy decisions
    archscan.py     streams layers once: diff_ids, whiteouts, every ELF of the final view
    layerstream.py  one layer as a stream handed in: hashed, decompressed, capped
    archverdict.py  pure: the ELF verdict over the final view, allow_foreign globs included
    elf.py          pure: ELF header parsing and comparison
    layerview.py    pure: the final filesystem view over the layers (whiteouts)
    rootfile.py     one file of the final view (e.g. /etc/passwd) read from the layers
    passwd.py       pure: who a container runs as, from its /etc/passwd
    smoke.py        run the image's smoke command under the right emulation, with no network
    health.py       pure: the live health check's plan, its verdict per round, its findings
    healthrun.py    start each platform's image with podman, poll it, always remove it
    report.py       pure: the Report model and its JSON
    record.py       pure: the verification record (what was verified, with what settings)
    attach.py       a record attached to its image as an OCI referrer
"""
