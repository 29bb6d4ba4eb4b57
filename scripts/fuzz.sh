#!/usr/bin/env bash
# Fuzzes torrentql's pure parsers with cargo-fuzz (libFuzzer, nightly Rust):
# magnet links, info hashes, .torrent files, apibay JSON, Torznab XML and
# Jellyfin JSON, one target each in fuzz/fuzz_targets, with the invariants
# in fuzz/src/lib.rs. Every target runs for a bounded time, starting from
# and adding to its saved corpus in fuzz/corpus/<target>. A crash leaves
# its input in fuzz/artifacts/<target>/ and makes the script fail; turn it
# into a named regression test next to the parser.
#
#   ./scripts/fuzz.sh                 every target, 30 s each
#   ./scripts/fuzz.sh 120             every target, 120 s each
#   FUZZ_SECONDS=10 ./scripts/fuzz.sh
#   ./scripts/fuzz.sh 60 magnet apibay   only those targets
#   FUZZ_CMIN=1 ./scripts/fuzz.sh     also minimise each corpus afterwards
#                                     (do this before committing it)
#
# Installs cargo-fuzz if it is missing; needs the nightly toolchain
# (`rustup toolchain install nightly`). `cargo test --test parsers` replays
# the saved corpus on stable without any of this.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${FUZZ_SECONDS:-30}"
if [ $# -gt 0 ]; then
  seconds="$1"
  shift
fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "usage: $0 [seconds per target] [target...]" >&2
  exit 2
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

failed=()
for target in "${targets[@]}"; do
  echo "== $target: ${seconds}s"
  mkdir -p "corpus/$target"
  # Overflow checks on: a parser's arithmetic on lengths is worth checking.
  # -timeout: one input taking this long is a finding, not a slow machine.
  if ! cargo +nightly fuzz run --debug-assertions "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -print_final_stats=1; then
    failed+=("$target")
    continue
  fi
  if [ "${FUZZ_CMIN:-0}" = 1 ]; then
    # Edges only, not hit counts: a tenth of the files for the same code
    # reached, which keeps the committed corpus small.
    cargo +nightly fuzz cmin --debug-assertions "$target" "corpus/$target" -- -use_counters=0
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "crashed: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
