"""CI fan-out end to end: `build --push-by-digest` per platform, then `merge`; real buildah, real registry.

The project is a real git repository (one commit) with two targets: `app`
(a COPY onto busybox) and `web`, examples/fleet's Python service as it is
(its build stage byte-compiles app.py with `python3 -m compileall`, under
qemu for arm64), on a small Python base made from Debian's .debs. Every job
runs as a separate CI runner would: in its own clone of the repository,
whose files carry that checkout's own mtimes, with an empty buildah storage
of its own and its own output and digest directories. The merge job (a
clone too) gets the union of the digest directories (download-artifact's
merge-multiple). Every plan here has the same ref, sha and commit time,
which the plan uses for `created` (labels, annotations, buildah's
`--timestamp`, the SOURCE_DATE_EPOCH build argument): the same commit gives
the same images and the same index as a one-go build in yet another clone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dockyard.digest import parse_digest
from dockyard.oci.models import Index, parse_manifest
from dockyard.oci.registry import RegistryClient
from tests.helpers.buildproject import base_index, project
from tests.helpers.pythonbase import python_base_index
from tests.integration.conftest import skopeo_json, skopeo_raw

pytestmark = pytest.mark.integration

COPY_ONLY = "ARG BASE\nFROM ${BASE}\nCOPY file.txt /file.txt\n"
REF = "refs/tags/v1.2.3"
ARCHES = ("amd64", "arm64")
TARGETS = ("app", "web")
WEB = Path(__file__).resolve().parents[2] / "examples" / "fleet" / "services" / "web"
# Each checkout's files get their own mtime, as a runner's `git checkout` gives them.
CHECKOUT_MTIMES = {"amd64": 1_767_000_000, "arm64": 1_767_100_000, "merge": 1_767_200_000,
                   "one-go": 1_767_300_000}  # fmt: skip


@pytest.fixture(scope="module")
def base(registry, tmp_path_factory) -> str:
    return base_index(registry.host, tmp_path_factory.mktemp("busybox-base"))


@pytest.fixture(scope="module")
def python_base(registry, tmp_path_factory) -> str:
    return python_base_index(registry.host, tmp_path_factory.mktemp("python-base"))


def runner_env(tmp_path_factory) -> dict[str, str]:
    """The environment of a fresh runner: an empty buildah storage of its own."""
    root = tmp_path_factory.mktemp("buildah-fanout-storage")
    conf = root / "storage.conf"
    conf.write_text(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{root / "root"}"\nrunroot = "{root / "run"}"\n'
    )
    keep = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DOCKYARD_DEBUG",) and not k.startswith("GITHUB_")
    }
    return {**keep, "CONTAINERS_STORAGE_CONF": str(conf)}


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    """The merge job's environment (it builds nothing)."""
    return runner_env(tmp_path_factory)


def dockyard(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=600,
    )  # fmt: skip


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd, capture_output=True, text=True, check=True,
        env={**os.environ, "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z", "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z"},
    )  # fmt: skip
    return proc.stdout.strip()


def git_repo(root: Path) -> str:
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "one")
    return git(root, "rev-parse", "HEAD")


def checkout(origin: Path, dest: Path, mtime: int) -> Path:
    """A clone of `origin` whose working files all have `mtime` (a runner's checkout time)."""
    git(dest.parent, "clone", "-q", str(origin), dest.name)
    for path in dest.rglob("*"):
        if ".git" not in path.relative_to(dest).parts:
            os.utime(path, (mtime, mtime), follow_symlinks=False)
    return dest


