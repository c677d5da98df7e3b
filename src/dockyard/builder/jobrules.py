"""The decisions of a build run that need no I/O (pure): names, hash inputs, cache specs.

`builder.run` asks these for each job: which args and labels go into the input
hash, which platforms must be emulated, the image format, the layout names,
and the per-platform form of a cache spec (a registry cache's ref as the
backend names it: Backend.registry_cache).

What the input hash leaves out, and why: an image that is unchanged in
everything but the moment and commit it was built from must be found again
on the next commit (issue 6: "an unchanged service is copied, not rebuilt").
So the volatile labels (created, revision, version) and the commit timestamp
(SOURCE_DATE_EPOCH) are not hashed: a skipped or reused image keeps those of
the build that made it, while the index written around it carries the
current ones. A build arg is hashed only when the Dockerfile declares it
(an undeclared one cannot change the image), so VERSION, BUILD_DATE and
VCS_REF count exactly when the Dockerfile uses them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from dockyard.dockerfile.parse import Dockerfile
from dockyard.dockerfile.pinning import stage_platforms
from dockyard.errors import InputError
from dockyard.platform import Platform, needs_emulation
from dockyard.ref import parse_ref

if TYPE_CHECKING:
    from dockyard.builder.backends import Backend

# Labels whose value changes with every commit or run, not with the image's inputs.
VOLATILE_LABELS = frozenset(
    {
        "org.opencontainers.image.created",
        "org.opencontainers.image.revision",
        "org.opencontainers.image.version",
    }
)
# A layout name as containers/image accepts it (oci/layout.py check_name).
_LAYOUT_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
DEFAULT_LAYOUT_TAG = "latest"


def platform_tag(platform: Platform) -> str:
    """The per-platform image's name in the target's layout: `linux-arm64`, `linux-arm-v7`."""
    return platform.slug


def layout_tag(version: str) -> str:
    """The plan version as a layout name: unsafe runs become '-' (`feat/x` -> `feat-x`)."""
    return _LAYOUT_UNSAFE.sub("-", version).strip("-.") or DEFAULT_LAYOUT_TAG


def declared_args(df: Dockerfile) -> frozenset[str]:
    """Every ARG name the Dockerfile declares, before the first FROM or in any stage."""
    names = set(df.global_args)
    for stage in df.stages:
        for instruction in stage.instructions:
            if instruction.keyword == "ARG":
                names.update(_arg_names(instruction.value))
    return frozenset(names)


def _arg_names(value: str) -> list[str]:
    # Only the names matter: `ARG A=1 B` -> A, B (the parser already validated the line).
    return [word.partition("=")[0] for word in value.split() if "=" in word or word.isidentifier()]


def hashed_args(args: Mapping[str, str], df: Dockerfile) -> dict[str, str]:
    """The build args that can change the image: those the Dockerfile declares."""
    declared = declared_args(df)
    return {k: v for k, v in sorted(args.items()) if k in declared}


def hashed_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """The labels that describe the image rather than the run (see the module docstring)."""
    return {k: v for k, v in sorted(labels.items()) if k not in VOLATILE_LABELS}


def image_format(df: Dockerfile, stage: str | None = None) -> str:
    """ "docker" when the final stage has a HEALTHCHECK (OCI configs drop it), else "oci"."""
    final = df.target_stage(stage)
    has = any(i.keyword == "HEALTHCHECK" for i in final.instructions)
    return "docker" if has else "oci"


def emulated_platforms(
    df: Dockerfile,
    *,
    build: Platform,
    target: Platform,
    args: Mapping[str, str],
    host: Platform,
    stage: str | None = None,
) -> tuple[Platform, ...]:
    """Platforms this host must emulate: those of needed stages that RUN something foreign."""
    platforms = stage_platforms(df, build=build, target=target, args=args)
    found: list[Platform] = []
    for s in df.needed_stages(stage):
        p = platforms[s.index]
        if p in found or not needs_emulation(p, host):
            continue
        if any(i.keyword == "RUN" for i in s.instructions):
            found.append(p)
    return tuple(found)


def source_date_epoch(timestamp: str) -> int | None:
    """A commit time (ISO 8601, as GitContext.timestamp) in seconds; None when unknown."""
    if not timestamp:
        return None
    try:
        return int(datetime.fromisoformat(timestamp).timestamp())
    except ValueError:
        return None


# ---------------------------------------------------------------- cache specs


def platform_cache(spec: str, platform: Platform, *, backend: Backend) -> str:
    """A cache spec (buildx syntax) made specific to one platform, so arches never mix.

    - `type=registry,ref=REPO[:TAG]` (or a bare `REPO[:TAG]`): the backend
      names the ref per platform (`Backend.registry_cache`): buildx puts the
      platform in the tag (`:cache` -> `:cache-linux-arm64`), buildah in the
      repository (`REPO:cache` -> `REPO-cache-linux-arm64`).
    - `type=local,dest=DIR` / `src=DIR`: `DIR/linux-arm64`.
    - other types are passed unchanged (the backend accepts or refuses them).
    """
    text = spec.strip()
    if not text:
        raise InputError("cache spec is empty (expected type=registry,ref=REPO:TAG)")
    suffix = platform_tag(platform)
    if "=" not in text:
        return _registry_spec({"type": "registry", "ref": text}, suffix, backend, spec)
    fields = _fields(text, spec)
    kind = fields.get("type", "registry" if "ref" in fields else "")
    if kind == "registry":
        return _registry_spec(fields, suffix, backend, spec)
    if kind == "local":
        for key in ("dest", "src"):
            if key in fields:
                fields[key] = fields[key].rstrip("/") + "/" + suffix
        return _join(fields)
    return text


def _fields(text: str, spec: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise InputError(
                f"cache spec '{spec}': '{part}' is not key=value "
                "(expected e.g. type=registry,ref=REPO:cache)"
            )
        fields[key.strip()] = value.strip()
    return fields


def _registry_spec(fields: dict[str, str], suffix: str, backend: Backend, spec: str) -> str:
    ref_text = fields.get("ref", "")
    if not ref_text:
        raise InputError(f"cache spec '{spec}': no ref= (expected type=registry,ref=REPO:TAG)")
    ref = parse_ref(ref_text, default_tag=None)
    if ref.digest is not None:
        raise InputError(f"cache spec '{spec}': a cache cannot be a digest (name REPO:TAG)")
    fields["ref"] = backend.registry_cache(ref, suffix)
    return _join({"type": "registry", **fields})


def _join(fields: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in fields.items())


def target_caches(
    specs: Iterable[str], platform: Platform, *, backend: Backend
) -> tuple[str, ...]:
    """Every spec of a target, made per platform."""
    return tuple(platform_cache(s, platform, backend=backend) for s in specs)
