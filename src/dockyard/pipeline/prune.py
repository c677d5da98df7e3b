"""[retain] after a release: every repository it published to, pruned, its own tags kept.

    retained = prune_release(ws, published, ws.config.retain)

Run only after a publish that succeeded (not a dry run): each repository of
the PublishResult is given to publish.retain with the [retain] keep, match
and api, and with every tag this release wrote there protected, so the
release just made is never what goes. A failure is raised (OperationError);
release reports it as its `retain` stage, the release itself published.
"""

from __future__ import annotations

from dockyard.config.model import RetainConfig
from dockyard.publish.model import PublishResult
from dockyard.publish.retain import RetainResult, retain
from dockyard.ref import parse_repository
from dockyard.workspace import Workspace


def prune_release(
    ws: Workspace, published: PublishResult, config: RetainConfig
) -> tuple[RetainResult, ...]:
    """Retain every repository of `published` with `config` (see the module docstring)."""
    protect: dict[str, set[str]] = {}
    for repo in published.repositories:
        protect.setdefault(repo.repository, set()).update(t.tag for t in repo.tags)
    return tuple(
        retain(
            parse_repository(name),
            keep=config.keep,
            match=config.match,
            protect=tags,
            client=ws.registry,
            api=config.api,
            environ=ws.environ,
        )
        for name, tags in protect.items()
    )
