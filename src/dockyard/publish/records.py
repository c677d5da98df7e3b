"""Verification records in a release: what lets a re-release skip verify, and their push.

Skipping: a target's built index is not verified again only when EVERY
repository it is released to (one per registry) holds a valid record for
that index digest made with the same settings hash (verify/record.py). Every
registry, not the first: a registry added to the release, or one whose
record was lost, has no evidence of its own, and verify is what then runs.
Any doubt (a registry down, a referrers tag that is not an index, a record
that does not parse) also means verify runs. `--no-cache` always verifies.

Pushing: after a verify that passed, the record goes to each repository in
publish's phase 1, once the index and every child are HEAD-checked there and
before any tag moves, unless a matching record is already there. A record
that cannot be attached fails phase 1 like any other content, so no tag
moves; a record that did land stays (it says only what is true: this digest
passed with these settings). A dry run attaches nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dockyard import __version__
from dockyard.errors import OperationError
from dockyard.verify.attach import attach_record, find_record
from dockyard.verify.image import VerifyOptions
from dockyard.verify.record import Record, applied_settings, make_record, settings_hash

if TYPE_CHECKING:
    from dockyard.digest import Digest
    from dockyard.oci.models import Descriptor
    from dockyard.plan.model import TargetPlan
    from dockyard.verify.report import Report

# What publish reports per repository (RepositoryResult.record).
ATTACHED = "attached"
PRESENT = "present"  # a matching record was already there
WOULD_ATTACH = "would attach"


def verify_options(target: TargetPlan) -> VerifyOptions:
    """What release verifies a target with: its [policy], its platforms, its smoke argv, its
    live health check."""
    return VerifyOptions.from_policy(
        target.policy,
        platforms=target.platforms,
        smoke=bool(target.smoke),
        smoke_cmd=tuple(target.smoke),
        health=target.health,
    )


def target_settings(target: TargetPlan) -> dict[str, Any]:
    """The settings a record of this target states (and hashes)."""
    return applied_settings(target.policy, verify_options(target))


def new_record(target: TargetPlan, report: Report, *, now: datetime | None = None) -> Record:
    return make_record(
        report,
        settings=target_settings(target),
        version=__version__,
        now=now or datetime.now(UTC),
    )


def recorded_everywhere(
    targets: Sequence[TargetPlan], digests: Mapping[str, Digest | None], client: Any
) -> dict[str, Record]:
    """Target name -> its record, for the targets every repository holds a matching record of."""
    out: dict[str, Record] = {}
    for target in targets:
        digest = digests.get(target.name)
        if digest is None or not target.repositories:
            continue
        wanted = settings_hash(target_settings(target))
        try:
            found = [
                find_record(client.store(repository), digest, wanted)
                for repository in target.repositories
            ]
        except OperationError:
            continue  # cannot tell: verify
        if all(r is not None for r in found):
            out[target.name] = found[0]  # type: ignore[assignment]
    return out


def attach_missing(store: Any, record: Record, subject: Descriptor) -> str:
    """Attach `record` to `subject` in `store` unless a matching record is there: the outcome."""
    if find_record(store, record.index, record.settings_hash) is not None:
        return PRESENT
    attach_record(store, record, subject)
    return ATTACHED


def would_attach(store: Any, record: Record) -> str:
    """A dry run's answer: is a matching record there already?"""
    try:
        found = find_record(store, record.index, record.settings_hash)
    except OperationError:
        found = None
    return PRESENT if found is not None else WOULD_ATTACH
