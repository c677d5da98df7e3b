"""The validated configuration (pure, frozen).

Built by `dockyard.config.loader` from dockyard.toml (and later by the bake
and compose loaders); everything downstream (plan, build, verify, release)
reads only these objects. Paths are absolute, sizes are bytes, platforms are
parsed, policy overrides are already merged into each target: a consumer never
looks at the raw file again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from dockyard.builders import DEFAULT_BACKEND
from dockyard.config.keysource import KeySource
from dockyard.errors import InputError

if TYPE_CHECKING:
    from dockyard.platform import Platform


# The one list of builders is dockyard.builders (a leaf, readable from here).
DEFAULT_BUILDER = DEFAULT_BACKEND


def _mapping() -> Mapping:
    # Read-only, excluded from hashing (mappings are unhashable) but still compared.
    return field(default_factory=lambda: MappingProxyType({}), hash=False)


@dataclass(frozen=True)
class Project:
    name: str
    platforms: tuple[Platform, ...]
    registries: tuple[str, ...] = ()  # prefixes: "ghcr.io/acme", "127.0.0.1:5000/fleet"
    builder: str = DEFAULT_BUILDER  # a key of dockyard.builders.BACKENDS; --builder overrides it


def chosen_builder(flag: str | None, project: Project | None) -> str:
    """The builder to use: the --builder flag, else the config's, else the default."""
    if flag:
        return flag
    return project.builder if project is not None else DEFAULT_BUILDER


@dataclass(frozen=True)
class TagsConfig:
    # metadata-action rule strings; empty = the tag engine's defaults, as in metadata-action.
    rules: tuple[str, ...] = ()
    flavor: tuple[str, ...] = ()
    require_semver: bool = False  # a tag ref that is not vX.Y.Z is refused
    # latest=auto gives a pre-release git tag no `latest` (metadata-action gives it one).
    latest_only_stable: bool = False
    labels: Mapping[str, str] = _mapping()


@dataclass(frozen=True)
class Policy:
    """What verify enforces. The defaults enforce nothing: a check is opt-in."""

    max_size: int | None = None  # bytes, compressed layers + config; None = no budget
    non_root: bool = False
    healthcheck: bool = False
    require_labels: tuple[str, ...] = ()
    # Absolute-path globs (config.pathglob) of files allowed to be ELF programs of another
    # architecture (qemu-user-static, cross toolchains): listed as info, not errors.
    allow_foreign: tuple[str, ...] = ()


@dataclass(frozen=True)
class Retry:
    attempts: int = 3  # tries per registry request, including the first
    backoff: float = 1.0  # seconds before the first retry; doubles each time
    max_delay: float = 30.0  # cap on one delay (also caps a server's Retry-After)
    deadline: float = 1800.0  # seconds for all of a run's registry work ("30m"; --timeout)


# Vulnerability severities, most severe first: `[scan] fail-on` and `--fail-on` take one of
# them; "unknown" (no score, no word from the database) ranks lowest, as grype and trivy rank it.
SCAN_SEVERITIES = ("critical", "high", "medium", "low", "unknown")
DEFAULT_FAIL_ON = "high"


@dataclass(frozen=True)
class IgnoreRule:
    """`[scan] ignore` entry: an advisory (its id or any alias) not counted until a date."""

    id: str  # "CVE-2024-1234", "GHSA-…", "DSA-5000-1"
    reason: str  # why, for the reader of the report
    until: date  # the last day it ignores; from the next day on the finding counts again


@dataclass(frozen=True)
class ScanConfig:
    """[scan]: the vulnerability gate `release` runs between verify and publish."""

    osv_db: Path | None = None  # absolute; None: grype or trivy from PATH
    fail_on: str = DEFAULT_FAIL_ON  # one of SCAN_SEVERITIES
    ignore: tuple[IgnoreRule, ...] = ()


# Formats an SBOM is written in (dockyard.evidence.sbom's names).
SBOM_FORMATS = ("spdx", "cyclonedx")


@dataclass(frozen=True)
class EvidenceConfig:
    """[evidence]: what release attaches to every platform image, by digest, before publishing."""

    sbom: tuple[str, ...] = ("spdx",)  # SBOM_FORMATS, one document each; () for none
    provenance: bool = True  # the SLSA v1 provenance statement


