#!/usr/bin/env bash
# Installs the two real qBittorrent versions the test suite runs against:
#   - Debian bookworm's qbittorrent-nox 4.5.2 (WebAPI 2.8.x) on the host, and
#   - Debian trixie's qbittorrent-nox 5.1.x (WebAPI 2.11.x) in a cached chroot.
# Prints nothing but progress on stderr; prints the path of the 5.1 launcher on
# stdout. Safe to run again: every step is skipped when already done.
set -euo pipefail

CHROOT_DIR="${TORRENTQL_TRIXIE_DIR:-/var/cache/torrentql/trixie}"
LAUNCHER="$CHROOT_DIR.qbittorrent-nox"

log() { echo "setup-qbittorrent: $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=false
apt_install() {
  if [ "$apt_updated" = false ]; then
    log "apt-get update"
    as_root apt-get update -qq >&2
    apt_updated=true
  fi
  log "apt-get install -y $*"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >&2
}

command -v qbittorrent-nox >/dev/null || apt_install qbittorrent-nox
command -v debootstrap >/dev/null || apt_install debootstrap

# The Debian mirror this machine already uses (deb822 or one-line sources).
mirror() {
  local uri
  uri=$(grep -hE '^URIs:.*debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 | awk '{print $2}' || true)
  if [ -z "$uri" ]; then
    uri=$(grep -hE '^deb .*debian/? ' /etc/apt/sources.list 2>/dev/null | grep -v security | head -n1 | awk '{print $2}' || true)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

if [ ! -x "$CHROOT_DIR/usr/bin/qbittorrent-nox" ]; then
  partial="$CHROOT_DIR.partial"
  as_root rm -rf "$partial"
  as_root mkdir -p "$(dirname "$CHROOT_DIR")"
  log "debootstrap trixie into $partial from $(mirror) (about a minute)"
  if ! as_root debootstrap --variant=minbase trixie "$partial" "$(mirror)" >"$partial.log" 2>&1; then
    tail -n 30 "$partial.log" >&2
    exit 1
  fi
  as_root mount -t proc proc "$partial/proc"
  trap 'as_root umount "$partial/proc" 2>/dev/null || true' EXIT
  log "installing qbittorrent-nox in the chroot"
  as_root chroot "$partial" apt-get install -y -qq --no-install-recommends qbittorrent-nox >&2
  as_root chroot "$partial" apt-get clean
  as_root umount "$partial/proc"
  trap - EXIT
  as_root mv "$partial" "$CHROOT_DIR"
  as_root rm -f "$partial.log"
fi

# The chroot sees the host's /tmp, so a profile directory made by the tests has
# the same path inside and outside, and /proc, which Qt needs.
mountpoint -q "$CHROOT_DIR/proc" || as_root mount -t proc proc "$CHROOT_DIR/proc"
mountpoint -q "$CHROOT_DIR/tmp" || as_root mount --bind /tmp "$CHROOT_DIR/tmp"

as_root tee "$LAUNCHER" >/dev/null <<LAUNCH
#!/bin/sh
# Runs Debian trixie's qbittorrent-nox from the chroot made by setup-qbittorrent.sh.
exec chroot "$CHROOT_DIR" qbittorrent-nox "\$@"
LAUNCH
as_root chmod +x "$LAUNCHER"

log "qbittorrent-nox $(qbittorrent-nox --version 2>/dev/null | awk '{print $2}') on the host, $("$LAUNCHER" --version 2>/dev/null | awk '{print $2}') in $CHROOT_DIR"
echo "$LAUNCHER"
