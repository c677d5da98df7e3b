"""Retention: delete a repository's old tags and their manifests, never what a kept tag needs.

    result = retain(parse_repository("ghcr.io/acme/api"), keep=10, match=r"^v\\d",
                    protect=("1.2.3", "latest"), dry_run=False, client=client)

Which tags go (plan_retention, pure):
- candidates are the tags matching `match` (re.search; every tag without it),
  newest first by the image config's `created` (an index: its first platform
  child's config), then by name; tags without a readable date are oldest;
- kept: the newest `keep` candidates, every protected tag (the current
  release's), every tag `match` leaves out, and every tag pointing at a
  manifest a kept tag also needs (the same digest, or a child of a kept index);
- the rest are deleted by deleting their manifests by digest: registries
  delete tags only that way (registry 2.8), and a digest delete removes every
  tag on it, which is why a digest a kept tag shares is never deleted. The
  children of a deleted index go too, except those a kept index references.

Referrers tags (`sha256-<hex>`, the distribution spec's fallback list of the
manifests attached to `<hex>`: verification records, SBOMs, provenance) and
cosign's digest tags (`sha256-<hex>.sig`, `.att`, `.sbom`: signatures,
attestations, an SBOM; oci/attached.py) are never candidates: one stays
while its subject stays, and goes with its subject, the attached manifests
too (oci/referrers.py), and so on down (a signature attached to an SBOM that goes).

Roots are deleted before children, so no tag ever points at an index whose
children are gone. A registry that refuses deletes (405, UNSUPPORTED) stops
the run with Unsupported (exit 1), saying how far it got.

Where the deletes go (`api`, publish/hosted.py): `registry` is the OCI DELETE
above; GHCR (`github`) and Docker Hub (`dockerhub`) refuse it and delete
through their own web APIs (publish/hostedapi.py): the same plan, the
repository still read through the OCI API; `auto` picks by the host.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dockyard.digest import Digest
from dockyard.errors import InputError, NotFound, OperationError, Unsupported
from dockyard.oci.models import MAX_MANIFEST_SIZE, Index, Manifest, parse_config, parse_manifest
from dockyard.publish.hosted import AUTO, REGISTRY, choose_api
from dockyard.publish.hostedapi import delete_hosted
from dockyard.ref import Reference
from dockyard.userregex import UserRegex

# Why a tag is kept (RetainedTag.reason).
NEWEST = "newest"
PROTECTED = "protected"
NOT_MATCHED = "not matched"
SHARED = "shares a manifest with a kept tag"
REFERRERS = "lists what is attached to a kept manifest"

# The referrers tag schema (distribution spec): <algorithm>-<hex of the subject>; with
# `.sig`, `.att` or `.sbom`, cosign's tags of that digest (evidence/sign/storage.py writes
# `.sig`), attached the same way.
_REFERRERS_TAG = re.compile(
    r"(?:(sha256)-([0-9a-f]{64})|(sha512)-([0-9a-f]{128}))(?:\.(?:sig|att|sbom))?"
)

_OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class TagInfo:
    tag: str
    digest: Digest
    created: str = ""  # RFC 3339 from the image config, "" when unknown

    @property
    def when(self) -> datetime:
        return parse_created(self.created)


@dataclass(frozen=True)
class RetainedTag:
    tag: str
    digest: Digest
    created: str
    reason: str = ""  # why kept; "" for a deleted tag

    def to_json(self) -> dict[str, Any]:
        doc = {"tag": self.tag, "digest": str(self.digest), "created": self.created or None}
        if self.reason:
            doc["reason"] = self.reason
        return doc


@dataclass(frozen=True)
class RetentionPlan:
    kept: tuple[RetainedTag, ...]  # newest first
    deleted: tuple[RetainedTag, ...]  # newest first
    manifests: tuple[Digest, ...]  # to delete, in order: tagged roots, then orphaned children


@dataclass(frozen=True)
class RetainResult:
    """What retain kept and deleted (or would delete, on a dry run) in one repository."""

    repository: str
    plan: RetentionPlan
    dry_run: bool
    deleted_manifests: tuple[Digest, ...]  # what was deleted (nothing in a dry run)
    seconds: float
    api: str = REGISTRY  # where the deletes went: registry | github | dockerhub
    deleted_tags: tuple[str, ...] = ()  # tags deleted by name (the Docker Hub API)

    def to_json(self) -> dict[str, Any]:
        return {
            "api": self.api,
            "deleted_tags": list(self.deleted_tags),
            "repository": self.repository,
            "dry_run": self.dry_run,
            "kept": [t.to_json() for t in self.plan.kept],
            "deleted": [t.to_json() for t in self.plan.deleted],
            "manifests": [str(d) for d in self.plan.manifests],
            "deleted_manifests": [str(d) for d in self.deleted_manifests],
            "seconds": round(self.seconds, 3),
        }


def parse_created(text: str) -> datetime:
    """An image config's `created` as an aware datetime; unknown or unreadable -> the oldest."""
    if not text:
        return _OLDEST
    try:
        # Go writes nanoseconds: Python takes at most microseconds.
        trimmed = re.sub(r"(\.\d{6})\d+", r"\1", text.strip())
        when = datetime.fromisoformat(trimmed)
    except ValueError:
        return _OLDEST
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def plan_retention(
    tags: Sequence[TagInfo],
    *,
    keep: int,
    matched: Collection[str],
    protect: Collection[str] = (),
    children: Mapping[Digest, Collection[Digest]] | None = None,
) -> RetentionPlan:
    """Decide which tags and manifests go (pure). `children` maps an index digest to its children."""
    if keep < 0:
        raise InputError(f"--keep {keep}: expected 0 or more tags to keep")
    children = children or {}
    referrers = [t for t in tags if referrers_subject(t.tag) is not None]
    tags = [t for t in tags if referrers_subject(t.tag) is None]
    plan = _plan_tags(tags, keep=keep, matched=matched, protect=protect, children=children)
    return _with_referrers(plan, referrers, children)


