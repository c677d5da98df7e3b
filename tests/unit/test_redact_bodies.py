"""Presigned-URL secrets quoted in free text (object-store error bodies) are masked like in URLs."""

from __future__ import annotations

import pytest

from dockyard.oci.redact import MASK, redact_text

SECRETS = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMIK7MDENG", "FwoGZXIvYXdzEJr", "c2lnbmF0dXJl", "tok3n-value")


@pytest.mark.parametrize(
    "text",
    [
        # S3 SignatureDoesNotMatch, cut off mid-element as a quoted body is
        "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><AWSAccessKeyId>"
        "AKIAIOSFODNN7EXAMPLE</AWSAccessKeyId><SignatureProvided>c2lnbmF0dXJl",
        "<Error><StringToSign>AWS4-HMAC-SHA256 wJalrXUtnFEMIK7MDENG</StringToSign></Error>",
        # a body echoing the presigned URL
        "Request has expired: https://bucket.s3.amazonaws.com/blob?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261203%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Signature=c2lnbmF0dXJl&X-Amz-Security-Token=FwoGZXIvYXdzEJr",
        # the query quoted without its URL (CanonicalRequest, a proxy's log line)
        "GET /blob X-Amz-Credential=AKIAIOSFODNN7EXAMPLE&X-Amz-Signature=c2lnbmF0dXJl",
        "denied: /container/blob?sv=2021&se=2026-12-03&sig=c2lnbmF0dXJl",
        "Signature=c2lnbmF0dXJl; Key-Pair-Id=AKIAIOSFODNN7EXAMPLE; Policy=wJalrXUtnFEMIK7MDENG",
        "invalid token=tok3n-value for GoogleAccessId=AKIAIOSFODNN7EXAMPLE",
        "x-amz-security-token%3DFwoGZXIvYXdzEJr",
    ],
)
def test_presigned_secrets_in_free_text_are_masked(text):
    out = redact_text(text)
    assert MASK in out
    assert not any(s in out for s in SECRETS), out


def test_ordinary_words_survive():
    text = "blob unknown to registry: sha256:abc digest=sha256:abc, the signature check is next"
    assert redact_text(text) == text
