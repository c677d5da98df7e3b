"""OCI 1.1 referrers: the list of manifests whose `subject` is a given manifest.

Where a registry implements the referrers API (`GET /v2/<name>/referrers/<digest>`,
and an `OCI-Subject` header on the PUT of a manifest with a subject), it keeps
the list itself. Everywhere else, the distribution spec's fallback applies and
the client keeps it: an OCI index tagged `<alg>-<hex>` (the "referrers tag
schema") whose entries describe each referrer (its `artifactType`, else its
config's media type, and its annotations). Adding one is read-modify-write of
that index: begin from an empty index when the tag is absent, never list a
referrer twice, and refuse to touch a tag that holds anything but an index.

The decisions here are pure (`referrers_tag`, `referrer_entry`,
`with_referrer`, `of_type`); `fallback_list` and `fallback_add` run them
through the Store verbs, so the registry and the layout share one fallback.
Registry 2.8 (our test registry) has no referrers API; the OCI image layout
has no referrers at all, and LayoutStore uses the same tag schema inside its
index.json (see layout.py for why).
"""

from __future__ import annotations

from collections.abc import Iterable

from dockyard.digest import Digest
from dockyard.errors import NotFound, ReferrersInvalid
from dockyard.oci import mediatypes as mt
from dockyard.oci.models import Descriptor, Index, Manifest, build_index, parse_manifest
from dockyard.oci.store import Store


def referrers_tag(digest: Digest) -> str:
    """The fallback tag of `digest`: `sha256-<hex>` (distribution spec, "Referrers Tag Schema")."""
    return f"{digest.algorithm}-{digest.hex[:64]}"


def referrer_entry(manifest: Manifest) -> Descriptor:
    """The descriptor a referrers list holds for `manifest`.

    The spec: `artifactType` is the manifest's, else its config's media type,
    and every annotation of the manifest is copied.
    """
    return Descriptor(
        manifest.media_type,
        manifest.digest,
        manifest.size,
        annotations=manifest.annotations,
        artifact_type=manifest.artifact_type or manifest.config.media_type,
    )


def with_referrer(current: Index | None, entry: Descriptor) -> bytes | None:
    """The bytes of the referrers index after adding `entry`; None when it is already listed.

    Existing entries keep their order and exact fields; the new one goes last.
    """
    entries = list(current.manifests) if current is not None else []
    if any(e.digest == entry.digest for e in entries):
        return None
    raw, _ = build_index([*entries, entry])
    return raw


def of_type(entries: Iterable[Descriptor], artifact_type: str | None) -> list[Descriptor]:
    """Entries of `artifact_type` (all when None): the filter a registry MAY have skipped."""
    return [e for e in entries if artifact_type is None or e.artifact_type == artifact_type]


def parse_referrers(data: bytes, where: str) -> Index:
    """A referrers list (an OCI index) from its bytes; anything else is ReferrersInvalid."""
    parsed = parse_manifest(data)
    if not isinstance(parsed, Index) or parsed.media_type != mt.OCI_INDEX:
        raise ReferrersInvalid(
            f"{where}: holds a {parsed.media_type}, not an OCI index of referrers (left alone)"
        )
    return parsed


def fallback_list(
    store: Store, subject: Digest, artifact_type: str | None = None
) -> list[Descriptor]:
    """The referrers of `subject` read from the fallback tag (none when it is absent)."""
    tag = referrers_tag(subject)
    try:
        data, _ = store.manifest_get(tag)
    except NotFound:
        return []
    return of_type(parse_referrers(data, f"{store}:{tag}").manifests, artifact_type)


def fallback_add(store: Store, manifest: Manifest) -> bool:
    """List `manifest` (already stored) under its subject's fallback tag; False if listed already.

    Read-modify-write: a writer racing us between the read and the PUT can
    lose an entry (registry 2.8 has no conditional PUT); the manifest itself
    stays stored by digest, and the next add lists it again.
    """
    if manifest.subject is None:
        raise ValueError("fallback_add: the manifest has no subject")
    tag = referrers_tag(manifest.subject.digest)
    try:
        data, _ = store.manifest_get(tag)
        current: Index | None = parse_referrers(data, f"{store}:{tag}")
    except NotFound:
        current = None
    updated = with_referrer(current, referrer_entry(manifest))
    if updated is None:
        return False
    store.manifest_put(updated, mt.OCI_INDEX, tag=tag)
    return True


def artifact(data: bytes, media_type: str, where: str) -> Manifest:
    """`data` parsed as a manifest with a subject (what referrer_put accepts), else ValueError."""
    parsed = parse_manifest(data, media_type)
    if not isinstance(parsed, Manifest) or parsed.subject is None:
        raise ValueError(f"{where}: a referrer must be an image manifest with a subject")
    return parsed
