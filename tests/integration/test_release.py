"""`dockyard release` as a user runs it: real buildah, qemu smoke runs, two real registries.

Each test writes a tiny two-target project (busybox bases, COPY-only
Dockerfiles) into a git repository of its own (so the commit gives the
release a fixed time and `created` does not change between runs), under a
fresh registry namespace. buildah uses a storage of its own through
CONTAINERS_STORAGE_CONF; the machine's is neither used nor changed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from dockyard.oci.models import Index, parse_manifest
from dockyard.oci.registry import RegistryClient
from tests.helpers.buildproject import base_index
from tests.helpers.registry import RunningRegistry, start_registry
from tests.integration.conftest import skopeo_raw

pytestmark = pytest.mark.integration

NON_ROOT = "ARG BASE\nFROM ${BASE}\nCOPY file.txt /file.txt\nUSER 65534\n"
AS_ROOT = "ARG BASE\nFROM ${BASE}\nCOPY file.txt /file.txt\n"
TAGS = ["1.0.0", "1.0", "latest"]
PLATFORMS = ["linux/amd64", "linux/arm64"]


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def base(registry, tmp_path_factory) -> str:
    return base_index(registry.host, tmp_path_factory.mktemp("busybox-base"))


@pytest.fixture(scope="module")
def second(tmp_path_factory):
    reg = start_registry(tmp_path_factory.mktemp("release-second"))
    yield reg
    reg.stop()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A buildah storage of this module's own (vfs: a killed buildah leaves no overlay mounts)."""
    root = tmp_path_factory.mktemp("buildah-release-storage")
    conf = root / "storage.conf"
    conf.write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = "{root / "root"}"\nrunroot = "{root / "run"}"\n'
    )
    drop = ("DOCKYARD_DEBUG", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS", "GITHUB_EVENT_NAME")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    # TMPDIR: what a killed buildah leaves in its temp dirs stays under pytest's tmp.
    (root / "tmp").mkdir()
    yield {**env, "CONTAINERS_STORAGE_CONF": str(conf), "TMPDIR": str(root / "tmp")}
    unmount_under(root)


def unmount_under(root: Path) -> None:
    """Anything buildah left mounted under `root` (deepest first), so the tmp dir can go."""
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        points = [line.split()[1] for line in mounts if line.split()[1].startswith(str(root))]
    for point in sorted(points, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


def make_project(
    root: Path, base: str, hosts: list[str], targets: dict[str, str], *, smoke: str | None = None
) -> tuple[Path, str, list[str]]:
    """(project dir, commit sha, registry prefixes): dockyard.toml + one context per target,
    committed to git; the prefixes are a fresh namespace on each host."""
    namespace = f"rel{uuid.uuid4().hex[:8]}"
    prefixes = [f"{h}/{namespace}" for h in hosts]
    lines = [
        "[project]",
        'name = "rel"',
        f"platforms = {json.dumps(PLATFORMS)}",
        f"registries = {json.dumps(prefixes)}",
        "[tags]",
        'rules = ["type=semver,pattern={{version}}", "type=semver,pattern={{major}}.{{minor}}"]',
        'flavor = ["latest=auto"]',
        "[policy]",
        "non-root = true",
    ]
    for name, dockerfile in targets.items():
        (root / name).mkdir(parents=True)
        (root / name / "Dockerfile").write_text(dockerfile)
        (root / name / "file.txt").write_text(f"{name}\n")
        lines += [f"[targets.{name}]", f'context = "{name}"', f'args = {{ BASE = "{base}" }}']
        if smoke == name:
            lines.append('smoke = ["cat", "/file.txt"]')
    (root / "dockyard.toml").write_text("\n".join(lines) + "\n")
    return root, commit(root), prefixes


def commit(root: Path) -> str:
    git_env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_AUTHOR_DATE": "2024-05-01T12:00:00Z", "GIT_COMMITTER_DATE": "2024-05-01T12:00:00Z",
    }  # fmt: skip
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "--allow-empty", "-m", "release"]):
        subprocess.run(["git", *args], cwd=root, env=git_env, check=True, capture_output=True)
    out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def release_args(sha: str, ref: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "dockyard", "release", "--ref", ref, "--sha", sha, "-j", "4", *extra]


