"""publish to two real registries: tags move only onto complete indexes, re-runs converge, dry runs write nothing."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from dockyard.oci.layout import LayoutStore
from dockyard.oci.registry import RegistryClient
from dockyard.oci.retry import RetryPolicy
from dockyard.oci.session import RegistryOptions
from dockyard.publish import journal as jn
from dockyard.publish.publish import PublishItem, publish
from dockyard.ref import parse_repository
from tests.helpers.registry import RunningRegistry, start_registry
from tests.integration.conftest import skopeo_raw

pytestmark = pytest.mark.integration

PLATFORMS = (("linux/amd64", "amd64"), ("linux/arm64", "arm64"))


# ---------------------------------------------------------------- helpers (shared with test_publish_faults)


def make_layout(tmp: Path) -> LayoutStore:
    """Two 2-platform busybox indexes in one layout: tags v1 and v2 (different `created`)."""
    from dockyard.oci.imports import ImageSettings, RootfsSource, import_rootfs
    from dockyard.platform import parse_platform
    from tests.helpers.busybox import busybox_rootfs

    store = LayoutStore(tmp / "oci")
    sources = [RootfsSource(parse_platform(p), busybox_rootfs(a, tmp / f"root-{a}")) for p, a in PLATFORMS]
    for epoch, tag in ((1_700_000_000, "v1"), (1_800_000_000, "v2")):
        import_rootfs(sources, store, settings=ImageSettings(labels={"v": tag}), tag=tag, epoch=epoch)
    return store


def new_repo() -> str:
    return f"pub/{uuid.uuid4().hex[:10]}"


def item(layout, reference: str, hosts, repo: str, tags, target: str = "app") -> PublishItem:
    repos = tuple(parse_repository(f"{h}/{repo}") for h in hosts)
    return PublishItem(target, layout, reference, repos, tuple(tags))


def tag_state(reg: RunningRegistry, repo: str, tags) -> dict[str, str | None]:
    """Each tag's digest, read straight from the registry (no proxy)."""
    with RegistryClient(environ={}) as c:
        store = c.store(f"{reg.host}/{repo}")
        out = {}
        for tag in tags:
            head = store.manifest_head(tag)
            out[tag] = str(head[0]) if head else None
        return out


def index_digest(layout: LayoutStore, tag: str) -> str:
    return str(layout.manifest_head(tag)[0])


def skopeo_pulls_all(reg: RunningRegistry, image: str, dest: Path) -> None:
    """skopeo copies every platform out (checking every digest) into a layout."""
    proc = subprocess.run(
        ["skopeo", "--insecure-policy", "copy", "--all", "--src-tls-verify=false",
         f"docker://{reg.host}/{image}", f"oci:{dest}:x"],
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()


def storage_snapshot(reg: RunningRegistry) -> dict[str, int]:
    """Every file of the registry's storage with its size: 'registry contents'."""
    root = reg.root / "data"
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()}


def make_client(waits=None) -> RegistryClient:
    options = RegistryOptions(retry=RetryPolicy(attempts=3, base_delay=0.2))
    kwargs = {"sleep": waits.append} if waits is not None else {}
    return RegistryClient(options=options, environ={}, **kwargs)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def layout(tmp_path_factory) -> LayoutStore:
    return make_layout(tmp_path_factory.mktemp("publish-src"))


@pytest.fixture(scope="module")
def second(tmp_path_factory):
    reg = start_registry(tmp_path_factory.mktemp("publish-second"))
    yield reg
    reg.stop()


@pytest.fixture
def client():
    with make_client() as c:
        yield c


# ---------------------------------------------------------------- tests

TAGS = ("1.0.0", "1.0", "latest")


def test_publish_to_two_registries(layout, registry, second, client, tmp_path):
    repo = new_repo()
    result = publish([item(layout, "v1", (registry.host, second.host), repo, TAGS)], client=client)
    digest = index_digest(layout, "v1")
    for reg in (registry, second):
        assert tag_state(reg, repo, TAGS) == dict.fromkeys(TAGS, digest)
        raw = skopeo_raw(reg, f"{repo}:latest")
        assert raw == layout.manifest_get("v1")[0]
        skopeo_pulls_all(reg, f"{repo}:1.0.0", tmp_path / reg.host.replace(":", "_"))
    assert [r.repository for r in result.repositories] == [
        f"{registry.host}/{repo}", f"{second.host}/{repo}",
    ]
    for r in result.repositories:
        assert r.state == "published" and str(r.digest) == digest
        assert r.tags_moved == TAGS and r.tags_unchanged == ()
        assert r.platforms == ("linux/amd64", "linux/arm64")
        assert r.blobs.copied == 4 and r.blobs.bytes > 0  # 2 configs + 2 layers
        assert r.manifests.copied == 3  # 2 children + the index, by digest
        assert r.size > r.blobs.bytes
    assert result.ok and not result.dry_run


def test_rerun_moves_nothing(layout, registry, second, client):
    repo = new_repo()
    items = [item(layout, "v1", (registry.host, second.host), repo, TAGS)]
    publish(items, client=client)
    before = storage_snapshot(registry), storage_snapshot(second)
    again = publish(items, client=client)
    for r in again.repositories:
        assert r.state == "unchanged"
        assert r.tags_moved == () and r.tags_unchanged == TAGS
        assert [t.outcome for t in r.tags] == [jn.UNCHANGED] * 3
        assert r.blobs.copied == 0 and r.manifests.copied == 0
    assert (storage_snapshot(registry), storage_snapshot(second)) == before