def referrers_subject(tag: str) -> str | None:
    """The subject digest a referrers-schema tag (`sha256-<hex>`) or a cosign tag
    (`sha256-<hex>.sig`, `.att`, `.sbom`) stands for, else None."""
    m = _REFERRERS_TAG.fullmatch(tag)
    if m is None:
        return None
    algorithm, hex_part = (m[1], m[2]) if m[1] else (m[3], m[4])
    return f"{algorithm}:{hex_part}"


def _with_referrers(
    plan: RetentionPlan,
    referrers: Sequence[TagInfo],
    children: Mapping[Digest, Collection[Digest]],
) -> RetentionPlan:
    """Keep each referrers tag whose subject stays; delete it (and what it lists) with its
    subject, and then the tags of what went with it, until none is left to go."""
    going = {str(d) for d in plan.manifests}
    kept, deleted, roots = list(plan.kept), list(plan.deleted), list(plan.manifests)
    staying = list(referrers)
    while goes := [t for t in staying if referrers_subject(t.tag) in going]:
        for t in goes:
            deleted.append(RetainedTag(t.tag, t.digest, t.created))
            attached = children.get(t.digest, ())  # the attached manifests go with their list
            roots.extend((t.digest, *attached))
            going.update(str(d) for d in (t.digest, *attached))
        staying = [t for t in staying if t not in goes]
    kept.extend(RetainedTag(t.tag, t.digest, t.created, REFERRERS) for t in staying)
    # Only attached manifests go after the roots: nothing a kept tag needs is among them.
    return RetentionPlan(tuple(kept), tuple(deleted), tuple(dict.fromkeys(roots)))


def _plan_tags(
    tags: Sequence[TagInfo],
    *,
    keep: int,
    matched: Collection[str],
    protect: Collection[str],
    children: Mapping[Digest, Collection[Digest]],
) -> RetentionPlan:
    ordered = sorted(tags, key=lambda t: (t.when, t.tag), reverse=True)
    candidates = [t for t in ordered if t.tag in matched]
    reasons: dict[str, str] = {t.tag: NEWEST for t in candidates[:keep]}
    for t in ordered:
        if t.tag in protect:
            reasons[t.tag] = PROTECTED
        elif t.tag not in matched:
            reasons[t.tag] = NOT_MATCHED
    needed = _needed({t.digest for t in ordered if t.tag in reasons}, children)
    while True:  # a tag on a needed manifest is kept, and what it needs is needed too
        more = [t for t in ordered if t.tag not in reasons and t.digest in needed]
        if not more:
            break
        for t in more:
            reasons[t.tag] = SHARED
        needed = _needed(needed | {t.digest for t in more}, children)
    kept = tuple(
        RetainedTag(t.tag, t.digest, t.created, reasons[t.tag]) for t in ordered if t.tag in reasons
    )
    deleted = tuple(
        RetainedTag(t.tag, t.digest, t.created) for t in ordered if t.tag not in reasons
    )
    roots = list(dict.fromkeys(t.digest for t in deleted))
    orphans = [c for r in roots for c in children.get(r, ()) if c not in needed and c not in roots]
    return RetentionPlan(kept, deleted, tuple(roots) + tuple(dict.fromkeys(orphans)))


