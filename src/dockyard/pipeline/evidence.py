"""Release evidence: each platform image's SBOM and provenance, attached in its target's layout.

    counts = attach_evidence(ws, plan, built, key=key)     # {target: EvidenceCounts}

Release (after verify and the scan, before publish) and `build
--push-by-digest` (before the push) call it. Everything is attached by digest
to the platform image it describes, as an OCI referrer (evidence/artifacts.py),
in the layout the build wrote: publish and the push copy images with their
referrers, so every registry — and merge, which copies from the staging
repository — ends up with the same evidence as the layout.

Per platform image, as `[evidence]` asks (default: an SPDX SBOM and the provenance):
- one SBOM per format (evidence/sbom): the document itself, artifactType its media type;
- the SLSA v1 provenance (evidence/provenance.py) as an in-toto statement,
  artifactType `application/vnd.in-toto+json`, annotation `in-toto.io/predicate-type`;
- with a signing key ([sign] key), the provenance and each SBOM are also DSSE
  envelopes signed with it (`application/vnd.dsse.envelope.v1+json` layers):
  attestations a verifier can check against the same public key.

Nothing is attached twice: a document of the same kind already attached to
the image (a skipped or reused image keeps what its first release attached,
copied back with it) is left alone. Provenance of an image this run did not
build (skipped or reused) carries no start and finish times: this run only
knows its inputs (the input hash says they are the ones it was built from).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from dockyard import __version__
from dockyard.builder.result import BuildResult, JobResult, TargetResult
from dockyard.config.model import EvidenceConfig
from dockyard.digest import Digest, sha256_digest
from dockyard.evidence.artifacts import attach
from dockyard.evidence.provenance import MEDIA_TYPE as IN_TOTO
from dockyard.evidence.provenance import (
    PREDICATE_TYPE,
    BasePinned,
    ProvenanceInputs,
    provenance,
    statement_bytes,
)
from dockyard.evidence.sbom.formats import FORMATS, Format
from dockyard.evidence.sbom.generate import (
    attach_document,
    platform_images,
    sbom_document,
)
from dockyard.evidence.sbom.syft import find_syft
from dockyard.evidence.sign.dsse import sign_envelope
from dockyard.evidence.sign.keys import SigningKey
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import Descriptor
from dockyard.plan.model import Plan, TargetPlan
from dockyard.workspace import Workspace

DSSE = "application/vnd.dsse.envelope.v1+json"
PREDICATE_ANNOTATION = "in-toto.io/predicate-type"
PLATFORM_ANNOTATION = "dev.dockyard.platform"
# The in-toto predicate type of an SBOM attestation, per format.
SBOM_PREDICATES = {"spdx": "https://spdx.dev/Document", "cyclonedx": "https://cyclonedx.org/bom"}

Say = Callable[[str], None]


@dataclass(frozen=True)
class EvidenceCounts:
    """What one target's platform images got: documents attached now, and already there."""

    attached: int = 0
    present: int = 0

    def to_json(self) -> dict[str, int]:
        return {"attached": self.attached, "present": self.present}


def attach_evidence(
    ws: Workspace,
    plan: Plan,
    built: BuildResult,
    *,
    key: SigningKey | None = None,
    say: Say | None = None,
) -> dict[str, EvidenceCounts]:
    """Attach each platform image's evidence in its target's layout (see the module docstring)."""
    wanted = ws.config.evidence
    if not wanted.sbom and not wanted.provenance:
        return {}
    say = say or (lambda _: None)
    syft = find_syft(ws.environ) if wanted.sbom else None
    # The file the plan came from (none when a project runs on the defaults alone).
    path = ws.config.path
    config_digest = sha256_digest(path.read_bytes()) if path.is_file() else None
    config_path = path.name if path.is_file() else ""
    targets = {t.name: t for t in plan.targets}
    counts: dict[str, EvidenceCounts] = {}
    for result in built.targets:
        target = targets[result.name]
        attacher = _Target(
            ws, plan, target, result, built.builder, wanted, key, syft, config_path, config_digest
        )
        counts[result.name] = attacher.run()
        c = counts[result.name]
        say(f"evidence {result.name}: {c.attached} attached, {c.present} already there")
    return counts


