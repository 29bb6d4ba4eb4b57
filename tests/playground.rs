//! The playground in a real headless Chromium, with the assets built into
//! torrentql and every request beyond 127.0.0.1 blocked.

mod common;

use std::path::{Path, PathBuf};

use common::app::{TestApp, admin_token};
use common::qbittorrent::Qbittorrent;
use common::torrents::random_magnet;
use serde_json::{Value, json};

const INSTALL_HINT: &str = "run ./scripts/test.sh, or: apt-get install -y chromium nodejs npm && npm ci --prefix tests/clients";

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

#[tokio::test]
async fn a_person_pastes_the_token_once_and_sees_data() {
    let node_modules = clients_dir().join("node_modules");
    assert!(
        node_modules.join("playwright-core").is_dir(),
        "the npm packages for browser tests are missing: {INSTALL_HINT}"
    );
    assert!(
        Path::new("/usr/bin/chromium").is_file(),
        "chromium is missing: {INSTALL_HINT}"
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
    let output = tokio::process::Command::new("node")
        .arg(clients_dir().join("playground.mjs"))
        .arg(app.url("/graphql"))
        .arg(admin_token())
        .arg(format!(
            "{{ viewer {{ subject }} torrents(hashes: [\"{hash}\"]) {{ hash name }} }}"
        ))
        .arg(&screenshot)
        .output()
        .await
        .unwrap_or_else(|error| panic!("cannot run node ({error}): {INSTALL_HINT}"));
    assert!(
        output.status.success(),
        "the browser script failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_slice(&output.stdout).expect("the script prints JSON");
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
