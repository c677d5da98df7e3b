"""Dockerfiles and build contexts, as text (pure): shared by plan, builder and lint.

    lines.py        logical lines: continuations, comments, heredocs, parser directives
    parse.py        the Dockerfile model: stages, FROM, ARG scoping, instructions
    shellexpand.py  ${VAR} / ${VAR:-default} expansion as BuildKit does it
    pinning.py      FROMs rewritten to the digests a run resolved (design.md: the trap)
    ignore.py       .dockerignore patterns, matched as BuildKit matches them
"""
