"""Publish stage: the atomic multi-registry publish, its tag journal, records, retention.

    publish.py  phase 1 (everything by digest, HEAD-verified on every registry),
                phase 2 (tags moved in a stable order, rolled back on failure)
    journal.py  pure: tag order and rollback decisions
    records.py  verification records attached to what is published (referrers)
    retain.py   retention: delete old tags' manifests, never what a kept tag needs
    summary.py  pure: rows -> table / Markdown / $GITHUB_OUTPUT text
"""