def test_moving_tags_to_a_new_release(layout, registry, second, client):
    repo = new_repo()
    hosts = (registry.host, second.host)
    publish([item(layout, "v1", hosts, repo, ("1.0", "latest"))], client=client)
    result = publish([item(layout, "v2", hosts, repo, ("2.0", "latest"))], client=client)
    v1, v2 = index_digest(layout, "v1"), index_digest(layout, "v2")
    for reg in (registry, second):
        assert tag_state(reg, repo, ("1.0", "2.0", "latest")) == {"1.0": v1, "2.0": v2, "latest": v2}
    for r in result.repositories:
        assert [(t.tag, t.outcome, str(t.previous)) for t in r.tags] == [
            ("2.0", jn.MOVED, "None"), ("latest", jn.MOVED, v1),
        ]
        # import's epoch is also the files' mtime: new layers and configs travel.
        assert r.blobs.copied == 4 and r.manifests.copied == 3


def test_dry_run_changes_nothing(layout, registry, second, client):
    repo = new_repo()
    hosts = (registry.host, second.host)
    publish([item(layout, "v1", hosts, repo, ("1.0", "latest"))], client=client)
    before = storage_snapshot(registry), storage_snapshot(second)
    result = publish([item(layout, "v2", hosts, repo, ("2.0", "latest"))], client=client, dry_run=True)
    assert (storage_snapshot(registry), storage_snapshot(second)) == before
    v1, v2 = index_digest(layout, "v1"), index_digest(layout, "v2")
    for reg in (registry, second):
        assert tag_state(reg, repo, ("2.0", "latest")) == {"2.0": None, "latest": v1}
    assert result.dry_run and result.ok
    for r in result.repositories:
        assert r.state == "dry run"
        by_kind: dict[str, list[str]] = {}
        for a in r.actions:
            by_kind.setdefault(a.kind, []).append(a.status)
        assert by_kind["blob"] == ["would upload"] * 4
        assert by_kind["manifest"] == ["would upload", "would upload"]
        assert by_kind["index"] == ["would upload"]
        assert by_kind["tag"] == [jn.WOULD_CREATE, jn.WOULD_MOVE]
        tag_lines = [a.line() for a in r.actions if a.kind == "tag"]
        assert tag_lines == [
            f"{r.repository}  tag 2.0  would create",
            f"{r.repository}  tag latest  would move (from {v1})",
        ]
        assert str(r.digest) == v2


def test_dry_run_of_what_is_there_says_exists(layout, registry, client):
    repo = new_repo()
    items = [item(layout, "v1", (registry.host,), repo, ("1.0",))]
    publish(items, client=client)
    result = publish(items, client=client, dry_run=True)
    statuses = {(a.kind, a.status) for a in result.actions}
    assert statuses == {("manifest", "exists"), ("index", "exists"), ("tag", jn.UNCHANGED)}


def test_summary_rows_and_json(layout, registry, client):
    repo = new_repo()
    result = publish([item(layout, "v1", (registry.host,), repo, ("1.0",))], client=client)
    (row,) = result.summary_rows(verify={"app": "passed"})
    assert (row.target, row.repository, row.tags, row.digest, row.verify, row.state) == (
        "app", f"{registry.host}/{repo}", ("1.0",), index_digest(layout, "v1"), "passed", "published",
    )
    doc = result.to_json()
    assert doc["ok"] is True
    assert doc["repositories"][0]["tags"] == [
        {"tag": "1.0", "outcome": "moved", "digest": index_digest(layout, "v1"), "previous": None}
    ]


def test_github_files_are_appended(layout, registry, client, tmp_path):
    from dockyard.pipeline.github import write_github

    repo = new_repo()
    result = publish([item(layout, "v1", (registry.host,), repo, ("1.0", "latest"))], client=client)
    summary, outputs = tmp_path / "summary.md", tmp_path / "output"
    summary.write_text("earlier\n")
    env = {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs)}
    write_github(result.summary_rows(), document={"ok": True}, environ=env)
    digest = index_digest(layout, "v1")
    assert summary.read_text().startswith("earlier\n### dockyard release\n")
    assert f"`{digest}`" in summary.read_text()
    lines = outputs.read_text().splitlines()
    assert lines[0] == f"digest-app={digest}"
    assert lines[1].startswith("tags-app<<ghadelimiter_")
    assert lines[2:4] == [f"{registry.host}/{repo}:1.0", f"{registry.host}/{repo}:latest"]
    assert lines[4] == lines[1][len("tags-app<<"):]
    # The same as JSON objects by target (the composite action's outputs), then the document.
    assert json.loads(lines[5].removeprefix("digests=")) == {"app": digest}
    assert json.loads(lines[6].removeprefix("tags=")) == {"app": lines[2:4]}
    assert lines[7] == 'json={"ok": true}'
    write_github(result.summary_rows(), document={}, environ={})  # neither set: nothing to do
