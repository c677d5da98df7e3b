"""`dockyard merge`: the CI fan-in. Digest files -> verified indexes -> atomic publish.

    with Workspace(Settings(ref="refs/tags/v1.2.3", sha=sha)) as ws:
        result = merge(ws, digest_dir=Path("digests"))    # MergeResult: ok, or stopped + error

For each selected target, in this order, and nothing is published unless
every step passed for every target:

1. the digest files agree with this plan (same version, ref and sha; only
   planned platforms; one repository per target), else InputError (exit 2);
2. every planned platform has a file, else OperationError naming each
   missing target and platform (exit 1);
3. each child is in the repository it was pushed to, as the file says
   (digest, size, media type), and passes verify_image with the target's
   policy (config vs platform, the ELF arch scan, size, user, healthcheck;
   the smoke run with `smoke=True`), else VerificationFailed (exit 1);
4. the index is built as the build writes it (build.targetlayout.index_child
   and target_index: the plan's annotations, each entry's input hash and
   base pin, the plan's platform order), so the same plan and the same
   images give the same index digest as a one-go `build` + `release`;
5. publish.publish: children, then the index by digest on every registry,
   then the plan's tags, all or nothing; with `[sign] key`, the index and
   every child are signed on every registry before any tag moves, as in
   release (the key is read first: a bad key is bad input). The index is served to publish from
   memory on top of the children's repository (`_WithIndex`), so copies
   within one registry mount the blobs, what is attached to the children
   there comes along (oci/carry.py), and the staging repository is only
   read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from dockyard.builder.targetlayout import index_child, target_index
from dockyard.digest import Digest
from dockyard.errors import (
    EXIT_FAILED,
    EXIT_OK,
    InputError,
    OperationError,
    PublishFailed,
    Unsupported,
    VerificationFailed,
)
from dockyard.oci.models import Descriptor
from dockyard.oci.registry import RegistryClient
from dockyard.pipeline.fanout import DigestRecord, PlanStamp, plan_stamp, read_records, record_name
from dockyard.pipeline.github import write_github
from dockyard.pipeline.sign import publish_signer, release_key
from dockyard.plan.model import Plan, TargetPlan
from dockyard.platform import Platform
from dockyard.publish.content import SignHook
from dockyard.publish.publish import PublishItem, PublishResult, publish
from dockyard.publish.summary import SummaryRow
from dockyard.ref import Reference
from dockyard.verify.image import VerifyOptions, verify_image
from dockyard.verify.report import Report
from dockyard.workspace import Workspace

Progress = Callable[[str], None]


@dataclass(frozen=True)
class MergedTarget:
    """One target's index as merge assembled it from the digest files."""

    name: str
    source: str  # the repository the children were read from
    index_digest: Digest
    children: tuple[DigestRecord, ...]  # in the plan's platform order
    reports: tuple[Report, ...]  # verify_image per child, same order

    @property
    def verify(self) -> str:
        """The summary's verify cell: "passed", or "passed, N warnings"."""
        warnings = sum(f.severity == "warning" for r in self.reports for f in r.findings)
        return "passed" if not warnings else f"passed, {warnings} warnings"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "index_digest": str(self.index_digest),
            "platforms": [str(r.platform) for r in self.children],
            "children": [
                {
                    "file": r.name,
                    "platform": str(r.platform),
                    "digest": str(r.digest),
                    "input_hash": str(r.input_hash),
                    "created": r.created,
                }
                for r in self.children
            ],
            "verify": [r.to_json() for r in self.reports],
        }


# Where a merge can stop (MergeResult.stopped).
CHECK, VERIFY, PUBLISH = "check", "verify", "publish"


@dataclass(frozen=True)
class MergeResult:
    """What merge did; a merge that stopped says where (`stopped`) and why (`error`, one line)."""

    targets: tuple[MergedTarget, ...]
    publish: PublishResult | None  # None: stopped before publishing
    seconds: float = 0.0
    stopped: str | None = None  # CHECK, VERIFY or PUBLISH
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.publish is not None and self.publish.ok

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_FAILED

    def summary_rows(self) -> list[SummaryRow]:
        if self.publish is None:
            return []
        return self.publish.summary_rows(verify={t.name: t.verify for t in self.targets})

    def to_json(self) -> dict[str, Any]:
        if self.error is not None:  # what failed, and where each tag is when publish had begun
            doc: dict[str, Any] = {"ok": False, "error": self.error}
            if self.publish is not None:
                doc["publish"] = self.publish.to_json()
            return doc
        assert self.publish is not None
        return {
            "ok": self.ok,
            "dry_run": self.publish.dry_run,
            "seconds": round(self.seconds, 3),
            "targets": [t.to_json() for t in self.targets],
            "publish": self.publish.to_json(),
        }


# ---------------------------------------------------------------- entry points


