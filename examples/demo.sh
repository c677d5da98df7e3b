#!/usr/bin/env bash
# `make demo`: show what dockyard would build for the bundled example.
# (Later issues grow this into the full release to local registries.)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dockyard="$here/../.venv/bin/dockyard"
cd "$here/fleet"
echo "== dockyard plan (examples/fleet)" >&2
"$dockyard" plan --ref "${DEMO_REF:-refs/tags/v1.0.0}" --sha "${DEMO_SHA:-0123456789abcdef0123456789abcdef01234567}"
