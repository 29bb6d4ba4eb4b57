#!/usr/bin/env bash
# The benchmark of BENCHMARKS.md: torrentql against qBittorrent itself, with
# real qbittorrent-nox 4.5.2 and 5.1 at 1,000 and 10,000 torrents. Installs
# what it needs like the test command. Takes about 18 minutes with the build.
#
#   ./scripts/bench.sh                                   everything
#   TORRENTQL_BENCH_VERSIONS=5.1 TORRENTQL_BENCH_SIZES=1000 ./scripts/bench.sh
#   TORRENTQL_BENCH_ONLY=ui TORRENTQL_BENCH_SIZES=10000 ./scripts/bench.sh   the web UI only
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-qbittorrent.sh >/dev/null
# The web UI's step drives Chromium through tests/clients/ui.mjs.
./scripts/setup-clients.sh
cargo bench --bench load
