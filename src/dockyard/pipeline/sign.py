"""Signing drivers: `dockyard sign`, the signature half of `verify --key`, release's signer.

    with Workspace(Settings(retry=RetryPolicy())) as ws:
        result = sign_location(ws, "ghcr.io/acme/api:1.2.3", "file:cosign.key")
        checks = check_location(ws, "ghcr.io/acme/api:1.2.3", "cosign.pub")

A key is given as `env:NAME`, `file:PATH` or a KeySource (a bare path is a
file, as cosign's --key); it is read with the workspace's environment (the
password in $DOCKYARD_KEY_PASSWORD or $COSIGN_PASSWORD) before anything is
written, so a bad key is bad input (exit 2) with nothing signed.

The identity a signature names (the payload's docker-reference) is the
repository the image is signed in, as cosign writes it; a layout has none, so
signing one needs `identity` (the repository it is bound for).

Release (and merge) sign through `publish_signer`: a hook publish calls once
every registry holds every index by digest and before any tag moves, so no
tag ever points at an unsigned index or child (publish/publish.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dockyard.config.keysource import FILE, KeySource, parse_key_source
from dockyard.digest import Digest
from dockyard.errors import InputError
from dockyard.evidence.sign.image import (
    PRESENT,
    SIGNED,
    SignatureCheck,
    SignOutcome,
    check_subjects,
    image_subjects,
    sign_subjects,
    subjects_of,
)
from dockyard.evidence.sign.keys import (
    SigningKey,
    VerifyingKey,
    load_signing_key,
    load_verifying_key,
)
from dockyard.evidence.sign.payload import cosign_identity
from dockyard.oci.models import Descriptor
from dockyard.oci.store import Store
from dockyard.ref import LayoutRef, Reference, parse_location, parse_repository
from dockyard.workspace import Workspace

KeyGiven = str | KeySource

LAYOUT_IDENTITY = (
    "a layout has no repository to name in the signature: pass --identity REPO, "
    "the repository the image will be pushed to (e.g. ghcr.io/acme/api)"
)


@dataclass(frozen=True)
class SignResult:
    """What `dockyard sign` did: per manifest (children first, the index last) signed or present."""

    reference: str
    identity: str
    digest: Digest  # the root signed
    outcomes: tuple[SignOutcome, ...]

    @property
    def signed(self) -> int:
        return sum(o.outcome == SIGNED for o in self.outcomes)

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "identity": self.identity,
            "digest": str(self.digest),
            "signed": self.signed,
            "present": sum(o.outcome == PRESENT for o in self.outcomes),
            "manifests": [o.to_json() for o in self.outcomes],
        }


def key_source(ws: Workspace, key: KeyGiven) -> KeySource:
    """`env:NAME`, `file:PATH` or a bare path (relative to the workspace's directory)."""
    if isinstance(key, KeySource):
        return key
    try:
        return parse_key_source(key, base=ws.cwd, bare=FILE)
    except InputError as exc:
        raise InputError(f"--key: {exc}") from None


def signing_key(ws: Workspace, key: KeyGiven) -> SigningKey:
    return load_signing_key(key_source(ws, key), ws.environ)


def verifying_key(ws: Workspace, key: KeyGiven) -> VerifyingKey:
    return load_verifying_key(key_source(ws, key), ws.environ)


def sign_location(
    ws: Workspace, location: str, key: KeyGiven | SigningKey, *, identity: str | None = None
) -> SignResult:
    """`dockyard sign LOCATION --key KEY`: the image (index and every child) signed in place."""
    parsed = parse_location(location)
    signer = key if isinstance(key, SigningKey) else signing_key(ws, key)
    name = _identity(parsed, identity)
    store, reference = ws.open(parsed, push=True)
    root, subjects = image_subjects(store, reference)
    outcomes = sign_subjects(store, subjects, identity=name, key=signer)
    return SignResult(location, name, root.digest, tuple(outcomes))


def _identity(location: Reference | LayoutRef, given: str | None) -> str:
    if given is not None:
        try:
            repository = parse_repository(given)
        except InputError as exc:
            raise InputError(f"--identity: {exc}") from None
        return cosign_identity(repository)
    if isinstance(location, LayoutRef):
        raise InputError(f"{location}: {LAYOUT_IDENTITY}")
    return cosign_identity(location.repository_ref)


def check_location(
    ws: Workspace, location: str, key: KeyGiven | VerifyingKey, *, digest: Digest | None = None
) -> list[SignatureCheck]:
    """Every manifest of the image at `location` (index first) checked with the public key.

    `digest`: check that root, not what the location's tag names now (verify
    passes the digest it verified, so both halves judge the same image)."""
    public = key if isinstance(key, VerifyingKey) else verifying_key(ws, key)
    store, reference = ws.open(parse_location(location))
    return check_store(store, str(digest) if digest is not None else reference, public)


def check_store(store: Store, reference: str, key: VerifyingKey) -> list[SignatureCheck]:
    """The root `reference` names and every manifest under it, checked; the index first."""
    _, subjects = image_subjects(store, reference)
    return check_subjects(store, [subjects[-1], *subjects[:-1]], key)


# ---------------------------------------------------------------- release


def release_key(ws: Workspace) -> SigningKey | None:
    """The key `[sign] key` names, read now (bad input before anything is built); None unset."""
    source = ws.config.sign.key
    if source is None:
        return None
    try:
        return load_signing_key(source, ws.environ)
    except InputError as exc:
        raise InputError(f"{ws.config.path.name}: sign.key: {exc}") from None


def publish_signer(key: SigningKey):
    """The hook publish calls per repository between its phases: sign the index and every child
    there, as that repository (children first). Returns {"signed": n, "present": m}."""

    def sign_in(
        store: Store, repository: Reference, descriptors: Sequence[Descriptor]
    ) -> Mapping[str, int]:
        outcomes = sign_subjects(
            store, subjects_of(descriptors), identity=cosign_identity(repository), key=key
        )
        return {
            SIGNED: sum(o.outcome == SIGNED for o in outcomes),
            PRESENT: sum(o.outcome == PRESENT for o in outcomes),
        }

    return sign_in
