"""Pure auth decisions: challenge parsing, scopes, endpoint checks, token caching."""

import httpx
import pytest

from dockyard.errors import RegistryError
from dockyard.oci.auth import (
    Authenticator,
    Challenge,
    Credential,
    ScopedAuth,
    Trust,
    check_endpoint,
    config_key_for,
    endpoint_trust,
    env_credential_names,
    parse_www_authenticate,
    repository_scope,
    same_origin,
)


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


V, R, X = Trust.VERIFIED, Trust.AS_REGISTRY, Trust.REFUSED


# (registry as named, its --insecure-registry flag, realm or redirect URL) -> decision.
@pytest.mark.parametrize(
    ("registry", "insecure", "url", "trust"),
    [
        # The registry itself: its own setting.
        ("registry.example", False, "https://registry.example/token", V),
        ("registry.example", False, "https://registry.example:443/token", V),
        ("registry.example", False, "http://registry.example/token", X),
        ("registry.example:5000", False, "https://registry.example:5000/token", V),
        ("reg.internal:5000", True, "http://reg.internal:5000/token", R),
        ("reg.internal:5000", True, "https://reg.internal:5000/token", R),
        ("127.0.0.1:5000", False, "http://127.0.0.1:5000/token", R),
        # Loopback to loopback (a test registry and its token server).
        ("127.0.0.1:5000", False, "http://127.0.0.1:5001/token", R),
        ("127.0.0.1:5000", False, "http://localhost:5001/token", R),
        ("localhost:5000", True, "http://[::1]:5001/token", R),
        # Another host: https with verified TLS, whatever the registry's flag.
        ("registry.example", False, "https://auth.example/token", V),
        ("reg.internal:5000", True, "https://auth.example/token", V),
        ("reg.internal:5000", True, "https://reg.internal:5001/token", V),
        ("127.0.0.1:5000", False, "https://auth.example/token", V),
        ("127.0.0.1:5000", True, "https://auth.example/token", V),
        ("10.0.0.5:5000", False, "https://10.0.0.5/token", V),  # the registry's own machine
        ("reg.internal:5000", True, "http://reg.internal:5001/token", X),
        ("reg.internal:5000", True, "http://auth.example/token", X),
        ("registry.example", False, "http://auth.example/token", X),
        ("127.0.0.1:5000", False, "http://auth.example/token", X),
        ("127.0.0.1:5000", True, "http://auth.example/token", X),
        # Private and link-local addresses that are not the registry's host.
        ("127.0.0.1:5000", False, "http://169.254.169.254/latest/meta-data", X),
        ("registry.example", False, "https://10.1.2.3/token", X),
        ("registry.example", False, "https://127.0.0.1/token", X),
        ("registry.example", False, "file:///etc/passwd", X),
    ],
)
def test_endpoint_trust(registry, insecure, url, trust):
    assert endpoint_trust(registry, url, insecure=insecure).trust is trust


@pytest.mark.parametrize(
    ("url", "registry", "insecure", "message"),
    [
        (
            "http://auth.example/token",
            "registry.example",
            False,
            "token realm http://auth.example/token is plain http on auth.example, another host "
            "than the registry registry.example; a realm or redirect off the registry must be "
            "https with a verified certificate",
        ),
        (
            "http://auth.example:8080/token?account=alice&service=reg",
            "127.0.0.1:5000",
            True,
            "token realm http://auth.example:8080/token?account=REDACTED&service=REDACTED is plain "
            "http on auth.example:8080, another host than the registry 127.0.0.1:5000; a realm or "
            "redirect off the registry must be https with a verified certificate",
        ),
        (
            "http://registry.example/token",
            "registry.example",
            False,
            "token realm http://registry.example/token is plain http for the registry "
            "registry.example, which is not an --insecure-registry; refusing to downgrade",
        ),
        (
            "http://169.254.169.254/latest/meta-data",
            "127.0.0.1:5000",
            False,
            "token realm http://169.254.169.254/latest/meta-data points at the private address "
            "169.254.169.254, which is not the registry 127.0.0.1:5000; refusing",
        ),
        (
            "https://10.1.2.3/token",
            "registry.example",
            False,
            "token realm https://10.1.2.3/token points at the private address 10.1.2.3, "
            "which is not the registry registry.example; refusing",
        ),
        (
            "file:///etc/passwd",
            "registry.example",
            False,
            "token realm file:///etc/passwd is not an http(s) URL",
        ),
    ],
)
def test_check_endpoint_refuses(url, registry, insecure, message):
    with pytest.raises(RegistryError) as err:
        check_endpoint(url, registry=registry, insecure=insecure, what="token realm")
    assert str(err.value) == message


