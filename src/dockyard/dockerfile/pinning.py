"""Per-stage platforms, the base images to resolve, and FROMs rewritten to digests (pure).

design.md "Why per-platform pinning is not optional": buildah 1.28 resolves
`FROM base` in an arm64 stage to the amd64 image an earlier
`FROM --platform=$BUILDPLATFORM base` stage pulled. So every stage's base is
resolved (by the caller, through a Store) to the digest of the manifest for
the platform that stage runs on, and the builder gets a rewritten copy of the
Dockerfile whose FROMs name those digests.

The flow: `base_references` lists (stage, base, platform) to resolve; the
caller resolves each to a `Pin`; `pin` returns the rewritten text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dockyard.digest import Digest
from dockyard.dockerfile.parse import (
    SCRATCH,
    Dockerfile,
    Stage,
    expand_word,
    from_scope,
    parse_dockerfile,
)
from dockyard.errors import InputError
from dockyard.platform import Platform, parse_platform, platform_args
from dockyard.ref import parse_ref

_VARIABLE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"


@dataclass(frozen=True)
class ResolvedFrom:
    """A stage's FROM for one build: what it starts from and the platform it runs on."""

    stage: int
    base: str  # expanded: an image reference, "scratch" or an earlier stage's name
    platform: Platform
    parent: int | None  # the earlier stage it starts from, if any

    @property
    def is_image(self) -> bool:
        return self.parent is None and self.base != SCRATCH


@dataclass(frozen=True)
class Pin:
    """A stage's base resolved to the digest of its platform's manifest."""

    stage: int
    line: int  # the stage's FROM line, a check that the pin fits this Dockerfile
    base: str  # the reference as resolved (tag kept here; pin() writes repository@digest)
    platform: Platform
    digest: Digest


def resolve_froms(
    df: Dockerfile, *, build: Platform, target: Platform, args: Mapping[str, str]
) -> tuple[ResolvedFrom, ...]:
    """Every stage's FROM for a build of `target` on `build` with these build args.

    A stage FROM an earlier stage runs on that stage's platform; otherwise on
    its --platform (expanded) or, without one, on the target platform.
    """
    full = {**args, **platform_args(build=build, target=target)}
    env = from_scope(df, full)
    resolved: list[ResolvedFrom] = []
    names: dict[str, int] = {}
    for stage in df.stages:
        base = expand_word(df, stage.from_.base_raw, env, line=stage.from_.line)
        parent = names.get(base.lower())
        if parent is not None:
            platform = resolved[parent].platform
        else:
            _check_base(df, stage, base, env)
            platform = _stage_platform(df, stage, env, target)
        resolved.append(ResolvedFrom(stage.index, base, platform, parent))
        if stage.name is not None:
            names[stage.name] = stage.index
    return tuple(resolved)


def stage_platforms(
    df: Dockerfile, *, build: Platform, target: Platform, args: Mapping[str, str]
) -> dict[int, Platform]:
    """The platform each stage runs on, by stage index."""
    return {r.stage: r.platform for r in resolve_froms(df, build=build, target=target, args=args)}


def base_references(
    df: Dockerfile,
    *,
    build: Platform,
    target: Platform,
    args: Mapping[str, str],
    stage: str | None = None,
) -> list[tuple[int, str, Platform]]:
    """(stage index, base reference, platform) of each stage FROM an image, in file order.

    With `stage`, only the stages that target stage needs (as `--target`
    builds); by default every stage, since a builder may build them all.
    """
    froms = resolve_froms(df, build=build, target=target, args=args)
    wanted = range(len(df.stages))
    if stage is not None:
        # Dependencies as this build sees them: the args may change which FROMs are stages.
        full = {**args, **platform_args(build=build, target=target)}
        seen = parse_dockerfile(df.text, path=df.path, args=full).needed_stages(stage)
        wanted = [s.index for s in seen]
    return [(i, froms[i].base, froms[i].platform) for i in wanted if froms[i].is_image]


