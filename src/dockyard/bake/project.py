"""A project's config from dockyard.toml and bake/compose files together (the file-system edge).

Which files:
- `-f` bake/compose files given: they define the targets; dockyard.toml is the one beside the
  first of them (or a `-f dockyard.toml` given too), read for everything else.
- none given: dockyard.toml as always (found walking up); its `[bake] files` name the bake files.
- neither: the bake files buildx would find in the working directory (docker-bake.hcl, compose.yaml…).

What comes from where: targets and groups from the bake files (a target named in both refused);
policy, retry, [tags] rules, evidence, scan, sign from dockyard.toml; registries from
dockyard.toml's [project] when set (else from the bake tags, see convert.py); `--set` overrides
after `[bake] set`, in order, as buildx applies them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

from dockyard.bake import find_default_files, resolve
from dockyard.bake.convert import Converted, convert
from dockyard.config.loader import CONFIG_NAME, display_path, find_config, load_config
from dockyard.config.model import Config, TagsConfig
from dockyard.config.native import config_from_dict
from dockyard.errors import InputError
from dockyard.platform import host_platform

# A bake file's tags name exact tags: no `latest` is added beside them (metadata-action's
# latest=auto would add one on a tag push).
_RAW_FLAVOR = ("latest=false",)


def load_project(
    *,
    config_file: Path | None = None,
    bake_files: Sequence[Path] = (),
    overrides: Sequence[str] = (),
    select: Sequence[str] = (),
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """The config a command works on: dockyard.toml, bake files, or both (see the module doc).

    `select` (the command's targets and groups) is what the bake files are resolved for, as
    `docker buildx bake TARGET…` does; names dockyard.toml defines are not asked of them.
    """
    cwd = Path(os.path.abspath(cwd if cwd is not None else Path.cwd()))
    env = os.environ if env is None else env
    files = [Path(os.path.abspath(cwd / f)) for f in bake_files]
    if files:
        toml = config_file
        if toml is None and (files[0].parent / CONFIG_NAME).is_file():
            toml = files[0].parent / CONFIG_NAME
        config = _base(toml, files[0], cwd, env)
    else:
        config = _config_or_defaults(config_file, cwd, env)
        files = list(config.bake.files)
        if not files:
            if overrides:
                raise InputError(
                    f"--set {overrides[0]}: no bake file to apply it to (give -f docker-bake.hcl "
                    "or [bake] files in dockyard.toml)"
                )
            return config
    return _with_bake(config, files, [*config.bake.overrides, *overrides], select, cwd, env)


def _base(toml: Path | None, first: Path, cwd: Path, env: Mapping[str, str]) -> Config:
    """dockyard.toml read with targets optional; without one, the defaults, with the first bake
    file as the config's path (what provenance records) and its directory as the root."""
    if toml is not None:
        return load_config(toml, cwd=cwd, env=env, targets_elsewhere=True)
    return config_from_dict({}, first, env, targets_elsewhere=True)


def _config_or_defaults(config_file: Path | None, cwd: Path, env: Mapping[str, str]) -> Config:
    if config_file is not None:
        return load_config(config_file, cwd=cwd, env=env)
    try:
        find_config(cwd)
    except InputError:
        defaults = find_default_files(cwd)
        if not defaults:
            raise
        config = _base(None, defaults[0], cwd, env)
        return replace(config, bake=replace(config.bake, files=tuple(defaults)))
    return load_config(None, cwd=cwd, env=env)


def _with_bake(
    config: Config,
    files: Sequence[Path],
    overrides: Sequence[str],
    select: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
) -> Config:
    source = ", ".join(display_path(f, cwd) for f in files)
    own = set(config.targets) | set(config.groups)
    wanted = [name for name in select if name not in own]
    if select and not wanted:
        return config  # only dockyard.toml's targets asked for: the bake files are not needed
    if not select:
        wanted = list(config.bake.targets)  # none: buildx's "default"
    resolved = resolve(files, targets=wanted, overrides=overrides, env=env)
    converted = convert(
        resolved.targets,
        resolved.groups,
        root=files[0].parent,
        platforms=config.project.platforms,
        policy=config.policy,
        source=source,
        tag_rules=bool(config.tags.rules),
        local=host_platform(),
    )
    _check_paths(converted, source, files[0].parent)
    toml = display_path(config.path, cwd)
    for name in [*converted.targets, *converted.groups]:
        if name in own:
            raise InputError(
                f'{source}: "{name}" is also defined in {toml} (define each target and group '
                "in one file: dockyard.toml for its own targets, the bake file for the others)"
            )
    warnings = list(converted.warnings)
    project = config.project
    if not project.registries:
        project = replace(project, registries=converted.registries)
    elif converted.registries and set(converted.registries) != set(project.registries):
        warnings.append(
            f"{source}: the tags' registries ({', '.join(converted.registries)}) are replaced "
            f"by {toml}'s [project] registries ({', '.join(project.registries)})"
        )
    return replace(
        config,
        project=project,
        tags=_tags(config.tags, converted),
        targets=MappingProxyType({**config.targets, **converted.targets}),
        groups=MappingProxyType({**config.groups, **converted.groups}),
        warnings=(*config.warnings, *warnings),
    )


def _tags(tags: TagsConfig, converted: Converted) -> TagsConfig:
    """dockyard.toml's [tags] rules when it has some; else the bake tags' names, as raw rules."""
    if tags.rules or not converted.tag_names:
        return tags
    rules = tuple(f"type=raw,value={name}" for name in converted.tag_names)
    return replace(tags, rules=rules, flavor=tags.flavor or _RAW_FLAVOR)


def _check_paths(converted: Converted, source: str, root: Path) -> None:
    """Each target's context directory and Dockerfile exist (as dockyard.toml's are checked)."""
    for name, target in converted.targets.items():
        where = f'{source}: target "{name}"'
        if not target.context.is_dir():
            what = "is not a directory" if target.context.exists() else "does not exist"
            raise InputError(f"{where}: context {display_path(target.context, root)} {what}")
        if not target.dockerfile.is_file():
            what = "is not a file" if target.dockerfile.exists() else "does not exist"
            raise InputError(f"{where}: dockerfile {display_path(target.dockerfile, root)} {what}")
