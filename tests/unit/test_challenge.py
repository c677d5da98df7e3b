"""Pure challenge decisions: WWW-Authenticate parsing, repository scopes."""

import pytest

from dockyard.oci.auth.challenge import Challenge, parse_www_authenticate, repository_scope


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        (
            'Bearer realm="https://auth.example/token",service="registry.example",'
            'scope="repository:a/b:pull,push"',
            Challenge(
                "bearer",
                {
                    "realm": "https://auth.example/token",
                    "service": "registry.example",
                    "scope": "repository:a/b:pull,push",
                },
            ),
        ),
        ('Basic realm="Registry Realm"', Challenge("basic", {"realm": "Registry Realm"})),
        ("basic", Challenge("basic", {})),
        (
            'BEARER  realm = "https://a/t" , service=reg, error="insufficient_scope"',
            Challenge(
                "bearer", {"realm": "https://a/t", "service": "reg", "error": "insufficient_scope"}
            ),
        ),
        (
            r'Bearer realm="https://a/t?x=\"q\"",service="s"',
            Challenge("bearer", {"realm": 'https://a/t?x="q"', "service": "s"}),
        ),
        (
            'Bearer realm="https://a/t", Basic realm="other"',
            Challenge("bearer", {"realm": "https://a/t"}),
        ),
    ],
)
def test_parse_www_authenticate(header, expected):
    assert parse_www_authenticate(header) == expected


@pytest.mark.parametrize(
    ("repo", "actions", "expected"),
    [
        ("a/b", ["pull"], "repository:a/b:pull"),
        ("a/b", ["push", "pull"], "repository:a/b:pull,push"),
        ("x", ["pull", "pull", "delete"], "repository:x:pull,delete"),
    ],
)
def test_repository_scope(repo, actions, expected):
    assert repository_scope(repo, actions) == expected
