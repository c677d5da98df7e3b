"""Build stage: a plan's jobs -> one multi-platform index per target in its OCI layout.

    run.py           the job runner (resolve, hash, reuse or build, write the index)
    jobrules.py      pure: per-job args, labels, tags, caches, emulation needs
    resolve.py       bases resolved to per-platform manifest digests (registry reads)
    inputs.py        the input hash: what makes two builds the same build
    reuse.py         an unchanged image copied from a registry instead of rebuilt
    targetlayout.py  the target's layout: find by input hash, write/restore index.json
    reproducible.py  pure: per-run ids cleared from Docker-format configs
    result.py        pure: JobResult / TargetResult / BuildResult and their JSON
    backends/        the builders (buildah, podman, docker, buildx) behind one Backend
                     protocol, named in one list (dockyard.builders): a new builder is a
                     module + one line
    engines.py       the local engines (podman, docker): `load` into them, what `info` says
    enginecheck.py   pure: doctor's verdict on an engine (version, runtime, rootless)
"""
