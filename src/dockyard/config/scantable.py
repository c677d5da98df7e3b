"""dockyard.toml's [scan] table -> ScanConfig (pure; native.py calls it).

    [scan]
    osv-db  = "osv"          # a directory of OSV *.json advisories, relative to the file
    fail-on = "high"         # critical | high | medium | low | unknown
    ignore  = [{id = "CVE-2024-1234", reason = "not reachable: no TLS in this image", until = 2027-01-31}]

Every ignore entry needs all three keys: an ignore without a reason cannot
be reviewed, and one without an expiry date is forever. `until` is a TOML
date or a "YYYY-MM-DD" string; the entry ignores through that day.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dockyard.config.fields import Fields, index_path, key_path
from dockyard.config.model import DEFAULT_FAIL_ON, SCAN_SEVERITIES, IgnoreRule, ScanConfig

SCAN_KEYS = ("osv-db", "fail-on", "ignore")
IGNORE_KEYS = ("id", "reason", "until")


def scan_config(fields: Fields, table: Mapping[str, Any], root: Path) -> ScanConfig:
    osv_db = None
    if "osv-db" in table:
        text = fields.string(table["osv-db"], "scan.osv-db")
        if not text:
            raise fields.error(
                "scan.osv-db", 'is empty (expected a directory of OSV *.json files, e.g. "osv")'
            )
        osv_db = Path(os.path.normpath(root / text))
    fail_on = fields.string(table.get("fail-on", DEFAULT_FAIL_ON), "scan.fail-on")
    if fail_on not in SCAN_SEVERITIES:
        raise fields.error(
            "scan.fail-on", f"{fail_on!r} is not a severity (valid: {', '.join(SCAN_SEVERITIES)})"
        )
    value = table.get("ignore", [])
    if not isinstance(value, list):
        raise fields.wrong_type("scan.ignore", "a list of {id, reason, until} tables", value)
    rules = tuple(_rule(fields, item, index_path("scan.ignore", i)) for i, item in enumerate(value))
    return ScanConfig(osv_db=osv_db, fail_on=fail_on, ignore=rules)


def _rule(fields: Fields, item: object, path: str) -> IgnoreRule:
    entry = fields.table(item, path, keys=IGNORE_KEYS)
    for key, example in (("id", '"CVE-2024-1234"'), ("reason", '"why it does not apply"'),
                         ("until", "2027-01-31")):  # fmt: skip
        if key not in entry:
            raise fields.error(
                path,
                f"missing {key!r} (each ignore needs id, reason and until, e.g. {key} = {example})",
            )
    ident = fields.string(entry["id"], key_path(path, "id")).strip()
    reason = fields.string(entry["reason"], key_path(path, "reason")).strip()
    if not ident:
        raise fields.error(
            key_path(path, "id"),
            'is empty (expected an advisory id or alias, e.g. "CVE-2024-1234")',
        )
    if not reason:
        raise fields.error(
            key_path(path, "reason"), "is empty (say why the advisory does not apply)"
        )
    return IgnoreRule(ident, reason, _date(fields, entry["until"], key_path(path, "until")))


def _date(fields: Fields, value: object, path: str) -> dt.date:
    expected = "a date (YYYY-MM-DD, e.g. 2027-01-31)"
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date | str):
        raise fields.wrong_type(path, expected, value)
    if isinstance(value, dt.date):
        return value
    text = fields.string(value, path)
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise fields.error(path, f"{text!r} is not {expected}") from None
