"""A resolved bake definition (the fields `docker buildx bake --print` shows) -> dockyard targets (pure).

What each attribute becomes:

- context, dockerfile, target (the stage), args, labels, platforms, cache-from/cache-to of
  type registry or local: the target's own fields, as dockyard.toml would set them.
- annotations: `index:` ones go on the target's index; others (manifest, descriptors) are
  reported, because dockyard writes no per-platform manifest annotations.
- tags: split into where the image goes and what it is called. Every tag must be
  `<registry prefix>/<image>:<tag>` with one image name per target and the same registry
  prefixes for every tagged target (dockyard publishes each target to every registry with
  the same tags); the prefixes become the project's registries and the tag names raw tag
  rules (see project.py). Anything else is refused: ignoring it would publish elsewhere.
- Attributes dockyard does not act on (output, attest, secret, ssh, contexts, pull, no-cache,
  …) are reported as one warning per target naming them; never dropped silently.

Refused (InputError, exit 2), because ignoring them would change the result: a context that is
not a local directory (git or https URL, stdin), dockerfile-inline, a tag by digest.
Relative paths are taken from `root`, the directory of the first bake file (buildx takes the
working directory; dockyard makes a plan independent of where it runs, as for dockyard.toml).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from dockyard.config.model import Policy, Target
from dockyard.errors import InputError
from dockyard.platform import Platform, parse_platform
from dockyard.ref import parse_ref

# Attributes that become fields of the Target (or are handled below).
ACTED_ON = (
    "context", "dockerfile", "dockerfile-inline", "target", "args", "labels", "annotations",
    "tags", "platforms", "cache-from", "cache-to",
)  # fmt: skip
# A context or dockerfile that is fetched, not read from this machine.
_REMOTE_PREFIXES = ("git://", "git@", "github.com/", "https://", "http://", "ssh://")
# Cache backends dockyard's builders take from a spec (builder/jobrules.platform_cache).
_CACHE_TYPES = ("registry", "local")
_TARGET_NAME_RULE = "a repository path of lower-case letters, digits, '.', '_' or '-'"


@dataclass(frozen=True)
class Publishing:
    """Where a target's tags say it goes: registry prefixes, its image, its tag names."""

    prefixes: tuple[str, ...] = ()  # "127.0.0.1:5000/acme", in the tags' order
    image: str = ""  # the path under each prefix
    tag_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Converted:
    """Targets and groups in dockyard's model, with what the tags say and what is not acted on."""

    targets: Mapping[str, Target]
    groups: Mapping[str, tuple[str, ...]]
    registries: tuple[str, ...] = ()  # the prefixes every tagged target shares; () = no tags
    tag_names: tuple[str, ...] = ()  # the tag names every tagged target shares
    warnings: tuple[str, ...] = field(default_factory=tuple)


def convert(
    targets: Mapping[str, Mapping[str, Any]],
    groups: Mapping[str, Sequence[str]],
    *,
    root: Path,
    platforms: tuple[Platform, ...],
    policy: Policy,
    source: str,
    tag_rules: bool = False,
    local: Platform | None = None,
) -> Converted:
    """The resolved bake `targets` and `groups` as dockyard targets.

    `platforms` and `policy` are the project's (a target without platforms gets them);
    `source` names the bake file(s) in messages; `tag_rules`: dockyard.toml has [tags]
    rules, which name the tags instead of the bake tags (reported once); `local` is the
    platform buildx's `local` means (this machine's), passed in to keep this pure.
    """
    converted: dict[str, Target] = {}
    publishing: dict[str, Publishing] = {}
    warnings: list[str] = []
    for name, fields in targets.items():
        where = f'{source}: target "{name}"'
        pub = _publishing(fields.get("tags") or (), where)
        converted[name], notes = _target(name, fields, where, root, platforms, policy, pub, local)
        publishing[name] = pub
        warnings.extend(notes)
    registries, tag_names = _shared_publishing(publishing, source, check_names=not tag_rules)
    if tag_rules and tag_names:
        warnings.append(
            f"{source}: the tags' names ({', '.join(tag_names)}) are not used: "
            "dockyard.toml's [tags] rules name the tags"
        )
        tag_names = ()
    kept = {
        group: tuple(m for m in members if m in targets or m in groups)
        for group, members in groups.items()
        if group not in targets
    }
    return Converted(
        targets=MappingProxyType(converted),
        groups=MappingProxyType(kept),
        registries=registries,
        tag_names=tag_names,
        warnings=tuple(warnings),
    )