@pytest.fixture(scope="module")
def fanout(registry, base, python_base, tmp_path_factory):
    """The two build jobs (own clone, own storage), then the merge job's clone and digest directory."""
    work = tmp_path_factory.mktemp("fanout")
    origin = work / "origin"
    origin.mkdir()
    project(origin, {"app": COPY_ONLY}, base=base, platforms=("linux/amd64", "linux/arm64"),
            registries=(f"{registry.host}/fan",))  # fmt: skip
    shutil.copytree(WEB, origin / "web", ignore=shutil.ignore_patterns("__pycache__"))
    with (origin / "dockyard.toml").open("a") as config:
        config.write(
            f'[targets.web]\ncontext = "web"\nimage = "web"\n'
            f'args = {{ BASE_REGISTRY = "{python_base}" }}\n'
        )
    sha = git_repo(origin)
    staging = f"{registry.host}/staging"
    root = checkout(origin, work / "merge", CHECKOUT_MTIMES["merge"])
    jobs, checkouts = {}, {}
    for arch in ARCHES:
        runner = checkouts[arch] = checkout(origin, work / f"runner-{arch}", CHECKOUT_MTIMES[arch])
        proc = dockyard(
            runner_env(tmp_path_factory), runner, "build", "--platform", f"linux/{arch}",
            "--ref", REF, "--sha", sha, "--output", "job", "--push-by-digest", staging,
            "--digest-dir", "digests", "--json",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        jobs[arch] = json.loads(proc.stdout)
        shutil.copytree(runner / "digests", root / f"digests-{arch}")  # upload-artifact
    merged = root / "digests"
    for arch in ARCHES:  # download-artifact, merge-multiple
        shutil.copytree(root / f"digests-{arch}", merged, dirs_exist_ok=True)
    return {"root": root, "origin": origin, "work": work, "sha": sha, "staging": staging,
            "jobs": jobs, "checkouts": checkouts, "digests": merged}  # fmt: skip


def pushed_for(doc: dict, target: str) -> dict:
    (pushed,) = [p for p in doc["pushed"] if p["target"] == target]
    return pushed


# What a build job attaches to each platform image by default ([evidence]): an SPDX SBOM
# and the SLSA provenance (pipeline/evidence.py).
EVIDENCE = ["application/spdx+json", "application/vnd.in-toto+json"]


def attached_types(store, digest: str) -> list[str]:
    return sorted(d.artifact_type for d in store.referrers(parse_digest(digest)))


def tags_of(registry, repository: str) -> list[str]:
    with RegistryClient() as client:
        try:
            return sorted(client.store(f"{registry.host}/{repository}").tag_list())
        except Exception:  # NAME_UNKNOWN: the repository does not exist yet
            return []


def test_each_build_job_pushes_its_platform_by_digest_and_writes_one_file(registry, fanout):
    for arch in ARCHES:
        doc = fanout["jobs"][arch]
        assert sorted(p["target"] for p in doc["pushed"]) == list(TARGETS)
        for target in doc["targets"]:
            pushed = pushed_for(doc, target["name"])
            (job,) = target["jobs"]
            assert pushed["file"] == f"{target['name']}/linux-{arch}.json"
            assert pushed["platform"] == f"linux/{arch}"
            assert pushed["digest"] == job["digest"] and pushed["input_hash"] == job["input_hash"]
            assert pushed["repository"] == fanout["staging"]
            assert pushed["plan"] == {"version": "v1.2.3", "ref": REF, "sha": fanout["sha"]}
            path = fanout["root"] / f"digests-{arch}" / pushed["file"]
            on_disk = json.loads(path.read_text())
            assert on_disk == {k: v for k, v in pushed.items() if k != "file"}
            # No absolute paths: the file means the same on the merge runner.
            assert not any(str(fanout["work"]) in str(v) for v in on_disk.values())
            with RegistryClient() as client:
                store = client.store(fanout["staging"])
                head = store.manifest_head(pushed["digest"])
                assert head is not None and head[1] == pushed["size"]
                assert head[2] == pushed["media_type"]
    # By digest only: the staging repository has no tag of its own, only the referrers
    # lists (registry 2.8's fallback tags) of the SBOM and provenance attached to each
    # pushed image in its layout, which the push carried (oci/carry.py).
    pushed = [pushed_for(fanout["jobs"][a], t)["digest"] for a in ARCHES for t in TARGETS]
    assert tags_of(registry, "staging") == sorted(f"sha256-{d[7:]}" for d in pushed)
    with RegistryClient() as client:
        store = client.store(fanout["staging"])
        for digest in pushed:
            assert attached_types(store, digest) == EVIDENCE, digest


def test_merge_refuses_when_a_platform_is_missing_and_publishes_nothing(
    registry, fanout, env, tmp_path
):
    partial = tmp_path / "digests"
    shutil.copytree(fanout["root"] / "digests-amd64", partial)
    before = tags_of(registry, "fan/app")
    proc = dockyard(
        env,
        fanout["root"],
        "merge",
        "app",
        "--digest-dir",
        str(partial),
        "--ref",
        REF,
        "--sha",
        fanout["sha"],
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        "error: merge refused, nothing published: no digest file for app linux/arm64 "
        "(app/linux-arm64.json) (did that build job run with --push-by-digest, "
        "and was its digest directory downloaded?)"
    )
    assert tags_of(registry, "fan/app") == before


def test_merge_refuses_a_corrupted_digest_file_with_exit_2(registry, fanout, env, tmp_path):
    broken = tmp_path / "digests"
    shutil.copytree(fanout["digests"], broken)
    path = broken / "app" / "linux-arm64.json"
    doc = json.loads(path.read_text())
    doc["digest"] = "sha256:1234"
    path.write_text(json.dumps(doc))
    before = tags_of(registry, "fan/app")
    proc = dockyard(
        env,
        fanout["root"],
        "merge",
        "app",
        "--digest-dir",
        str(broken),
        "--ref",
        REF,
        "--sha",
        fanout["sha"],
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        "error: app/linux-arm64.json: field 'digest': 'sha256:1234' is not a digest "
        "(expected sha256:<64 lower-case hex digits>)"
    )
    assert tags_of(registry, "fan/app") == before


def test_merge_refuses_files_from_another_commit(fanout, env):
    proc = dockyard(
        env,
        fanout["root"],
        "merge",
        "app",
        "--digest-dir",
        str(fanout["digests"]),
        "--ref",
        "refs/tags/v1.2.4",
        "--sha",
        fanout["sha"],
    )
    assert proc.returncode == 2, proc.stderr
    assert "app/linux-amd64.json: built for version v1.2.3, ref refs/tags/v1.2.3" in proc.stderr
    assert "but this merge plans version v1.2.4, ref refs/tags/v1.2.4" in proc.stderr


def test_merge_publishes_the_same_index_as_a_one_go_build(registry, fanout, env, tmp_path_factory):
    """Separate runners (own clone and mtimes, empty storage) give byte for byte the one-go indexes,
    the Python service's byte-compiled files included."""
    root, sha = fanout["root"], fanout["sha"]
    # The one-go build first, while no tag exists (it cannot reuse the merged images),
    # on a runner of its own.
    one_go = checkout(fanout["origin"], fanout["work"] / "runner-one-go", CHECKOUT_MTIMES["one-go"])
    whole = dockyard(runner_env(tmp_path_factory), one_go, "build", "--ref", REF, "--sha", sha,
                     "--output", "one-go", "--json")  # fmt: skip
    assert whole.returncode == 0, whole.stderr
    built = {t["name"]: t for t in json.loads(whole.stdout)["targets"]}
    assert sorted(built) == list(TARGETS)
    assert all(j["state"] == "built" for t in built.values() for j in t["jobs"])

    dry = dockyard(
        env,
        root,
        "merge",
        "--digest-dir",
        "digests",
        "--ref",
        REF,
        "--sha",
        sha,
        "--dry-run",
        "--json",
    )
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["publish"]["dry_run"] is True
    assert all(tags_of(registry, f"fan/{name}") == [] for name in TARGETS)

    proc = dockyard(
        env, root, "merge", "--digest-dir", "digests", "--ref", REF, "--sha", sha, "--json"
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    merged = {t["name"]: t for t in doc["targets"]}
    repos = {r["repository"]: r for r in doc["publish"]["repositories"]}
    assert sorted(merged) == list(TARGETS)
    for name in TARGETS:
        assert merged[name]["platforms"] == ["linux/amd64", "linux/arm64"]
        assert all(r["ok"] for r in merged[name]["verify"])
        assert [c["digest"] for c in merged[name]["children"]] == [
            pushed_for(fanout["jobs"][a], name)["digest"] for a in ARCHES
        ]
        repo = repos[f"{registry.host}/fan/{name}"]
        assert repo["state"] == "published"
        assert [(t["tag"], t["outcome"]) for t in repo["tags"]] == [
            ("v1.2.3", "moved"),
            ("latest", "moved"),
        ]

        # The tag points at the merged index, which is byte for byte the one-go build's:
        # each child too (same layers, same config), built on another runner.
        with RegistryClient() as client:
            raw, media_type = client.store(f"{registry.host}/fan/{name}").manifest_get("v1.2.3")
        index = parse_manifest(raw, media_type)
        assert isinstance(index, Index)
        assert [str(c.platform) for c in index.manifests] == ["linux/amd64", "linux/arm64"]
        assert str(index.digest) == merged[name]["index_digest"] == repo["digest"]
        assert [j["digest"] for j in built[name]["jobs"]] == [
            str(c.digest) for c in index.manifests
        ], name
        assert str(index.digest) == built[name]["index_digest"], name
        blobs = one_go / "one-go" / "oci" / name / "blobs" / "sha256"
        assert raw == (blobs / index.digest.hex).read_bytes()
        # The evidence each build job attached reached the release with its image.
        with RegistryClient() as client:
            store = client.store(f"{registry.host}/fan/{name}")
            for child in index.manifests:
                assert attached_types(store, str(child.digest)) == EVIDENCE, (name, child)

    # Run again (human output): everything is there, nothing moves.
    wide = {**env, "COLUMNS": "300"}  # one table row a line
    again = dockyard(
        wide, root, "merge", "app", "--digest-dir", "digests", "--ref", REF, "--sha", sha
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout == ""
    assert "verifying app linux/arm64 (" in again.stderr
    rows = [line for line in again.stderr.splitlines() if f"{registry.host}/fan/app" in line]
    assert len(rows) == 1, again.stderr
    (row,) = rows
    assert "unchanged" in row and "passed" in row and merged["app"]["index_digest"][7:19] in row
    assert "info" not in again.stderr  # passed checks are not listed


def test_the_python_service_ships_byte_compiled_files(fanout):
    """The equality above covers .pyc files: the web image has one for app.py on each platform."""
    import gzip
    import io
    import tarfile

    with RegistryClient() as client:
        store = client.store(fanout["staging"])
        for arch in ARCHES:
            digest = pushed_for(fanout["jobs"][arch], "web")["digest"]
            raw, media_type = store.manifest_get(digest)
            manifest = parse_manifest(raw, media_type)
            names = set()
            for layer in manifest.layers:
                with store.blob_open(layer.digest) as stream:
                    data = gzip.decompress(stream.read())
                with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                    names |= {n.removeprefix("./") for n in tar.getnames()}
            assert "app/__pycache__/app.cpython-311.pyc" in names, arch


def test_build_needs_both_fanout_options(tmp_path, env):
    proc = dockyard(env, tmp_path, "build", "--push-by-digest", "127.0.0.1:1/staging")
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == (
        "error: --push-by-digest needs the other: --push-by-digest REPO --digest-dir DIR"
    )


def test_merge_verifies_each_child_against_its_platform(registry, fanout, env, tmp_path):
    """An amd64 image filed as the arm64 one (a mixed-up artifact): verify refuses, nothing moves."""
    swapped = tmp_path / "digests"
    shutil.copytree(fanout["digests"], swapped)
    doc = json.loads((swapped / "app" / "linux-amd64.json").read_text())
    doc["platform"] = "linux/arm64"
    (swapped / "app" / "linux-arm64.json").write_text(json.dumps(doc))
    before = tags_of(registry, "fan/app")
    proc = dockyard(
        env,
        fanout["root"],
        "merge",
        "app",
        "--digest-dir",
        str(swapped),
        "--ref",
        REF,
        "--sha",
        fanout["sha"],
        "--json",
    )
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert out["ok"] is False
    # The config says amd64, and so does every ELF binary (busybox): two errors.
    assert out["error"] == (
        "merge refused, nothing published: 2 verification errors; first: linux/arm64: "
        "the index entry says linux/arm64 but the image config says linux/amd64"
    )
    assert proc.stderr.splitlines()[-1] == f"error: {out['error']}"
    assert tags_of(registry, "fan/app") == before


def test_merge_copies_the_children_to_every_registry(registry, auth_registry, fanout, env):
    """Two registries (the second with htpasswd): the staging repository's images reach both,
    the index and tags land on both, and skopeo reads the index and each child back."""
    from dockyard.oci.auth.credentials.env import env_credential_names

    root, sha = fanout["root"], fanout["sha"]
    config = root / "dockyard.toml"
    two = root / "two-registries.toml"  # same commit, same targets; other registries
    two.write_text(
        config.read_text().replace(
            f'registries = ["{registry.host}/fan"]',
            f'registries = ["{registry.host}/two", "{auth_registry.host}/two"]',
        )
    )
    user, password = env_credential_names(auth_registry.host)
    creds = {**env, user: auth_registry.username, password: auth_registry.password}
    proc = dockyard(
        creds,
        root,
        "merge",
        "app",
        "-f",
        str(two),
        "--digest-dir",
        "digests",
        "--ref",
        REF,
        "--sha",
        sha,
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    (merged,) = doc["targets"]
    repos = {r["repository"]: r for r in doc["publish"]["repositories"]}
    assert set(repos) == {f"{registry.host}/two/app", f"{auth_registry.host}/two/app"}
    same = repos[f"{registry.host}/two/app"]["blobs"]
    other = repos[f"{auth_registry.host}/two/app"]["blobs"]
    assert same["uploaded"] == 0 and same["mounted"] > 0  # within the staging registry: mounted
    assert other["uploaded"] > 0  # across registries: copied
    for name, repo in repos.items():
        assert repo["state"] == "published" and repo["digest"] == merged["index_digest"], name
    # skopeo, an independent reader: the tag's bytes are the merged index; every child is served.
    raw = skopeo_raw(auth_registry, "two/app:v1.2.3")
    index = parse_manifest(raw, json.loads(raw)["mediaType"])
    assert str(index.digest) == merged["index_digest"]
    for child in index.manifests:
        config = skopeo_json(auth_registry, f"two/app@{child.digest}")["config"]
        assert config["mediaType"].endswith("config.v1+json")


def test_merge_never_moves_a_tag_to_an_older_release_unless_forced(registry, fanout, env):
    """A newer release lands on `latest` after this merge's first run: the merge is refused
    (exit 1, the tag and both versions named, nothing moved); --force moves it back."""
    from dockyard.oci.models import build_index
    from dockyard.publish.order import VERSION

    root, sha = fanout["root"], fanout["sha"]
    ordered = root / "ordered.toml"  # same commit, same targets; a repository of its own
    ordered.write_text(
        (root / "dockyard.toml").read_text().replace(
            f'registries = ["{registry.host}/fan"]', f'registries = ["{registry.host}/ordered"]'
        )
    )
    args = ("merge", "app", "-f", str(ordered), "--digest-dir", "digests", "--ref", REF, "--sha", sha)
    first = dockyard(env, root, *args)
    assert first.returncode == 0, first.stderr
    repo = f"{registry.host}/ordered/app"
    with RegistryClient(environ={}) as client:
        store = client.store(repo, push=True)
        merged = store.manifest_head("latest")[0]
        data, media_type = store.manifest_get(str(merged))
        index = parse_manifest(data, media_type)
        assert parse_semver_version(index.annotations[VERSION]) == "1.2.3"
        newer, _ = build_index(index.manifests, annotations={**index.annotations, VERSION: "1.3.0"})
        store.manifest_put(newer, media_type, tag="latest")  # another run, a newer release
        newer_digest = store.manifest_head("latest")[0]

        proc = dockyard(env, root, *args)
        assert proc.returncode == 1
        assert f"{repo}:latest" in proc.stderr and "1.3.0" in proc.stderr and "1.2.3" in proc.stderr
        assert store.manifest_head("latest")[0] == newer_digest

        forced = dockyard(env, root, *args, "--force")
        assert forced.returncode == 0, forced.stderr
        assert store.manifest_head("latest")[0] == merged


def parse_semver_version(text: str) -> str:
    from dockyard.tags.versions import parse_semver

    parsed = parse_semver(text)
    assert parsed is not None, text
    return parsed.version
