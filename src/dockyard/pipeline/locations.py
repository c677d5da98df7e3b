"""The commands that name images directly (copy, verify, retain): a location in, one call out.

They read no dockyard.toml: their Settings carry the registry options and a
retry policy, and the workspace gives them its one registry client.

    with Workspace(Settings(retry=RetryPolicy())) as ws:
        result = copy_location(ws, "oci:dist/oci/api:1.2.3", "ghcr.io/acme/api:1.2.3")
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from dockyard.digest import Digest
from dockyard.evidence.sign.image import SIGNATURE_CHECK, signature_findings
from dockyard.evidence.sign.keys import VerifyingKey
from dockyard.oci.copy import DEFAULT_JOBS, CopyResult, Progress, copy_image
from dockyard.pipeline.sign import check_store
from dockyard.platform import parse_platform
from dockyard.publish.ordercheck import copy_guard
from dockyard.publish.retain import RetainResult, retain
from dockyard.ref import LayoutRef, Reference, parse_location, parse_repository
from dockyard.verify.image import VerifyOptions, verify_image
from dockyard.verify.report import Report
from dockyard.workspace import Workspace


def copy_location(
    ws: Workspace,
    source: str,
    destination: str,
    *,
    platform: str | None = None,
    jobs: int = DEFAULT_JOBS,
    progress: Progress | None = None,
    referrers: bool = True,
    force: bool = False,
) -> CopyResult:
    """`dockyard copy SRC DST`: parse both locations, open their stores, copy.

    The evidence attached to the image comes along (referrers and cosign tags;
    `referrers=False`: `--no-referrers`). A layout destination without a tag
    takes the source's tag, else `latest`.
    Both registry ends share the workspace's client (one connection pool, one
    token cache). A registry tag that points at a newer release than the
    source is not moved (OperationError, nothing written) unless `force`
    (publish/order.py).
    """
    src_loc, dst_loc = parse_location(source), parse_location(destination)
    wanted = parse_platform(platform) if platform else None
    src, reference = ws.open(src_loc)
    dst, _ = ws.open(dst_loc, push=True)
    tag, digest = _destination(src_loc, dst_loc)
    guard = None
    if tag is not None and isinstance(dst_loc, Reference) and not force:
        guard = copy_guard(src, dst, tag, name=str(dst_loc))
    return copy_image(
        src,
        reference,
        dst,
        tag=tag,
        digest=digest,
        platform=wanted,
        jobs=jobs,
        retry=ws.registry_options.retry,
        progress=progress,
        names=(str(src_loc), str(dst_loc)),
        referrers=referrers,
        before_move=guard,
    )


def _destination(
    src: Reference | LayoutRef, dst: Reference | LayoutRef
) -> tuple[str | None, Digest | None]:
    """(tag, digest) the destination names."""
    if isinstance(dst, Reference):
        return dst.tag, dst.digest
    return dst.tag or src.tag or "latest", None


def verify_location(
    ws: Workspace,
    location: str,
    *,
    expect: VerifyOptions | None = None,
    smoke_image: str | None = None,
    key: VerifyingKey | None = None,
    progress=None,
) -> Report:
    """`dockyard verify LOCATION`: the image or index a location names, checked.

    With `key` (`verify --key`), the cosign signatures of the index and of every
    child are checked too, for the digest verify read: a `signature.*` finding
    per manifest, an error for each without a signature valid with the key."""
    parsed = parse_location(location)
    store, reference = ws.open(parsed)
    report = verify_image(
        (store, reference),
        expect=expect,
        name=location,
        smoke_image=smoke_image,
        insecure_registries=ws.settings.insecure_registries,
        progress=progress,
    )
    if key is None:
        return report
    findings = signature_findings(check_store(store, report.digest, key))
    platforms = tuple(replace(p, checks=(*p.checks, SIGNATURE_CHECK)) for p in report.platforms)
    return replace(report, platforms=platforms, findings=(*report.findings, *findings))


def retain_repository(
    ws: Workspace,
    repository: str,
    *,
    keep: int,
    match: str | None = None,
    protect: Iterable[str] = (),
    dry_run: bool = False,
    api: str = "auto",
) -> RetainResult:
    """`dockyard retain REPO`: parse the repository, retain with the workspace's client;
    `api` says where the deletes go (auto | registry | github | dockerhub)."""
    ref = parse_repository(repository)
    return retain(
        ref, keep=keep, match=match, protect=protect, dry_run=dry_run, client=ws.registry,
        api=api, environ=ws.environ,
    )  # fmt: skip



