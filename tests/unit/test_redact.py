"""Redaction of URLs, headers and free text: no secret survives."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.oci.redact import MASK, redact_headers, redact_text, redact_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://r.example/v2/", "https://r.example/v2/"),
        (
            "https://user:pw@r.example:5000/v2/a/b/manifests/v1",
            f"https://{MASK}@r.example:5000/v2/a/b/manifests/v1",
        ),
        (
            "http://127.0.0.1:5000/v2/a/blobs/uploads/1f2e?_state=c2VjcmV0&digest=sha256:ab",
            f"http://127.0.0.1:5000/v2/a/blobs/uploads/1f2e?_state={MASK}&digest=sha256:ab",
        ),
        (
            "https://s3.example/b?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA/x",
            f"https://s3.example/b?X-Amz-Signature={MASK}&X-Amz-Credential={MASK}",
        ),
        (
            "https://r.example/v2/a/blobs/uploads/?mount=sha256:ab&from=lib/x",
            "https://r.example/v2/a/blobs/uploads/?mount=sha256:ab&from=lib/x",
        ),
        (
            "https://r.example/v2/a/tags/list?n=50&last=v1",
            "https://r.example/v2/a/tags/list?n=50&last=v1",
        ),
        (
            "https://r.example/token?account=bob&scope=repository",
            f"https://r.example/token?account={MASK}&scope={MASK}",
        ),
        ("https://r.example/x#frag-with-token", "https://r.example/x"),
    ],
)
def test_redact_url(url, expected):
    assert redact_url(url) == expected


def test_redact_headers_masks_auth_only():
    headers = {
        "Authorization": "Bearer abc.def.ghi",
        "proxy-authorization": "Basic dXNlcjpwdw==",
        "Cookie": "session=1",
        "Content-Type": "application/json",
        "Docker-Content-Digest": "sha256:ab",
    }
    assert redact_headers(headers) == {
        "Authorization": MASK,
        "proxy-authorization": MASK,
        "Cookie": MASK,
        "Content-Type": "application/json",
        "Docker-Content-Digest": "sha256:ab",
    }


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        ("login failed for bob with hunter22", ["hunter22"], f"login failed for bob with {MASK}"),
        ("header was Bearer abc.DEF-123", [], f"header was Bearer {MASK}"),
        ("header was basic dXNlcjpodW50ZXIy", [], f"header was basic {MASK}"),
        ("token eyJhbGciOi.eyJzdWIi.c2ln end", [], f"token {MASK} end"),
        ("a short pw is not searched", ["pw"], "a short pw is not searched"),
        (
            "nested secret-longer and secret",
            ["secret", "secret-longer"],
            f"nested {MASK} and {MASK}",
        ),
    ],
)
def test_redact_text(text, secrets, expected):
    assert redact_text(text, secrets) == expected


@given(
    secret=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=4, max_size=40),
    before=st.text(max_size=30),
    after=st.text(max_size=30),
)
def test_known_secret_never_survives(secret, before, after):
    assert secret not in redact_text(before + secret + after, [secret])


@given(
    value=st.text(
        alphabet=st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=40
    )
)
def test_state_query_value_never_survives(value):
    out = redact_url(f"https://r.example/v2/x/blobs/uploads/u?_state={value}")
    assert out == f"https://r.example/v2/x/blobs/uploads/u?_state={MASK}"
