#!/usr/bin/env bash
# Installs the system packages mmkd's GPU-path tests need on Debian bookworm, as root:
#   - Mesa >= 25's lavapipe (software Vulkan) from bookworm-backports, so Dawn (the `webgpu` npm
#     package) finds an adapter on a CPU-only machine. Bookworm's own Mesa 22 is refused by Dawn
#     ("Vulkan shaderUniform*ArrayDynamicIndexing required").
#   - Debian's chromium, driven headless by playwright-core for the browser test (WebGPU through
#     SwiftShader). No browser is ever downloaded.
#
# Idempotent: when everything is already in place it exits after a few dpkg queries (~0.05 s),
# without touching apt's lists; from scratch it takes ~30 s (apt-get update and downloads).
#
# From .ci/run:   eval "$(bash .ci/install-system-deps.sh)"
# Progress goes to stderr; stdout carries only an `export XDG_RUNTIME_DIR=...` line. Mesa 22
# printed an error without a writable runtime folder; Mesa 25 has been quiet without one, but the
# line is cheap insurance. The folder is $MMKD_XDG_RUNTIME_DIR (default /tmp/mmkd-xdg-runtime), or
# the caller's own XDG_RUNTIME_DIR when that is already set and writable.
set -euo pipefail

readonly MESA_MIN_MAJOR=25
readonly SOURCES=/etc/apt/sources.list.d/debian.sources
readonly XDG_DIR="${MMKD_XDG_RUNTIME_DIR:-/tmp/mmkd-xdg-runtime}"
export DEBIAN_FRONTEND=noninteractive

log() { printf '[install-system-deps] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

installed_version() { dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "$1" 2>/dev/null | awk '$1 == "ii" { print $2 }'; }

mesa_ok() {
  local v
  v="$(installed_version mesa-vulkan-drivers)"
  [[ -n "$v" ]] && dpkg --compare-versions "$v" ge "${MESA_MIN_MAJOR}~"
}
chromium_ok() { [[ -n "$(installed_version chromium)" ]] && command -v chromium >/dev/null; }

ensure_xdg_runtime_dir() {
  if [[ -n "${XDG_RUNTIME_DIR:-}" && -d "$XDG_RUNTIME_DIR" && -w "$XDG_RUNTIME_DIR" ]]; then
    echo "export XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR"
    return
  fi
  mkdir -p "$XDG_DIR"
  chmod 700 "$XDG_DIR"
  echo "export XDG_RUNTIME_DIR=$XDG_DIR"
}

started=$SECONDS

if mesa_ok && chromium_ok; then
  log "already installed: mesa-vulkan-drivers $(installed_version mesa-vulkan-drivers), chromium $(installed_version chromium)"
  ensure_xdg_runtime_dir
  exit 0
fi

[[ "$(id -u)" -eq 0 ]] || die "run as root (it installs Debian packages with apt-get)"
. /etc/os-release
[[ "${VERSION_CODENAME:-}" == bookworm ]] || die "written for Debian bookworm, found '${PRETTY_NAME:-unknown}'"

# Enable bookworm-backports on the main archive's Suites line only (not the security one).
if [[ -f "$SOURCES" ]]; then
  if ! grep -Eq '^Suites:.*[[:space:]]bookworm-backports([[:space:]]|$)' "$SOURCES"; then
    log "adding bookworm-backports to $SOURCES"
    sed -E -i '/^Suites:[[:space:]]+bookworm([[:space:]]|$)/ s/[[:space:]]*$/ bookworm-backports/' "$SOURCES"
    grep -Eq '^Suites:.*[[:space:]]bookworm-backports([[:space:]]|$)' "$SOURCES" \
      || die "no 'Suites: bookworm ...' line in $SOURCES to extend"
  fi
elif ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  # Older one-line format machines have no deb822 file; add backports the classic way.
  log "adding /etc/apt/sources.list.d/bookworm-backports.list"
  echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/bookworm-backports.list
fi

log "apt-get update"
apt-get update -qq

if ! mesa_ok; then
  log "installing mesa-vulkan-drivers (>= ${MESA_MIN_MAJOR}) from bookworm-backports"
  apt-get install -y -qq --no-install-recommends -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
  mesa_ok || die "mesa-vulkan-drivers is $(installed_version mesa-vulkan-drivers), still older than ${MESA_MIN_MAJOR}"
fi

if ! chromium_ok; then
  log "installing chromium"
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
  chromium_ok || die "chromium did not install"
fi

log "done in $((SECONDS - started)) s: mesa-vulkan-drivers $(installed_version mesa-vulkan-drivers), chromium $(installed_version chromium)"
ensure_xdg_runtime_dir