# Where `retain` deletes (publish/hosted.py): through the OCI API, or a hosted registry's own.
RETAIN_APIS = ("auto", "registry", "github", "dockerhub")


@dataclass(frozen=True)
class RetainConfig:
    """[retain]: what a successful release prunes in every repository it published to."""

    keep: int  # the newest tags matching `match` kept; the release's own tags always stay
    match: str | None = None  # a regular expression (re.search); None: every tag
    api: str = "auto"  # one of RETAIN_APIS


@dataclass(frozen=True)
class SignConfig:
    """[sign]: the key release signs every published index and its children with."""

    key: KeySource | None = None  # None: release signs nothing


@dataclass(frozen=True)
class BakeFiles:
    """[bake]: the bake/compose files that define the targets, and `--set` overrides for them."""

    files: tuple[Path, ...] = ()  # absolute, in buildx's merge order (later files win)
    overrides: tuple[str, ...] = ()  # buildx --set syntax; the command line's come after these
    targets: tuple[str, ...] = ()  # resolved when a command names none; () = buildx's "default"


@dataclass(frozen=True)
class Target:
    name: str
    context: Path  # absolute
    dockerfile: Path  # absolute
    image: str  # repository path under each registry prefix, e.g. "fleet-api"
    args: Mapping[str, str] = _mapping()
    platforms: tuple[Platform, ...] = ()  # the target's override, else the project's
    policy: Policy = Policy()  # project policy with the target's overrides merged
    smoke: tuple[str, ...] = ()  # argv run in the image per platform; () = no smoke test
    labels: Mapping[str, str] = _mapping()
    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()
    stage: str | None = None  # the Dockerfile stage to build (bake's `target`); None = the last
    annotations: Mapping[str, str] = _mapping()  # set on the target's index (bake `index:` ones)


@dataclass(frozen=True)
class Config:
    """A validated dockyard.toml: the project, targets, groups, tags, policy, retry, scan and signing (frozen)."""

    path: Path  # the config file, absolute
    root: Path  # its directory: relative paths in the file are relative to it
    project: Project
    variables: Mapping[str, str] = _mapping()  # resolved values (env overrides applied)
    tags: TagsConfig = TagsConfig()
    policy: Policy = Policy()
    retry: Retry = Retry()
    sign: SignConfig = SignConfig()
    evidence: EvidenceConfig = EvidenceConfig()
    targets: Mapping[str, Target] = _mapping()  # in file order
    groups: Mapping[str, tuple[str, ...]] = _mapping()  # name -> targets and groups
    scan: ScanConfig | None = None  # [scan]; None: the file has none, release runs no scan
    bake: BakeFiles = BakeFiles()  # [bake]; read by dockyard.bake.project, not by this package
    # What a bake or compose file asks for that dockyard does not act on (dockyard.bake.convert):
    # one line each, shown on stderr and in `plan --json`; a dockyard.toml alone has none.
    warnings: tuple[str, ...] = ()
    retain: RetainConfig | None = None  # [retain]; None: a release prunes nothing

    def select(self, names: Sequence[str]) -> tuple[str, ...]:
        """Target names for `names` (targets or groups, nested), in config order, once each.

        No names: the "default" group if there is one, else every target.
        """
        if not names:
            names = ("default",) if "default" in self.groups else tuple(self.targets)
        for name in names:
            if name not in self.targets and name not in self.groups:
                raise InputError(f"unknown target or group {name!r} ({self._known()})")
        chosen: set[str] = set()
        self._expand(names, chosen, seen_groups=set())
        return tuple(name for name in self.targets if name in chosen)

    def _expand(self, names: Sequence[str], chosen: set[str], *, seen_groups: set[str]) -> None:
        for name in names:
            if name in self.targets:
                chosen.add(name)
            elif name in self.groups and name not in seen_groups:
                # seen_groups guards against cycles in a Config built by hand;
                # the loader already refuses them.
                seen_groups.add(name)
                self._expand(self.groups[name], chosen, seen_groups=seen_groups)

    def _known(self) -> str:
        known = "known: " + (", ".join(self.targets) or "no targets")
        if self.groups:
            known += "; groups: " + ", ".join(self.groups)
        return known
