"""Publish stage: the atomic multi-registry publish, its tag journal, records, retention.

    publish.py   the entry point: publish() (phase 1, then phase 2, or a dry run),
                 its input and result types re-exported
    model.py     PublishItem, and the results: states, PlannedAction, RepositoryResult,
                 PublishResult (their JSON and summary rows)
    slot.py      one target on one repository during a run: its source image, its state
    content.py   phase 1: everything by digest, HEAD-verified on every registry, records attached
    tagmoves.py  phase 2: tags journalled, moved in a stable order, rolled back on failure
    dryrun.py    a dry run: HEADs only, what would be written or moved
    journal.py   pure: tag order and rollback decisions
    order.py     pure: may a tag move from one release to another (semver, then created)
    ordercheck.py  the reads for order.py: each tag's current release, refusals, the message
    records.py   verification records attached to what is published (referrers)
    retain.py    retention: delete old tags' manifests, never what a kept tag needs
    hosted.py    pure: which hosted API retain deletes through (GHCR, Docker Hub), what it deletes
    hostedapi.py the GitHub Packages and Docker Hub API calls retain makes there
    summary.py   pure: rows -> table / Markdown / $GITHUB_OUTPUT text
"""
