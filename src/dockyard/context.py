"""The source-control context a build is made from (pure data).

Filled from GitHub Actions' environment or the local git repository by
`dockyard.gitinfo` (the I/O edge); the plan and the tag engine only read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GitContext:
    """What metadata-action calls the "context": event, ref, sha and friends.

    `ref` is a full git ref (refs/heads/main, refs/tags/v1.2.3,
    refs/pull/7/merge) or "" when unknown. `timestamp` is the commit time as
    an ISO-8601 string in UTC, or "" when unknown. `payload` is the GitHub
    event payload (the JSON of GITHUB_EVENT_PATH), or {} outside Actions.
    """

    event: str = "push"
    ref: str = ""
    sha: str = ""
    default_branch: str = ""
    timestamp: str = ""
    repository: str = ""  # owner/name when known
    server_url: str = "https://github.com"
    payload: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def branch(self) -> str:
        return self.ref[len("refs/heads/"):] if self.ref.startswith("refs/heads/") else ""

    @property
    def tag(self) -> str:
        return self.ref[len("refs/tags/"):] if self.ref.startswith("refs/tags/") else ""

    @property
    def short_sha(self) -> str:
        return self.sha[:7]

    @property
    def known(self) -> bool:
        """False outside git with no flags: the plan then uses the 'dev' version."""
        return bool(self.ref or self.sha)
