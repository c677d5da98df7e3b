"""Pure endpoint trust: where a realm or redirect may be reached for a registry."""

import pytest

from dockyard.errors import RegistryError
from dockyard.oci.endpoints import Trust, check_endpoint, endpoint_trust

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
