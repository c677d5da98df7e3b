"""Keep secrets out of messages, logs and JSON (pure).

What counts as secret (reliability.md §6, "Redaction"): credentials in a URL's
userinfo, every query parameter not on a short allowlist (upload `_state`
blobs, presigned `X-Amz-Signature`/`sig`/`token` parameters all look like
ordinary parameters, so we keep only the ones we know are harmless),
authorization-bearing headers, and any literal secret the caller knows about.
Free text gets the same treatment: an object store's error body (the 403 of
a presigned blob redirect) quotes the URL, its `X-Amz-Signature=` /
`sig=` / `token=` parameters and XML elements such as `<SignatureProvided>`
or `<AWSAccessKeyId>`; `redact_text` masks each of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

MASK = "REDACTED"

# Query parameters of the distribution API that carry no secret and help a
# reader understand an error (which digest, which mount source, which page).
SAFE_QUERY_PARAMS = frozenset({"digest", "mount", "from", "n", "last", "artifactType", "ns"})

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-registry-auth",
        "x-amz-security-token",
    }
)

# `Bearer <token>` / `Basic <b64>` that slipped into free text (an error body
# echoing a header, a stringified request).
_AUTH_VALUE = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
# A JWT anywhere in free text: three base64url segments, the first a JSON header.
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# A URL quoted in free text: its query goes through redact_url.
_URL_IN_TEXT = re.compile(r"\bhttps?://[^\s\"'<>`]+", re.IGNORECASE)
# A presigned URL's secret parameters quoted without their URL (S3's CanonicalRequest,
# a log line): AWS SigV4 (X-Amz-*), GCS (X-Goog-*), Azure SAS (sig), CloudFront
# (Signature, Policy, Key-Pair-Id), S3 SigV2 (AWSAccessKeyId), OAuth-style tokens.
_SECRET_PARAM = re.compile(
    r"(?<![\w-])(x-amz-[\w-]+|x-goog-[\w-]+|signature|sig|token|access_token|refresh_token|"
    r"security-token|credential|key-pair-id|policy|awsaccesskeyid|googleaccessid|_state)"
    r"(=|%3D)([^&\s\"'<>;,]+)",
    re.IGNORECASE,
)
# The same secrets as XML elements of an object store's error body (possibly cut off).
_SECRET_ELEMENT = re.compile(
    r"<(SignatureProvided|StringToSign|StringToSignBytes|CanonicalRequest|CanonicalRequestBytes|"
    r"AWSAccessKeyId|X-Amz-[\w-]+|Credential|Signature|SecurityToken|Token)>([^<]*)",
    re.IGNORECASE,
)


def redact_url(url: str) -> str:
    """The URL without userinfo and with every non-allowlisted query value masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    query = "&".join(
        f"{quote(key, safe='')}={_query_value(key, value)}"
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _query_value(key: str, value: str) -> str:
    if key in SAFE_QUERY_PARAMS:
        return quote(value, safe=":/")
    return MASK


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of `headers` with authorization-bearing values masked."""
    return {
        name: (MASK if name.lower() in SECRET_HEADERS else value) for name, value in headers.items()
    }


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every known secret, auth header value and JWT masked.

    Secrets shorter than 4 characters are not searched for: masking every
    "a" in a message would destroy it and protects nothing.
    """
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
    text = _SECRET_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _SECRET_ELEMENT.sub(lambda m: f"<{m.group(1)}>{MASK}", text)
    text = _AUTH_VALUE.sub(lambda m: f"{m.group(1)} {MASK}", text)
    return _JWT.sub(MASK, text)
