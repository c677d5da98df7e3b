"""Drivers: the stages chained into what a command does. Each takes a Workspace.

    build.py      the plan built into one index per target (`dockyard build`)
    release.py    build -> verify -> publish, all or nothing; the GitHub step files
    fanout.py     CI fan-out: push each platform by digest, digest files for merge
    merge.py      CI fan-in: the digest files -> verified index -> publish
    locations.py  copy, verify and retain of images named directly (no dockyard.toml)
    prune.py      [retain] after a release: its repositories pruned, its own tags kept
    sign.py       sign an image (index and children), check its signatures, release's signer
    github.py     GitHub Actions' step files ($GITHUB_STEP_SUMMARY, $GITHUB_OUTPUT)
    cifiles.py    `dockyard ci`: the config -> a workflow, .gitlab-ci.yml, Makefile or matrix (cigen)
    doctor.py     the machine checks behind `dockyard doctor`
    load.py       one platform's image into podman's or Docker's image store (`dockyard load`)

How a driver fails, one convention: bad input (config, references, digest
files, options) raises InputError (exit 2) before anything is built, pushed
or moved. Every other failure of build, release, merge and fan-out is
returned, not raised: the result's `ok` is False, `exit_code` says 1 (or 2),
and `error` (one line) with `stopped` (the stage) say what stopped it, next
to everything that was done (which jobs built, where every tag is). The
single-image drivers follow their nature: verify returns a Report (`ok`);
copy, sign, retain and load raise an OperationError, as a file copy would.
"""
