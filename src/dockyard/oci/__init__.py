"""OCI: the models, the one Store protocol, its two implementations, and copy over it.

Pure (no I/O): `mediatypes`, `models` (manifests, indexes, configs that keep
their raw bytes), `referrers` (the OCI 1.1 subject list), `retry` (when and
how long to wait), `redact`, `verifying` (a digest- and size-checked stream),
and the registry's decisions: `auth.challenge` (WWW-Authenticate, scopes),
`endpoints` (where a realm or redirect may be reached).

The Store protocol and its stores: `store` (the protocol), `layout` (an OCI
image layout on disk), `registry` (`RegistryClient` / `RegistryStore` over
the Distribution API), `open` (a location -> its store), `fetch` (verified
small reads through any store).

The registry client's HTTP edge, one concept a module: `session` (one
httpx.Client, hosts, retries, errors), `auth/` (challenge, the token flow,
`credentials/`: the ordered credential sources),
`responses` (bounded bodies, error bodies, blob streams), `tls` (certificate
failures named), `upload` (the blob upload protocol), `certdir` (--ca-cert
for buildah).

Over any two stores: `copy` (`copy_image`) with `copier` (the transfers),
`carry` (the evidence that goes along) and `copyresult` (progress and
result); `attached` (a manifest's referrers and cosign tags); `inspect`;
`imports` and `layer` (`dockyard import`: rootfs -> image); `dockerarchive`
(a `docker save` archive -> an image, config byte for byte) and `dockersave`
(an image -> a docker-archive for `docker load` / `podman load`).

Importing any of these changes nothing in the host process.
"""
