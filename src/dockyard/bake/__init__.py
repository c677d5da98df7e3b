"""Bake and compose files: read docker-bake.hcl, its JSON form and compose files as buildx does.

The result is the document `docker buildx bake --print` prints (`group` and `target` maps); a
converter turns it into dockyard's config model. This layer sits above config (it builds the model)
and below everything that opens a workspace.

    resolve(files, targets, overrides, env)          reads the files (the I/O edge)
    resolve_sources([(name, text), ...], ...)        pure: the same from contents
    find_default_files(directory)                    buildx's default lookup, those present

Modules: hcl/ (parser, evaluator, stdlib, variables, document), jsonsyntax (bake JSON), compose,
definition (files merged in order), resolve (groups, inherits), overrides (--set), model (merge
rules and the --print shape).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from dockyard.bake.compose import parse_dotenv, read_compose
from dockyard.bake.definition import Definition
from dockyard.bake.hcl.document import Document
from dockyard.bake.hcl.errors import SyntaxProblem
from dockyard.bake.hcl.jsonsyntax import parse_json
from dockyard.bake.hcl.parser import parse
from dockyard.bake.model import Resolved
from dockyard.bake.resolve import resolve_definition
from dockyard.errors import BakeError
from dockyard.platform import host_platform

__all__ = ["DEFAULT_FILES", "Resolved", "find_default_files", "resolve", "resolve_sources"]

# docs.docker.com/build/bake/reference "File format": merged in this order when -f is not given.
DEFAULT_FILES: tuple[str, ...] = (
    "compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml",
    "docker-bake.json", "docker-bake.hcl", "docker-bake.override.json",
    "docker-bake.override.hcl",
)  # fmt: skip


def find_default_files(directory: Path) -> list[Path]:
    """The default bake files present in `directory`, in buildx's lookup (= merge) order."""
    return [directory / n for n in DEFAULT_FILES if (directory / n).is_file()]


def _kind(name: str, text: str) -> str:
    """compose, json or hcl, chosen as buildx does: by extension, else by what parses."""
    lower = name.lower()
    if lower.endswith((".yml", ".yaml")):
        return "compose"
    if lower.endswith(".json"):
        return "json"
    if lower.endswith(".hcl"):
        return "hcl"
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return "json"
    if stripped.startswith("services:") or "\nservices:" in text:
        return "compose"
    return "hcl"


def resolve_sources(
    sources: Sequence[tuple[str, str]],
    targets: Sequence[str] = (),
    overrides: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    *,
    dotenv: Mapping[str, str] | None = None,
) -> Resolved:
    """Resolve (file name, content) pairs given in -f order.

    Pure but for env=None (os.environ) and the host's CPU for BAKE_LOCAL_PLATFORM when `env`
    does not give it. `dotenv` is a compose `.env` file's variables (the environment wins).
    """
    environ = dict(os.environ if env is None else env)
    # buildx's built-in variables (a value in `env` wins, which is how tests pin the platform):
    # the platform of the machine running bake, and the command's context (local: cwd://).
    environ.setdefault("BAKE_LOCAL_PLATFORM", str(host_platform()))
    environ.setdefault("BAKE_CMD_CONTEXT", "cwd://")
    try:
        return _resolve_sources(sources, targets, overrides, environ, dotenv or {})
    except RecursionError:  # a recursive-descent parser/evaluator on absurdly deep nesting
        names = ", ".join(n for n, _ in sources)
        raise BakeError(f"{names}: expressions nested too deeply to evaluate") from None


def _resolve_sources(
    sources: Sequence[tuple[str, str]],
    targets: Sequence[str],
    overrides: Sequence[str],
    environ: Mapping[str, str],
    dotenv: Mapping[str, str],
) -> Resolved:
    defn = Definition()
    bodies = []
    # buildx loads every compose file before the HCL/JSON ones, whatever the -f order.
    for name, text in sources:
        if _kind(name, text) == "compose":
            read_compose(name, text, defn, environ, dotenv)
    for name, text in sources:
        kind = _kind(name, text)
        if kind == "compose":
            continue
        try:
            bodies.append((name, parse_json(text) if kind == "json" else parse(text)))
        except SyntaxProblem as p:
            raise BakeError(f"{name}:{p.line}: {p.message}") from None
    Document(bodies, environ).definition(defn)
    if not defn.files:
        defn.files = [name for name, _ in sources]
    return resolve_definition(defn, targets, overrides, environ)


def resolve(
    files: Sequence[Path],
    targets: Sequence[str] = (),
    overrides: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Resolved:
    """Read `files` (in -f order) and resolve them; a compose file's directory may hold `.env`."""
    sources = []
    for f in files:
        try:
            sources.append((str(f), Path(f).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            raise BakeError(f"{f}: cannot read the bake file: {exc}") from None
    environ = dict(os.environ if env is None else env)
    dotenv: dict[str, str] = {}
    composes = [Path(n) for n, t in sources if _kind(n, t) == "compose"]
    if composes and (composes[0].parent / ".env").is_file():
        dotenv = parse_dotenv((composes[0].parent / ".env").read_text(encoding="utf-8"))
    return resolve_sources(sources, targets, overrides, environ, dotenv=dotenv)
