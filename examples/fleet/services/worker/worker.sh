#!/bin/sh
# worker: does a unit of work every INTERVAL seconds. --check is the health probe.
set -eu
if [ "${1:-}" = "--check" ]; then
  echo "worker ok on $(uname -m)"
  exit 0
fi
INTERVAL="${INTERVAL:-10}"
while true; do
  echo "worker: tick $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  sleep "$INTERVAL"
done