def merge(
    ws: Workspace,
    *,
    digest_dir: Path,
    dry_run: bool = False,
    smoke: bool = False,
    progress: Progress | None = None,
    force: bool = False,
) -> MergeResult:
    """`dockyard merge`: plan as `release` does (same ref, sha, registries), read the
    digest files, merge. The retry policy is the config's [retry]. When GitHub Actions
    sets $GITHUB_STEP_SUMMARY / $GITHUB_OUTPUT, the summary and outputs go there.

    Bad input (config, digest files that disagree with the plan) raises
    InputError; any other failure is returned: `ok` False, `stopped` and `error`."""
    plan = ws.plan
    found = read_records(digest_dir, [t.name for t in plan.targets])
    key = release_key(ws)
    started = time.monotonic()
    try:
        result = merge_records(
            plan,
            found,
            client=ws.registry,
            dry_run=dry_run,
            smoke=smoke,
            progress=progress,
            sign=publish_signer(key) if key is not None else None,
            force=force,
        )
    except InputError:
        raise
    except PublishFailed as exc:
        return _stopped(PUBLISH, exc, started, published=exc.result)
    except VerificationFailed as exc:
        return _stopped(VERIFY, exc, started)
    except OperationError as exc:
        return _stopped(CHECK, exc, started)
    if not dry_run:
        write_github(
            result.summary_rows(),
            document=result.to_json(),
            title="dockyard merge",
            environ=ws.environ,
        )
    return result


def _stopped(stage: str, exc: Exception, started: float, *, published: Any = None) -> MergeResult:
    seconds = time.monotonic() - started
    return MergeResult((), published, seconds=seconds, stopped=stage, error=str(exc))


def merge_records(
    plan: Plan,
    found: Mapping[str, Mapping[Platform, DigestRecord]],
    *,
    client: RegistryClient,
    dry_run: bool = False,
    smoke: bool = False,
    progress: Progress | None = None,
    sign: SignHook | None = None,
    force: bool = False,
) -> MergeResult:
    """Merge every target of `plan` from its digest records (see the module docstring).

    Raises on failure (OperationError, VerificationFailed, PublishFailed with
    its result); `merge` turns those into a stopped MergeResult. `force` moves
    tags that point at a newer release (publish/order.py) instead of refusing."""
    say = progress or (lambda _: None)
    started = time.monotonic()
    stamp = plan_stamp(plan)
    for target in plan.targets:
        check_records(target, found.get(target.name, {}), stamp)
    missing = missing_platforms(plan, found)
    if missing:
        raise OperationError(
            "merge refused, nothing published: no digest file for "
            + ", ".join(f"{t} {p} ({record_name(t, p)})" for t, p in missing)
            + " (did that build job run with --push-by-digest, and was its digest directory downloaded?)"
        )
    prepared = [_prepare(t, found[t.name], client, smoke=smoke, say=say) for t in plan.targets]
    failures = [f for _, merged in prepared for r in merged.reports for f in r.errors]
    if failures:
        first = failures[0]
        raise VerificationFailed(
            f"merge refused, nothing published: {len(failures)} verification errors; "
            f"first: {first.platform}: {first.message}"
        )
    say(f"publishing {len(prepared)} targets" + (" (dry run)" if dry_run else ""))
    # The registry deadline (--timeout) counts from here: smoke runs under qemu are not registry work.
    client.session.deadline.restart("publish")
    published = publish(
        [item for item, _ in prepared], client=client, dry_run=dry_run, sign=sign, force=force
    )
    return MergeResult(tuple(m for _, m in prepared), published, seconds=time.monotonic() - started)


# ---------------------------------------------------------------- checks (pure)


def check_records(target: TargetPlan, records: Mapping[Platform, DigestRecord], stamp: PlanStamp) -> None:
    """The records were built from this plan, for its platforms, into one repository."""
    planned = ", ".join(str(p) for p in target.platforms)
    repositories: dict[str, str] = {}
    for platform, record in records.items():
        if platform not in target.platforms:
            raise InputError(
                f"{record.name}: {platform} is not a platform of target '{target.name}' "
                f"(planned: {planned})"
            )
        if record.plan != stamp:
            raise InputError(
                f"{record.name}: built for {record.plan.describe()}, but this merge plans "
                f"{stamp.describe()} (run merge with the build jobs' --ref/--sha, on the same commit)"
            )
        repositories.setdefault(record.repository.name, record.name)
    if len(repositories) > 1:
        (a, file_a), (b, file_b) = list(repositories.items())[:2]
        raise InputError(
            f"target '{target.name}': its images were pushed to {a} ({file_a}) and {b} ({file_b}) "
            "(expected one --push-by-digest repository per target)"
        )


def missing_platforms(
    plan: Plan, found: Mapping[str, Mapping[Platform, DigestRecord]]
) -> list[tuple[str, Platform]]:
    """(target, platform) of every planned image without a digest file, in plan order."""
    return [
        (t.name, p) for t in plan.targets for p in t.platforms if p not in found.get(t.name, {})
    ]


