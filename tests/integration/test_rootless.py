"""Rootless: `dockyard build` as an unprivileged user gives the index root's build gives.

A real user is created for the module (`useradd -m` writes its /etc/subuid and
/etc/subgid ranges) and removed afterwards. It runs dockyard with a Python it
can execute: the test's own interpreter when the user may run it (a venv made
from Debian's python3), else Debian's /usr/bin/python3 with this venv's
libraries on PYTHONPATH (a pyenv interpreter under root's 0700 home is not
runnable by anyone else). Its buildah storage is its own, in its home, as
rootless buildah chooses; its runtime directory is /run/user/UID.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from tests.helpers.buildproject import base_index, project

pytestmark = pytest.mark.integration

USER = "dockyard-rootless"
NO_RANGES = "dockyard-noranges"
COPY_ONLY = "ARG BASE\nFROM ${BASE}\nCOPY file.txt /file.txt\n"
SRC = Path(__file__).resolve().parents[2] / "src"
COMMIT_DATE = "2026-11-01T12:00:00Z"


@pytest.fixture(scope="module")
def base(registry, tmp_path_factory) -> str:
    return base_index(registry.host, tmp_path_factory.mktemp("rootless-base"))


def make_user(name: str, *, subordinate_ids: bool):
    """A fresh user (`useradd -m`), its /run/user/UID; without its /etc/subuid, /etc/subgid lines
    when `subordinate_ids` is false. Yields the uid; removes the user afterwards."""
    if os.geteuid() != 0:
        pytest.fail("the rootless tests create users: run the integration suite as root")
    subprocess.run(["userdel", "-r", name], capture_output=True, check=False)  # a leftover run
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", name], check=True)
    if not subordinate_ids:
        for path in (Path("/etc/subuid"), Path("/etc/subgid")):
            lines = path.read_text().splitlines(keepends=True)
            path.write_text("".join(line for line in lines if not line.startswith(f"{name}:")))
    uid = int(subprocess.run(["id", "-u", name], capture_output=True, text=True, check=True).stdout)
    runtime = Path(f"/run/user/{uid}")
    runtime.mkdir(parents=True, exist_ok=True)
    os.chown(runtime, uid, uid)
    runtime.chmod(0o700)
    yield uid
    subprocess.run(["userdel", "-r", name], capture_output=True, check=False)
    shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture(scope="module")
def user():
    yield from make_user(USER, subordinate_ids=True)


@pytest.fixture(scope="module")
def user_without_ranges():
    yield from make_user(NO_RANGES, subordinate_ids=False)


def as_user(uid: int, cwd: Path, *args: str, name: str = USER) -> subprocess.CompletedProcess:
    python, pythonpath = user_python(name)
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin",  # /usr/sbin: tools podman runs
        "HOME": f"/home/{name}",
        "USER": name,
        "XDG_RUNTIME_DIR": f"/run/user/{uid}",
        "PYTHONPATH": pythonpath,
    }
    return subprocess.run(
        ["runuser", "-u", name, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()),
         python, "-m", "dockyard", *args],
        capture_output=True, text=True, cwd=cwd, timeout=600,
    )  # fmt: skip


def user_python(name: str = USER) -> tuple[str, str]:
    """An interpreter the user may run, and the PYTHONPATH that gives it dockyard and its libraries."""
    probe = subprocess.run(["runuser", "-u", name, "--", sys.executable, "-c", "pass"], capture_output=True)
    if probe.returncode == 0:
        return sys.executable, str(SRC)
    return "/usr/bin/python3", f"{SRC}:{sysconfig.get_paths()['purelib']}"


def as_root(env_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    conf = env_dir / "storage.conf"
    conf.write_text(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{env_dir / "root"}"\nrunroot = "{env_dir / "run"}"\n'
    )
    env = {k: v for k, v in os.environ.items() if k != "DOCKYARD_DEBUG" and not k.startswith("GITHUB_")}
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args],
        capture_output=True, text=True, cwd=cwd, timeout=600,
        env={**env, "CONTAINERS_STORAGE_CONF": str(conf), "PYTHONPATH": str(SRC)},
    )  # fmt: skip


def checkout(root: Path, base: str, registry: str) -> Path:
    """A committed project (the commit's time is the images' timestamp)."""
    project(root, {"app": COPY_ONLY}, base=base, platforms=("linux/amd64", "linux/arm64"),
            registries=(f"{registry}/rootless",))  # fmt: skip
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True, env={**os.environ, "GIT_COMMITTER_DATE": COMMIT_DATE, "GIT_AUTHOR_DATE": COMMIT_DATE})
    return root


def test_a_rootless_build_gives_the_index_root_builds_and_releases_it(user, base, registry, tmp_path):
    shared = Path(tempfile.mkdtemp(prefix="dockyard-rootless-", dir="/tmp"))
    try:
        shared.chmod(0o755)
        mine = checkout(shared / "user", base, registry.host)
        theirs = shared / "root"
        shutil.copytree(mine, theirs, symlinks=True)  # same files, same mtimes (copy2)
        subprocess.run(["chown", "-R", f"{USER}:{USER}", str(mine)], check=True)

        rootless = as_user(user, mine, "build", "--ref", "refs/tags/v1.0.0", "--json")
        assert rootless.returncode == 0, rootless.stderr
        rooted = as_root(tmp_path, theirs, "build", "--ref", "refs/tags/v1.0.0", "--json")
        assert rooted.returncode == 0, rooted.stderr

        (user_target,) = json.loads(rootless.stdout)["targets"]
        (root_target,) = json.loads(rooted.stdout)["targets"]
        assert [j["state"] for j in user_target["jobs"]] == ["built", "built"]
        assert user_target["index_digest"] == root_target["index_digest"]
        # The user's build wrote as the user, and into the user's own storage.
        layout = mine / "dist/oci/app"
        assert {p.stat().st_uid for p in layout.rglob("*")} == {user}
        storage = Path(f"/home/{USER}/.local/share/containers/storage")
        assert storage.is_dir() and storage.stat().st_uid == user

        released = as_user(user, mine, "release", "--ref", "refs/tags/v1.0.0", "--json")
        assert released.returncode == 0, released.stderr
        raw = subprocess.run(
            ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{registry.host}/rootless/app:v1.0.0"],
            capture_output=True, check=True,
        ).stdout  # fmt: skip
        assert f"sha256:{hashlib.sha256(raw).hexdigest()}" == user_target["index_digest"]
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_a_user_without_subordinate_ids_is_told_the_fix(user_without_ranges, registry, tmp_path):
    """A base layer with a file of uid 2000 needs more than the user's own uid mapped."""
    image = f"{registry.host}/rootless/owned:1"
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "owned").write_text("x")
    container = subprocess.run(["buildah", "from", "scratch"], capture_output=True, text=True, check=True).stdout.strip()
    try:
        subprocess.run(["buildah", "copy", "--chown", "2000:2000", container, str(tree / "owned"), "/owned"], check=True, capture_output=True)
        subprocess.run(["buildah", "commit", "-q", container, image], check=True, capture_output=True)
        subprocess.run(["buildah", "push", "-q", "--tls-verify=false", image], check=True, capture_output=True)
    finally:
        subprocess.run(["buildah", "rm", container], capture_output=True, check=False)
        subprocess.run(["buildah", "rmi", image], capture_output=True, check=False)
    shared = Path(tempfile.mkdtemp(prefix="dockyard-rootless-", dir="/tmp"))
    try:
        shared.chmod(0o755)
        root = shared / "p"
        project(root, {"app": COPY_ONLY}, base=image, platforms=("linux/amd64",))
        subprocess.run(["chown", "-R", f"{NO_RANGES}:{NO_RANGES}", str(root)], check=True)
        proc = as_user(user_without_ranges, root, "build", name=NO_RANGES)
        assert (proc.returncode, proc.stdout) == (1, "")
        last = proc.stderr.splitlines()[-1]
        assert last.startswith("error: build app linux/amd64 failed (exit 1): ")
        assert "insufficient UIDs or GIDs available in user namespace" in last
        assert (
            f"; rootless: {NO_RANGES} needs subordinate ids (usermod --add-subuids 100000-165535 "
            f"--add-subgids 100000-165535 {NO_RANGES} as root, then podman system migrate); log: "
        ) in last
    finally:
        shutil.rmtree(shared, ignore_errors=True)
