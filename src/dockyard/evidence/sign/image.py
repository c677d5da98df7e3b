"""Sign an image (the index and every child) the way cosign does, and check it with a public key.

    root, subjects = image_subjects(store, "1.2.3")          # children first, the root last
    outcomes = sign_subjects(store, subjects, identity="ghcr.io/acme/api", key=key)
    checks = check_subjects(store, subjects, key.public)     # one SignatureCheck each
    findings = signature_findings(checks)                    # for verify's report

Every manifest is signed on its own, under its own `sha256-<hex>.sig` tag
(cosign `sign --recursive`): an index signature says nothing about a child
pulled by its platform digest, so a child is verified by its own signature.
Children are signed before the index.

Signing is idempotent per key: when the tag already holds a signature that
this key's public half verifies for this digest, nothing is written (as
cosign's duplicate detector does), so a re-release converges; a signature
by another key is kept and this one is appended beside it.

A check passes when at least one signature layer (1) has a payload blob that
hashes to its descriptor, (2) carries a signature that verifies with the key
over those exact bytes, and (3) names this manifest's digest in the payload.
cosign's own order and rule: any one valid signature is enough, and the
payload's docker-reference is not compared with where the image is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dockyard.digest import Digest
from dockyard.errors import ManifestInvalid, OperationError, SignatureInvalid
from dockyard.evidence.sign.keys import SigningKey, VerifyingKey
from dockyard.evidence.sign.payload import parse_simple_signing, simple_signing
from dockyard.evidence.sign.storage import (
    layer_signature,
    read_payload,
    read_signatures,
    signature_layer,
    signature_layers,
    signature_tag,
    write_signatures,
)
from dockyard.findings import Finding
from dockyard.oci import mediatypes as mt
from dockyard.oci.models import Descriptor, Index, parse_manifest
from dockyard.oci.store import Store

SIGNED = "signed"  # a signature was appended
PRESENT = "present"  # this key had signed this digest already: nothing written

# verify's check and rules (`dockyard verify --key`).
SIGNATURE_CHECK = "signature"
VERIFIED_RULE = "signature.verified"  # info
MISSING_RULE = "signature.missing"  # error: no signature at all
INVALID_RULE = "signature.invalid"  # error: signatures, none valid with the key
# Nested indexes deeper than this are not an image anyone builds.
MAX_DEPTH = 4


@dataclass(frozen=True)
class Subject:
    """One manifest to sign or check: its descriptor and what it is ("" for an index)."""

    descriptor: Descriptor
    platform: str = ""  # the index entry's platform; "" for the root or a nested index

    @property
    def digest(self) -> Digest:
        return self.descriptor.digest

    @property
    def label(self) -> str:
        """'index' or 'linux/arm64 image': how messages name it."""
        if self.descriptor.media_type in mt.INDEX_TYPES:
            return "index"
        return f"{self.platform} image" if self.platform else "image"


@dataclass(frozen=True)
class SignOutcome:
    subject: Subject
    outcome: str  # SIGNED | PRESENT
    tag: str

    def to_json(self) -> dict[str, Any]:
        return {
            "digest": str(self.subject.digest),
            "platform": self.subject.platform or None,
            "media_type": self.subject.descriptor.media_type,
            "tag": self.tag,
            "outcome": self.outcome,
        }


@dataclass(frozen=True)
class SignatureCheck:
    """One manifest's verdict: ok, or why not (one clause naming each signature's problem)."""

    subject: Subject
    ok: bool
    signatures: int  # simple-signing layers found
    identity: str = ""  # the valid signature's docker-reference
    reason: str = ""  # why it failed; "" when ok
    missing: bool = False  # no signature at all (vs. none valid)

    @property
    def message(self) -> str:
        """'linux/arm64 image: …' (the digest is the finding's path, and in the tag named)."""
        if self.ok:
            return f"{self.subject.label}: signed as {self.identity}, verified with the key"
        return f"{self.subject.label}: {self.reason}"


# ---------------------------------------------------------------- what to sign


def image_subjects(store: Store, reference: str) -> tuple[Descriptor, list[Subject]]:
    """(the root's descriptor, every manifest under it: children first, the root last).

    The root is read by `reference` (a tag, a digest, or "" for a layout's own
    image) and its digest is that of the bytes read. Nested indexes are read to
    reach their children; image manifests are not read (their digest is what is
    signed)."""
    data, media_type = store.manifest_get(reference)
    root = parse_manifest(data, media_type)
    desc = Descriptor(root.media_type, root.digest, root.size)
    subjects: list[Subject] = []
    if isinstance(root, Index):
        _walk(store, root, subjects, depth=1)
    subjects.append(Subject(desc))
    return desc, subjects


def _walk(store: Store, index: Index, out: list[Subject], *, depth: int) -> None:
    for child in index.manifests:
        if child.media_type in mt.INDEX_TYPES:
            if depth >= MAX_DEPTH:
                raise OperationError(
                    f"index {index.digest}: indexes nested deeper than {MAX_DEPTH}"
                )
            data, media_type = store.manifest_get(str(child.digest))
            node = parse_manifest(data, child.media_type or media_type)
            if not isinstance(node, Index) or node.digest != child.digest:
                raise OperationError(
                    f"index {index.digest}: child {child.digest} is not that index"
                )
            _walk(store, node, out, depth=depth + 1)
        out.append(Subject(child, str(child.platform) if child.platform else ""))


def subjects_of(descriptors: Sequence[Descriptor]) -> list[Subject]:
    """Subjects from descriptors already in hand (publish's: children first, the root last)."""
    return [Subject(d, str(d.platform) if d.platform else "") for d in descriptors]


# ---------------------------------------------------------------- signing


def sign_subjects(
    store: Store, subjects: Sequence[Subject], *, identity: str, key: SigningKey
) -> list[SignOutcome]:
    """Sign each subject in order (children first); see the module docstring."""
    return [sign_subject(store, subject, identity=identity, key=key) for subject in subjects]


def sign_subject(store: Store, subject: Subject, *, identity: str, key: SigningKey) -> SignOutcome:
    digest = subject.digest
    tag = signature_tag(digest)
    current = read_signatures(store, digest)
    layers = list(current.layers) if current is not None else []
    for layer in signature_layers(current):
        if _valid(store, layer, digest, key.public)[0]:
            return SignOutcome(subject, PRESENT, tag)
    payload = simple_signing(identity, digest)
    layer = signature_layer(payload, key.sign(payload))
    write_signatures(store, digest, [*layers, layer], {layer.digest: payload})
    return SignOutcome(subject, SIGNED, tag)


# ---------------------------------------------------------------- checking


def check_subjects(
    store: Store, subjects: Sequence[Subject], key: VerifyingKey
) -> list[SignatureCheck]:
    return [check_subject(store, subject, key) for subject in subjects]


def check_subject(store: Store, subject: Subject, key: VerifyingKey) -> SignatureCheck:
    """The subject's signatures judged with `key` (registry errors other than a missing tag raise)."""
    digest = subject.digest
    tag = signature_tag(digest)
    try:
        manifest = read_signatures(store, digest)
    except (SignatureInvalid, ManifestInvalid) as exc:
        return SignatureCheck(subject, False, 0, reason=f"no valid signature: {tag}: {exc}")
    layers = signature_layers(manifest)
    if not layers:
        why = f"no signature ({tag} not found)" if manifest is None else f"no signature in {tag}"
        return SignatureCheck(subject, False, 0, reason=why, missing=True)
    problems = []
    for layer in layers:
        ok, said = _valid(store, layer, digest, key)
        if ok:
            return SignatureCheck(subject, True, len(layers), identity=said)
        problems.append(said)
    if len(problems) == 1:
        reason = f"{tag}: {problems[0]}"
    else:
        each = "; ".join(f"{i}: {p}" for i, p in enumerate(problems, 1))
        reason = f"{tag}: none of {len(layers)} signatures is valid with the key ({each})"
    return SignatureCheck(subject, False, len(layers), reason=reason)


def _valid(store: Store, layer: Descriptor, digest: Digest, key: VerifyingKey) -> tuple[bool, str]:
    """(True, the identity) when the layer is a valid signature of `digest` by `key`,
    else (False, why)."""
    try:
        payload = read_payload(store, layer)
        if not key.verify(layer_signature(layer), payload):
            return False, "does not verify with the key (another key, or an edited payload)"
        claim = parse_simple_signing(payload)
    except SignatureInvalid as exc:
        return False, str(exc)
    if claim.digest != digest:
        return (
            False,
            f"signed by the key for {claim.digest}, not this manifest (copied or tampered)",
        )
    return True, claim.identity


def signature_findings(checks: Sequence[SignatureCheck]) -> list[Finding]:
    """verify's findings: one per manifest, an error for each without a valid signature."""
    findings = []
    for check in checks:
        if check.ok:
            rule, severity = VERIFIED_RULE, "info"
        else:
            rule, severity = (MISSING_RULE if check.missing else INVALID_RULE), "error"
        detail = {"digest": str(check.subject.digest), "signatures": check.signatures}
        if check.identity:
            detail["identity"] = check.identity
        findings.append(
            Finding(
                rule,
                severity,  # type: ignore[arg-type]
                check.subject.platform,
                str(check.subject.digest),
                check.message,
                detail,
            )
        )
    return findings
