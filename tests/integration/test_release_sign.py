"""`dockyard release` with `[sign] key`: real buildah, two real registries, an encrypted key in env.

Each registry ends with every index and child signed, verifiable by
`dockyard verify --key` and by the openssl CLI; a second release of the same
commit writes nothing; the key and its password are never in the output.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest

from tests.helpers.buildproject import base_index
from tests.helpers.registry import start_registry
from tests.integration.conftest import skopeo_raw
from tests.integration.test_release import (
    NON_ROOT,
    dockyard_release,
    make_project,
    storage_snapshot,
    tag_digests,
    unmount_under,
)

pytestmark = pytest.mark.integration

PASSWORD = "release-key-password"


@pytest.fixture(scope="module")
def base(registry, tmp_path_factory) -> str:
    return base_index(registry.host, tmp_path_factory.mktemp("sign-release-base"))


@pytest.fixture(scope="module")
def second(tmp_path_factory):
    reg = start_registry(tmp_path_factory.mktemp("sign-release-second"))
    yield reg
    reg.stop()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("buildah-sign-release-storage")
    conf = root / "storage.conf"
    conf.write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = "{root / "root"}"\nrunroot = "{root / "run"}"\n'
    )
    drop = ("DOCKYARD_DEBUG", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS", "GITHUB_EVENT_NAME",
            "DOCKYARD_KEY_PASSWORD", "COSIGN_PASSWORD")  # fmt: skip
    (root / "tmp").mkdir()
    yield {
        **{k: v for k, v in os.environ.items() if k not in drop},
        "CONTAINERS_STORAGE_CONF": str(conf),
        "TMPDIR": str(root / "tmp"),
    }
    unmount_under(root)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("release-keys")
    for args in (
        ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "k.pem"],
        ["pkey", "-in", "k.pem", "-pubout", "-out", "k.pub"],
        ["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", "k.pem", "-out", "enc.pem", "-passout", f"pass:{PASSWORD}"],
    ):  # fmt: skip
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=60)
    return d


def test_release_signs_every_index_and_child_on_every_registry(
    tmp_path, base, registry, second, env, keys
):
    root, sha, prefixes = make_project(
        tmp_path / "p", base, [registry.host, second.host], {"app": NON_ROOT}
    )
    with (root / "dockyard.toml").open("a") as f:
        f.write('[sign]\nkey = "env:RELEASE_SIGNING_KEY"\n')
    secrets = {
        "RELEASE_SIGNING_KEY": (keys / "enc.pem").read_text(),
        "DOCKYARD_KEY_PASSWORD": PASSWORD,
    }
    proc = dockyard_release(env, root, sha, "v1.0.0", "--json", **secrets)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [r["signatures"] for r in doc["publish"]["repositories"]] == [
        {"signed": 3, "present": 0}
    ] * 2

    for reg, prefix in zip((registry, second), prefixes, strict=True):
        image = f"{prefix}/app:1.0.0"
        checked = subprocess.run(
            [sys.executable, "-m", "dockyard", "verify", image, "--key", str(keys / "k.pub"), "--json"],
            capture_output=True, text=True, env=env, timeout=300,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stderr
        rules = [
            f["rule"]
            for f in json.loads(checked.stdout)["findings"]
            if f["rule"].startswith("signature")
        ]
        assert rules == ["signature.verified"] * 3
        # The index's signature, checked by openssl over the payload the registry serves.
        repo = image.split("/", 1)[1].rsplit(":", 1)[0]
        digest = tag_digests(reg, f"{prefix}/app")["1.0.0"]
        sig = json.loads(skopeo_raw(reg, f"{repo}:{digest.replace(':', '-')}.sig"))
        [layer] = sig["layers"]
        blob = subprocess.run(
            ["curl", "-fsS", f"{reg.url}/v2/{repo}/blobs/{layer['digest']}"], capture_output=True, timeout=60
        ).stdout  # fmt: skip
        assert json.loads(blob)["critical"]["image"]["docker-manifest-digest"] == digest
        (tmp_path / "payload").write_bytes(blob)
        (tmp_path / "sig").write_bytes(
            base64.b64decode(layer["annotations"]["dev.cosignproject.cosign/signature"])
        )
        ok = subprocess.run(
            ["openssl", "dgst", "-sha256", "-verify", str(keys / "k.pub"), "-signature", "sig", "payload"],
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert ok.stdout.strip() == "Verified OK", ok.stderr

    # Again: nothing built, no tag moved, no signature written.
    before = {reg.host: storage_snapshot(reg) for reg in (registry, second)}
    again = dockyard_release(env, root, sha, "v1.0.0", "--json", **secrets)
    assert again.returncode == 0, again.stderr
    redo = json.loads(again.stdout)
    assert [r["signatures"] for r in redo["publish"]["repositories"]] == [
        {"signed": 0, "present": 3}
    ] * 2
    assert {row["state"] for row in redo["summary"]} == {"unchanged"}
    assert {reg.host: storage_snapshot(reg) for reg in (registry, second)} == before

    key_lines = [
        line for line in secrets["RELEASE_SIGNING_KEY"].splitlines() if not line.startswith("-----")
    ]
    output = proc.stdout + proc.stderr + again.stdout + again.stderr
    assert not [s for s in [*key_lines, PASSWORD] if s in output]


def test_a_release_whose_key_needs_a_password_it_lacks_builds_nothing(
    tmp_path, base, registry, env, keys
):
    root, sha, _ = make_project(tmp_path / "p", base, [registry.host], {"app": NON_ROOT})
    with (root / "dockyard.toml").open("a") as f:
        f.write(f'[sign]\nkey = "file:{keys / "enc.pem"}"\n')
    proc = dockyard_release(env, root, sha, "v1.0.0")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"error: dockyard.toml: sign.key: file:{keys / 'enc.pem'}: the key is encrypted: "
        "set DOCKYARD_KEY_PASSWORD (or COSIGN_PASSWORD) to its password"
    )
    assert not (root / "dist").exists()
