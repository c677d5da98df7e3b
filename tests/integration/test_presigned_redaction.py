"""A blob redirect to a presigned URL whose object store answers 403 quoting the signature:
copy, verify (also --json and DOCKYARD_DEBUG=1) fail without printing any of it.

The registry is the real one behind the fault proxy (the 307); the object store
is a second proxy answering S3's documented SignatureDoesNotMatch body.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dockyard.oci.registry import RegistryClient
from tests.helpers.faultproxy import Fault, FaultProxy
from tests.helpers.images import make_image, push_image

pytestmark = pytest.mark.integration

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SIGNATURE = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
SESSION_TOKEN = "FwoGZXIvYXdzEJrSecretSessionTokenValue"
SECRETS = (KEY_ID, SIGNATURE, SESSION_TOKEN)
QUERY = (
    f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={KEY_ID}%2F20261203%2Fus-east-1%2Fs3"
    f"%2Faws4_request&X-Amz-Date=20261203T000000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host"
    f"&X-Amz-Security-Token={SESSION_TOKEN}&X-Amz-Signature={SIGNATURE}"
)
BODY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code>'
    f"<AWSAccessKeyId>{KEY_ID}</AWSAccessKeyId><SignatureProvided>{SIGNATURE}</SignatureProvided>"
    f"<CanonicalRequest>GET /bucket/blob {QUERY.replace('&', '&amp;')}</CanonicalRequest>"
    "<Message>The request signature we calculated does not match the signature you provided."
    "</Message></Error>"
).encode()


@pytest.fixture(scope="module")
def presigned(registry):
    image = make_image((2000,))
    with RegistryClient(environ={}) as client:
        push_image(client.store(f"{registry.host}/presigned/app", push=True), image, tag="v1")
    with FaultProxy(registry.host) as store, FaultProxy(registry.host) as proxy:
        store.add(Fault("*", r".", status=403, body=BODY, headers={"Content-Type": "application/xml"}, times=None))
        location = f"http://{store.host}/bucket/blob?{QUERY}"
        proxy.add(Fault("GET", r"/blobs/sha256:", status=307, headers={"Location": location}, times=None))
        yield proxy, store


def run(*args: str, cwd, debug: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "DOCKYARD_DEBUG": "1" if debug else "0"}
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "debug"),
    [(("copy", "{ref}", "oci:out:v1"), False), (("verify", "{ref}"), False),
     (("verify", "{ref}", "--json"), False), (("verify", "{ref}", "--json"), True),
     (("copy", "{ref}", "oci:out:v1"), True)],
)  # fmt: skip
def test_no_presigned_secret_is_printed(presigned, tmp_path, args, debug):
    proxy, store = presigned
    ref = f"{proxy.host}/presigned/app:v1"
    proc = run(*(a.format(ref=ref) for a in args), cwd=tmp_path, debug=debug)
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout + proc.stderr
    assert "HTTP 403" in out and "SignatureDoesNotMatch" in out  # the store's answer is quoted
    assert "REDACTED" in out
    assert not [s for s in SECRETS if s in out], out
    assert store.count("GET", r"/bucket/blob") >= 1
