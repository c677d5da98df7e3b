"""`dockyard sign` / `dockyard verify --key` on a real registry, checked without dockyard too.

The image is Debian's busybox for amd64 and arm64 (an index and two
children), imported into the registry; keys are made by the openssl CLI.
Every signature is also checked independently: skopeo reads the
`sha256-<hex>.sig` manifest, the payload blob is fetched over plain HTTP, and
`openssl dgst -sha256 -verify` checks the base64-decoded annotation over it.
No cosign binary exists here, so cosign itself never verified these.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

from dockyard.oci import mediatypes as mt
from dockyard.oci.copy import copy_image
from dockyard.oci.imports import RootfsSource, import_rootfs
from dockyard.oci.models import build_index, parse_manifest
from dockyard.oci.registry import RegistryClient
from dockyard.platform import Platform
from tests.helpers.busybox import busybox_rootfs
from tests.helpers.verifyimages import import_busybox
from tests.integration.conftest import skopeo_raw

pytestmark = pytest.mark.integration

PASSWORD = "s3cret-for-the-test-key"
SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
ANNOTATION = "dev.cosignproject.cosign/signature"


# ---------------------------------------------------------------- fixtures and helpers


def openssl(*args: str, cwd: Path) -> None:
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> Path:
    """k.pem / k.pub (P-256), enc.pem (k.pem in PKCS#8 under PASSWORD), other.pem / other.pub,
    rsa.pem: all made by openssl, not by dockyard or its libraries."""
    d = tmp_path_factory.mktemp("keys")
    for name in ("k", "other"):
        openssl(
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            f"{name}.pem",
            cwd=d,
        )
        openssl("pkey", "-in", f"{name}.pem", "-pubout", "-out", f"{name}.pub", cwd=d)
    openssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", "k.pem", "-out", "enc.pem",
            "-passout", f"pass:{PASSWORD}", cwd=d)  # fmt: skip
    openssl(
        "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", "rsa.pem", cwd=d
    )
    return d


@pytest.fixture(scope="module")
def source(registry, tmp_path_factory) -> str:
    """`host/sign/src:1`: a busybox index (linux/amd64, linux/arm64) on the registry."""
    work = tmp_path_factory.mktemp("sign-src")
    platforms = (Platform("linux", "amd64"), Platform("linux", "arm64"))
    sources = [
        RootfsSource(p, busybox_rootfs(p.architecture, work / p.architecture)) for p in platforms
    ]
    with RegistryClient() as client:
        import_rootfs(sources, client.store(f"{registry.host}/sign/src", push=True), tag="1")
    return f"{registry.host}/sign/src"


def fresh(registry, source: str) -> str:
    """A copy of the source image in a new repository (blobs mounted): `host/sign/x…:1`."""
    repo = f"{registry.host}/sign/{uuid.uuid4().hex[:10]}"
    with RegistryClient() as client:
        copy_image(client.store(source), "1", client.store(repo, push=True), tag="1")
    return f"{repo}:1"


def dockyard(*args: str, **env_extra: str) -> subprocess.CompletedProcess:
    drop = ("DOCKYARD_DEBUG", "DOCKYARD_KEY_PASSWORD", "COSIGN_PASSWORD")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args],
        capture_output=True, text=True, env={**env, **env_extra}, timeout=300,
    )  # fmt: skip


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("error:")]


def manifests(registry, image: str) -> dict[str, str]:
    """{"index" | platform: digest} of `image` (repo:tag), read by skopeo."""
    repo = image.split("/", 1)[1]
    raw = skopeo_raw(registry, repo)
    out = {"index": "sha256:" + hashlib.sha256(raw).hexdigest()}
    for child in json.loads(raw)["manifests"]:
        out[f"{child['platform']['os']}/{child['platform']['architecture']}"] = child["digest"]
    return out


def signature_manifest(registry, image: str, digest: str) -> dict:
    repo = image.split("/", 1)[1].rsplit(":", 1)[0]
    return json.loads(skopeo_raw(registry, f"{repo}:{digest.replace(':', '-')}.sig"))


def blob(registry, image: str, digest: str) -> bytes:
    """A blob fetched over plain HTTP (no dockyard code)."""
    repo = image.split("/", 1)[1].rsplit(":", 1)[0]
    with urllib.request.urlopen(f"{registry.url}/v2/{repo}/blobs/{digest}", timeout=30) as response:
        return response.read()


def verify(image: str, pub: Path, *extra: str) -> subprocess.CompletedProcess:
    return dockyard("verify", image, "--key", str(pub), *extra)


def signature_findings(proc: subprocess.CompletedProcess) -> dict[str, tuple[str, str]]:
    doc = json.loads(proc.stdout)
    return {
        (f["platform"] or "index"): (f["rule"], f["message"])
        for f in doc["findings"]
        if f["rule"].startswith("signature.")
    }


# ---------------------------------------------------------------- round trip


def test_sign_then_verify_the_index_and_every_child(registry, source, keys):
    image = fresh(registry, source)
    digests = manifests(registry, image)
    proc = dockyard("sign", image, "--key", str(keys / "k.pem"), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["identity"] == image.rsplit(":", 1)[0] and doc["digest"] == digests["index"]
    assert [(m["platform"] or "index", m["digest"], m["outcome"]) for m in doc["manifests"]] == [
        ("linux/amd64", digests["linux/amd64"], "signed"),
        ("linux/arm64", digests["linux/arm64"], "signed"),
        ("index", digests["index"], "signed"),
    ]
    checked = verify(image, keys / "k.pub", "--json")
    assert checked.returncode == 0, checked.stderr
    found = signature_findings(checked)
    assert {k: v[0] for k, v in found.items()} == dict.fromkeys(digests, "signature.verified")
    assert all(f"signed as {doc['identity']}" in message for _, message in found.values())


def test_each_signature_verifies_with_the_openssl_cli(registry, source, keys, tmp_path):
    image = fresh(registry, source)
    assert dockyard("sign", image, "--key", str(keys / "k.pem")).returncode == 0
    identity = image.rsplit(":", 1)[0]
    for what, digest in manifests(registry, image).items():
        sig = signature_manifest(registry, image, digest)
        assert sig["mediaType"] == mt.OCI_MANIFEST and sig["config"]["mediaType"] == mt.OCI_CONFIG
        [layer] = sig["layers"]
        assert layer["mediaType"] == SIMPLESIGNING, what
        payload = blob(registry, image, layer["digest"])
        assert "sha256:" + hashlib.sha256(payload).hexdigest() == layer["digest"]
        assert json.loads(payload) == {
            "critical": {
                "identity": {"docker-reference": identity},
                "image": {"docker-manifest-digest": digest},
                "type": "cosign container image signature",
            },
            "optional": None,
        }
        (tmp_path / "payload.json").write_bytes(payload)
        (tmp_path / "sig.der").write_bytes(base64.b64decode(layer["annotations"][ANNOTATION]))
        proc = subprocess.run(
            ["openssl", "dgst", "-sha256", "-verify", str(keys / "k.pub"), "-signature", "sig.der", "payload.json"],
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 0 and proc.stdout.strip() == "Verified OK", (
            what,
            proc.stdout,
            proc.stderr,
        )
        wrong = subprocess.run(
            ["openssl", "dgst", "-sha256", "-verify", str(keys / "other.pub"), "-signature", "sig.der", "payload.json"],
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert wrong.returncode == 1 and "Verification failure" in wrong.stdout


def test_signing_again_writes_nothing_and_a_second_key_is_appended(registry, source, keys):
    image = fresh(registry, source)
    digests = manifests(registry, image)
    assert dockyard("sign", image, "--key", str(keys / "k.pem")).returncode == 0
    before = {d: signature_manifest(registry, image, d) for d in digests.values()}
    again = dockyard("sign", image, "--key", str(keys / "k.pem"), "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["present"] == 3
    assert {d: signature_manifest(registry, image, d) for d in digests.values()} == before
    assert dockyard("sign", image, "--key", str(keys / "other.pem")).returncode == 0
    for digest in digests.values():
        layers = signature_manifest(registry, image, digest)["layers"]
        assert len(layers) == 2 and layers[0] == before[digest]["layers"][0]
    for pub in ("k.pub", "other.pub"):
        assert verify(image, keys / pub).returncode == 0


def test_an_encrypted_key_signs_with_its_password_from_either_variable(registry, source, keys):
    for variable in ("DOCKYARD_KEY_PASSWORD", "COSIGN_PASSWORD"):
        image = fresh(registry, source)
        proc = dockyard("sign", image, "--key", str(keys / "enc.pem"), **{variable: PASSWORD})
        assert proc.returncode == 0, proc.stderr
        assert verify(image, keys / "k.pub").returncode == 0
    wrong = dockyard("sign", fresh(registry, source), "--key", str(keys / "enc.pem"),
                     DOCKYARD_KEY_PASSWORD="nope")  # fmt: skip
    assert wrong.returncode == 2 and error_lines(wrong) == [
        f"error: file:{keys / 'enc.pem'}: cannot decrypt it (wrong password?)"
    ]


def test_a_key_in_an_environment_variable(registry, source, keys):
    image = fresh(registry, source)
    pem = (keys / "k.pem").read_text()
    proc = dockyard("sign", image, "--key", "env:SIGNING_KEY", SIGNING_KEY=pem)
    assert proc.returncode == 0, proc.stderr
    pub = (keys / "k.pub").read_text()
    assert dockyard("verify", image, "--key", "env:VERIFY_KEY", VERIFY_KEY=pub).returncode == 0


def test_an_oci_layout_is_signed_and_verified_in_place(tmp_path, keys):
    location, store, _ = import_busybox(
        tmp_path, (("linux/amd64", "amd64"), ("linux/arm64", "arm64"))
    )
    refused = dockyard("sign", location, "--key", str(keys / "k.pem"))
    assert refused.returncode == 2 and "pass --identity REPO" in error_lines(refused)[0]
    proc = dockyard(
        "sign", location, "--key", str(keys / "k.pem"), "--identity", "ghcr.io/acme/api"
    )
    assert proc.returncode == 0, proc.stderr
    assert sum(t.endswith(".sig") for t in store.tag_list()) == 3
    checked = verify(location, keys / "k.pub", "--json")
    assert checked.returncode == 0, checked.stderr
    assert {rule for rule, _ in signature_findings(checked).values()} == {"signature.verified"}


# ---------------------------------------------------------------- tamper cases


def test_the_wrong_key_fails_naming_every_manifest(registry, source, keys):
    image = fresh(registry, source)
    assert dockyard("sign", image, "--key", str(keys / "k.pem")).returncode == 0
    proc = verify(image, keys / "other.pub")
    assert proc.returncode == 1
    [line] = error_lines(proc)
    digests = manifests(registry, image)
    assert line == f"error: {image}: 3 error finding(s) (signature.invalid); " + "; ".join(
        f"{what}: {digest.replace(':', '-')}.sig: does not verify with the key (another key, or an edited payload)"
        for what, digest in (("index", digests["index"]), ("linux/amd64 image", digests["linux/amd64"]),
                             ("linux/arm64 image", digests["linux/arm64"]))
    )  # fmt: skip


def test_a_child_left_unsigned_fails_naming_it(registry, source, keys):
    image = fresh(registry, source)
    digests = manifests(registry, image)
    assert dockyard("sign", image, "--key", str(keys / "k.pem")).returncode == 0
    repo = image.rsplit(":", 1)[0]
    with RegistryClient() as client:  # the arm64 child's signatures are deleted
        store = client.store(repo, push=True)
        tag = digests["linux/arm64"].replace(":", "-") + ".sig"
        store.manifest_delete(store.manifest_head(tag)[0])
    proc = verify(image, keys / "k.pub", "--json")
    assert proc.returncode == 1
    found = signature_findings(proc)
    assert found["index"][0] == found["linux/amd64"][0] == "signature.verified"
    assert found["linux/arm64"][0] == "signature.missing"
    [line] = error_lines(proc)
    assert line == (
        f"error: {image}: 1 error finding(s) (signature.missing); linux/arm64 image: "
        f"no signature ({tag} not found)"
    )


def test_a_tampered_index_carrying_the_old_signature_fails(registry, source, keys):
    # The index is rewritten (a child swapped for its sibling) and the original
    # index's valid signature copied to the new digest's tag: the payload names
    # the old digest.
    image = fresh(registry, source)
    digests = manifests(registry, image)
    assert dockyard("sign", image, "--key", str(keys / "k.pem")).returncode == 0
    repo = image.rsplit(":", 1)[0]
    with RegistryClient() as client:
        store = client.store(repo, push=True)
        index = parse_manifest(*store.manifest_get("1"))
        raw, desc = build_index([index.manifests[0], index.manifests[0]])
        store.manifest_put(raw, mt.OCI_INDEX, tag="1")
        old, media_type = store.manifest_get(digests["index"].replace(":", "-") + ".sig")
        store.manifest_put(old, media_type, tag=f"{desc.digest.algorithm}-{desc.digest.hex}.sig")
    proc = verify(image, keys / "k.pub", "--json")
    assert proc.returncode == 1
    rule, message = signature_findings(proc)["index"]
    assert rule == "signature.invalid"
    assert f"signed by the key for {digests['index']}, not this manifest" in message
    assert f"signed by the key for {digests['index']}" in error_lines(proc)[0]


def test_a_signature_blob_edited_in_the_registry_fails(registry, source, keys):
    image = fresh(registry, source)
    digests = manifests(registry, image)
    assert dockyard("sign", image, "--key", str(keys / "k.pem")).returncode == 0
    [layer] = signature_manifest(registry, image, digests["linux/amd64"])["layers"]
    hex_ = layer["digest"].split(":")[1]
    path = registry.root / "data/docker/registry/v2/blobs/sha256" / hex_[:2] / hex_ / "data"
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"optional":null', b'"optional":1234'))  # same length
    proc = verify(image, keys / "k.pub", "--json")
    assert proc.returncode == 1
    rule, message = signature_findings(proc)["linux/amd64"]
    assert rule == "signature.invalid" and "(edited)" in message
    assert signature_findings(proc)["index"][0] == "signature.verified"


def test_a_payload_replaced_under_its_old_signature_fails(registry, source, keys):
    image = fresh(registry, source)
    digests = manifests(registry, image)
    assert dockyard("sign", image, "--key", str(keys / "k.pem")).returncode == 0
    sig = signature_manifest(registry, image, digests["index"])
    payload = blob(registry, image, sig["layers"][0]["digest"]).replace(b"/sign/", b"/evil/")
    repo = image.rsplit(":", 1)[0]
    edited = "sha256:" + hashlib.sha256(payload).hexdigest()
    sig["layers"][0].update(digest=edited, size=len(payload))
    with RegistryClient() as client:
        store = client.store(repo, push=True)
        from dockyard.digest import parse_digest

        store.blob_put(parse_digest(edited), len(payload), io.BytesIO(payload))
        store.manifest_put(json.dumps(sig).encode(), mt.OCI_MANIFEST,
                           tag=digests["index"].replace(":", "-") + ".sig")  # fmt: skip
    rule, message = signature_findings(verify(image, keys / "k.pub", "--json"))["index"]
    assert rule == "signature.invalid" and "does not verify with the key" in message


# ---------------------------------------------------------------- bad input and secrecy


def test_bad_keys_are_refused_with_one_line_and_nothing_written(registry, source, keys):
    image = fresh(registry, source)
    cases = {
        str(keys / "missing.pem"): f"error: file:{keys / 'missing.pem'}: no such key file",
        str(
            keys / "rsa.pem"
        ): f"error: file:{keys / 'rsa.pem'}: an RSA private key; expected ECDSA P-256",
        str(keys / "k.pub"): f"error: file:{keys / 'k.pub'}: not a private key",
        "env:NOPE_NOT_SET": "error: env:NOPE_NOT_SET: the environment variable NOPE_NOT_SET is not set",
        "env:1X": "error: --key: 'env:1X': '1X' is not an environment variable name",
        str(
            keys / "enc.pem"
        ): f"error: file:{keys / 'enc.pem'}: the key is encrypted: set DOCKYARD_KEY_PASSWORD",
    }
    for key, start in cases.items():
        proc = dockyard("sign", image, "--key", key)
        assert proc.returncode == 2, (key, proc.stderr)
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(start), proc.stderr
    with RegistryClient() as client:
        assert not [
            t for t in client.store(image.rsplit(":", 1)[0]).tag_list() if t.endswith(".sig")
        ]
    proc = verify(image, keys / "k.pem")
    assert proc.returncode == 2 and error_lines(proc)[0].startswith(
        f"error: file:{keys / 'k.pem'}: a private key; verify takes the public key"
    )


def test_a_bad_sign_key_in_the_config_refuses_the_release_before_anything_runs(tmp_path, keys):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    base = '[project]\nregistries = ["127.0.0.1:9/x"]\n[targets.a]\n'
    cases = {
        'key = "cosign.key"': "error: dockyard.toml: sign.key: 'cosign.key' does not say where the key is",
        'key = "file:nope.pem"': f"error: dockyard.toml: sign.key: file:{tmp_path / 'nope.pem'}: no such key file",
        f'key = "file:{keys / "rsa.pem"}"': "error: dockyard.toml: sign.key: file:",
    }
    for line, start in cases.items():
        (tmp_path / "dockyard.toml").write_text(base + "[sign]\n" + line + "\n")
        proc = subprocess.run(
            [sys.executable, "-m", "dockyard", "release", "--ref", "v1.0.0", "--sha", "0" * 40],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
            env={k: v for k, v in os.environ.items() if k != "DOCKYARD_DEBUG"},
        )  # fmt: skip
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(start), proc.stderr
        assert not (tmp_path / "dist").exists()  # nothing built


def test_no_key_material_in_output_or_logs(registry, source, keys, caplog):
    from dockyard.oci.retry import RetryPolicy
    from dockyard.pipeline.sign import sign_location
    from dockyard.workspace import Settings, Workspace

    pem = (keys / "k.pem").read_text()
    secrets = [line for line in pem.splitlines() if not line.startswith("-----")]
    secrets += [
        line for line in (keys / "enc.pem").read_text().splitlines() if not line.startswith("-----")
    ]
    secrets.append(PASSWORD)
    seen = []
    image = fresh(registry, source)
    for args, env in (
        (("sign", image, "--key", str(keys / "enc.pem")), {"DOCKYARD_KEY_PASSWORD": PASSWORD}),
        (("sign", image, "--key", str(keys / "enc.pem"), "--json"), {"COSIGN_PASSWORD": PASSWORD}),
        (
            ("sign", image, "--key", str(keys / "enc.pem")),
            {"DOCKYARD_KEY_PASSWORD": PASSWORD + "x"},
        ),
        (("sign", image, "--key", "env:K"), {"K": pem.replace("A", "B", 5)}),
        (("sign", image, "--key", "env:K", "--json"), {"K": pem}),
        (("verify", image, "--key", str(keys / "k.pub"), "--json"), {}),
        (("verify", image, "--key", str(keys / "k.pem")), {}),
    ):
        proc = dockyard(*args, **env)
        seen += [proc.stdout, proc.stderr]
    with caplog.at_level("DEBUG"):
        environ = {**os.environ, "DOCKYARD_KEY_PASSWORD": PASSWORD}
        with Workspace(Settings(retry=RetryPolicy()), environ=environ) as ws:
            result = sign_location(ws, fresh(registry, source), str(keys / "enc.pem"))
        seen += [repr(result), json.dumps(result.to_json())]
    seen += [record.getMessage() for record in caplog.records]
    assert caplog.records  # the registry requests were logged, and nothing else of note
    seen.append(registry.log_text())
    text = "\n".join(seen)
    leaked = [s for s in secrets if s in text]
    assert leaked == []


@pytest.fixture(scope="module")
def promoted_to(tmp_path_factory):
    from tests.helpers.registry import start_registry

    reg = start_registry(tmp_path_factory.mktemp("sign-promoted"))
    yield reg
    reg.stop()


def test_a_signed_image_with_its_sbom_copied_to_another_registry_still_verifies_there(
    registry, source, keys, promoted_to
):
    image = fresh(registry, source)
    assert dockyard("sign", image, "--key", str(keys / "k.pem")).returncode == 0
    attached = dockyard("sbom", image, "--attach", DOCKYARD_SYFT="0")
    assert attached.returncode == 0, attached.stderr
    there = f"{promoted_to.host}/promoted/{uuid.uuid4().hex[:8]}:1"
    copied = dockyard("copy", image, there)
    assert copied.returncode == 0, copied.stderr
    # The signatures (index and both children) verify at the destination with the same key...
    checked = verify(there, keys / "k.pub", "--json")
    assert checked.returncode == 0, checked.stderr
    assert {v[0] for v in signature_findings(checked).values()} == {"signature.verified"}
    # ...and each child's SBOM is there, attached to the same digest, the same bytes.
    from dockyard.evidence.artifacts import find

    with RegistryClient(environ={}) as client:
        src = client.store(image.rsplit(":", 1)[0])
        dst = client.store(there.rsplit(":", 1)[0])
        index = parse_manifest(*dst.manifest_get("1"))
        for entry in index.manifests:
            [here] = find(src, entry.digest, artifact_type="application/spdx+json")
            [moved] = find(dst, entry.digest, artifact_type="application/spdx+json")
            assert moved.data == here.data
