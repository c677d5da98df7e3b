"""What one builder run leaves in an image config that another run on another machine would not.

buildah 1.28 writes a Docker-format config (`--format docker`, which keeps
HEALTHCHECK) with fields that name the build's own scratch objects:

    container, container_config.Hostname, config.Hostname
                      the id of the container the image was committed from
    parent            the image id of the previous step's image in that storage
    history[].comment "FROM 7435fbf232f4": the previous step's image id

Those ids are random per run (a container id) or depend on what the local
storage already held, so two runners with empty storages, building the same
commit, write different configs around identical layers: the fan-out's
merged index would differ from a one-go build's. `reproducible_config`
clears exactly these fields (the container's hostname to "", the rest
removed) and keeps everything else as the builder wrote it; `with_config`
points the image manifest at the new config. OCI-format configs carry none
of them and come back unchanged. Pure: bytes in, bytes out.
"""

from __future__ import annotations

import json
import re

from dockyard.digest import Digest
from dockyard.oci.mediatypes import DOCKER_CONFIG

# A history comment naming an image in the builder's local storage (12 hex digits, as buildah
# abbreviates ids); a comment naming a base by reference ("FROM host/repo@sha256:…") is kept.
_LOCAL_FROM = re.compile(r"^FROM [0-9a-f]{12,64}$")
_PER_RUN_KEYS = ("container", "parent")


def reproducible_config(raw: bytes, media_type: str) -> bytes:
    """`raw` without the per-run ids of a Docker-format config; `raw` itself when there are none."""
    if media_type != DOCKER_CONFIG:
        return raw
    doc = json.loads(raw)
    changed = False
    for key in _PER_RUN_KEYS:
        if key in doc:
            del doc[key]
            changed = True
    for section in ("config", "container_config"):
        inner = doc.get(section)
        if isinstance(inner, dict) and inner.get("Hostname"):
            inner["Hostname"] = ""
            changed = True
    for entry in doc.get("history") or ():
        if isinstance(entry, dict) and _LOCAL_FROM.match(entry.get("comment", "")):
            del entry["comment"]
            changed = True
    if not changed:
        return raw
    return json.dumps(doc, separators=(",", ":")).encode()


def with_config(manifest_raw: bytes, digest: Digest, size: int) -> bytes:
    """The image manifest `manifest_raw` with its config descriptor pointing at `digest`/`size`."""
    doc = json.loads(manifest_raw)
    doc["config"] = {**doc["config"], "digest": str(digest), "size": size}
    return json.dumps(doc, separators=(",", ":")).encode()
