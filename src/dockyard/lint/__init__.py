"""Lint stage: Dockerfile checks before anything is built (`dockyard lint`).

    rules.py     pure: dockyard's own rules over the parsed Dockerfile
    hadolint.py  hadolint's findings, when the binary is installed
    files.py     which Dockerfiles a project has, linted in parallel, findings in order
"""