def _target(
    name: str,
    fields: Mapping[str, Any],
    where: str,
    root: Path,
    project_platforms: tuple[Platform, ...],
    policy: Policy,
    pub: Publishing,
    local: Platform | None,
) -> tuple[Target, list[str]]:
    if fields.get("dockerfile-inline") is not None:
        raise InputError(
            f"{where}: dockerfile-inline is not supported (dockyard pins each FROM of a "
            "Dockerfile file; write it to a file and set dockerfile)"
        )
    context = _local_path(root, fields.get("context") or ".", where, "context")
    dockerfile = _local_path(context, fields.get("dockerfile") or "Dockerfile", where, "dockerfile")
    platforms = _platforms(fields.get("platforms") or (), where, local) or project_platforms
    index_annotations, other_annotations = _annotations(fields.get("annotations") or (), where)
    cache_from, skipped_from = _caches(fields.get("cache-from") or ())
    cache_to, skipped_to = _caches(fields.get("cache-to") or ())
    ignored = [key for key in fields if key not in ACTED_ON and _given(fields[key])]
    if other_annotations:
        ignored.append("annotations " + ", ".join(other_annotations))
    if skipped_from:
        ignored.append("cache-from " + ", ".join(skipped_from))
    if skipped_to:
        ignored.append("cache-to " + ", ".join(skipped_to))
    notes = [f"{where}: not acted on by dockyard: {'; '.join(ignored)}"] if ignored else []
    image = pub.image or _image_from_name(name, where)
    target = Target(
        name=name,
        context=context,
        dockerfile=dockerfile,
        image=image,
        args=MappingProxyType(_strings(fields.get("args") or {}, where, "args")),
        platforms=platforms,
        policy=policy,
        labels=MappingProxyType(_strings(fields.get("labels") or {}, where, "labels")),
        cache_from=cache_from,
        cache_to=cache_to,
        stage=fields.get("target") or None,
        annotations=MappingProxyType(index_annotations),
    )
    return target, notes


def _given(value: object) -> bool:
    """A value buildx would act on: `pull = false`, `[]` and `{}` ask for nothing."""
    return value not in (None, False, "", [], {})


def _local_path(base: Path, text: object, where: str, key: str) -> Path:
    if not isinstance(text, str):
        raise InputError(f"{where}: {key} must be a string, not {type(text).__name__}")
    if text == "-" or text.startswith(_REMOTE_PREFIXES) or "://" in text:
        raise InputError(
            f"{where}: {key} {text!r} is not a local path (dockyard builds from a directory "
            "on this machine: check it out and give its path)"
        )
    # normpath, not resolve(): keep the user's symlinks (as config.native does).
    return Path(os.path.normpath(base / text))


def _platforms(texts: Sequence[str], where: str, local: Platform | None) -> tuple[Platform, ...]:
    platforms: list[Platform] = []
    for text in texts:
        if text == "local" and local is not None:
            platform = local  # buildx: the builder's own platform
        else:
            try:
                platform = parse_platform(text)
            except InputError as exc:
                raise InputError(f"{where}: platforms: {exc}") from None
        if platform not in platforms:
            platforms.append(platform)
    return tuple(platforms)


def _strings(table: Mapping[str, Any], where: str, key: str) -> dict[str, str]:
    """args/labels: null values are left out, as buildx leaves them out of the build."""
    if not isinstance(table, Mapping):
        raise InputError(f"{where}: {key} must be a map of strings")
    return {str(k): str(v) for k, v in table.items() if v is not None}


