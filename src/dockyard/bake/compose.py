"""Compose files as bake reads them (buildx bake/compose.go): each service with `build` a target.

`build` (a context string or a mapping): context, dockerfile, dockerfile_inline, args (map or
list of `K=V`; a bare `K` takes the service's environment, then the project's), labels, tags,
platforms, target, cache_from, cache_to, secrets (with the top-level `secrets:` file/environment),
ssh, network, additional_contexts, and the `x-bake` extension (tags, cache-from, cache-to,
secret, ssh, platforms, output, no-cache-filter add to build's; pull, no-cache, contexts; a
string where a list is expected is split on whitespace). As in buildx, no_cache and pull under
`build` are not read (use x-bake). The service `image` is the tag when no tags are given; a
service name's dots become "_". Every service with a build forms the implicit `default` group.
`${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, `${VAR:+alt}`, `$VAR` and `$$`
interpolate as compose does, from the environment over `.env`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from dockyard.bake.definition import Definition, Origin
from dockyard.bake.fields import FieldError, convert, render
from dockyard.errors import BakeError

_VAR = re.compile(
    r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)
# The x-bake keys buildx reads (compose.go xbake); others are ignored, as buildx does.
_XBAKE_LISTS = ("tags", "cache-from", "cache-to", "secret", "ssh", "platforms", "output",
                "no-cache-filter")  # fmt: skip


def parse_dotenv(text: str) -> dict[str, str]:
    """A compose .env file: KEY=VALUE lines, # comments, optional quotes, `export ` prefix."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        out[key.strip()] = value
    return out


def interpolate(text: str, env: Mapping[str, str], where: str) -> str:
    def sub(m: re.Match[str]) -> str:
        if m.group(1):
            return "$"
        name = m.group(2) or m.group(5)
        op, arg = m.group(3), m.group(4) or ""
        value = env.get(name)
        unset = value is None or (op is not None and op.startswith(":") and value == "")
        if op in ("-", ":-"):
            return interpolate(arg, env, where) if unset else value  # type: ignore[return-value]
        if op in ("?", ":?"):
            if unset:
                raise BakeError(f"{where}: required variable {name} is missing a value: {arg}")
            return value  # type: ignore[return-value]
        if op in ("+", ":+"):
            return "" if unset else interpolate(arg, env, where)
        return value or ""

    return _VAR.sub(sub, text)


def _walk(node: Any, env: Mapping[str, str], where: str) -> Any:
    if isinstance(node, str):
        return interpolate(node, env, where)
    if isinstance(node, list):
        return [_walk(v, env, where) for v in node]
    if isinstance(node, dict):
        return {k: _walk(v, env, where) for k, v in node.items()}
    return node


def _kv(value: Any, env: Mapping[str, str]) -> dict[str, str | None]:
    if isinstance(value, list):
        out: dict[str, str | None] = {}
        for item in value:
            k, eq, v = str(item).partition("=")
            out[k] = v if eq else env.get(k)
        return out
    if isinstance(value, dict):
        return {str(k): (None if v is None else render(v)) for k, v in value.items()}
    return {}


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    return [
        render(v) if not isinstance(v, dict) else ",".join(f"{k}={x}" for k, x in v.items())
        for v in value
    ]


def _secret(entry: Any, top: Mapping[str, Any], where: str) -> str:
    source = entry if isinstance(entry, str) else (entry or {}).get("source")
    spec = top.get(source) or {}
    if spec.get("external"):
        raise BakeError(f"{where}: unsupported external secret {source}")
    out = f"id={source}"
    if spec.get("file"):
        out += f",src={spec['file']}"
    if spec.get("environment"):
        out += f",env={spec['environment']}"
    return out


def _target(
    svc: dict[str, Any], env: Mapping[str, str], secrets: Mapping[str, Any], where: str
) -> dict[str, Any]:
    build = svc["build"]
    if isinstance(build, str):
        build = {"context": build}
    # Unset context/dockerfile stay unset (buildx loads compose without normalisation), so an
    # HCL target of the same name, or one it inherits from, can still provide them.
    t: dict[str, Any] = {}
    for src, dst in (("context", "context"), ("dockerfile", "dockerfile"),
                     ("dockerfile_inline", "dockerfile-inline"), ("target", "target"),
                     ("network", "network")):  # fmt: skip
        if build.get(src):
            t[dst] = str(build[src])
    service_env = _kv(svc.get("environment"), {})
    args = _kv(build.get("args"), {})
    for k, v in args.items():
        if v is None:  # a bare name: the service's environment, then the project's
            args[k] = service_env.get(k) or env.get(k)
    if args:
        t["args"] = args
    if build.get("labels"):
        t["labels"] = {k: v or "" for k, v in _kv(build["labels"], {}).items()}
    if build.get("additional_contexts"):
        t["contexts"] = _kv(build["additional_contexts"], {})
    for src, dst in (("tags", "tags"), ("platforms", "platforms"), ("cache_from", "cache-from"),
                     ("cache_to", "cache-to"), ("ssh", "ssh")):  # fmt: skip
        if build.get(src):
            t[dst] = _list(build[src])
    if build.get("secrets"):
        t["secret"] = [_secret(s, secrets, where) for s in build["secrets"]]
    x = build.get("x-bake") or {}
    if not isinstance(x, dict):
        raise FieldError("x-bake must be a mapping")
    for key in _XBAKE_LISTS:  # x-bake adds to what build: gave
        if x.get(key):
            t[key] = list(dict.fromkeys([*(t.get(key) or []), *_list(x[key])]))
    for key in ("pull", "no-cache"):
        if x.get(key) is not None:
            t[key] = convert(key, x[key])
    if x.get("contexts"):
        t["contexts"] = {**(t.get("contexts") or {}), **_kv(x["contexts"], {})}
    if not t.get("tags") and svc.get("image"):
        t["tags"] = [str(svc["image"])]
    return t


def read_compose(
    fname: str, text: str, defn: Definition, env: Mapping[str, str], dotenv: Mapping[str, str]
) -> None:
    """Fold one compose file into `defn` (its services as targets, their names as `default`)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise BakeError(
            f"{fname}:{line}: compose: invalid YAML: {getattr(exc, 'problem', exc)}"
        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict):
        raise BakeError(f"{fname}:1: compose: no services mapping (a compose file needs services:)")
    lines = text.splitlines()
    scope = {**dotenv, **env}
    names = []
    for name, svc in doc["services"].items():
        line = next((i + 1 for i, s in enumerate(lines) if s.strip().startswith(f"{name}:")), 1)
        where = f'{fname}:{line}: service "{name}"'
        if not isinstance(svc, dict) or not svc.get("build"):
            continue
        name = str(name).replace(".", "_")  # buildx sanitizeTargetName
        if not re.fullmatch(r"[a-zA-Z0-9_-]+", name):
            raise BakeError(
                f'{where}: invalid service name "{name}": only letters, digits, "_", "-"'
            )
        try:
            t = _target(_walk(svc, scope, where), scope, doc.get("secrets") or {}, where)
        except FieldError as e:
            raise BakeError(f"{where}: x-bake: {e}") from None
        except (AttributeError, TypeError, KeyError) as e:
            raise BakeError(f"{where}: build: invalid value ({e})") from None
        defn.add_target(name, t, Origin(fname, line, f'service "{name}"'))
        names.append(name)
        if fname not in defn.files:
            defn.files.append(fname)
    if names:
        # Several compose files make one project (compose-go loads them together): one
        # default group of every service, each once.
        members = list(dict.fromkeys([*defn.groups.get("default", []), *names]))
        defn.add_group("default", members, Origin(fname, 1, "compose"))
