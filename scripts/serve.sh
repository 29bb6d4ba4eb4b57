#!/usr/bin/env bash
# Runs the server. With no configuration it starts and supervises its own
# qbittorrent-nox (installed here when missing) and listens on
# 127.0.0.1:8080. Extra arguments go to `torrentql serve`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${TORRENTQL_QBITTORRENT__URL:-}" ] && ! command -v qbittorrent-nox >/dev/null; then
  echo "serve.sh: installing qbittorrent-nox" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq qbittorrent-nox
fi
exec cargo run --release --quiet -- serve "$@"
