#!/usr/bin/env bash
# `make demo`: the bundled example (examples/fleet) against two local registries.
#
# `make demo`'s prerequisites installed the system packages, enabled binfmt and
# made the venv. Here: start two CNCF distribution registries on loopback (one
# plain, one with htpasswd auth whose login goes to a demo DOCKER_CONFIG), make
# the base images from Debian packages (cached under ~/.cache/dockyard, so a
# second demo takes seconds) and push them, plan the release, then
# `dockyard release` examples/fleet (3 services x linux/amd64 + linux/arm64,
# verified with a smoke run of every image, the arm64 ones under qemu, and the
# api's live health check: each platform's container started, its HEALTHCHECK
# and GET /health passed, the container removed) to both
# registries at once (each platform image with its SBOM and provenance), `dockyard
# inspect` one released image, then sign it and verify the signatures. A second demo
# rebuilds nothing (examples/fleet/dist holds the layouts; `rm -rf` it and the
# images come back from the registries by their input hash).
# The registries are stopped at the end, unless DEMO_KEEP=1 (then `make demo-stop`).
#
# Settings (environment): DEMO_REGISTRY (plain, default 127.0.0.1:5000: the
# bases and the first target), DEMO_AUTH_REGISTRY (default 127.0.0.1:5001),
# DOCKYARD_CACHE (default ~/.cache/dockyard), DEMO_REF (default v1.0.0),
# DEMO_SHA (default: this checkout's HEAD, whose commit time makes a re-run
# give the same indexes, so no tag moves), DEMO_KEEP.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
py="$repo/.venv/bin/python"
dockyard="$repo/.venv/bin/dockyard"

export DOCKYARD_CACHE="${DOCKYARD_CACHE:-$HOME/.cache/dockyard}"
plain="${DEMO_REGISTRY:-127.0.0.1:5000}"
auth="${DEMO_AUTH_REGISTRY:-127.0.0.1:5001}"
# dockyard.toml's [variables] take these from the environment.
export BASE_REGISTRY="$plain/base"
export REGISTRY="$plain/fleet"
# The auth registry's login, written by registries.py; dockyard reads it from here.
export DOCKER_CONFIG="$DOCKYARD_CACHE/demo/docker"
ref="${DEMO_REF:-v1.0.0}"
sha="${DEMO_SHA:-$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo 0123456789abcdef0123456789abcdef01234567)}"

demo_start=$SECONDS
timings=()
step_name=""
step_start=0
step() {
  finish_step
  step_name="$1"
  step_start=$SECONDS
  echo "" >&2
  echo "== $1" >&2
}
finish_step() {
  if [ -n "$step_name" ]; then
    timings+=("$(printf '%5d s  %s' $((SECONDS - step_start)) "$step_name")")
    step_name=""
  fi
}
registries() { "$py" "$here/tools/registries.py" "$@" --plain "$plain" --auth "$auth"; }

cleanup() {
  local rc=$?
  finish_step
  if [ "${DEMO_KEEP:-0}" = 1 ]; then
    echo "" >&2
    echo "note: the registries are still running ($plain plain, $auth htpasswd auth; login in $DOCKER_CONFIG)." >&2
    echo "      Stop them with: make demo-stop" >&2
  else
    "$py" "$here/tools/registries.py" stop >&2 || true
  fi
  echo "" >&2
  echo "== timings" >&2
  printf '%s\n' "${timings[@]}" >&2
  printf '%5d s  total%s\n' $((SECONDS - demo_start)) "$([ $rc -eq 0 ] || echo " (failed, exit $rc)")" >&2
}
trap cleanup EXIT

step "registries: $plain (plain), $auth (htpasswd auth)"
registries start

step "base images from Debian packages -> $BASE_REGISTRY"
"$py" "$here/tools/make_bases.py" --registry "$BASE_REGISTRY"

step "dockyard plan (examples/fleet, $ref)"
cd "$here/fleet"
"$dockyard" plan --ref "$ref" --sha "$sha" --registry "$plain/fleet" --registry "$auth/fleet"

step "dockyard release: build, verify (smoke runs and the api's live /health check, arm64 under qemu), publish to $plain and $auth"
"$dockyard" release --ref "$ref" --sha "$sha" \
  --registry "$plain/fleet" --registry "$auth/fleet"

step "dockyard inspect $auth/fleet/fleet-api:${ref#v} (the auth registry, login from DOCKER_CONFIG; its SBOMs and provenance listed)"
"$dockyard" inspect "$auth/fleet/fleet-api:${ref#v}"

step "dockyard sign, then verify --key: fleet-api on $auth (the index and each platform image, as cosign stores them)"
keys="$DOCKYARD_CACHE/demo/keys"
mkdir -p "$keys"
if [ ! -f "$keys/demo.pem" ]; then  # a P-256 key pair for the demo, made by openssl
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$keys/demo.pem" 2>/dev/null
  openssl pkey -in "$keys/demo.pem" -pubout -out "$keys/demo.pub"
fi
"$dockyard" sign "$auth/fleet/fleet-api:${ref#v}" --key "$keys/demo.pem"
"$dockyard" verify "$auth/fleet/fleet-api:${ref#v}" --key "$keys/demo.pub"
