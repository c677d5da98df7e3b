#!/usr/bin/env bash
# Install the real components dockyard drives and tests against, on Debian 12 as root.
# Idempotent and quiet when everything is already there, so `make test` can always call it.
set -euo pipefail

PKGS=(python3 python3-venv python3-pip git make curl ca-certificates time mount
      buildah skopeo qemu-user-static binfmt-support docker-registry mmdebstrap arch-test
      apache2-utils)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Mirrors are sometimes mid-sync (a foreign-arch index with the wrong size): retry,
# then go on with what we have; an install that really needs the index fails loudly.
apt_update() {
  for attempt in 1 2 3; do
    as_root apt-get update -q && return 0
    echo "setup: apt-get update failed (attempt $attempt), retrying" >&2
    sleep $((attempt * 5))
  done
  echo "setup: warning: apt-get update kept failing; using the package lists we have" >&2
}

# Foreign architectures: base images are made from Debian's arm64/armhf packages.
for arch in arm64 armhf; do
  dpkg --print-foreign-architectures | grep -qx "$arch" || { as_root dpkg --add-architecture "$arch"; NEED_UPDATE=1; }
done

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ] || [ -n "${NEED_UPDATE:-}" ]; then
  echo "setup: installing ${missing[*]:-(package lists)}" >&2
  apt_update
  [ "${#missing[@]}" -eq 0 ] || DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}"
fi

# Emulation: binfmt_misc mounted and qemu interpreters enabled (arm64 RUN steps, smoke runs).
if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
  as_root mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || true
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  as_root update-binfmts --enable || true
fi
