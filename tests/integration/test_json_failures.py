"""Issue 17 item 10: with --json, every failure still prints ONE JSON document on stdout
(`{"ok": false, "error": {"code", "message", "exit_code"}}`); the `error:` line stays on stderr."""

from __future__ import annotations

import json

import pytest

from dockyard.oci import mediatypes as mt
from dockyard.oci.layout import LayoutStore
from dockyard.oci.models import build_index
from tests.helpers.images import make_image, push_image
from tests.integration.hostile import dockyard, one_error_line

pytestmark = pytest.mark.integration


def _failure(result, exit_code: int) -> dict:
    assert result.returncode == exit_code, result.stderr
    line = one_error_line(result)
    doc = json.loads(result.stdout)  # exactly one document: json.loads refuses trailing data
    assert doc["ok"] is False
    assert doc["error"]["exit_code"] == exit_code
    assert line == "error: " + doc["error"]["message"]
    return doc["error"]


def test_bad_config(tmp_path):
    (tmp_path / "dockyard.toml").write_text("[project\n")
    error = _failure(dockyard("plan", "--json", cwd=tmp_path), 2)
    assert error["code"] == "InputError"
    assert "dockyard.toml:1:" in error["message"]


def test_corrupt_layout(tmp_path):
    store = LayoutStore(tmp_path / "l")
    image = make_image((100,))
    push_image(store, image, tag="v1")
    (store.path / "index.json").write_text("{not json")
    error = _failure(dockyard("inspect", "--json", f"oci:{store.path}:v1"), 1)
    assert error["code"] == "ManifestInvalid"


def test_unreachable_source(tmp_path):
    # Port 9 (discard) on loopback: nothing listens there; connection refused at once.
    result = dockyard(
        "copy", "--json", "--retry-attempts", "1", "127.0.0.1:9/nothing:v1", f"oci:{tmp_path}/d:v1"
    )
    assert _failure(result, 1)["code"] == "RegistryError"


def test_bad_tag_rule():
    args = ["--ref", "refs/tags/v1", "--sha", "a" * 40, "--tag", "type=semver"]
    result = dockyard("tags", "--json", *args)
    assert _failure(result, 2)["code"] == "InputError"


def test_usage_error():
    result = dockyard("inspect", "--json", "--no-such-option", "oci:/x")
    assert _failure(result, 2)["code"] == "UsageError"


def test_import_of_a_missing_rootfs(tmp_path):
    result = dockyard(
        "import", "--json", "--platform", f"linux/amd64={tmp_path}/none", f"oci:{tmp_path}/o:v1"
    )
    assert _failure(result, 2)["code"] == "InputError"


def test_a_command_that_printed_its_report_adds_no_second_document(tmp_path):
    store = LayoutStore(tmp_path / "e")
    raw, _ = build_index([])
    store.manifest_put(raw, mt.OCI_INDEX, tag="empty")
    result = dockyard("verify", "--json", f"oci:{store.path}:empty")  # VerificationFailed
    assert result.returncode == 1
    doc = json.loads(result.stdout)  # the report, alone
    assert "findings" in doc and "error" not in doc
