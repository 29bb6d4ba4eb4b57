#!/usr/bin/env bash
# Refreshes ui/app/vendor from the npm registry: Preact and its hooks, htm
# (templates without a build step) and graphql-ws's client, at the versions
# below. Each file is the package's own ES module, unchanged except that
# the hooks import Preact by its vendored path instead of the bare
# specifier "preact" (a browser without an import map cannot resolve it).
#
#   ./scripts/vendor-ui.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PREACT=11.2.0
HTM=3.1.1
GRAPHQL_WS=6.0.6

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "preact@$PREACT" "htm@$HTM" "graphql-ws@$GRAPHQL_WS" >/dev/null)
for package in preact htm graphql-ws; do
  mkdir -p "$work/$package"
  tar xzf "$work/$package"-*.tgz -C "$work/$package" --strip-components=1
done

out=ui/app/vendor
rm -rf "$out"
mkdir -p "$out/graphql-ws"
cp "$work/preact/dist/preact.mjs" "$out/preact.mjs"
sed 's|from"preact"|from"./preact.mjs"|g' "$work/preact/hooks/dist/hooks.mjs" >"$out/preact-hooks.mjs"
cp "$work/htm/dist/htm.mjs" "$out/htm.mjs"
# The client and the one chunk it imports (its name carries a hash).
cp "$work/graphql-ws/dist/client.js" "$out/graphql-ws/client.js"
chunk=$(grep -o "'\./common-[A-Za-z0-9_-]*\.js'" "$work/graphql-ws/dist/client.js" | sort -u | tr -d "'")
cp "$work/graphql-ws/dist/$chunk" "$out/graphql-ws/$chunk"
cp "$work/preact/LICENSE" "$out/LICENSE-preact"
cp "$work/htm/LICENSE" "$out/LICENSE-htm"
cp "$work/graphql-ws/LICENSE.md" "$out/LICENSE-graphql-ws"

# Every import must be relative: the page has no import map.
if grep -Eh "(^|[;}])\s*(import|export)[^\"'\`]*from ?[\"'][^./]" "$out"/*.mjs "$out"/graphql-ws/*.js; then
  echo "vendor-ui: a bare import is left in $out" >&2
  exit 1
fi
cat >"$out/VERSIONS" <<VERSIONS
preact $PREACT
htm $HTM
graphql-ws $GRAPHQL_WS
VERSIONS
echo "vendor-ui: $out has preact $PREACT, htm $HTM, graphql-ws $GRAPHQL_WS" >&2
