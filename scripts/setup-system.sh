#!/usr/bin/env bash
# Install the real components dockyard drives and tests against, on Debian 12 as root,
# then check that each one works. Idempotent and quiet when everything is already there,
# so `make test` can always call it.
#
#   bash scripts/setup-system.sh               install what is missing, enable binfmt, self-check
#   bash scripts/setup-system.sh --check-only  only the self-check (installs nothing)
#
# The self-check runs every row of CHECKS below, prints one line per failing row naming the
# package that fixes it, and exits 1 after listing all of them. Programs are found on PATH
# and binfmt entries under $DOCKYARD_BINFMT_ROOT (default /proc/sys/fs/binfmt_misc), so a
# test can point a check at a missing or broken tool without uninstalling anything.
set -euo pipefail

# Each is named because a path runs something from it (installs use --no-install-recommends,
# so a Recommends is never relied on: arch-test is only recommended by mmdebstrap, yet
# `mmdebstrap --arch=arm64` refuses to run without it):
#   python3 python3-venv python3-pip  the .venv (make venv)
#   git make                          gitinfo (tags from the checkout), the Makefile
#   curl ca-certificates              pip's and a user's HTTPS
#   time                              GNU time: a command's peak RSS (tests/helpers/measure.py, bench/)
#   mount                             umount of buildah's leftover mounts (tests, bench/)
#   binutils                          readelf, the independent ELF reader in test_archscan_busybox
#   buildah                           the default builder and the smoke runs
#   skopeo                            the independent reader in tests, the peer in bench/
#   qemu-user-static binfmt-support   foreign-arch RUN steps and smoke runs; update-binfmts
#   docker-registry                   the registry of the tests and the demo
#   mmdebstrap arch-test              the demo's Debian bases (examples/tools/make_bases.py)
#   apache2-utils                     htpasswd for the demo's auth registry
#   openssl                           the independent signature check and the keys in tests
#   podman                            the podman builder, `load --engine podman`, the health runs
#   runc                              the runtime podman's RUN steps and containers use (crun, its
#                                     default, fails every RUN on this host's hybrid cgroups)
#   docker.io                         the docker builder (dockerd's BuildKit), `load --engine docker`
#                                     and the tests' own dockerd (pulls in containerd and tini)
#   xz-utils                          dockerd runs `xz` to unpack xz-compressed layers and archives
#                                     (only a Recommends of docker.io)
#   uidmap                            newuidmap/newgidmap: rootless buildah and podman map the
#                                     user's /etc/subuid and /etc/subgid ranges
#   slirp4netns                       rootless podman's network for `podman run` (a Recommends)
#   iproute2                          `ip`: the tests' dockerd gets a bridge of its own
PKGS=(python3 python3-venv python3-pip git make curl ca-certificates time mount binutils
      buildah skopeo qemu-user-static binfmt-support docker-registry mmdebstrap arch-test
      apache2-utils openssl podman runc docker.io xz-utils uidmap slirp4netns iproute2)
# Debian architectures whose packages the bases and tests use; each runs under qemu.
FOREIGN_ARCHES=(arm64 armhf)
BINFMT_ENTRIES=(qemu-aarch64 qemu-arm)
BINFMT_ROOT="${DOCKYARD_BINFMT_ROOT:-/proc/sys/fs/binfmt_misc}"

# The self-check, one row a tool: name | package of the program | command (exit 0 = works)
# | package that fixes it when the program is there but the command fails (default: the
# same). The command's first word is the program looked up on PATH.
CHECKS=(
  "python3 venv|python3|python3 -c 'import ensurepip, venv'|python3-venv"
  "git|git|git --version"
  "make|make|make --version"
  "GNU time|time|env time -f '' true"
  "umount|mount|umount --version"
  "readelf|binutils|readelf --version"
  "dpkg-deb|dpkg|dpkg-deb --version"
  "apt-get|apt|apt-get --version"
  "buildah|buildah|buildah version"
  "skopeo|skopeo|skopeo --version"
  "docker-registry|docker-registry|docker-registry --version"
  "htpasswd|apache2-utils|htpasswd -nbB dockyard check"
  "openssl|openssl|openssl version"
  "mmdebstrap|mmdebstrap|mmdebstrap --version"
  "update-binfmts|binfmt-support|update-binfmts --version"
  "binfmt qemu-aarch64|qemu-user-static|binfmt_ok qemu-aarch64"
  "binfmt qemu-arm|qemu-user-static|binfmt_ok qemu-arm"
  "arch-test arm64|arch-test|arch-test arm64|qemu-user-static"
  "arch-test armhf|arch-test|arch-test armhf|qemu-user-static"
  "podman|podman|podman version"
  "podman info|podman|podman --runtime runc info|runc"
  "runc|runc|runc --version"
  "docker CLI|docker.io|/usr/bin/docker --version"
  "dockerd|docker.io|dockerd --version"
  "xz|xz-utils|xz --version"
  "newuidmap|uidmap|test -u /usr/bin/newuidmap"
  "slirp4netns|slirp4netns|slirp4netns --version"
  "ip|iproute2|ip -V"
)

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

