"""Registry authentication, one concept a module.

- `challenge` (pure): the WWW-Authenticate challenge parsed, repository scopes;
- `flow`: the per-registry `Authenticator` (challenge learnt, bearer tokens
  fetched and cached per scope set, Basic for a basic challenge) and
  `ScopedAuth`, the httpx.Auth that sends it to the registry's own origin only;
- `credentials/`: where a username/password or identity token comes from,
  one ordered list of sources (`credentials.sources.SOURCES`).

Where a token realm may be reached is `oci.endpoints` (the session judges
redirects and Locations with it too).
"""