def dockyard_release(env, cwd: Path, sha: str, ref: str, *extra: str, **env_extra) -> subprocess.CompletedProcess:
    return subprocess.run(
        release_args(sha, ref, *extra),
        capture_output=True, text=True, env={**env, **env_extra}, cwd=cwd, timeout=600,
    )  # fmt: skip


def repositories(doc: dict) -> list[str]:
    return sorted({row["repository"] for row in doc["summary"]})


def tag_digests(reg: RunningRegistry, repository: str) -> dict[str, str]:
    """Every tag of `repository` (host/path) and its digest, read straight from the registry."""
    with RegistryClient(environ={}) as client:
        store = client.store(repository)
        return {tag: str(store.manifest_head(tag)[0]) for tag in sorted(store.tag_list())}


def github_output(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT read as GitHub reads it: `name=value` lines and `name<<DELIM` heredocs."""
    out: dict[str, str] = {}
    lines = iter(text.split("\n"))
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            for part in lines:
                if part == delimiter:
                    break
                value.append(part)
            out[name] = "\n".join(value)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
    return out


def storage_snapshot(reg: RunningRegistry) -> dict[str, int]:
    root = reg.root / "data"
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()}


def incomplete(repository: str, checked: set[str] | None = None) -> list[str]:
    """Tags of `repository` whose index is not whole: a child or a blob that does not answer.

    `checked` holds indexes already found whole (nothing here deletes a child or a blob)."""
    checked = set() if checked is None else checked
    problems = []
    with RegistryClient(environ={}) as client:
        store = client.store(repository)
        for tag in store.tag_list():
            head = store.manifest_head(tag)
            if head is None:
                problems.append(f"{tag}: listed but its manifest does not answer")
                continue
            if f"{repository}@{head[0]}" in checked:
                continue
            index = parse_manifest(*store.manifest_get(str(head[0])))
            assert isinstance(index, Index), f"{repository}:{tag} is not an index"
            for child in index.manifests:
                head = store.manifest_head(str(child.digest))
                if head is None:
                    problems.append(f"{tag}: child {child.digest} missing")
                    continue
                manifest = parse_manifest(*store.manifest_get(str(child.digest)))
                for blob in manifest.blobs:
                    if store.blob_exists(blob.digest) is None:
                        problems.append(f"{tag}: blob {blob.digest} missing")
            if not problems:
                checked.add(f"{repository}@{head[0]}")
    return problems


# ---------------------------------------------------------------- tests


def test_no_registry_is_refused_before_anything_runs(tmp_path, env):
    (tmp_path / "dockyard.toml").write_text('[project]\nname = "x"\n[targets.a]\n')
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    proc = dockyard_release(env, tmp_path, "0123456", "v1.0.0")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: no registry to release to: set [project] registries in dockyard.toml "
        "or pass --registry HOST[/PATH] (e.g. ghcr.io/acme), once per registry"
    )
    assert not (tmp_path / "dist").exists()


def test_a_bad_registry_option_is_refused(tmp_path, env):
    (tmp_path / "dockyard.toml").write_text('[project]\nname = "x"\n[targets.a]\n')
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    proc = dockyard_release(env, tmp_path, "0123456", "v1.0.0", "--registry", "Bad Host/x")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: --registry 'Bad Host/x': not a registry prefix (expected host[:port][/path] "
        "with a lower-case path, e.g. ghcr.io/acme or 127.0.0.1:5000/fleet)"
    )


def test_release_to_two_registries_then_again_changes_nothing(tmp_path, base, registry, second, env):
    root, sha, prefixes = make_project(
        tmp_path / "p", base, [registry.host, second.host], {"app": NON_ROOT, "tool": NON_ROOT}, smoke="app"
    )
    outputs, summary = tmp_path / "github_output", tmp_path / "step_summary"
    files = {"GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary)}
    proc = dockyard_release(env, root, sha, "v1.0.0", "--json", **files)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] and doc["stopped"] is None and doc["version"] == "1.0.0"
    repos = sorted(f"{prefix}/{t}" for prefix in prefixes for t in ("app", "tool"))
    assert repositories(doc) == repos
    index = {t["name"]: t["index_digest"] for t in doc["build"]["targets"]}
    for row in doc["summary"]:
        assert row["state"] == "published" and row["tags"] == TAGS
        assert row["digest"] == index[row["target"]]
        assert row["platforms"] == PLATFORMS and row["size"] > 0
        assert row["verify"] == ("passed, smoke ok" if row["target"] == "app" else "passed")
    smoke = [p["smoke"] for v in doc["verify"] if v["target"] == "app" for p in v["report"]["platforms"]]
    assert [(s["exit_code"], s["output"], s["emulated"]) for s in smoke] == [
        (0, "app\n", False), (0, "app\n", True),
    ]  # fmt: skip

    # skopeo, as an independent reader, reads every platform of every tag on both registries.
    for reg in (registry, second):
        for target in ("app", "tool"):
            path = next(r for r in repos if r.startswith(reg.host) and r.endswith("/" + target))
            image = path.split("/", 1)[1]
            for tag in TAGS:
                raw = skopeo_raw(reg, f"{image}:{tag}")
                assert str(parse_manifest(raw, None).digest) == index[target]
            children = json.loads(raw)["manifests"]
            assert sorted(f"{c['platform']['os']}/{c['platform']['architecture']}" for c in children) == PLATFORMS
            for child in children:
                manifest = json.loads(skopeo_raw(reg, f"{image}@{child['digest']}"))
                assert manifest["layers"]
    assert "Index digest" in proc.stderr and "published" in proc.stderr

    # GITHUB_OUTPUT: digest-<target>, tags-<target> (heredoc, one image:tag a line), json.
    text = outputs.read_text()
    assert f"digest-app={index['app']}\n" in text and "tags-app<<ghadelimiter_" in text
    out = github_output(text)
    assert (out["digest-app"], out["digest-tool"]) == (index["app"], index["tool"])
    for target in ("app", "tool"):
        assert out[f"tags-{target}"].split("\n") == [
            f"{p}/{target}:{t}" for p in prefixes for t in TAGS
        ]
    assert json.loads(out["json"])["summary"] == doc["summary"]
    # Each index carries its verification record on each registry.
    assert {r["record"] for r in doc["publish"]["repositories"]} == {"attached"}
    step = summary.read_text()
    assert step.startswith("### dockyard release\n")
    assert f"`{index['app']}`" in step and step.count("| published |") == 4

    # The same ref again: nothing built, nothing written, no tag moved.
    before = {reg.host: storage_snapshot(reg) for reg in (registry, second)}
    again = dockyard_release(env, root, sha, "v1.0.0", "--json")
    assert again.returncode == 0, again.stderr
    redo = json.loads(again.stdout)
    assert {j["state"] for t in redo["build"]["targets"] for j in t["jobs"]} == {"skipped"}
    assert {row["state"] for row in redo["summary"]} == {"unchanged"}, json.dumps(redo["publish"])
    for repo in redo["publish"]["repositories"]:
        assert {t["outcome"] for t in repo["tags"]} == {"unchanged"}
        assert repo["blobs"]["uploaded"] == 0 and repo["manifests"]["uploaded"] == 0
    assert {reg.host: storage_snapshot(reg) for reg in (registry, second)} == before
    # Every registry holds a verification record of each index with the same settings:
    # not verified (nor smoke-run) again, and the summary says so, never "passed".
    assert {(v["target"], v["skipped"], v["report"]) for v in redo["verify"]} == {
        ("app", True, None),
        ("tool", True, None),
    }
    assert {row["verify"] for row in redo["summary"]} == {
        f"verified {v['record']['verified_at'][:10]} (record)" for v in doc["verify"]
    }
    # --no-cache verifies again; the records already there are not pushed twice.
    forced = json.loads(dockyard_release(env, root, sha, "v1.0.0", "--json", "--no-cache").stdout)
    assert {v["skipped"] for v in forced["verify"]} == {False}
    assert all(v["report"]["ok"] for v in forced["verify"])
    assert {r["record"] for r in forced["publish"]["repositories"]} == {"present"}


def test_a_verify_finding_stops_the_release_and_nothing_is_published(tmp_path, base, registry, second, env):
    root, sha, _ = make_project(
        tmp_path / "p", base, [registry.host, second.host], {"app": NON_ROOT, "rooty": AS_ROOT}
    )
    before = {reg.host: storage_snapshot(reg) for reg in (registry, second)}
    outputs, summary = tmp_path / "github_output", tmp_path / "step_summary"
    files = {"GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary)}
    proc = dockyard_release(env, root, sha, "v1.0.0", "--json", **files)
    assert proc.returncode == 1, proc.stderr
    # The summary says what stopped it; no output names a digest that was not published.
    assert "not published (verify failed)" in summary.read_text()
    assert not outputs.exists() or outputs.read_text() == ""
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: verify failed, nothing was published: "
        "rooty: 2 error finding(s) (policy.non-root)"
    )
    assert "rooty  linux/arm64  policy.non-root  error" in proc.stderr
    doc = json.loads(proc.stdout)
    assert (doc["ok"], doc["stopped"], doc["publish"]) == (False, "verify", None)
    assert {row["state"] for row in doc["summary"]} == {"not published (verify failed)"}
    assert {reg.host: storage_snapshot(reg) for reg in (registry, second)} == before
    for row in doc["summary"]:
        reg = registry if row["repository"].startswith(registry.host) else second
        assert tag_digests(reg, row["repository"]) == {}


def test_dry_run_lists_what_would_move_and_changes_nothing(tmp_path, base, registry, second, env):
    root, sha, _ = make_project(tmp_path / "p", base, [registry.host, second.host], {"app": NON_ROOT})
    first = dockyard_release(env, root, sha, "v1.0.0")
    assert first.returncode == 0, first.stderr
    before = {reg.host: storage_snapshot(reg) for reg in (registry, second)}
    proc = dockyard_release(env, root, sha, "v1.1.0", "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    assert {reg.host: storage_snapshot(reg) for reg in (registry, second)} == before
    doc = json.loads(proc.stdout)
    assert doc["dry_run"] and doc["publish"]["dry_run"]
    assert {row["state"] for row in doc["summary"]} == {"dry run"}
    for repo in doc["publish"]["repositories"]:
        actions = {(a["kind"], a["name"]): a["status"] for a in repo["actions"]}
        assert actions[("index", repo["digest"])] == "would upload"
        assert actions[("tag", "1.1.0")] == actions[("tag", "1.1")] == "would create"
        assert actions[("tag", "latest")] == "would move"
        assert {s for (kind, _), s in actions.items() if kind in ("blob", "manifest")} == {"exists"}
        # The new index was verified: its record would be attached (and, a dry run, is not).
        assert [s for (kind, _), s in actions.items() if kind == "record"] == ["would attach"]
        assert repo["record"] == "would attach"
    assert "tag latest  would move (from sha256:" in proc.stderr
    assert "(dry run: nothing moved)" in proc.stderr


# ---------------------------------------------------------------- SIGKILL at random points

KILLS = 10  # kills that must land while a release runs
MAX_ROUNDS = 40  # a bound on rounds when runs finish before their kill


def test_sigkill_at_random_points_never_leaves_a_tag_on_an_incomplete_index(
    tmp_path, base, registry, second, env
):
    """Each round releases a new ref (a new index, tags move; every other round app's content
    changes too, so it is rebuilt and its blobs move), and kills the release's process group
    after a random delay in [0, T], T a measured full run of that kind of round. After every
    kill, each tag on both registries points at a whole index; a last run completes.

    Rounds go on until KILLS kills have hit a running release (a round whose run ends before
    its delay proves little): the count of kills, not of rounds, is what a busier or a quieter
    machine must not change."""
    root, sha, prefixes = make_project(
        tmp_path / "p", base, [registry.host, second.host], {"app": NON_ROOT, "tool": NON_ROOT}
    )
    repos = [f"{p}/{t}" for p in prefixes for t in ("app", "tool")]
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    checked: set[str] = set()

    def bump(n: int) -> None:
        (root / "app" / "file.txt").write_text(f"app, round {n}\n")

    def timed(ref: str) -> float:
        started = time.monotonic()
        proc = dockyard_release(env, root, sha, ref)
        assert proc.returncode == 0, proc.stderr
        return time.monotonic() - started

    bump(0)
    timed("v1.1.0")  # the first run pulls the bases into this storage: not a round's time
    bump(-1)
    full = {True: timed("v1.1.1"), False: timed("v1.1.2")}  # with a rebuild, tags only

    killed_running = 0
    print(f"seed {seed}, a full run took {full[True]:.1f} s (rebuild), {full[False]:.1f} s (tags)")
    n = 0
    while killed_running < KILLS and n < MAX_ROUNDS:
        n += 1
        rebuild = n % 2 == 0
        if rebuild:
            bump(n)
        proc = subprocess.Popen(
            release_args(sha, f"v1.2.{n}"), env=env, cwd=root, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        delay = rng.uniform(0, full[rebuild])
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            killed_running += 1
            os.killpg(proc.pid, signal.SIGKILL)  # the whole group: buildah dies with it, as in CI
            proc.wait()
        for repo in repos:
            problems = incomplete(repo, checked)
            assert problems == [], f"seed {seed}, round {n}, killed after {delay:.2f} s: {problems}"

    last = dockyard_release(env, root, sha, f"v1.2.{n}", "--json")
    assert last.returncode == 0, last.stderr
    doc = json.loads(last.stdout)
    index = {t["name"]: t["index_digest"] for t in doc["build"]["targets"]}
    for repo in repos:
        reg = registry if repo.startswith(registry.host) else second
        tags = tag_digests(reg, repo)
        assert tags["latest"] == tags[f"1.2.{n}"] == index[repo.rsplit("/", 1)[1]]
        assert incomplete(repo, checked) == []
    assert killed_running == KILLS, f"only {killed_running} of {n} kills hit a running release"


# ---------------------------------------------------------------- verification records


def fallback_tag(digest: str) -> str:
    return "sha256-" + digest.split(":", 1)[1]


def record_digests(repository: str, index: str) -> list[str]:
    """The verification records the repository lists for `index` (the fallback tag on 2.8)."""
    from dockyard.digest import parse_digest
    from dockyard.verify.record import RECORD_TYPE

    with RegistryClient(environ={}) as client:
        found = client.store(repository).referrers(parse_digest(index), artifact_type=RECORD_TYPE)
    return [str(d.digest) for d in found]


def set_policy(root: Path, line: str | None) -> None:
    """dockyard.toml's [policy] with `line` added (None: as make_project wrote it)."""
    text = (root / "dockyard.toml").read_text()
    text = "\n".join(x for x in text.split("\n") if not x.startswith("max-size"))
    if line:
        text = text.replace("non-root = true", f"non-root = true\n{line}")
    (root / "dockyard.toml").write_text(text)


def test_the_record_skips_verify_only_for_the_same_settings_on_every_registry(
    tmp_path, base, registry, second, env
):
    """Registry 2.8 has no referrers API: the record is found through the sha256-<hex>
    fallback tag, and it is what skips the second verify (no smoke run). Tightening
    max-size below the image size verifies again, fails, and publishes nothing (no tag
    moved, no record); a passing policy change verifies and attaches a second record; a
    registry that lost its records makes the next release verify again."""
    root, sha, prefixes = make_project(
        tmp_path / "p", base, [registry.host, second.host], {"app": NON_ROOT}, smoke="app"
    )
    repos = [f"{p}/app" for p in prefixes]
    first = json.loads(dockyard_release(env, root, sha, "v1.0.0", "--json").stdout)
    assert first["ok"], first["error"]
    index = first["build"]["targets"][0]["index_digest"]
    records = {repo: record_digests(repo, index) for repo in repos}
    assert all(len(found) == 1 for found in records.values()), records
    # skopeo reads the fallback tag on registry 2.8: an OCI index listing the record.
    listed = json.loads(skopeo_raw(registry, f"{repos[0].split('/', 1)[1]}:{fallback_tag(index)}"))
    assert [m["digest"] for m in listed["manifests"]] == records[repos[0]]
    assert listed["manifests"][0]["artifactType"] == "application/vnd.dockyard.verification.v1+json"

    # The same release again: the record skips verify; no smoke run, nothing written.
    before = {reg.host: storage_snapshot(reg) for reg in (registry, second)}
    again = json.loads(dockyard_release(env, root, sha, "v1.0.0", "--json").stdout)
    assert again["ok"] and [(v["skipped"], v["report"]) for v in again["verify"]] == [(True, None)]
    date = first["verify"][0]["record"]["verified_at"][:10]
    assert {row["verify"] for row in again["summary"]} == {f"verified {date} (record)"}
    assert {reg.host: storage_snapshot(reg) for reg in (registry, second)} == before

    # max-size below the image size: a new settings hash, so verify runs, fails, exit 1.
    set_policy(root, 'max-size = "1KB"')

    def all_tags() -> dict[str, dict[str, str]]:
        return {r: tag_digests(registry if r.startswith(registry.host) else second, r) for r in repos}

    tags = all_tags()
    proc = dockyard_release(env, root, sha, "v1.0.0", "--json")
    assert proc.returncode == 1, proc.stderr
    failed = json.loads(proc.stdout)
    assert (failed["stopped"], failed["publish"]) == ("verify", None)
    assert failed["verify"][0]["skipped"] is False
    findings = failed["verify"][0]["report"]["findings"]
    assert {f["rule"] for f in findings if f["severity"] == "error"} == {"policy.max-size"}
    assert {reg.host: storage_snapshot(reg) for reg in (registry, second)} == before  # nothing
    assert all_tags() == tags
    assert {repo: record_digests(repo, index) for repo in repos} == records

    # A policy that passes, changed from the first: verified again (smoke ran), a second record.
    set_policy(root, 'max-size = "100MB"')
    changed = json.loads(dockyard_release(env, root, sha, "v1.0.0", "--json").stdout)
    assert changed["ok"] and changed["verify"][0]["skipped"] is False
    assert all(p["smoke"]["exit_code"] == 0 for p in changed["verify"][0]["report"]["platforms"])
    assert {r["record"] for r in changed["publish"]["repositories"]} == {"attached"}
    assert all(len(record_digests(repo, index)) == 2 for repo in repos)

    # The second registry loses its records (the fallback index deleted by digest): a record
    # on the first alone does not skip verify; the record goes back where it is missing.
    with RegistryClient(environ={}) as client:
        store = client.store(repos[1], push=True)
        store.manifest_delete(store.manifest_head(fallback_tag(index))[0])
    assert record_digests(repos[1], index) == []
    healed = json.loads(dockyard_release(env, root, sha, "v1.0.0", "--json").stdout)
    assert healed["ok"] and healed["verify"][0]["skipped"] is False
    outcome = {r["repository"]: r["record"] for r in healed["publish"]["repositories"]}
    assert outcome == {repos[0]: "present", repos[1]: "attached"}