install_packages() {
  # Foreign architectures: base images are made from Debian's arm64/armhf packages.
  for arch in "${FOREIGN_ARCHES[@]}"; do
    dpkg --print-foreign-architectures | grep -x "$arch" >/dev/null || { as_root dpkg --add-architecture "$arch"; NEED_UPDATE=1; }
  done
  local missing=() p
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "install ok installed" >/dev/null || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ] || [ -n "${NEED_UPDATE:-}" ]; then
    echo "setup: installing ${missing[*]:-(package lists)}" >&2
    apt_update
    # The lock timeout: another `make test` in the same machine may be installing too.
    [ "${#missing[@]}" -eq 0 ] || DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q \
      -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}"
  fi
}

# Emulation: binfmt_misc mounted and each qemu interpreter enabled (without systemd nothing
# enables them at boot). Failures here are left to the self-check, which names the fix.
enable_binfmt() {
  if [ ! -e "$BINFMT_ROOT/status" ]; then
    as_root mount -t binfmt_misc binfmt_misc "$BINFMT_ROOT" || true
  fi
  local entry
  for entry in "${BINFMT_ENTRIES[@]}"; do
    [ "$(first_line "$BINFMT_ROOT/$entry")" = enabled ] \
      || as_root update-binfmts --enable "$entry" >/dev/null 2>&1 || true
  done
}

first_line() { local line=""; [ -r "$1" ] && read -r line <"$1"; echo "$line"; }

# An entry buildah's chrooted RUN steps can use: enabled, with the F (fix-binary) flag
# (see src/dockyard/emulation.py).
binfmt_ok() {
  local file="$BINFMT_ROOT/$1"
  if [ "$(first_line "$BINFMT_ROOT/status")" != enabled ]; then
    echo "binfmt_misc is not mounted or not enabled at $BINFMT_ROOT"; return 1
  fi
  if [ ! -r "$file" ]; then echo "no $file"; return 1; fi
  if [ "$(first_line "$file")" != enabled ]; then echo "$file is disabled"; return 1; fi
  if ! grep '^flags: .*F' "$file" >/dev/null; then echo "$file lacks the F flag"; return 1; fi
}

self_check() {
  local row name pkg cmd fix program out failed=()
  for row in "${CHECKS[@]}"; do
    IFS='|' read -r name pkg cmd fix <<<"$row"
    program="${cmd%% *}"
    if [ "$program" != binfmt_ok ] && ! command -v "$program" >/dev/null 2>&1; then
      echo "setup: check failed: $name: $program not found on PATH; fix: apt-get install $pkg" >&2
      failed+=("$name")
    elif ! out="$(eval "$cmd" 2>&1 </dev/null)"; then
      out="$(printf '%s\n' "$out" | grep -v '^[[:space:]]*$' | tail -n1)"
      echo "setup: check failed: $name: '$cmd' failed${out:+ ($out)}; fix: apt-get install ${fix:-$pkg}" >&2
      failed+=("$name")
    fi
  done
  if [ "${#failed[@]}" -gt 0 ]; then
    local names
    names="$(printf '%s, ' "${failed[@]}")"
    echo "setup: ${#failed[@]} of ${#CHECKS[@]} checks failed (${names%, }); install the packages" \
         "named above, then run bash scripts/setup-system.sh again (it enables binfmt)" >&2
    return 1
  fi
}

case "${1:-}" in
  --check-only) ;;
  "") install_packages; enable_binfmt ;;
  *) echo "usage: $0 [--check-only]" >&2; exit 2 ;;
esac
self_check
