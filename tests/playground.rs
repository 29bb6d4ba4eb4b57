//! The playground in a real headless Chromium, with the assets built into
//! torrentql and every request beyond 127.0.0.1 blocked.

mod common;

use std::path::Path;

use common::app::{TestApp, admin_token};
use common::node::run_script;
use common::qbittorrent::Qbittorrent;
use common::torrents::random_magnet;
use serde_json::json;

#[tokio::test]
async fn a_person_pastes_the_token_once_and_sees_data() {
    assert!(
        Path::new("/usr/bin/chromium").is_file(),
        "chromium is missing: run ./scripts/setup-clients.sh (apt-get install -y chromium)"
    );

    let qbittorrent = Qbittorrent::shared();
    // The default configuration: the assets built into torrentql.
    let app = TestApp::start(qbittorrent).await;
    let (hash, magnet) = random_magnet("seen-in-the-browser");
    let added = app
        .graphql(
            "mutation($m: String!) { addTorrent(input: { magnet: $m, paused: true }) { hash } }",
            json!({ "m": magnet }),
        )
        .await;
    assert_eq!(
        common::app::data(&added)["addTorrent"]["hash"],
        hash.to_string()
    );

    let screenshot = std::env::temp_dir().join("torrentql-playground.png");
    let query = format!(
        "{{ viewer {{ subject }} torrents(hashes: [\"{hash}\"]) {{ nodes {{ hash name }} }} }}"
    );
    let seen = run_script(
        "playground.mjs",
        &[
            &app.url("/graphql"),
            &admin_token(),
            &query,
            &screenshot.display().to_string(),
        ],
    )
    .await;
    for run in ["first", "afterReload"] {
        let text = seen[run].as_str().unwrap();
        assert!(text.contains(&hash.to_string()), "{run}: {text}");
        assert!(text.contains("seen-in-the-browser"), "{run}: {text}");
        assert!(text.contains(r#""subject": "tester""#), "{run}: {text}");
    }
    assert_eq!(seen["status"], "token saved in this browser");
    assert_eq!(seen["failedRequests"], json!([]), "{seen}");
    assert_eq!(
        seen["outsideRequests"],
        json!([]),
        "the page reached beyond torrentql: {seen}"
    );
}
