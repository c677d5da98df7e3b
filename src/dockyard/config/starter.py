"""The starter dockyard.toml `dockyard init` writes (pure: what was found in, TOML text out).

The scan of a repository (pipeline/init.py) gives one `StarterTarget` per
Dockerfile; this module names them and renders the file: [project] with the
platforms and registries, a metadata-action-style [tags] block, a [policy]
that the Dockerfiles found already satisfy (a check they would fail is
written off, with a comment saying what to fix first), and one
[targets.NAME] table each. The text is then loaded through the same
validation as any dockyard.toml before it is written, so init never writes a
file `plan` refuses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

# The rules of examples/fleet: a release tag gives 1.2.3 and 1.2, a branch push its
# name, a pull request pr-N, every build sha-abc1234; latest follows the highest release.
DEFAULT_TAG_RULES = (
    "type=semver,pattern={{version}}",
    "type=semver,pattern={{major}}.{{minor}}",
    "type=ref,event=branch",
    "type=ref,event=pr",
    "type=sha",
)
DEFAULT_PLATFORMS = ("linux/amd64", "linux/arm64")
_NOT_NAME = re.compile(r"[^a-z0-9_-]+")
_NOT_IMAGE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class StarterTarget:
    """One Dockerfile found: where it is, what it satisfies, what it needs."""

    context: str  # relative to the config's directory, POSIX form ("." or "services/api")
    dockerfile: str = "Dockerfile"  # relative to the context
    name: str = ""  # from a compose service; else derived from the path
    args: Mapping[str, str] = field(default_factory=dict)
    non_root: bool = False  # its final stage sets a USER that is not root
    healthcheck: bool = False  # its final stage has a HEALTHCHECK
    unset_args: tuple[str, ...] = ()  # global ARGs without a default: the user must set them


@dataclass(frozen=True)
class Starter:
    project: str
    targets: tuple[StarterTarget, ...]
    platforms: tuple[str, ...] = DEFAULT_PLATFORMS
    registries: tuple[str, ...] = ()  # --registry values; empty: the ${REGISTRY} variable
    registry_default: str = "localhost:5000"  # [variables] REGISTRY when registries is empty
    bake_files: tuple[str, ...] = ()  # bake/compose files found: the [bake] table's files
    bake_error: str = ""  # why they do not resolve: the [bake] table is then written commented out
    bake_names: tuple[str, ...] = ()  # their targets and groups: no [targets.X] may take these
    # The targets are written commented out: a bake file's targets outside its default group
    # are not known here, and one of them may build a Dockerfile (or take a name) of these.
    targets_commented: bool = False
    # Every Dockerfile found, the bake-built ones too: [policy] is one all of them meet.
    checked: tuple[StarterTarget, ...] = ()


def target_names(
    targets: Sequence[StarterTarget], project: str, taken: Collection[str] = ()
) -> list[str]:
    """A unique target name for each: the compose service, else the context directory's
    name (the project's for "."), with a Dockerfile's suffix (`Dockerfile.worker`,
    `worker.Dockerfile`) appended; clashes get the parent directory, then a number.
    `taken`: names a bake file already gives a target or group."""
    wanted = [t.name or _path_name(t, project) for t in targets]
    names: list[str] = []
    for target, name in zip(targets, wanted, strict=True):
        if wanted.count(name) > 1 and not target.name:
            parent = target.context.split("/")[-2] if "/" in target.context else ""
            name = _clean(f"{parent}-{name}") if parent else name
        base, n = name, 2
        while name in names or name in taken:
            name, n = f"{base}-{n}", n + 1
        names.append(name)
    return names


def _path_name(target: StarterTarget, project: str) -> str:
    at_root = target.context in (".", "")
    base = project if at_root else target.context.rsplit("/", 1)[-1]
    file = target.dockerfile.rsplit("/", 1)[-1]
    lowered = file.lower()
    suffix = ""
    for stem in ("dockerfile", "containerfile"):
        if lowered.startswith(stem + "."):
            suffix = file[len(stem) + 1 :]
        elif lowered.endswith("." + stem):
            suffix = file[: -len(stem) - 1]
    if suffix and at_root:
        return _clean(suffix)  # ./Dockerfile.worker is the worker, not <project>-worker
    return _clean(f"{base}-{suffix}" if suffix else base)


def _clean(text: str) -> str:
    return _NOT_NAME.sub("-", text.lower()).strip("-_") or "app"


def image_name(name: str) -> str:
    """A repository path component for a target name (lower-case, single separators)."""
    return _NOT_IMAGE.sub("-", name.lower()).strip("-") or "app"


def render(starter: Starter) -> str:
    """The dockyard.toml text for `starter`."""
    names = target_names(starter.targets, starter.project, starter.bake_names)
    lines = [
        "# dockyard.toml, written by `dockyard init`: one target per Dockerfile found.",
        "# Check it with `dockyard plan`; README \"Config\" lists every key.",
    ]
    if starter.bake_files and not starter.bake_error:
        lines.append(
            "# The targets of " + ", ".join(starter.bake_files) + " come from [bake]; the"
            " [targets] below are the Dockerfiles its default group does not build."
        )
    lines += ["", "[project]", f"name = {_q(starter.project)}"]
    lines.append(f"platforms = {_list(starter.platforms)}")
    if starter.registries:
        lines.append(f"registries = {_list(starter.registries)}")
    else:
        lines += [
            'registries = ["${REGISTRY}"]',
            "",
            "[variables]",
            f"REGISTRY = {_q(starter.registry_default)}"
            "    # the environment overrides it: REGISTRY=registry.example.com/team dockyard release",
        ]
    lines += ["", "[tags]", "rules = ["]
    lines += [f"  {_q(rule)}," for rule in DEFAULT_TAG_RULES]
    lines += ["]", 'flavor = ["latest=auto"]', ""]
    lines += _policy(starter.checked or starter.targets)
    lines += _bake(starter)
    if starter.targets_commented and starter.targets:
        lines += [
            "",
            "# Uncomment those no bake target builds (a target name in both files is refused):",
        ]
    for target, name in zip(starter.targets, names, strict=True):
        table = _target_table(target, name)
        if starter.targets_commented:
            table = ["# " + line for line in table]
        lines += ["", *table]
    return "\n".join(lines) + "\n"


def _target_table(target: StarterTarget, name: str) -> list[str]:
    lines = [f"[targets.{name}]", f"context = {_q(target.context)}"]
    if target.dockerfile != "Dockerfile":
        lines.append(f"dockerfile = {_q(target.dockerfile)}")
    lines.append(f"image = {_q(image_name(name))}")
    if target.args:
        pairs = ", ".join(f"{_key(k)} = {_q(v)}" for k, v in target.args.items())
        lines.append(f"args = {{ {pairs} }}")
    if target.unset_args:
        lines.append(
            "# build args without a default in the Dockerfile (set them: args = { NAME = \"…\" }): "
            + ", ".join(target.unset_args)
        )
    return lines


def _bake(starter: Starter) -> list[str]:
    """[bake] files = the bake/compose files found; commented out when they do not resolve."""
    if not starter.bake_files:
        return []
    table = ["[bake]", f"files = {_list(starter.bake_files)}"]
    note = (
        "# [project] registries and [tags] rules above replace the bake tags' registries and"
        " names (plan warns): delete them to publish where the bake tags say."
    )
    if starter.bake_error:
        reason = " ".join(starter.bake_error.split())
        return ["", f"# Not enabled: the bake/compose files do not resolve ({reason}):"] + [
            "# " + line for line in table
        ]
    return ["", note, *table]


def _policy(targets: Sequence[StarterTarget]) -> list[str]:
    """[policy]: each check on when every Dockerfile already passes it, else off with the fix."""
    non_root = all(t.non_root for t in targets)
    healthcheck = all(t.healthcheck for t in targets)
    return [
        "[policy]",
        "non-root = true" if non_root else
        "non-root = false    # a final stage runs as root (lint DY005): add USER, then set true",
        "healthcheck = true" if healthcheck else
        "healthcheck = false    # a final stage has no HEALTHCHECK (lint DY006): add one, then set true",
        '# max-size = "500MB"    # compressed layers + config, per platform image',
    ]  # fmt: skip


def _q(text: str) -> str:
    # A JSON string is a TOML basic string (same escapes); non-ASCII kept as written.
    return json.dumps(text, ensure_ascii=False)


def _list(items: Sequence[str]) -> str:
    return "[" + ", ".join(_q(item) for item in items) + "]"


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _q(key)
