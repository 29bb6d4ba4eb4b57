#!/usr/bin/env bash
# The whole check, as CI runs it: installs what the tests need, then runs
# rustfmt, clippy and the test suite against both real qBittorrent versions
# (Debian bookworm's 4.5.2 and trixie's 5.1.0).
#
#   ./scripts/test.sh            everything
#   ./scripts/test.sh 4.5        only the 4.5.2 pass (5.1 likewise)
set -euo pipefail
cd "$(dirname "$0")/.."

versions=("${@:-4.5 5.1}")
# shellcheck disable=SC2206
versions=(${versions[*]})

./scripts/setup-qbittorrent.sh >/dev/null
./scripts/setup-clients.sh

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings

first=true
for version in "${versions[@]}"; do
  echo "== tests against qbittorrent-nox $version"
  if [ "$first" = true ]; then
    # Not --all-targets: that would run the benchmark (harness = false).
    TORRENTQL_TEST_QBITTORRENT="$version" cargo test
    first=false
  else
    # Unit tests do not depend on the qBittorrent version: run them once.
    TORRENTQL_TEST_QBITTORRENT="$version" cargo test --test '*'
  fi
done
