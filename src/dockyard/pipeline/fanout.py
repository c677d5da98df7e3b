"""CI fan-out: digest files, written by `build --push-by-digest`, read by `merge`.

Each build job (one per platform, on its own runner) pushes its platform's
image to a repository by digest only, and writes one file per target and
platform into the digest directory; CI carries the directory from the build
jobs to the merge job as an artifact (upload-artifact / download-artifact with
`merge-multiple: true`). The merge job reads them all back, so the file must
be self-contained: plain UTF-8 JSON, relative names only, no symlinks.

    <digest-dir>/<target>/<os>-<arch>[-<variant>].json

    {
      "version": 1,                               # this format; a reader refuses others
      "target": "api",
      "platform": "linux/arm64",
      "repository": "ghcr.io/acme/staging",       # where the image is, by digest
      "digest": "sha256:…",                       # the platform's image manifest
      "media_type": "application/vnd.oci.image.manifest.v1+json",
      "size": 1234,                               # bytes of that manifest
      "input_hash": "sha256:…",                   # build.inputs: what it was built from
      "image_base": {"stage": 1, "base": "…", "reference": "…",
                     "platform": "linux/arm64", "digest": "sha256:…"},   # or null
      "bases": [ … every stage's pin, same shape … ],
      "created": "2026-01-02T03:04:05Z",          # the build plan's created time
      "plan": {"version": "1.2.3", "ref": "refs/tags/v1.2.3", "sha": "…"}
    }

`image_base` (the final stage's base) and `input_hash` become the index
entry's annotations, exactly as a one-go build writes them
(build.targetlayout.index_child); `plan` lets merge refuse files built from
another commit. The images themselves are the one-go build's too, when each
job runs on a runner of its own: buildah's `--timestamp` is the commit time
and build.reproducible clears the build run's own ids from the config
(tests/integration/test_fanout.py builds each platform in its own clone and
empty storage). Parsing (`parse_record`) and formatting (`format_record`) are
pure; the small I/O (write, read a directory, push) follows below them.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dockyard.builder.result import BasePin, BuildResult
from dockyard.builder.run import BuildProgress
from dockyard.digest import Digest, parse_digest
from dockyard.errors import DockyardError, InputError, OperationError
from dockyard.oci import mediatypes as mt
from dockyard.oci.copy import copy_image
from dockyard.oci.layout import LayoutStore
from dockyard.oci.registry import RegistryClient
from dockyard.pipeline.build import build
from dockyard.pipeline.evidence import attach_evidence
from dockyard.pipeline.sign import release_key
from dockyard.plan.model import Plan
from dockyard.platform import Platform, parse_platform
from dockyard.ref import Reference, parse_repository
from dockyard.workspace import Workspace

FORMAT_VERSION = 1
SUFFIX = ".json"
# A digest file is a few hundred bytes (more with many stages); anything far
# bigger is not one of ours and is not read whole.
MAX_FILE_BYTES = 64 * 1024

_FIELDS = (
    "version", "target", "platform", "repository", "digest", "media_type", "size",
    "input_hash", "image_base", "bases", "created", "plan",
)
_PLAN_FIELDS = ("version", "ref", "sha")
_PIN_FIELDS = ("stage", "base", "reference", "platform", "digest")


@dataclass(frozen=True)
class PlanStamp:
    """What a build planned from: merge refuses a file whose stamp differs from its own plan."""

    version: str
    ref: str
    sha: str

    def describe(self) -> str:
        return f"version {self.version or '-'}, ref {self.ref or '-'}, sha {self.sha or '-'}"


@dataclass(frozen=True)
class DigestRecord:
    """One platform image of one target, pushed by digest (see the module docstring)."""

    target: str
    platform: Platform
    repository: Reference  # no tag, no digest
    digest: Digest
    media_type: str
    size: int
    input_hash: Digest
    image_base: BasePin | None
    bases: tuple[BasePin, ...]
    created: str
    plan: PlanStamp

    @property
    def name(self) -> str:
        """The file's name relative to the digest directory: `api/linux-arm64.json`."""
        return record_name(self.target, self.platform)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "target": self.target,
            "platform": str(self.platform),
            "repository": self.repository.name,
            "digest": str(self.digest),
            "media_type": self.media_type,
            "size": self.size,
            "input_hash": str(self.input_hash),
            "image_base": None if self.image_base is None else self.image_base.to_json(),
            "bases": [b.to_json() for b in self.bases],
            "created": self.created,
            "plan": {"version": self.plan.version, "ref": self.plan.ref, "sha": self.plan.sha},
        }


# ---------------------------------------------------------------- names (pure)


def platform_file(platform: Platform) -> str:
    """`linux-arm64.json`, `linux-arm-v7.json`: the platform's file name."""
    return platform.slug + SUFFIX


def record_name(target: str, platform: Platform) -> str:
    return f"{target}/{platform_file(platform)}"


# ---------------------------------------------------------------- format (pure)


