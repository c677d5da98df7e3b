"""Pure helpers of the registry client: Link parsing, Location resolution, error bodies."""

import pytest

from dockyard.digest import parse_digest
from dockyard.oci.registry import parse_link_next, referrers_tag
from dockyard.oci.responses import parse_errors, resolve_location

HEX = "a" * 64


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ('</v2/x/tags/list?n=2&last=b>; rel="next"', "/v2/x/tags/list?n=2&last=b"),
        (
            "<https://r.example/v2/x/tags/list?last=b>; rel=next",
            "https://r.example/v2/x/tags/list?last=b",
        ),
        ('</a>; rel="prev", </b>; rel="next"', "/b"),
        ('</a>; rel="prev"', None),
    ],
)
def test_parse_link_next(header, expected):
    assert parse_link_next(header) == expected


@pytest.mark.parametrize(
    ("current", "location", "expected"),
    [
        (
            "http://127.0.0.1:5000/v2/a/blobs/uploads/",
            "/v2/a/blobs/uploads/u1?_state=x",
            "http://127.0.0.1:5000/v2/a/blobs/uploads/u1?_state=x",
        ),
        (
            "https://r.example/v2/a/blobs/uploads/",
            "https://upload.example/u1",
            "https://upload.example/u1",
        ),
        (
            "https://r.example/v2/a/blobs/uploads/u1",
            "u2",
            "https://r.example/v2/a/blobs/uploads/u2",
        ),
        (
            "https://r.example/v2/a/tags/list",
            " /v2/a/tags/list?last=x ",
            "https://r.example/v2/a/tags/list?last=x",
        ),
    ],
)
def test_resolve_location(current, location, expected):
    assert resolve_location(current, location) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"},'
            b'{"code":"NAME_UNKNOWN","message":"other"}]}',
            (("MANIFEST_UNKNOWN", "NAME_UNKNOWN"), "manifest unknown"),
        ),
        (b'{"errors":[]}', ((), "")),
        (b"HAP429", ((), "HAP429")),
        (b"<html>\n<body>Bad\ngateway</body>", ((), "<html> <body>Bad gateway</body>")),
        (b"", ((), "")),
        (b'{"detail": 1}', ((), "")),
        (b"x" * 1000, ((), "x" * 200)),
    ],
)
def test_parse_errors(body, expected):
    assert parse_errors(body) == expected


def test_referrers_tag():
    assert referrers_tag(parse_digest(f"sha256:{HEX}")) == f"sha256-{HEX}"