def pin(df: Dockerfile, pins: Sequence[Pin]) -> str:
    """The Dockerfile's text with each pinned FROM rewritten to `repository@digest`.

    A pinned FROM becomes `FROM [--platform=<as written>] <registry/repository>@<digest>
    [AS <name>]` on its first line; the other lines it spanned become empty,
    so every other line keeps its number and its bytes. The tag is dropped:
    buildah 1.28 accepts `name:tag@digest` but silently ignores the tag
    (checked here), while skopeo and containers/image's docker transport
    refuse such a name; `repository@digest` says exactly what is pulled. The
    repository is written fully qualified so that no short-name search
    (registries.conf) can pick another registry.
    """
    lines = df.text.split("\n")
    seen: set[int] = set()
    for p in pins:
        stage = _pinned_stage(df, p, seen)
        from_ = stage.from_
        first = lines[from_.line - 1]
        lead = first[: len(first) - len(first.lstrip("\ufeff \t"))]
        cr = "\r" if first.endswith("\r") else ""
        words = [f"{lead}FROM"]
        if from_.platform_raw is not None:
            words.append(f"--platform={from_.platform_raw}")
        words.append(f"{parse_ref(p.base).name}@{p.digest}")
        if from_.stage_name is not None:
            words.append(f"AS {from_.stage_name}")
        lines[from_.line - 1] = " ".join(words) + cr
        for index in range(from_.line, from_.end_line):
            lines[index] = cr if lines[index].endswith("\r") else ""
    return "\n".join(lines)


def _pinned_stage(df: Dockerfile, p: Pin, seen: set[int]) -> Stage:
    if not 0 <= p.stage < len(df.stages):
        raise InputError(
            f"{df.path}: a pin names stage {p.stage}, but the stages are 0 to {len(df.stages) - 1}"
        )
    if p.stage in seen:
        raise InputError(f"{df.path}: stage {p.stage} is pinned twice")
    seen.add(p.stage)
    stage = df.stages[p.stage]
    if stage.from_.line != p.line:
        raise InputError(
            f"{df.path}: the pin for stage {p.stage} is for line {p.line}, "
            f"but that stage's FROM is on line {stage.from_.line}"
        )
    return stage


def _check_base(df: Dockerfile, stage: Stage, base: str, env: Mapping[str, str]) -> None:
    where = f"{df.path}:{stage.from_.line}"
    if base == "":
        raise InputError(
            f"{where}: FROM {stage.from_.base_raw} expands to an empty image name"
            + _unset_hint(df, stage.from_.base_raw, env)
        )
    if base == SCRATCH:
        return
    try:
        parse_ref(base)
    except InputError as exc:
        raise InputError(f"{where}: FROM {exc}") from None


def _unset_hint(df: Dockerfile, raw: str, env: Mapping[str, str]) -> str:
    """Say which variables are unset, and which cannot be set because no ARG declares them."""
    names = _variables(raw)
    undeclared = [n for n in names if n not in df.global_args and n not in env]
    unset = [n for n in names if n in df.global_args and not env.get(n)]
    hints = []
    if unset:
        hints.append(f"set the build arg {', '.join(unset)}")
    if undeclared:
        hints.append(f"declare ARG {', '.join(undeclared)} before the first FROM")
    return f" ({'; '.join(hints)})" if hints else ""


def _variables(text: str) -> list[str]:
    found: list[str] = []
    for piece in text.split("$")[1:]:
        name = piece.removeprefix("{")
        end = len(name)
        for pos, ch in enumerate(name):
            if ch not in _VARIABLE_CHARS:
                end = pos
                break
        if name[:end] and name[:end] not in found:
            found.append(name[:end])
    return found


def _stage_platform(
    df: Dockerfile, stage: Stage, env: Mapping[str, str], target: Platform
) -> Platform:
    raw = stage.from_.platform_raw
    if raw is None:
        return target
    where = f"{df.path}:{stage.from_.line}"
    value = expand_word(df, raw, env, line=stage.from_.line)
    if not value:
        raise InputError(
            f"{where}: FROM --platform={raw} expands to nothing "
            "(expected a platform such as linux/arm64)"
        )
    try:
        return parse_platform(value)
    except InputError as exc:
        raise InputError(f"{where}: FROM --platform={raw}: {exc}") from None