def format_record(record: DigestRecord) -> bytes:
    """The file's bytes: indented, keys in the documented order, a final newline."""
    return (json.dumps(record.to_json(), indent=2, ensure_ascii=True) + "\n").encode()


def parse_record(data: bytes, *, name: str) -> DigestRecord:
    """A digest file's bytes -> DigestRecord; InputError naming `name` and the field otherwise.

    `name` is the file as found (`api/linux-arm64.json`): the target and the
    platform in it must be the ones its path says, so a renamed or misplaced
    file cannot stand in for another platform.
    """
    doc = _document(data, name)
    field = _Fields(doc, name)
    version = field.get("version", int)
    if version != FORMAT_VERSION:
        raise InputError(
            f"{name}: version {version} is not a digest file version this dockyard reads "
            f"(expected {FORMAT_VERSION})"
        )
    media_type = field.get("media_type", str)
    if media_type not in mt.MANIFEST_TYPES:
        raise InputError(
            f"{name}: media_type {media_type!r} is not an image manifest type "
            f"(expected one of {', '.join(sorted(mt.MANIFEST_TYPES))})"
        )
    size = field.get("size", int)
    if size <= 0:
        raise InputError(f"{name}: size {size} is not a manifest size (expected a positive integer)")
    image_base = doc.get("image_base")
    record = DigestRecord(
        target=field.get("target", str),
        platform=field.parsed("platform", _platform),
        repository=field.parsed("repository", parse_repository),
        digest=field.parsed("digest", parse_digest),
        media_type=media_type,
        size=size,
        input_hash=field.parsed("input_hash", parse_digest),
        image_base=None if image_base is None else _pin(image_base, f"{name}: image_base"),
        bases=tuple(_pin(b, f"{name}: bases[{i}]") for i, b in enumerate(field.get("bases", list))),
        created=field.get("created", str),
        plan=_stamp(field.get("plan", dict), name),
    )
    if record.name != name:
        raise InputError(
            f"{name}: holds target {record.target!r}, platform {record.platform} "
            f"(expected at {record.name}; digest files are not to be renamed)"
        )
    return record


def _document(data: bytes, name: str) -> dict[str, Any]:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{name}: not a JSON digest file ({exc})") from None
    if not isinstance(doc, dict):
        raise InputError(f"{name}: not a JSON object (expected a digest file, version {FORMAT_VERSION})")
    missing = [f for f in _FIELDS if f not in doc]
    if missing:
        raise InputError(f"{name}: field '{missing[0]}' is missing (a digest file has {', '.join(_FIELDS)})")
    unknown = sorted(set(doc) - set(_FIELDS))
    if unknown:
        raise InputError(f"{name}: unknown field '{unknown[0]}' (a digest file has {', '.join(_FIELDS)})")
    return doc


class _Fields:
    """Typed reads of one JSON object, each error naming the file and the field."""

    def __init__(self, doc: Mapping[str, Any], where: str) -> None:
        self.doc = doc
        self.where = where

    def get(self, key: str, kind: type) -> Any:
        value = self.doc.get(key)
        # bool is an int in Python; JSON true is never a number here.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise InputError(
                f"{self.where}: field '{key}' is {json.dumps(value)} (expected {_KINDS[kind]})"
            )
        return value

    def parsed(self, key: str, parse) -> Any:
        text = self.get(key, str)
        try:
            return parse(text)
        except InputError as exc:
            raise InputError(f"{self.where}: field '{key}': {exc}") from None


_KINDS = {str: "a string", int: "an integer", list: "a list", dict: "an object"}


def _platform(text: str) -> Platform:
    platform = parse_platform(text)
    if str(platform) != text:
        raise InputError(f"'{text}' is not written canonically (expected '{platform}')")
    return platform


def _pin(value: Any, where: str) -> BasePin:
    if not isinstance(value, dict) or set(value) != set(_PIN_FIELDS):
        raise InputError(f"{where}: expected an object with {', '.join(_PIN_FIELDS)}")
    field = _Fields(value, where)
    return BasePin(
        stage=field.get("stage", int),
        base=field.get("base", str),
        reference=field.get("reference", str),
        platform=field.parsed("platform", _platform),
        digest=field.parsed("digest", parse_digest),
    )


def _stamp(value: Mapping[str, Any], name: str) -> PlanStamp:
    if set(value) != set(_PLAN_FIELDS):
        raise InputError(f"{name}: field 'plan': expected an object with {', '.join(_PLAN_FIELDS)}")
    field = _Fields(value, f"{name}: plan")
    return PlanStamp(*(field.get(k, str) for k in _PLAN_FIELDS))


def plan_stamp(plan: Plan) -> PlanStamp:
    return PlanStamp(plan.version, plan.context.ref, plan.context.sha)


# ---------------------------------------------------------------- files (I/O)


