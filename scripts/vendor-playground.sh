#!/usr/bin/env bash
# Refreshes assets/playground/ (embedded in the binary: the playground works
# offline) from the npm registry: GraphiQL's UMD build, React and ReactDOM,
# each with its licence. Bump the versions here and in
# src/http/playground.rs together, then run this and commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(graphiql@3.8.3 react@18.3.1 react-dom@18.3.1)
files=(
  "graphiql graphiql.min.js"
  "graphiql graphiql.min.css"
  "react umd/react.production.min.js"
  "react-dom umd/react-dom.production.min.js"
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "${packages[@]}" >/dev/null)
out=assets/playground
mkdir -p "$out"
for package in "${packages[@]}"; do
  name=${package%@*}
  mkdir -p "$work/$name"
  tar -xzf "$work/$name-${package##*@}.tgz" -C "$work/$name" --strip-components=1
  cp "$work/$name/LICENSE" "$out/LICENSE-$name"
done
for entry in "${files[@]}"; do
  read -r name file <<<"$entry"
  cp "$work/$name/$file" "$out/$(basename "$file")"
done
echo "vendor-playground: ${packages[*]} -> $out"
