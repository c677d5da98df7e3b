"""The dockyard.toml schema: a parsed TOML document -> a validated Config.

`config_from_dict` is the whole validation; the loader only finds and reads
the file. It is pure except that it checks that each target's context
directory and Dockerfile exist (a stat, no writes), because a missing path is
a config error the user should get before anything runs.

Every error is one line, `<file>: <field path>: <what is wrong> (<what is valid>)`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from dockyard.builders import BACKENDS
from dockyard.config.baketable import BAKE_KEYS, bake_files
from dockyard.config.evidencetable import EVIDENCE_KEYS, evidence_config
from dockyard.config.fields import NAME_RULE, TARGET_NAME, Fields, index_path, key_path
from dockyard.config.groupstable import groups_table
from dockyard.config.healthtable import HEALTH_KEYS, health_check
from dockyard.config.interpolate import NAME, VariableError, resolve
from dockyard.config.keysource import parse_key_source
from dockyard.config.model import (
    DEFAULT_BUILDER,
    Config,
    Policy,
    Project,
    Retry,
    SignConfig,
    TagsConfig,
    Target,
)
from dockyard.config.pathglob import check_path_glob
from dockyard.config.retaintable import RETAIN_KEYS, retain_config
from dockyard.config.scantable import SCAN_KEYS, scan_config
from dockyard.config.sizes import VALID_SIZES, parse_size
from dockyard.errors import InputError
from dockyard.platform import Platform, parse_platform
from dockyard.ref import join_image

SECTIONS = (
    "project", "variables", "tags", "policy", "retry", "targets", "groups", "scan", "sign", "evidence",
    "bake",
    "retain",
)  # fmt: skip
PROJECT_KEYS = ("name", "platforms", "registries", "builder")
TAGS_KEYS = ("rules", "flavor", "require-semver", "latest-only-stable", "labels")
POLICY_KEYS = ("max-size", "non-root", "healthcheck", "require-labels", "allow-foreign")
RETRY_KEYS = ("attempts", "backoff", "max-delay", "deadline")
SIGN_KEYS = ("key",)
TARGET_KEYS = (
    "context", "dockerfile", "image", "args", "platforms", *POLICY_KEYS,
    "smoke", "labels", "cache-from", "cache-to", *HEALTH_KEYS,
)  # fmt: skip

# Without [project].platforms: the platform of most CI runners and of `docker build` there.
DEFAULT_PLATFORMS = ("linux/amd64",)
# ref.py's path-component grammar (distribution/reference): `image` is a path
# under each registry prefix, so a host or a tag in it is refused here.
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*")
_REGISTRY_RULE = (
    "expected host[:port][/path] with a lower-case path, e.g. ghcr.io/acme or 127.0.0.1:5000/fleet"
)
_IMAGE_RULE = (
    "expected a repository path of lower-case letters and digits separated by "
    "'/', '.', '_', '__' or '-', e.g. fleet-api"
)
# Retry bounds: more than 10 tries or a minute's first delay only hide a broken registry.
ATTEMPTS = (1, 10)
BACKOFF = (0.0, 60.0)
MAX_DELAY = (0.0, 3600.0)


def config_from_dict(
    data: Mapping[str, Any],
    path: Path,
    env: Mapping[str, str],
    *,
    display: str | None = None,
    targets_elsewhere: bool = False,
) -> Config:
    """Validate a parsed dockyard.toml. `path` is the file (absolute); `display` is how
    errors name it (default: its file name); `env` overrides [variables].
    `targets_elsewhere`: bake files define the targets, so no [targets] is fine."""
    fields = Fields(display or path.name)
    fields.table(data, "", keys=SECTIONS)
    fields.variables = _variables(fields, data.get("variables", {}), env)
    root = path.parent
    # Sections in the order design.md lists them, so the first error is the first a reader meets.
    project = _project(fields, data.get("project", {}), root)
    tags = _tags(fields, _section(fields, data, "tags", TAGS_KEYS))
    policy = _policy(fields, _section(fields, data, "policy", POLICY_KEYS), "policy", Policy())
    retry = _retry(fields, _section(fields, data, "retry", RETRY_KEYS))
    sign = _sign(fields, _section(fields, data, "sign", SIGN_KEYS), root)
    bake = bake_files(fields, _section(fields, data, "bake", BAKE_KEYS), root)
    targets: dict[str, Target] = {}
    if not (targets_elsewhere or bake.files) or data.get("targets"):
        targets = _targets(fields, data.get("targets", {}), root, project, policy)
    groups = groups_table(fields, data.get("groups", {}), targets)
    scan = None  # no [scan]: release runs no vulnerability gate
    if "scan" in data:
        scan = scan_config(fields, _section(fields, data, "scan", SCAN_KEYS), root)
    evidence = evidence_config(fields, _section(fields, data, "evidence", EVIDENCE_KEYS))
    retain = None  # no [retain]: a release prunes nothing
    if "retain" in data:
        retain = retain_config(fields, _section(fields, data, "retain", RETAIN_KEYS))
    return Config(
        path=path,
        root=root,
        project=project,
        variables=MappingProxyType(dict(fields.variables)),
        tags=tags,
        policy=policy,
        retry=retry,
        sign=sign,
        targets=MappingProxyType(targets),
        groups=MappingProxyType(groups),
        scan=scan,
        evidence=evidence,
        bake=bake,
        retain=retain,
    )


def _section(
    fields: Fields, data: Mapping[str, Any], name: str, keys: tuple[str, ...]
) -> Mapping[str, Any]:
    return fields.table(data.get(name, {}), name, keys=keys)


# -- [variables] ---------------------------------------------------------------


def _variables(fields: Fields, value: object, env: Mapping[str, str]) -> dict[str, str]:
    table = fields.table(value, "variables")
    declared: dict[str, str] = {}
    for name, item in table.items():
        path = key_path("variables", name)
        if not NAME.fullmatch(name):
            raise fields.error(
                path,
                f"{name!r} is not a variable name (expected letters, digits and _, not starting with a digit)",
            )
        # Raw text: references are resolved below, in dependency order.
        declared[name] = item if isinstance(item, str) else fields.scalar_string(item, path)
    overrides = {name: env[name] for name in declared if name in env}
    try:
        return resolve(declared, overrides)
    except VariableError as exc:
        raise fields.error(key_path("variables", exc.variable), str(exc)) from None


# -- [project] -------------------------------------------------------------------


def _project(fields: Fields, value: object, root: Path) -> Project:
    table = fields.table(value, "project", keys=PROJECT_KEYS)
    name = root.name or "project"
    if "name" in table:
        name = fields.string(table["name"], "project.name")
        if not name.strip():
            raise fields.error("project.name", "is empty (expected the project's name, e.g. fleet)")
    platforms = _platforms(
        fields, table.get("platforms", list(DEFAULT_PLATFORMS)), "project.platforms"
    )
    registries = tuple(
        _registry(fields, text, index_path("project.registries", i))
        for i, text in enumerate(fields.strings(table.get("registries", []), "project.registries"))
    )
    for i, prefix in enumerate(registries):
        if prefix in registries[:i]:
            raise fields.error(
                index_path("project.registries", i),
                f"duplicate registry {prefix!r} (list each once)",
            )
    builder = fields.string(table.get("builder", DEFAULT_BUILDER), "project.builder")
    if builder not in BACKENDS:
        raise fields.error(
            "project.builder", f"unknown builder {builder!r} (valid: {', '.join(BACKENDS)})"
        )
    return Project(name=name, platforms=platforms, registries=registries, builder=builder)


def _platforms(fields: Fields, value: object, path: str) -> tuple[Platform, ...]:
    texts = fields.strings(value, path)
    if not texts:
        raise fields.error(path, 'is empty (expected at least one platform, e.g. ["linux/amd64"])')
    platforms: list[Platform] = []
    for i, text in enumerate(texts):
        try:
            platform = parse_platform(text)
        except InputError as exc:
            raise fields.error(index_path(path, i), str(exc)) from None
        if platform in platforms:
            raise fields.error(
                index_path(path, i), f"duplicate platform {platform} (list each once)"
            )
        platforms.append(platform)
    return tuple(platforms)


def _registry(fields: Fields, text: str, path: str) -> str:
    prefix = text.rstrip("/")
    try:
        join_image(prefix, "x")
    except InputError:
        raise fields.error(path, f"{text!r} is not a registry prefix ({_REGISTRY_RULE})") from None
    if not prefix or "@" in prefix:
        raise fields.error(path, f"{text!r} is not a registry prefix ({_REGISTRY_RULE})")
    return prefix


# -- [tags], [policy], [retry] ---------------------------------------------------


def _tags(fields: Fields, table: Mapping[str, Any]) -> TagsConfig:
    return TagsConfig(
        rules=fields.strings(table.get("rules", []), "tags.rules"),
        flavor=fields.strings(table.get("flavor", []), "tags.flavor"),
        require_semver=fields.boolean(table.get("require-semver", False), "tags.require-semver"),
        latest_only_stable=fields.boolean(
            table.get("latest-only-stable", False), "tags.latest-only-stable"
        ),
        labels=MappingProxyType(fields.string_table(table.get("labels", {}), "tags.labels")),
    )


def _policy(fields: Fields, table: Mapping[str, Any], prefix: str, base: Policy) -> Policy:
    """`base` with the policy keys of `table` applied (a list given replaces, not extends)."""
    max_size = base.max_size
    if "max-size" in table:
        max_size = _size(fields, table["max-size"], key_path(prefix, "max-size"))
    non_root, healthcheck, labels = base.non_root, base.healthcheck, base.require_labels
    if "non-root" in table:
        non_root = fields.boolean(table["non-root"], key_path(prefix, "non-root"))
    if "healthcheck" in table:
        healthcheck = fields.boolean(table["healthcheck"], key_path(prefix, "healthcheck"))
    if "require-labels" in table:
        labels = fields.strings(table["require-labels"], key_path(prefix, "require-labels"))
    allow_foreign = base.allow_foreign
    if "allow-foreign" in table:
        allow_foreign = _globs(fields, table["allow-foreign"], key_path(prefix, "allow-foreign"))
    return Policy(
        max_size=max_size,
        non_root=non_root,
        healthcheck=healthcheck,
        require_labels=labels,
        allow_foreign=allow_foreign,
    )


def _globs(fields: Fields, value: object, path: str) -> tuple[str, ...]:
    globs = fields.strings(value, path)
    for i, glob in enumerate(globs):
        try:
            check_path_glob(glob)
        except InputError as exc:
            raise fields.error(index_path(path, i), str(exc)) from None
    return globs


def _size(fields: Fields, value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise fields.wrong_type(path, f"a size ({VALID_SIZES})", value)
    if isinstance(value, str):
        value = fields.string(value, path)
    try:
        return parse_size(value)
    except InputError as exc:
        raise fields.error(path, str(exc)) from None


def _retry(fields: Fields, table: Mapping[str, Any]) -> Retry:
    default = Retry()
    attempts = fields.integer(
        table.get("attempts", default.attempts), "retry.attempts", low=ATTEMPTS[0], high=ATTEMPTS[1]
    )
    backoff = fields.seconds(
        table.get("backoff", default.backoff), "retry.backoff", low=BACKOFF[0], high=BACKOFF[1]
    )
    max_delay = fields.seconds(
        table.get("max-delay", default.max_delay),
        "retry.max-delay",
        low=MAX_DELAY[0],
        high=MAX_DELAY[1],
    )
    if max_delay < backoff:
        raise fields.error(
            "retry.max-delay",
            f"{max_delay:g} is less than backoff {backoff:g} (expected max-delay >= backoff)",
        )
    deadline = default.deadline
    if "deadline" in table:
        deadline = fields.duration(table["deadline"], "retry.deadline")
    return Retry(attempts=attempts, backoff=backoff, max_delay=max_delay, deadline=deadline)


def _sign(fields: Fields, table: Mapping[str, Any], root: Path) -> SignConfig:
    """[sign] key = "env:NAME" | "file:PATH" (relative to this file); read when release signs."""
    if "key" not in table:
        return SignConfig()
    text = fields.string(table["key"], "sign.key")
    try:
        return SignConfig(key=parse_key_source(text, base=root))
    except InputError as exc:
        raise fields.error("sign.key", str(exc)) from None


# -- [targets.X] -----------------------------------------------------------------


def _targets(
    fields: Fields, value: object, root: Path, project: Project, policy: Policy
) -> dict[str, Target]:
    table = fields.table(value, "targets")
    if not table:
        raise fields.error(
            "targets", "no targets defined (add a [targets.NAME] table, e.g. [targets.api])"
        )
    targets: dict[str, Target] = {}
    for name, item in table.items():
        path = key_path("targets", name)
        if not TARGET_NAME.fullmatch(name):
            raise fields.error(path, f"{name!r} is not a target name (expected {NAME_RULE})")
        targets[name] = _target(
            fields, name, fields.table(item, path, keys=TARGET_KEYS), root, project, policy
        )
    return targets


def _target(
    fields: Fields,
    name: str,
    table: Mapping[str, Any],
    root: Path,
    project: Project,
    policy: Policy,
) -> Target:
    path = key_path("targets", name)

    def at(key: str) -> str:
        return key_path(path, key)

    context, dockerfile = _target_paths(fields, table, root, path)
    image = _image(fields, table, name, path, project.registries)
    platforms = project.platforms
    if "platforms" in table:
        platforms = _platforms(fields, table["platforms"], at("platforms"))
    return Target(
        name=name,
        context=context,
        dockerfile=dockerfile,
        image=image,
        args=MappingProxyType(_args(fields, table.get("args", {}), at("args"))),
        platforms=platforms,
        policy=_policy(fields, table, path, policy),
        smoke=fields.strings(table.get("smoke", []), at("smoke")),
        health=health_check(fields, table, path),
        labels=MappingProxyType(fields.string_table(table.get("labels", {}), at("labels"))),
        cache_from=fields.strings(table.get("cache-from", []), at("cache-from")),
        cache_to=fields.strings(table.get("cache-to", []), at("cache-to")),
    )


def _target_paths(
    fields: Fields, table: Mapping[str, Any], root: Path, path: str
) -> tuple[Path, Path]:
    """The context directory (relative to the config's directory) and the Dockerfile
    (relative to the context, as bake reads it); both must exist."""
    context_path, dockerfile_path = key_path(path, "context"), key_path(path, "dockerfile")
    context_text = fields.string(table.get("context", "."), context_path)
    dockerfile_text = fields.string(table.get("dockerfile", "Dockerfile"), dockerfile_path)
    if not context_text:
        raise fields.error(
            context_path, 'is empty (expected a directory, e.g. "." or "services/api")'
        )
    if not dockerfile_text:
        raise fields.error(
            dockerfile_path, 'is empty (expected a file in the context, e.g. "Dockerfile")'
        )
    context = _absolute(root, context_text)
    dockerfile = _absolute(context, dockerfile_text)
    if not context.is_dir():
        what = "is not a directory" if context.exists() else "does not exist"
        raise fields.error(context_path, f"directory {_shown(context, root)} {what}")
    if not dockerfile.is_file():
        what = "is not a file" if dockerfile.exists() else "does not exist"
        raise fields.error(dockerfile_path, f"{_shown(dockerfile, root)} {what}")
    return context, dockerfile


def _absolute(base: Path, text: str) -> Path:
    # normpath, not resolve(): keep the user's symlinks and stay a pure string operation.
    return Path(os.path.normpath(base / text))


def _shown(path: Path, root: Path) -> str:
    """A path as messages show it: relative to the config's directory when under it."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _image(
    fields: Fields, table: Mapping[str, Any], name: str, path: str, registries: tuple[str, ...]
) -> str:
    image_path = key_path(path, "image")
    if "image" in table:
        image = fields.string(table["image"], image_path)
        what = repr(image)
    else:
        image = name
        what = f'{image!r} (the target name; set image = "...")'
    if not all(_PATH_COMPONENT.fullmatch(part) for part in image.split("/")):
        raise fields.error(image_path, f"{what} is not a repository path ({_IMAGE_RULE})")
    for prefix in registries:
        try:
            join_image(prefix, image)
        except InputError as exc:
            raise fields.error(image_path, str(exc)) from None
    return image


def _args(fields: Fields, value: object, path: str) -> dict[str, str]:
    args = fields.string_table(value, path)
    for key in args:
        if not key or "=" in key or any(ch.isspace() for ch in key):
            raise fields.error(
                key_path(path, key),
                f"{key!r} is not a build argument name (expected no spaces or '=', e.g. APP_VERSION)",
            )
    return args


# -- [groups] --------------------------------------------------------------------
