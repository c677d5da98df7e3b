"""The auth flow: a refused realm, same-origin checks, token fetching and caching."""

import httpx
import pytest

from dockyard.errors import RegistryError
from dockyard.oci.auth.challenge import parse_www_authenticate
from dockyard.oci.auth.credentials.credential import Credential
from dockyard.oci.auth.flow import Authenticator, ScopedAuth, same_origin


def test_authenticator_refuses_an_off_host_plain_realm_of_an_insecure_registry():
    auth = Authenticator(
        registry_url="http://reg.internal:5000", credential=None, send=None, insecure=True
    )
    with pytest.raises(RegistryError, match=r"plain http on auth\.example"):
        auth.learn(parse_www_authenticate('Bearer realm="http://auth.example/token"'))
    auth.learn(parse_www_authenticate('Bearer realm="http://reg.internal:5000/token"'))
    assert auth.challenge.realm == "http://reg.internal:5000/token"


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