def publish_repositories(target: TargetPlan) -> tuple[Reference, ...]:
    """The target's repositories (one per registry) as publish takes them."""
    if not target.repositories:
        raise InputError(
            f"target '{target.name}': no registry to publish to (image {target.image}; "
            "set [project] registries in dockyard.toml or pass --registry)"
        )
    return target.repositories


def index_for(target: TargetPlan, records: Mapping[Platform, DigestRecord]) -> tuple[bytes, Descriptor]:
    """The target's index, exactly as the build writes it (build.targetlayout)."""
    children = [
        index_child(
            r.media_type, r.digest, r.size, r.platform,
            input_hash=r.input_hash, image_base=r.image_base,
        )
        for r in (records[p] for p in target.platforms)
    ]
    return target_index(children, annotations=target.annotations)


# ---------------------------------------------------------------- per target (I/O)


def _prepare(
    target: TargetPlan,
    records: Mapping[Platform, DigestRecord],
    client: RegistryClient,
    *,
    smoke: bool,
    say: Progress,
) -> tuple[PublishItem, MergedTarget]:
    children = tuple(records[p] for p in target.platforms)
    source = children[0].repository
    repositories = publish_repositories(target)
    store = client.store(source)
    reports = []
    for record in children:
        _check_present(store, record)
        say(f"verifying {target.name} {record.platform} ({source.name}@{record.digest})")
        reports.append(_verify(store, target, record, smoke=smoke))
    raw, desc = index_for(target, records)
    item = PublishItem(
        target=target.name,
        source=_WithIndex(store, raw, desc),
        reference=str(desc.digest),
        repositories=repositories,
        tags=target.tag_names,
    )
    merged = MergedTarget(target.name, source.name, desc.digest, children, tuple(reports))
    return item, merged


def _check_present(store: Any, record: DigestRecord) -> None:
    head = store.manifest_head(str(record.digest))
    where = f"{record.repository.name}@{record.digest}"
    if head is None:
        raise OperationError(
            f"{where} ({record.name}): not in the registry (was the build job's push lost, "
            "or the staging repository cleaned?)"
        )
    digest, size, media_type = head
    if digest != record.digest or size != record.size or media_type != record.media_type:
        raise OperationError(
            f"{where} ({record.name}): the registry serves {digest}, {size} bytes, {media_type}; "
            f"the digest file says {record.size} bytes, {record.media_type}"
        )


def _verify(store: Any, target: TargetPlan, record: DigestRecord, *, smoke: bool) -> Report:

    expect = VerifyOptions.from_policy(
        target.policy, platforms=(record.platform,), smoke=smoke, smoke_cmd=tuple(target.smoke)
    )
    return verify_image(
        (store, str(record.digest)),
        expect=expect,
        name=f"{record.repository.name}@{record.digest}",
    )


class _WithIndex:
    """A repository's store plus one index held in memory: publish's read-only source.

    `ref` is the repository's, so copy mounts blobs between repositories of
    one registry (oci.copier.mount_source); writes are refused.
    """

    def __init__(self, store: Any, raw: bytes, descriptor: Descriptor) -> None:
        self._store = store
        self._raw = raw
        self._desc = descriptor
        self.ref = store.ref

    def __str__(self) -> str:
        return str(self._store)

    def _mine(self, reference: str) -> bool:
        return reference == str(self._desc.digest)

    def manifest_get(self, reference: str) -> tuple[bytes, str]:
        if self._mine(reference):
            return self._raw, self._desc.media_type
        return self._store.manifest_get(reference)

    def manifest_head(self, reference: str) -> tuple[Digest, int, str] | None:
        if self._mine(reference):
            return self._desc.digest, self._desc.size, self._desc.media_type
        return self._store.manifest_head(reference)

    def blob_exists(self, digest: Digest) -> int | None:
        return self._store.blob_exists(digest)

    def blob_open(self, digest: Digest) -> IO[bytes]:
        return self._store.blob_open(digest)

    def tag_list(self):
        return self._store.tag_list()

    def blob_put(self, digest: Digest, size: int, stream: IO[bytes]) -> None:
        raise Unsupported(f"{self}: merge's source is read-only")

    def blob_mount(self, digest: Digest, source: str) -> bool:
        raise Unsupported(f"{self}: merge's source is read-only")

    def manifest_put(self, data: bytes, media_type: str, *, tag: str | None = None) -> Digest:
        raise Unsupported(f"{self}: merge's source is read-only")

    def manifest_delete(self, digest: Digest) -> None:
        raise Unsupported(f"{self}: merge's source is read-only")

    def referrers(self, subject: Digest, *, artifact_type: str | None = None) -> list[Descriptor]:
        # What `build --push-by-digest` attached to each child in the staging repository
        # travels on with it (publish's copy carries it); the index is new: nothing yet.
        return self._store.referrers(subject, artifact_type=artifact_type)

    def referrer_put(self, data: bytes, media_type: str) -> Digest:
        raise Unsupported(f"{self}: merge's source is read-only")