def test_check_endpoint_returns_the_trust():
    got = check_endpoint(
        "https://auth.example/t", registry="r.example:5000", insecure=True, what="token realm"
    )
    assert got is Trust.VERIFIED


def test_authenticator_refuses_an_off_host_plain_realm_of_an_insecure_registry():
    auth = Authenticator(
        registry_url="http://reg.internal:5000", credential=None, send=None, insecure=True
    )
    with pytest.raises(RegistryError, match=r"plain http on auth\.example"):
        auth.learn(parse_www_authenticate('Bearer realm="http://auth.example/token"'))
    auth.learn(parse_www_authenticate('Bearer realm="http://reg.internal:5000/token"'))
    assert auth.challenge.realm == "http://reg.internal:5000/token"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (
            "127.0.0.1:5000",
            ("DOCKYARD_REGISTRY_127_0_0_1_5000_USER", "DOCKYARD_REGISTRY_127_0_0_1_5000_PASSWORD"),
        ),
        ("ghcr.io", ("DOCKYARD_REGISTRY_GHCR_IO_USER", "DOCKYARD_REGISTRY_GHCR_IO_PASSWORD")),
        (
            "my-reg.example.com",
            (
                "DOCKYARD_REGISTRY_MY_REG_EXAMPLE_COM_USER",
                "DOCKYARD_REGISTRY_MY_REG_EXAMPLE_COM_PASSWORD",
            ),
        ),
    ],
)
def test_env_credential_names(host, expected):
    assert env_credential_names(host) == expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("docker.io", "https://index.docker.io/v1/"),
        ("index.docker.io", "https://index.docker.io/v1/"),
        ("ghcr.io", "ghcr.io"),
        ("127.0.0.1:5000", "127.0.0.1:5000"),
    ],
)
def test_config_key_for(host, expected):
    assert config_key_for(host) == expected


def test_credential_repr_hides_secrets():
    cred = Credential("bob", "hunter22", source="env")
    tok = Credential("", identity_token="refresh-xyz", source="helper")
    assert repr(cred) == "Credential(username='bob', password=REDACTED, source='env')"
    assert str(tok) == "Credential(username='', identity token=REDACTED, source='helper')"
    assert "hunter22" not in repr(cred) and "refresh-xyz" not in repr(tok)
    assert cred.secrets() == ("hunter22", "Ym9iOmh1bnRlcjIy")


@pytest.mark.parametrize(
    ("url", "registry", "expected"),
    [
        ("http://127.0.0.1:5000/v2/", "http://127.0.0.1:5000", True),
        ("http://127.0.0.1:5001/v2/", "http://127.0.0.1:5000", False),
        ("https://r.example/v2/", "https://r.example", True),
        ("https://r.example:443/v2/", "https://r.example", True),
        ("http://r.example/v2/", "https://r.example", False),
        ("https://cdn.example/blob", "https://r.example", False),
    ],
)
def test_same_origin(url, registry, expected):
    assert same_origin(httpx.URL(url), registry) is expected


