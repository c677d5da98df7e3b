"""The WWW-Authenticate challenge a registry answers with, and the scopes we ask for.

Pure (style.md §5): `parse_www_authenticate` turns the header into a
`Challenge` (scheme and parameters); `repository_scope` spells the
`repository:<name>:<actions>` scope a token is requested for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Challenge:
    """One WWW-Authenticate challenge: scheme (lower-case) and its parameters."""

    scheme: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def scope(self) -> str | None:
        return self.params.get("scope")


_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PARAM = re.compile(rf'\s*({_TOKEN})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN}))\s*(,|$)')


def parse_www_authenticate(header: str | None) -> Challenge | None:
    """Parse the first challenge of a WWW-Authenticate header; None when there is none.

    `Bearer realm="https://a/token",service="reg",scope="repository:x:pull,push"`
    -> Challenge("bearer", {...}). Quoted values may hold commas and escapes.
    """
    if not header:
        return None
    match = re.match(rf"\s*({_TOKEN})(?:\s+|$)", header)
    if not match:
        return None
    scheme = match.group(1).lower()
    params: dict[str, str] = {}
    rest = header[match.end() :]
    while rest.strip():
        param = _PARAM.match(rest)
        if not param:
            break  # a second challenge or garbage: the first one is what we use
        quoted, bare = param.group(2), param.group(3)
        value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
        params[param.group(1).lower()] = value
        rest = rest[param.end() :]
    return Challenge(scheme, params)


def repository_scope(repository: str, actions: Iterable[str]) -> str:
    """`repository:<name>:<actions>`, actions in canonical order (pull before push)."""
    order = {"pull": 0, "push": 1, "delete": 2}
    ordered = sorted(set(actions), key=lambda a: (order.get(a, 9), a))
    return f"repository:{repository}:{','.join(ordered)}"
