"""Registry credentials: where dockyard finds a username/password or identity token.

- `credential`: the `Credential` value (secrets never in its repr) and the
  `CredentialSource` protocol every source follows: (host, environ) ->
  Credential or None;
- `sources`: `SOURCES`, the one ordered list of sources (first hit wins), and
  `find_credential(host)` that walks it;
- one module per kind of source: `env` (`DOCKYARD_REGISTRY_<HOST>_USER` /
  `_PASSWORD`), `files` (podman auth.json, docker config.json with its
  credHelpers, auths and credsStore); `helper` runs a docker-credential-<name>
  program for `files`.

Adding a source (ECR's token flow, say) is one new module holding a function
or small class of that protocol, plus its line in `sources.SOURCES`.
"""
