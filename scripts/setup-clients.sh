#!/usr/bin/env bash
# Installs what the client-side tests need: Node.js and npm, Debian's
# chromium (playwright-core drives it; no browser download), and the npm
# packages pinned in tests/clients/package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "setup-clients: $*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt-get install -y ${missing[*]}"
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >&2
fi

# The client libraries (Apollo Client 4, graphql-ws 6, GraphQL Code
# Generator) need Node.js 20 or later; bookworm's own nodejs is 18.
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  log "Node.js $(node --version) is too old: install Node.js 20 or later (Debian trixie's nodejs, or NodeSource's)"
  exit 1
fi

lock=tests/clients/package-lock.json
stamp=tests/clients/node_modules/.installed-from-lock
if [ ! -f "$stamp" ] || ! cmp -s "$lock" "$stamp"; then
  log "npm ci in tests/clients"
  npm ci --prefix tests/clients --no-audit --no-fund --loglevel=error >&2
  cp "$lock" "$stamp"
fi
