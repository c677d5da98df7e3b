"""An OSV advisory directory, read into frozen models (https://ossf.github.io/osv-schema/).

    db = load_osv_dir(Path("osv"))          # every *.json file of the directory
    for advisory, affected in db.lookup("Debian", "busybox"): ...

Only the fields the matcher and the report use are read, and each is
type-checked: a malformed file is one InputError line naming the file and
the field (`osv/DSA-1.json: affected[0].ranges[0].events[1]: expected one of
introduced, fixed, last_affected, limit`), exit 2. A directory without any
*.json file is no database at all, and is refused the same way: a scan never
passes because it had nothing to match against. A withdrawn advisory is
read and kept out of the lookup.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockyard.errors import InputError
from dockyard.evidence.scan.versions import ecosystem, split_ecosystem

# The largest advisory read: Debian's and the kernel's records with long `versions` lists
# are a few hundred KiB; anything near this is not an advisory.
MAX_ADVISORY_SIZE = 32 * 1024 * 1024
EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
RANGE_TYPES = ("ECOSYSTEM", "SEMVER", "GIT")


@dataclass(frozen=True)
class Score:
    type: str  # CVSS_V2, CVSS_V3, CVSS_V4, Ubuntu, ...
    score: str  # the vector (or the word, for Ubuntu)


@dataclass(frozen=True)
class Event:
    kind: str  # one of EVENT_KINDS
    version: str


@dataclass(frozen=True)
class Range:
    type: str  # one of RANGE_TYPES (GIT ranges are kept but cannot be judged without the repo)
    events: tuple[Event, ...]


@dataclass(frozen=True)
class Affected:
    ecosystem: str  # as written, with any release suffix: "Debian:12"
    name: str
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()
    severity: tuple[Score, ...] = ()
    # affected[].database_specific.severity, else affected[].ecosystem_specific.severity
    database_severity: str = ""

    @property
    def release(self) -> str:
        return split_ecosystem(self.ecosystem)[1]


@dataclass(frozen=True)
class Advisory:
    id: str
    path: str  # the file it came from, as errors name it
    aliases: tuple[str, ...] = ()
    summary: str = ""
    severity: tuple[Score, ...] = ()
    database_severity: str = ""  # database_specific.severity (GHSA: "HIGH", "MODERATE", ...)
    affected: tuple[Affected, ...] = ()
    withdrawn: str = ""

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)


@dataclass(frozen=True)
class OsvDatabase:
    directory: str
    advisories: tuple[Advisory, ...]
    # (ecosystem name without release, normalised package name) -> what names that package
    index: Mapping[tuple[str, str], tuple[tuple[Advisory, Affected], ...]] = field(
        default_factory=dict, hash=False
    )

    def lookup(self, ecosystem_name: str, package: str) -> tuple[tuple[Advisory, Affected], ...]:
        eco = ecosystem(ecosystem_name)
        key = eco.normalise(package) if eco else package
        return self.index.get((ecosystem_name, key), ())


def load_osv_dir(directory: Path, *, shown: str | None = None) -> OsvDatabase:
    """Every `*.json` in `directory` (not its subdirectories), parsed and indexed."""
    shown = shown or str(directory)
    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "does not exist"
        raise InputError(f"OSV database {shown} {what} (expected a directory of OSV *.json files)")
    files = sorted(p for p in directory.glob("*.json") if p.is_file())
    if not files:
        raise InputError(
            f"OSV database {shown}: no advisories (*.json) in it; nothing to match against"
        )
    advisories = tuple(read_advisory(path, shown=f"{shown}/{path.name}") for path in files)
    return index_advisories(shown, advisories)


def index_advisories(directory: str, advisories: tuple[Advisory, ...]) -> OsvDatabase:
    index: dict[tuple[str, str], list[tuple[Advisory, Affected]]] = {}
    for advisory in advisories:
        if advisory.withdrawn:
            continue
        for affected in advisory.affected:
            name, _ = split_ecosystem(affected.ecosystem)
            eco = ecosystem(name)
            key = (name, eco.normalise(affected.name) if eco else affected.name)
            index.setdefault(key, []).append((advisory, affected))
    frozen = {key: tuple(items) for key, items in index.items()}
    return OsvDatabase(directory, advisories, frozen)


def read_advisory(path: Path, *, shown: str) -> Advisory:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_ADVISORY_SIZE + 1)
    except OSError as exc:
        raise InputError(f"{shown}: cannot read ({exc.strerror or exc})") from None
    if len(data) > MAX_ADVISORY_SIZE:
        raise InputError(f"{shown}: larger than {MAX_ADVISORY_SIZE} bytes (not an OSV advisory)")
    return parse_advisory(data, shown=shown)


def parse_advisory(data: bytes, *, shown: str) -> Advisory:
    """One OSV document; InputError `<shown>: <field>: <what is wrong>` when malformed."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{shown}: not JSON ({exc})") from None
    f = _Fields(shown)
    f.mapping(doc, "")
    ident = f.string(doc.get("id"), "id")
    if not ident:
        raise f.error("id", "is empty (expected the advisory's id, e.g. DSA-5000-1)")
    return Advisory(
        id=ident,
        path=shown,
        aliases=f.strings(doc.get("aliases", []), "aliases"),
        summary=f.string(doc.get("summary", ""), "summary"),
        severity=_scores(f, doc.get("severity", []), "severity"),
        database_severity=_severity_word(f, doc.get("database_specific", {}), "database_specific"),
        affected=tuple(
            _affected(f, item, f"affected[{i}]")
            for i, item in enumerate(f.array(doc.get("affected", []), "affected"))
        ),
        withdrawn=f.string(doc.get("withdrawn", ""), "withdrawn"),
    )