def _needed(
    digests: Iterable[Digest], children: Mapping[Digest, Collection[Digest]]
) -> set[Digest]:
    """The digests and everything under them."""
    out: set[Digest] = set()
    stack = list(digests)
    while stack:
        d = stack.pop()
        if d not in out:
            out.add(d)
            stack.extend(children.get(d, ()))
    return out


# ---------------------------------------------------------------- I/O


def retain(
    repository: Reference,
    *,
    keep: int,
    match: str | None = None,
    protect: Iterable[str] = (),
    dry_run: bool = False,
    client: Any,
    api: str = REGISTRY,
    environ: Mapping[str, str] | None = None,
) -> RetainResult:
    """Apply the retention plan to `repository` (see the module docstring); `api` is
    auto | registry | github | dockerhub, `environ` gives the hosted APIs their URLs and tokens."""
    started = time.monotonic()
    if keep < 0:
        raise InputError(f"--keep {keep}: expected 0 or more tags to keep")
    try:
        # Bounded in time (dockyard.userregex): a backtracking pattern fails, never hangs.
        pattern = UserRegex(match, what="--match") if match is not None else None
    except re.error as exc:
        raise InputError(f"--match '{match}': not a regular expression ({exc})") from None
    repository = repository.repository_ref
    api = choose_api(api or AUTO, repository.registry)
    store = client.store(repository, push=not dry_run and api == REGISTRY)
    infos, children = _survey(store)
    matched = {t.tag for t in infos if pattern is None or pattern.search(t.tag)}
    plan = plan_retention(
        infos, keep=keep, matched=matched, protect=set(protect), children=children
    )
    done: tuple[Digest, ...] = ()
    tags: tuple[str, ...] = ()
    if dry_run:
        pass
    elif api == REGISTRY:
        done = _delete(store, plan.manifests, repository.name)
    else:
        done, tags = delete_hosted(
            api,
            repository,
            manifests=plan.manifests,
            kept=[t.tag for t in plan.kept],
            deleted=[t.tag for t in plan.deleted],
            environ=os.environ if environ is None else environ,
        )
    seconds = time.monotonic() - started
    return RetainResult(repository.name, plan, dry_run, done, seconds, api=api, deleted_tags=tags)


def _survey(store: Any) -> tuple[list[TagInfo], dict[Digest, tuple[Digest, ...]]]:
    """Every tag with its digest and `created`; each index's children (one read per digest)."""
    infos: list[TagInfo] = []
    children: dict[Digest, tuple[Digest, ...]] = {}
    created: dict[Digest, str] = {}
    for tag in list(store.tag_list()):
        head = store.manifest_head(tag)
        if head is None:
            continue  # deleted meanwhile
        digest = head[0]
        if digest not in children:
            root = _manifest(store, digest)
            children[digest] = (
                tuple(d.digest for d in root.manifests) if isinstance(root, Index) else ()
            )
            created[digest] = _created(store, root)
        infos.append(TagInfo(tag, digest, created[digest]))
    return infos, children


def _manifest(store: Any, digest: Digest) -> Manifest | Index:
    data, media_type = store.manifest_get(str(digest))
    return parse_manifest(data, media_type)


def _created(store: Any, root: Manifest | Index) -> str:
    """The `created` of the image's config (an index: its first platform child's)."""
    if isinstance(root, Index):
        platforms = root.platforms() or list(root.manifests)
        if not platforms:
            return ""
        child = _manifest(store, platforms[0].digest)
        if not isinstance(child, Manifest):
            return ""
        root = child
    try:
        with contextlib.closing(store.blob_open(root.config.digest)) as stream:
            raw = stream.read(MAX_MANIFEST_SIZE + 1)
        return parse_config(raw).created
    except (NotFound, OperationError):
        return ""  # an artifact or an unreadable config: oldest


def _delete(store: Any, digests: Sequence[Digest], name: str) -> tuple[Digest, ...]:
    done: list[Digest] = []
    for digest in digests:
        try:
            store.manifest_delete(digest)
        except NotFound:
            pass  # gone already (another retention run, a registry GC)
        except Unsupported as err:
            raise Unsupported(
                f"retain {name}: the registry refuses to delete manifests, {len(done)} of "
                f"{len(digests)} deleted before that: {_cause(err)} (a CNCF distribution registry "
                "needs storage.delete.enabled: true; Docker Hub and GHCR delete only through "
                "their own web APIs: --api dockerhub, --api github)"
            ) from None
        done.append(digest)
    return tuple(done)


def _cause(err: Unsupported) -> str:
    text = str(err)
    inner = re.search(r"\((.*)\)$", text)
    return inner.group(1) if inner else text