@dataclass
class _Target:
    ws: Workspace
    plan: Plan
    target: TargetPlan
    result: TargetResult
    builder: str
    wanted: EvidenceConfig
    key: SigningKey | None
    syft: str | None
    config_path: str
    config_digest: Digest | None
    attached: int = 0
    present: int = 0

    def run(self) -> EvidenceCounts:
        store = LayoutStore(self.result.layout)
        name = self.target.repositories[0].name if self.target.repositories else self.target.image
        for job in self.result.jobs:
            if job.digest is None:
                continue
            head = store.manifest_head(str(job.digest))
            if head is None:
                continue
            subject = Descriptor(head[2], job.digest, head[1])
            for fmt_name in self.wanted.sbom:
                self._sbom(store, subject, job, name, FORMATS[fmt_name])
            if self.wanted.provenance:
                self._provenance(store, subject, job, name)
        return EvidenceCounts(self.attached, self.present)

    def _have(self, store: LayoutStore, subject: Descriptor, artifact_type: str, **annotations) -> bool:
        for entry in store.referrers(subject.digest, artifact_type=artifact_type):
            if all(entry.annotations.get(k) == v for k, v in annotations.items()):
                return True
        return False

    def _put(self, store, subject, *, artifact_type, media_type, data, annotations) -> None:
        # Created at the plan's time (the commit's), not the clock: two machines attaching
        # the same statement make the same artefact manifest.
        attach(
            store, subject, artifact_type=artifact_type, media_type=media_type, data=data,
            annotations=annotations, created=_plan_time(self.plan),
        )  # fmt: skip
        self.attached += 1

    def _sbom(self, store, subject: Descriptor, job: JobResult, name: str, fmt: Format) -> None:
        if self._have(store, subject, fmt.media_type):
            self.present += 1
            document = None
        else:
            [image] = platform_images(store, str(job.digest), any_single=True)
            document = sbom_document(
                store, image, name=name, fmt=fmt, syft=self.syft, environ=self.ws.environ
            )
            attach_document(store, document)
            self.attached += 1
        if self.key is None:
            return
        predicate = SBOM_PREDICATES[fmt.name]
        if self._have(store, subject, IN_TOTO, **{PREDICATE_ANNOTATION: predicate}):
            self.present += 1
            return
        if document is None:
            [image] = platform_images(store, str(job.digest), any_single=True)
            document = sbom_document(
                store, image, name=name, fmt=fmt, syft=self.syft, environ=self.ws.environ
            )
        statement = {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": name, "digest": {subject.digest.algorithm: subject.digest.hex}}],
            "predicateType": predicate,
            "predicate": json.loads(document.data),
        }
        self._signed(store, subject, job, statement, predicate)

    def _provenance(self, store, subject: Descriptor, job: JobResult, name: str) -> None:
        annotations = {PREDICATE_ANNOTATION: PREDICATE_TYPE}
        if self._have(store, subject, IN_TOTO, **annotations):
            self.present += 1
            return
        built_now = job.state == "built"
        statement = provenance(
            ProvenanceInputs(
                repository=name,
                digest=subject.digest,
                target=self.target.name,
                platform=job.platform,
                context=self.plan.context,
                dockyard_version=__version__,
                builder=self.builder,
                config_path=self.config_path,
                config_digest=self.config_digest,
                args=_job_args(self.target, job),
                bases=tuple(BasePinned(b.reference, b.digest, b.platform) for b in job.bases),
                input_hash=job.input_hash,
                started=job.started_at if built_now else None,
                finished=job.finished_at if built_now else None,
                environ=self.ws.environ,
            )
        )
        if self.key is not None:
            self._signed(store, subject, job, statement, PREDICATE_TYPE)
        else:
            self._put(
                store, subject, artifact_type=IN_TOTO, media_type=IN_TOTO,
                data=statement_bytes(statement),
                annotations={**annotations, PLATFORM_ANNOTATION: str(job.platform)},
            )  # fmt: skip

    def _signed(self, store, subject, job: JobResult, statement: dict, predicate: str) -> None:
        assert self.key is not None
        envelope = sign_envelope(IN_TOTO, statement_bytes(statement), self.key)
        self._put(
            store, subject, artifact_type=IN_TOTO, media_type=DSSE,
            data=envelope.to_bytes(),
            annotations={PREDICATE_ANNOTATION: predicate, PLATFORM_ANNOTATION: str(job.platform)},
        )  # fmt: skip


def _plan_time(plan: Plan) -> datetime | None:
    try:
        return datetime.fromisoformat(plan.created.replace("Z", "+00:00"))
    except ValueError:
        return None


def _job_args(target: TargetPlan, job: JobResult) -> dict[str, str]:
    for planned in target.jobs:
        if planned.platform == job.platform:
            return dict(planned.args)
    return {}