def _annotations(entries: Sequence[str], where: str) -> tuple[dict[str, str], list[str]]:
    """`index:key=value` -> the index's annotations; the other kinds are returned as not acted on.

    buildx's syntax is `[type[,type][platform]:]key=value`, the type defaulting to manifest.
    """
    index: dict[str, str] = {}
    other: list[str] = []
    for entry in entries:
        key, sep, value = entry.partition("=")
        if not sep or not key:
            raise InputError(f"{where}: annotations: {entry!r} is not KEY=VALUE")
        kinds, colon, bare = key.rpartition(":")
        if colon and kinds == "index":
            index[bare] = value
        else:
            other.append(entry)
    return index, other


def _caches(specs: Sequence[str]) -> tuple[tuple[str, ...], list[str]]:
    """Registry and local caches are carried; other types (gha, s3, inline…) reported."""
    kept: list[str] = []
    skipped: list[str] = []
    for spec in specs:
        text = str(spec).strip()
        parts = dict(p.partition("=")[::2] for p in text.split(",") if "=" in p)
        kind = parts.get("type", "registry" if "ref" in parts or "=" not in text else "")
        (kept if kind in _CACHE_TYPES else skipped).append(text)
    return tuple(kept), skipped


def _image_from_name(name: str, where: str) -> str:
    image = name.lower()
    try:
        parse_ref(image)
    except InputError:
        raise InputError(
            f"{where}: has no tags and its name is not an image name ({_TARGET_NAME_RULE}); "
            'give it tags = ["REGISTRY/IMAGE:TAG"]'
        ) from None
    return image


def _publishing(tags: Sequence[str], where: str) -> Publishing:
    """A target's tags as registry prefixes + one image + tag names (the same for each prefix)."""
    if not tags:
        return Publishing()
    by_repository: dict[str, list[str]] = {}
    for text in tags:
        try:
            ref = parse_ref(str(text))
        except InputError as exc:
            raise InputError(f"{where}: tags: {exc}") from None
        if ref.digest is not None:
            raise InputError(f"{where}: tags: {text!r} names a digest (a tag cannot)")
        by_repository.setdefault(ref.name, []).append(ref.tag or "latest")
    prefixes: list[str] = []
    images: list[str] = []
    for repository in by_repository:
        prefix, _, image = repository.rpartition("/")
        prefixes.append(prefix)
        images.append(image)
    if len(set(images)) > 1:
        raise InputError(
            f"{where}: tags name repositories {', '.join(by_repository)} with different image "
            "names (dockyard publishes one image per target, under each registry; "
            "make them differ only before the last '/', or split the target)"
        )
    names = list(by_repository.values())
    if any(n != names[0] for n in names):
        raise InputError(
            f"{where}: tags give the repositories {', '.join(by_repository)} different tags "
            "(dockyard pushes the same tags to every registry)"
        )
    return Publishing(
        prefixes=tuple(prefixes), image=images[0], tag_names=tuple(dict.fromkeys(names[0]))
    )


def _shared_publishing(
    publishing: Mapping[str, Publishing], source: str, *, check_names: bool
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The registry prefixes and tag names every tagged target shares (refused when they differ).

    dockyard's model has one list of registries and one set of tag rules for the project;
    bake's tags are per target, so only a bake file whose targets agree can be expressed.
    """
    tagged = [(name, pub) for name, pub in publishing.items() if pub.prefixes]
    if not tagged:
        return (), ()
    first_name, first = tagged[0]
    for name, pub in tagged[1:]:
        if set(pub.prefixes) != set(first.prefixes):
            raise InputError(
                f'{source}: target "{name}" is tagged under {", ".join(pub.prefixes)} but target '
                f'"{first_name}" under {", ".join(first.prefixes)} (dockyard publishes every '
                "target to the same registries; use one registry prefix for all)"
            )
        if check_names and set(pub.tag_names) != set(first.tag_names):
            raise InputError(
                f'{source}: target "{name}" has tags {", ".join(pub.tag_names)} but target '
                f'"{first_name}" has {", ".join(first.tag_names)} (without [tags] rules in '
                "dockyard.toml every target gets the same tags: make them agree, or set rules)"
            )
    return first.prefixes, first.tag_names