def _affected(f: _Fields, item: object, where: str) -> Affected:
    f.mapping(item, where)
    assert isinstance(item, dict)
    package = item.get("package")
    f.mapping(package, f"{where}.package")
    assert isinstance(package, dict)
    eco = f.string(package.get("ecosystem"), f"{where}.package.ecosystem")
    name = f.string(package.get("name"), f"{where}.package.name")
    severity_word = _severity_word(
        f, item.get("database_specific", {}), f"{where}.database_specific"
    )
    severity_word = severity_word or _severity_word(
        f, item.get("ecosystem_specific", {}), f"{where}.ecosystem_specific"
    )
    return Affected(
        ecosystem=eco,
        name=name,
        ranges=tuple(
            _range(f, r, f"{where}.ranges[{i}]")
            for i, r in enumerate(f.array(item.get("ranges", []), f"{where}.ranges"))
        ),
        versions=f.strings(item.get("versions", []), f"{where}.versions"),
        severity=_scores(f, item.get("severity", []), f"{where}.severity"),
        database_severity=severity_word,
    )


def _range(f: _Fields, item: object, where: str) -> Range:
    f.mapping(item, where)
    assert isinstance(item, dict)
    kind = f.string(item.get("type"), f"{where}.type")
    if kind not in RANGE_TYPES:
        raise f.error(
            f"{where}.type", f"{kind!r} is not a range type (valid: {', '.join(RANGE_TYPES)})"
        )
    events = []
    # Field paths are built only for an error: a large database has millions of events.
    for i, event in enumerate(f.array(item.get("events"), f"{where}.events")):
        if not isinstance(event, dict) or len(event) != 1:
            _bad_event(f, event, f"{where}.events[{i}]")
        ((event_kind, version),) = event.items()
        if event_kind not in EVENT_KINDS or not isinstance(version, str):
            _bad_event(f, event, f"{where}.events[{i}]")
        events.append(Event(event_kind, version))
    return Range(kind, tuple(events))


def _bad_event(f: _Fields, event: object, path: str) -> None:
    f.mapping(event, path)
    assert isinstance(event, dict)
    if len(event) != 1 or next(iter(event)) not in EVENT_KINDS:
        raise f.error(path, f"expected one key of {', '.join(EVENT_KINDS)}, got {sorted(event)}")
    ((kind, version),) = event.items()
    f.string(version, f"{path}.{kind}")


def _scores(f: _Fields, value: object, where: str) -> tuple[Score, ...]:
    scores = []
    for i, item in enumerate(f.array(value, where)):
        f.mapping(item, f"{where}[{i}]")
        assert isinstance(item, dict)
        scores.append(
            Score(
                f.string(item.get("type"), f"{where}[{i}].type"),
                f.string(item.get("score"), f"{where}[{i}].score"),
            )
        )
    return tuple(scores)


def _severity_word(f: _Fields, value: object, where: str) -> str:
    """`severity` of a database_specific / ecosystem_specific object, when it is a word."""
    f.mapping(value, where)
    assert isinstance(value, dict)
    word = value.get("severity")
    return word if isinstance(word, str) else ""


class _Fields:
    """Type checks with the field path in every error (one line: `<file>: <path>: <problem>`)."""

    def __init__(self, shown: str) -> None:
        self.shown = shown

    def error(self, path: str, what: str) -> InputError:
        return InputError(f"{self.shown}: {path}: {what}" if path else f"{self.shown}: {what}")

    def _wrong(self, path: str, expected: str, value: object) -> InputError:
        got = "nothing" if value is None else type(value).__name__
        got = {"dict": "an object", "list": "a list", "str": "a string", "int": "a number",
               "float": "a number", "bool": "a boolean"}.get(got, got)  # fmt: skip
        return self.error(path, f"expected {expected}, got {got}")

    def mapping(self, value: object, path: str) -> None:
        if not isinstance(value, dict):
            raise self._wrong(path, "an object", value)

    def array(self, value: object, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise self._wrong(path, "a list", value)
        return value

    def string(self, value: object, path: str) -> str:
        if not isinstance(value, str):
            raise self._wrong(path, "a string", value)
        return value

    def strings(self, value: object, path: str) -> tuple[str, ...]:
        items = self.array(value, path)
        if all(isinstance(v, str) for v in items):
            return tuple(items)
        i = next(i for i, v in enumerate(items) if not isinstance(v, str))
        raise self._wrong(f"{path}[{i}]", "a string", items[i])