class TokenServer:
    """A recording stand-in for the *token endpoint* (pure Authenticator test; not a registry)."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []

    def __call__(self, request):
        self.requests.append(request)
        return self.answers.pop(0)


def make_auth(answers, credential=None, now=None):
    clock = now or [1000.0]
    server = TokenServer(answers)
    auth = Authenticator(
        registry_url="http://127.0.0.1:5000",
        credential=credential,
        send=server,
        clock=lambda: clock[0],
    )
    auth.learn(parse_www_authenticate('Bearer realm="http://127.0.0.1:5001/token",service="reg"'))
    return auth, server, clock


def test_tokens_are_cached_per_scope_and_refreshed_near_expiry():
    auth, server, clock = make_auth(
        [
            (200, b'{"token": "t1", "expires_in": 300}'),
            (200, b'{"access_token": "t2"}'),
            (200, b'{"token": "t3", "expires_in": 300}'),
        ]
    )
    pull = ["repository:a:pull"]
    assert auth.header_for(pull) == "Bearer t1"
    assert auth.header_for(pull) == "Bearer t1"
    assert auth.header_for(["repository:a:pull,push"]) == "Bearer t2"
    assert len(server.requests) == 2
    clock[0] += 291  # within 10 s of t1's expiry
    assert auth.header_for(pull) == "Bearer t3"
    first = server.requests[0]
    assert str(first.url) == "http://127.0.0.1:5001/token?service=reg&scope=repository%3Aa%3Apull"
    assert "Authorization" not in first.headers  # anonymous token


def test_token_request_sends_basic_credentials_and_all_scopes():
    auth, server, _ = make_auth(
        [(200, b'{"token": "t"}')], credential=Credential("bob", "pw", source="env")
    )
    auth.header_for(["repository:b:pull,push", "repository:a:pull"])
    req = server.requests[0]
    assert req.headers["Authorization"] == "Basic Ym9iOnB3"
    assert req.url.params.get_list("scope") == ["repository:a:pull", "repository:b:pull,push"]
    assert req.url.params["account"] == "bob"


def test_identity_token_uses_refresh_grant():
    auth, server, _ = make_auth(
        [(200, b'{"access_token": "t"}')],
        credential=Credential("", identity_token="rt", source="helper"),
    )
    assert auth.header_for(["repository:a:pull"]) == "Bearer t"
    req = server.requests[0]
    assert req.method == "POST"
    assert req.read().decode() == (
        "grant_type=refresh_token&refresh_token=rt&client_id=dockyard&service=reg"
        "&scope=repository%3Aa%3Apull"
    )


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            (401, b""),
            "token server http://127.0.0.1:5001/token answered "
            "HTTP 401 for repository:a:pull (check the credentials)",
        ),
        (
            (200, b'{"nope": 1}'),
            "token server http://127.0.0.1:5001/token answered without a token",
        ),
        (
            (200, b"<html>"),
            "token server http://127.0.0.1:5001/token answered without a token",
        ),
    ],
)
def test_token_errors(answer, message):
    auth, _, _ = make_auth([answer])
    with pytest.raises(RegistryError) as err:
        auth.header_for(["repository:a:pull"])
    assert str(err.value) == message


def test_challenged_drops_token_and_says_whether_to_resend():
    auth, _server, _ = make_auth([(200, b'{"token": "t1"}'), (200, b'{"token": "t2"}')])
    scopes = ["repository:a:pull"]
    assert auth.header_for(scopes) == "Bearer t1"
    header = 'Bearer realm="http://127.0.0.1:5001/token",service="reg",error="invalid_token"'
    assert auth.challenged(header, scopes) is True
    assert auth.header_for(scopes) == "Bearer t2"
    assert auth.challenged(None, scopes) is False
    assert auth.challenged('Basic realm="r"', scopes) is False  # no credentials to send
    assert auth.header_for(scopes) is None


def test_basic_challenge_sends_basic_credentials():
    auth, _, _ = make_auth([], credential=Credential("bob", "pw", source="env"))
    assert auth.challenged('Basic realm="r"', []) is True
    assert auth.header_for([]) == "Basic Ym9iOnB3"


def test_scoped_auth_never_sends_authorization_to_another_origin():
    auth, _, _ = make_auth([(200, b'{"token": "t"}')])
    flow = ScopedAuth(auth, ["repository:a:pull"])
    own = next(flow.auth_flow(httpx.Request("GET", "http://127.0.0.1:5000/v2/a/blobs/x")))
    assert own.headers["Authorization"] == "Bearer t"
    foreign = httpx.Request(
        "GET", "http://127.0.0.1:9999/blob", headers={"Authorization": "Bearer leaked"}
    )
    assert "Authorization" not in next(flow.auth_flow(foreign)).headers