def write_record(directory: Path, record: DigestRecord) -> Path:
    """Write the record's file under `directory` atomically (temp file, fsync, rename)."""
    path = directory / record.name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=SUFFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(format_record(record))
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)  # mkstemp's 0600 would survive into the artifact
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise OperationError(f"{path}: cannot write the digest file ({exc.strerror})") from None
    return path


def read_records(directory: Path, targets: Sequence[str]) -> dict[str, dict[Platform, DigestRecord]]:
    """Every digest file of these targets under `directory`: target -> platform -> record.

    A target without a subdirectory maps to {} (the caller names what is
    missing). Files not ending in .json (and temp files) are ignored; a
    symlink, an oversized or a malformed file is an InputError naming it.
    """
    if not directory.is_dir():
        raise InputError(f"--digest-dir {directory}: no such directory (the build jobs' digest files go there)")
    found: dict[str, dict[Platform, DigestRecord]] = {}
    for target in targets:
        found[target] = {}
        folder = directory / target
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or not path.name.endswith(SUFFIX):
                continue
            record = parse_record(_read(path), name=f"{target}/{path.name}")
            found[target][record.platform] = record
    return found


def _read(path: Path) -> bytes:
    try:
        if path.is_symlink() or not path.is_file():
            raise InputError(f"{path}: not a regular file (digest files are plain files, no symlinks)")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InputError(f"{path}: {path.stat().st_size} bytes is too big for a digest file")
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the digest file ({exc.strerror})") from None


# ---------------------------------------------------------------- push by digest (I/O)


@dataclass(frozen=True)
class FanoutBuild:
    """`build --push-by-digest`: the build, and what was pushed and written."""

    build: BuildResult
    records: tuple[DigestRecord, ...] = ()
    digest_dir: Path | None = None

    @property
    def ok(self) -> bool:
        return self.build.ok

    def to_json(self) -> dict[str, Any]:
        doc = self.build.to_json()
        doc["digest_dir"] = None if self.digest_dir is None else str(self.digest_dir)
        doc["pushed"] = [{"file": r.name, **r.to_json()} for r in self.records]
        return doc


def push_by_digest(
    plan: Plan,
    result: BuildResult,
    *,
    repository: Reference,
    digest_dir: Path,
    client: RegistryClient,
) -> tuple[DigestRecord, ...]:
    """Push every job's platform image (not an index) to `repository` by digest, then write
    its digest file. Files are written only after every push succeeded."""
    store = client.store(repository, push=True)
    stamp = plan_stamp(plan)
    records = []
    for target in result.targets:
        layout = LayoutStore(target.layout)
        for job in target.jobs:
            assert job.digest is not None and job.input_hash is not None  # a successful job
            head = layout.manifest_head(str(job.digest))
            if head is None:
                raise OperationError(f"{target.layout}: the {job.platform} image {job.digest} is missing")
            try:
                copy_image(
                    layout, str(job.digest), store, tag=None, digest=job.digest,
                    retry=client.options.retry,
                    names=(f"oci:{target.layout}@{job.digest}", f"{repository.name}@{job.digest}"),
                )
            except DockyardError as exc:
                raise OperationError(
                    f"push {target.name} {job.platform} to {repository.name} by digest: {exc}"
                ) from None
            records.append(
                DigestRecord(
                    target=target.name,
                    platform=job.platform,
                    repository=repository,
                    digest=job.digest,
                    media_type=head[2],
                    size=head[1],
                    input_hash=job.input_hash,
                    image_base=job.image_base,
                    bases=job.bases,
                    created=plan.created,
                    plan=stamp,
                )
            )
    for record in records:
        write_record(digest_dir, record)
    return tuple(records)


def build_push_by_digest(
    ws: Workspace,
    *,
    repository: str,
    digest_dir: Path,
    progress: BuildProgress | None = None,
) -> FanoutBuild:
    """`dockyard build --push-by-digest REPO --digest-dir D`: build, then push by digest.

    REPO names one repository (a staging one is fine: merge copies from it);
    with several targets every image goes there, each by its own digest.
    Nothing is pushed unless every job built.
    """
    repo = _repository(repository)
    key = release_key(ws)  # [sign]: a bad key is bad input before anything is built
    result = build(ws, progress=progress)
    pushed: tuple[DigestRecord, ...] = ()
    if result.ok:
        # The same SBOMs and provenance a one-go release attaches (DSSE-signed with the
        # [sign] key when the config has one), carried on by the push and by merge.
        attach_evidence(ws, ws.plan, result, key=key)
        # The registry deadline (--timeout) counts from here: the builds were not registry work.
        ws.registry.session.deadline.restart("push by digest")
        pushed = push_by_digest(
            ws.plan, result, repository=repo, digest_dir=digest_dir, client=ws.registry
        )
    return FanoutBuild(result, pushed, digest_dir)


def _repository(text: str) -> Reference:
    try:
        return parse_repository(text)
    except InputError as exc:
        raise InputError(f"--push-by-digest: {exc}") from None
