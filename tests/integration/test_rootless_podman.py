"""Rootless podman: `dockyard build --builder podman` as an unprivileged user gives root's index,
its `release --builder podman` publishes it, and `doctor` says the user is ready.

As test_rootless.py (buildah), with its own user (`useradd -m` writes the
/etc/subuid and /etc/subgid ranges), its /run/user/UID, podman's storage in
the user's home; root builds the same committed checkout with podman in a
storage of its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.helpers.buildproject import base_index
from tests.integration.test_rootless import as_root, checkout, make_user
from tests.integration.test_rootless import as_user as rootless_as_user

pytestmark = pytest.mark.integration

USER = "dockyard-podman"


@pytest.fixture(scope="module")
def base(registry, tmp_path_factory) -> str:
    return base_index(registry.host, tmp_path_factory.mktemp("rootless-podman-base"))


@pytest.fixture(scope="module")
def user():
    _end_processes_of_user()  # a leftover run's pause process keeps userdel from working
    users = make_user(USER, subordinate_ids=True)
    uid = next(users)
    yield uid
    _end_processes_of_user()
    next(users, None)


def _end_processes_of_user() -> None:
    """End the processes this test's user runs (rootless podman leaves its pause process), by pid."""
    try:
        uid = pwd.getpwnam(USER).pw_uid
    except KeyError:
        return
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
        except OSError:
            continue
        if fields.get("Uid", "").split()[:1] == [str(uid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(status.parent.name), signal.SIGKILL)


def as_user(uid: int, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return rootless_as_user(uid, cwd, *args, name=USER)


def test_a_rootless_podman_build_gives_the_index_root_builds(user, base, registry, tmp_path):
    shared = Path(tempfile.mkdtemp(prefix="dockyard-rootless-podman-", dir="/tmp"))
    try:
        shared.chmod(0o755)
        mine = checkout(shared / "user", base, registry.host)
        theirs = shared / "root"
        shutil.copytree(mine, theirs, symlinks=True)
        subprocess.run(["chown", "-R", f"{USER}:{USER}", str(mine)], check=True)

        args = ("build", "--builder", "podman", "--ref", "refs/tags/v1.0.0", "--json")
        rootless = as_user(user, mine, *args)
        assert rootless.returncode == 0, rootless.stderr
        rooted = as_root(tmp_path, theirs, *args)
        assert rooted.returncode == 0, rooted.stderr

        (user_target,) = json.loads(rootless.stdout)["targets"]
        (root_target,) = json.loads(rooted.stdout)["targets"]
        assert [j["state"] for j in user_target["jobs"]] == ["built", "built"]
        assert user_target["index_digest"] == root_target["index_digest"]
        assert {p.stat().st_uid for p in (mine / "dist/oci/app").rglob("*")} == {user}
        # podman ran it, as the user, in the user's own storage.
        log = next((mine / "dist/logs").rglob("*.log")).read_text()
        assert log.startswith("$ podman build --runtime runc "), log[:200]
        storage = Path(f"/home/{USER}/.local/share/containers/storage")
        assert storage.is_dir() and storage.stat().st_uid == user

        released = as_user(user, mine, "release", "--builder", "podman", "--ref", "refs/tags/v1.0.0", "--json")
        assert released.returncode == 0, released.stderr
        raw = subprocess.run(
            ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{registry.host}/rootless/app:v1.0.0"],
            capture_output=True, check=True,
        ).stdout  # fmt: skip
        assert f"sha256:{hashlib.sha256(raw).hexdigest()}" == user_target["index_digest"]

        doctor = as_user(user, mine, "doctor", "--builder", "podman", "--json")
        assert doctor.stdout, doctor.stderr
        rows = {r["check"]: (r["status"], r["detail"]) for r in json.loads(doctor.stdout)["checks"]}
        status, detail = rows["engine podman"]
        assert status == "ok", detail
        assert detail.startswith("podman 4.") and detail.endswith(f"; rootless ready for {USER}")
        # The storage doctor measures is the user's own (root's is not even readable).
        assert rows["storage builder"][1].startswith(f"{storage}: ")
    finally:
        shutil.rmtree(shared, ignore_errors=True)
