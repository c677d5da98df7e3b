"""The JSON under every OCI document (pure): exact-error field readers, canonical writing.

Readers take the parsed JSON, a key and `where` (the field's path, e.g.
`index.manifests[2].digest`), and raise ManifestInvalid naming that path and
what would be valid; `load_document` refuses more than MAX_MANIFEST_SIZE
bytes before parsing. `canonical_json` writes compact JSON in the key order
given (as Go's encoding/json writes the spec's structs).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from dockyard.digest import Digest, parse_digest
from dockyard.errors import DockyardError, ManifestInvalid

# Manifests and configs larger than this are refused unread (reliability.md §6:
# the cap containers/image and distribution use).
MAX_MANIFEST_SIZE = 4 * 1024 * 1024

EMPTY_MAP: Mapping[str, str] = MappingProxyType({})


def frozen_map(mapping: Mapping[str, str] | None) -> Mapping[str, str]:
    """A read-only copy: the models are frozen, their mappings too."""
    return MappingProxyType(dict(mapping)) if mapping else EMPTY_MAP


def canonical_json(document: Mapping[str, Any]) -> bytes:
    """Compact JSON bytes in the given key order, UTF-8 (as Go writes them)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def load_document(raw: bytes, what: str) -> Mapping[str, Any]:
    """The JSON object in `raw`; more than MAX_MANIFEST_SIZE bytes is refused unparsed."""
    if len(raw) > MAX_MANIFEST_SIZE:
        raise ManifestInvalid(
            f"{what}: {len(raw)} bytes exceeds the {MAX_MANIFEST_SIZE} byte limit (refused)"
        )
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestInvalid(f"{what}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ManifestInvalid(f"{what}: expected a JSON object, got {kind_of(doc)}")
    return doc


def kind_of(value: Any) -> str:
    """What a JSON value is, as an error message says it (`a list`)."""
    if value is None:
        return "nothing"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )


def string_field(doc: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
    """`doc[key]` as a string; "" when absent unless `required`."""
    value = doc.get(key)
    if value is None or value == "":
        if required:
            raise ManifestInvalid(f"{where}.{key}: missing (expected a non-empty string)")
        return ""
    if not isinstance(value, str):
        raise ManifestInvalid(f"{where}.{key}: expected a string, got {kind_of(value)}")
    return value


def string_list(value: Any, where: str) -> tuple[str, ...]:
    """A list of strings (absent: empty)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ManifestInvalid(f"{where}: expected a list of strings")
    return tuple(value)


def string_map(value: Any, where: str) -> Mapping[str, str]:
    """An object of strings (annotations, labels), read-only (absent: empty)."""
    if value is None:
        return EMPTY_MAP
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ManifestInvalid(f"{where}: expected an object of strings")
    return frozen_map(value)


def digest_field(value: Any, where: str) -> Digest:
    """A digest string, parsed (its errors say which field)."""
    if not isinstance(value, str):
        raise ManifestInvalid(f"{where}: expected a digest string, got {kind_of(value)}")
    try:
        return parse_digest(value)
    except DockyardError as exc:
        raise ManifestInvalid(f"{where}: {exc}") from None
