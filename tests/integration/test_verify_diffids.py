"""Issue 11's "Done when": a config whose rootfs.diff_ids do not match its layers fails
`dockyard verify` (exit 1, a config.diff-ids error), on a layout and from the real registry."""

from __future__ import annotations

import json

import pytest

from dockyard.digest import sha256_digest
from tests.helpers.locations import copy_location
from tests.helpers.verifyimages import edit_config, import_busybox, write_index
from tests.integration.test_verify_cli import dockyard, error_lines

pytestmark = pytest.mark.integration

BOTH = (("linux/amd64", "amd64"), ("linux/arm64", "arm64"))
OTHER = str(sha256_digest(b"not this layer"))


def wrong_digest(config: dict) -> None:
    config["rootfs"]["diff_ids"][0] = OTHER


def one_fewer(config: dict) -> None:
    config["rootfs"]["diff_ids"].pop()


def one_more(config: dict) -> None:
    config["rootfs"]["diff_ids"].append(OTHER)


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """(store, import result) of a clean two-platform busybox index."""
    _, store, result = import_busybox(tmp_path_factory.mktemp("diffids"), BOTH)
    return store, result


def tampered(image, edit, tag: str) -> tuple[str, object]:
    """oci:DIR:tag: the clean index with its arm64 child's config edited; and that child's layer."""
    store, result = image
    amd64, arm64 = result.images
    child = edit_config(store, arm64.manifest, edit)
    return write_index(store, [amd64.manifest, child], tag=tag), arm64


def test_the_clean_image_passes_with_its_diff_ids_checked(image):
    store, _ = image
    proc = dockyard("verify", f"oci:{store.path}:t", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert all("config.diff-ids" in p["checks"] for p in doc["platforms"])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            wrong_digest,
            "layer 0 ({layer}) decompresses to {diff_id}, but the config's rootfs.diff_ids[0] is "
            f"{OTHER} (runtimes refuse this image)",
        ),
        (
            one_fewer,
            "the manifest has 1 layer but the config's rootfs.diff_ids lists 0 "
            "(expected one per layer; runtimes refuse this image)",
        ),
        (
            one_more,
            "the manifest has 1 layer but the config's rootfs.diff_ids lists 2 "
            "(expected one per layer; runtimes refuse this image)",
        ),
    ],
    ids=["wrong-digest", "one-fewer", "one-more"],
)
def test_a_layout_whose_diff_ids_do_not_match_exits_1(image, edit, message):
    location, arm64 = tampered(image, edit, tag=edit.__name__)
    proc = dockyard("verify", location, "--json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    errors = [f for f in doc["findings"] if f["severity"] == "error"]
    assert [(f["rule"], f["platform"]) for f in errors] == [("config.diff-ids", "linux/arm64")]
    assert errors[0]["message"] == message.format(layer=arm64.layer.digest, diff_id=arm64.diff_id)
    assert error_lines(proc) == [f"error: {location}: 1 error finding(s) (config.diff-ids)"]


def test_a_registry_image_whose_diff_ids_do_not_match_exits_1(image, registry):
    location, arm64 = tampered(image, wrong_digest, tag="registry")
    ref = f"{registry.host}/verify/diffids:1"
    copy_location(location, ref)
    proc = dockyard("verify", ref, "--json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    (error,) = [f for f in doc["findings"] if f["severity"] == "error"]
    assert (error["rule"], error["platform"], error["path"]) == (
        "config.diff-ids",
        "linux/arm64",
        str(arm64.layer.digest),
    )
    assert error["detail"]["expected"] == OTHER
    # The table names it too (human output on stderr).
    table = dockyard("verify", ref)
    assert table.returncode == 1
    assert any("config.diff-ids" in line and "error" in line for line in table.stderr.splitlines())


def test_releases_verify_step_fails_it_too(image, tmp_path):
    # release verifies each target's built layout through this step before publishing anything.
    from dockyard.builder.result import TargetResult
    from dockyard.config.model import Policy
    from dockyard.pipeline.release import _verify
    from dockyard.plan.model import TargetPlan
    from dockyard.platform import parse_platforms

    store, _ = image
    tampered(image, one_more, tag="release")
    digest = store.manifest_head("release")[0]
    target = TargetPlan(
        name="api", context=tmp_path, dockerfile=tmp_path / "Dockerfile",
        platforms=parse_platforms("linux/amd64,linux/arm64"), image="api", repositories=(), tag_names=(), labels={},
        annotations={}, policy=Policy(), smoke=(), jobs=(),
    )  # fmt: skip
    built = TargetResult("api", store.path, "release", (), index_digest=digest)
    verified = _verify(target, built, lambda _: None)
    assert not verified.error and verified.report is not None
    assert [(f.rule, f.platform) for f in verified.report.errors] == [
        ("config.diff-ids", "linux/arm64")
    ]
