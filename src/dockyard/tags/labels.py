"""OCI labels and annotations: metadata-action's getOCIAnnotationsWithCustoms.

title, description, url, source, version, created, revision and licenses
come from the context (the event payload's `repository` when present, else
GITHUB_REPOSITORY and the server URL); the user's `KEY=VALUE` entries, with
expressions expanded, override them. Keys are sorted as the action sorts them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType

from dockyard.context import GitContext
from dockyard.errors import InputError
from dockyard.tags.rules import entry_lines

OCI = "org.opencontainers.image."
# Renders one entry's expressions; the second argument names the entry for errors.
Expand = Callable[[str, str], str]


def oci_metadata(
    ctx: GitContext,
    *,
    version: str,
    created: datetime,
    extras: Sequence[str] | Mapping[str, str],
    what: str,
    expand: Expand,
) -> Mapping[str, str]:
    """The OCI labels (or annotations) from the context, then the user's, sorted by key.

    `expand` renders the global expressions of a user entry; `what` names the
    entry kind ("label", "annotation") in error messages.
    """
    repo = ctx.payload.get("repository") if isinstance(ctx.payload, Mapping) else None
    repo = repo if isinstance(repo, Mapping) else {}
    license_ = repo.get("license")
    spdx = license_.get("spdx_id") if isinstance(license_, Mapping) else None
    name = ctx.repository.rsplit("/", 1)[-1] if ctx.repository else ""
    url = f"{ctx.server_url.rstrip('/')}/{ctx.repository}" if ctx.repository else ""
    html_url = str(repo.get("html_url") or url)
    created = created.astimezone(UTC)
    values = {
        OCI + "title": str(repo.get("name") or name),
        OCI + "description": str(repo.get("description") or ""),
        OCI + "url": html_url,
        OCI + "source": html_url,
        OCI + "version": version,
        OCI + "created": f"{created:%Y-%m-%dT%H:%M:%S}.{created.microsecond // 1000:03d}Z",
        OCI + "revision": ctx.sha,
        OCI + "licenses": str(spdx or ""),
    }
    values.update(_extra_metadata(extras, what, expand))
    return MappingProxyType(dict(sorted(values.items(), key=lambda kv: (kv[0].lower(), kv[0]))))


def _extra_metadata(
    extras: Sequence[str] | Mapping[str, str], what: str, expand: Expand
) -> dict[str, str]:
    if isinstance(extras, Mapping):
        return {str(k): expand(str(v), f"{what} {k!r}") for k, v in extras.items()}
    out: dict[str, str] = {}
    for line in entry_lines(extras):  # a pasted `labels: |` block: blank and # lines skipped
        key, sep, value = expand(line, f"{what} {line!r}").partition("=")
        if not sep or not key:
            raise InputError(
                f"{what} {line!r}: expected KEY=VALUE (e.g. org.opencontainers.image.vendor=ACME)"
            )
        out[key] = value
    return out
