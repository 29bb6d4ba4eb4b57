#!/usr/bin/env bash
# Regenerates ui/screenshots: the browser test that renders the main
# screens (list, torrent, add, search) at desktop and phone width, writing
# into the committed folder instead of target/.
#
#   ./scripts/ui-screenshots.sh          against qBittorrent 5.1
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-qbittorrent.sh >/dev/null
./scripts/setup-clients.sh
mkdir -p ui/screenshots
TORRENTQL_UI_SCREENSHOTS="$PWD/ui/screenshots" TORRENTQL_TEST_QBITTORRENT="${TORRENTQL_TEST_QBITTORRENT:-5.1}" \
  cargo test --test web_ui -- the_main_screens_render_at_desktop_and_phone_width
ls -l ui/screenshots
