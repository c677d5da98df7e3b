"""The plan: config + git context -> every (target, platform) job with its inputs (pure).

Nothing here touches the disk, the network or a subprocess: the caller
passes the config, the git context, the build platform and the clock. The
plan is what `dockyard plan` prints and what build and release execute.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from dockyard.config.model import Config, Policy, Target
from dockyard.context import GitContext
from dockyard.errors import InputError
from dockyard.platform import Platform, parse_platforms, platform_args
from dockyard.ref import Reference, join_image, parse_repository
from dockyard.tags import TagResult, compute_tags

# The version a build gets when there is no git context at all (a tarball, a
# fresh directory): a clear, non-release value rather than an error.
DEV_VERSION = "dev"
CREATED = "org.opencontainers.image.created"


@dataclass(frozen=True)
class Job:
    """One builder run: one target for one platform."""

    target: str
    platform: Platform
    context: Path
    dockerfile: Path
    args: Mapping[str, str]

    @property
    def key(self) -> str:
        """A file-name-safe id: `api-linux-arm64-v8`-style, used for logs and digest files."""
        return f"{self.target}-{self.platform.slug}"


@dataclass(frozen=True)
class TargetPlan:
    """One target of the plan: its build inputs, platforms, repositories, tags, policy and jobs.

    Every repository gets the same tags (the tag engine gives each image the
    same list), so they are held once, bare; `references` pairs them up.
    """

    name: str
    context: Path
    dockerfile: Path
    platforms: tuple[Platform, ...]
    image: str  # the config's image as written ("fleet-api"): shown when there is no registry
    # Where the target is published: one repository per registry, no tag. Empty
    # when no registry is configured and `image` does not name one in full: a
    # bare `fleet-api` would mean Docker Hub, and nothing goes there by accident.
    repositories: tuple[Reference, ...]
    tag_names: tuple[str, ...]  # bare tags ("1.2.3", "latest"): the tag engine's order, once each
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    policy: Policy
    smoke: tuple[str, ...]
    jobs: tuple[Job, ...]
    stage: str | None = None  # the Dockerfile stage built (bake's `target`); None = the last

    @property
    def references(self) -> tuple[Reference, ...]:
        """Every repository with every tag, repository by repository in the engine's order, once each."""
        return tuple(
            dict.fromkeys(r.with_tag(tag) for r in self.repositories for tag in self.tag_names)
        )

    def shown_images(self) -> tuple[str, ...]:
        """The repositories as `dockyard plan` shows them; the image as written when there is none."""
        return tuple(r.name for r in self.repositories) or (self.image,)

    def shown_tags(self) -> tuple[str, ...]:
        """`repository:tag`, image by image as metadata-action lists them, each once."""
        return tuple(
            dict.fromkeys(f"{image}:{tag}" for image in self.shown_images() for tag in self.tag_names)
        )


