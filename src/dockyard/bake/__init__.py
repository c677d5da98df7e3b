"""Bake and compose files: read docker-bake.hcl, its JSON form and compose files as buildx does.

The result is the document `docker buildx bake --print` prints (`group` and `target` maps); a
converter turns it into dockyard's config model. This layer sits above config (it builds the model)
and below everything that opens a workspace.
"""