@dataclass(frozen=True)
class Plan:
    """Every selected target with its platforms, jobs, tags and labels, for one git context."""

    project: str
    version: str
    context: GitContext
    build_platform: Platform
    created: str
    targets: tuple[TargetPlan, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = ()  # the config's (bake attributes dockyard does not act on)

    def to_json(self) -> dict:
        return {
            "project": self.project,
            "version": self.version,
            "context": {
                "event": self.context.event,
                "ref": self.context.ref,
                "sha": self.context.sha,
                "default_branch": self.context.default_branch,
            },
            "build_platform": str(self.build_platform),
            "created": self.created,
            "targets": [_target_json(t) for t in self.targets],
            "warnings": list(self.warnings),
        }


def _target_json(t: TargetPlan) -> dict:
    return {
        "name": t.name,
        "context": str(t.context),
        "dockerfile": str(t.dockerfile),
        "stage": t.stage,
        "platforms": [str(p) for p in t.platforms],
        "images": list(t.shown_images()),
        "tags": list(t.shown_tags()),
        "labels": dict(t.labels),
        "annotations": dict(t.annotations),
        "policy": {
            "max_size": t.policy.max_size,
            "non_root": t.policy.non_root,
            "healthcheck": t.policy.healthcheck,
            "require_labels": list(t.policy.require_labels),
        },
        "smoke": list(t.smoke),
        "jobs": [{"platform": str(j.platform), "key": j.key, "args": dict(j.args)} for j in t.jobs],
    }


def make_plan(
    config: Config,
    context: GitContext,
    *,
    build_platform: Platform,
    now: datetime,
    select: Sequence[str] = (),
    platforms: Sequence[str] = (),
) -> Plan:
    """Plan the selected targets (groups expanded; empty = the default group).

    `platforms`, when given, narrows every target to those platforms (each
    must be one the target is configured for, so a typo cannot silently
    build nothing).
    """
    names = config.select(select)
    only = parse_platforms(platforms) if platforms else ()
    created = _created(context, now)
    targets = []
    version = DEV_VERSION
    for name in names:
        target = config.targets[name]
        repositories = _repositories(config, target)
        result = _tag_result(config, context, target, now)
        if not targets:
            version = result.version or DEV_VERSION
        targets.append(
            _plan_target(
                config,
                target,
                result,
                repositories,
                context=context,
                build=build_platform,
                created=created,
                only=only,
            )
        )
    return Plan(
        project=config.project.name,
        version=version,
        context=context,
        build_platform=build_platform,
        created=created,
        targets=tuple(targets),
        warnings=config.warnings,
    )


def _created(context: GitContext, now: datetime) -> str:
    # The commit time makes BUILD_DATE reproducible; the clock is the fallback.
    if context.timestamp:
        return context.timestamp
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _repositories(config: Config, target: Target) -> tuple[Reference, ...]:
    """One repository per registry prefix; without any, the image itself if it names its registry."""
    if config.project.registries:
        return tuple(join_image(registry, target.image) for registry in config.project.registries)
    # No registry configured: an image written in full and in canonical form
    # (`ghcr.io/acme/api`) names its own. Anything docker would complete
    # (`fleet-api`, `acme/api`, `docker.io/api`) is Docker Hub by default: none.
    try:
        ref = parse_repository(target.image)
    except InputError:
        return ()
    return (ref,) if ref.name == target.image else ()


def _tag_result(config: Config, context: GitContext, target: Target, now: datetime) -> TagResult:
    """The tag engine's answer with bare tags (no images): every repository gets them all."""
    if not context.known:
        # Outside git: no ref to derive tags from; the dev version only.
        return TagResult(version=DEV_VERSION, tags=(DEV_VERSION,), labels={}, annotations={})
    labels = {**config.tags.labels, **target.labels}
    return compute_tags(
        context,
        images=(),
        rules=config.tags.rules,
        flavor=config.tags.flavor,
        labels=labels,
        require_semver=config.tags.require_semver,
        latest_only_stable=config.tags.latest_only_stable,
        now=now,
    )


def _plan_target(
    config: Config,
    target: Target,
    result: TagResult,
    repositories: tuple[Reference, ...],
    *,
    context: GitContext,
    build: Platform,
    created: str,
    only: tuple[Platform, ...],
) -> TargetPlan:
    platforms = target.platforms
    if only:
        unknown = [p for p in only if p not in platforms]
        if unknown:
            have = ", ".join(str(p) for p in platforms)
            raise InputError(
                f"--platform {unknown[0]}: target '{target.name}' is not built for it "
                f"(configured: {have})"
            )
        platforms = tuple(p for p in platforms if p in only)
    version = result.version or DEV_VERSION
    common = {
        **target.args,
        "VERSION": version,
        "BUILD_DATE": created,
        "VCS_REF": context.sha,
    }
    jobs = tuple(
        Job(
            target=target.name,
            platform=p,
            context=target.context,
            dockerfile=target.dockerfile,
            args={**common, **platform_args(build=build, target=p)},
        )
        for p in platforms
    )
    defaults = _default_labels(config, target, version, created, context)
    labels = _merged(defaults, result.labels)
    # The target's own (a bake file's `index:` annotations) over the engine's.
    annotations = {**_merged(defaults, result.annotations), **target.annotations}
    # The tag engine stamps `created` with the clock (as metadata-action does);
    # the plan's time (the commit's, when known) makes a re-run of the same
    # commit give the same index, so a release converges and moves no tag.
    # A `created` the user set in the config's labels is kept.
    configured = {**config.tags.labels, **target.labels}
    if CREATED not in configured:
        for table in (labels, annotations):
            if CREATED in table:
                table[CREATED] = created
    return TargetPlan(
        name=target.name,
        context=target.context,
        dockerfile=target.dockerfile,
        platforms=platforms,
        image=target.image,
        repositories=repositories,
        # The engine lists tags as metadata-action does, repeats included; one of each is pushed.
        tag_names=tuple(dict.fromkeys(result.tags)),
        labels=labels,
        annotations=annotations,
        policy=target.policy,
        smoke=target.smoke,
        jobs=jobs,
        stage=target.stage,
    )


def _merged(defaults: Mapping[str, str], engine: Mapping[str, str]) -> dict[str, str]:
    """The tag engine's labels over ours, except that its empty ones never hide a default.

    metadata-action sets title, description, url, licenses… to "" without a
    repository payload. An empty label is kept where we have nothing better:
    it blanks the one the image would inherit from its base (busybox's
    description is not the service's).
    """
    return {**defaults, **{k: v for k, v in engine.items() if v != "" or k not in defaults}}


def _default_labels(
    config: Config, target: Target, version: str, created: str, context: GitContext
) -> dict[str, str]:
    """The OCI labels every image gets, even outside git; the tag engine's win."""
    labels = {
        "org.opencontainers.image.title": target.image.rsplit("/", 1)[-1],
        "org.opencontainers.image.version": version,
        "org.opencontainers.image.created": created,
    }
    if context.sha:
        labels["org.opencontainers.image.revision"] = context.sha
    if context.repository:
        source = f"{context.server_url.rstrip('/')}/{context.repository}"
        labels["org.opencontainers.image.source"] = source
    labels.update(target.labels)
    return labels
