//! A real download on loopback, watched live: qBittorrent A seeds a
//! generated file, torrentql drives qBittorrent B (download rate capped so
//! it takes seconds), and real `graphql-ws` clients watch the progress and
//! the completion.

mod common;

use std::time::Duration;

use common::app::{TestApp, admin_token, data};
use common::qbittorrent::{Options, Qbittorrent};
use common::subscriber::{Protocol, Subscriber};
use common::torrents::make_torrent;
use serde_json::json;
use torrentql::clients::qbittorrent::{AddSource, AddTorrent};
use torrentql::torrent::TorrentFile;

const PAYLOAD_BYTES: usize = 20 * 1024 * 1024;
/// 20 MiB at 4 MiB/s: about five seconds of progress events.
const DOWNLOAD_LIMIT_KIB: u32 = 4096;

#[tokio::test]
async fn a_watched_download_reports_rising_progress_and_one_completion() {
    let seeder = Qbittorrent::start(Options::default()).await;
    let leecher = Qbittorrent::start(Options {
        download_limit_kib: Some(DOWNLOAD_LIMIT_KIB),
    })
    .await;

    // A seeds a generated file.
    let seed_dir = seeder.save_path.join("seed");
    let made = make_torrent(&seed_dir, "payload.bin", &[("payload.bin", PAYLOAD_BYTES)]);
    let seeder_client = seeder.client();
    seeder_client
        .add(&AddTorrent {
            source: AddSource::File(TorrentFile::parse(made.bytes.clone()).unwrap()),
            save_path: Some(seed_dir.to_string_lossy().into_owned()),
            category: None,
            paused: false,
            rename: None,
        })
        .await
        .unwrap();
    common::eventually("A to seed", Duration::from_secs(30), || async {
        let torrent = seeder_client.torrent(made.hash).await.unwrap()?;
        (torrent.progress >= 1.0 && torrent.state().is_seeding()).then_some(())
    })
    .await;

    // torrentql on B, watched by two real graphql-ws subscribers.
    let app = TestApp::start(&leecher).await;
    let hash = made.hash.to_string();
    let params = json!({ "Authorization": format!("Bearer {}", admin_token()) });
    let mut progress = Subscriber::start(
        &app.ws_url(),
        Protocol::GraphqlTransportWs,
        params.clone(),
        &format!(
            "subscription {{ torrentProgress(hashes: [\"{hash}\"]) {{ snapshot torrents {{ hash progress state }} }} }}"
        ),
        1,
    );
    let mut completions = Subscriber::start(
        &app.ws_url(),
        Protocol::GraphqlTransportWs,
        params,
        "subscription { torrentCompleted { torrent { hash progress completedAt } } }",
        1,
    );
    let first = progress.next_progress(Duration::from_secs(10)).await;
    assert_eq!(first["snapshot"], true);
    assert_eq!(first["torrents"], json!([]), "nothing added yet");

    let added = app
        .graphql(
            "mutation($m: String!) { addTorrent(input: { magnet: $m }) { hash } }",
            json!({ "m": format!("magnet:?xt=urn:btih:{hash}&dn=payload.bin") }),
        )
        .await;
    assert_eq!(data(&added)["addTorrent"]["hash"], hash);
    // With DHT and trackers off, B learns of A only this way (once: a
    // second call can delay the metadata on 5.1).
    leecher
        .client()
        .add_peers(
            &[made.hash],
            &[format!("127.0.0.1:{}", seeder.bittorrent_port)
                .parse()
                .unwrap()],
        )
        .await
        .unwrap();

    let mut progress_seen = Vec::new();
    let final_state = loop {
        let event = progress.next_progress(Duration::from_secs(60)).await;
        let Some(torrent) = event["torrents"]
            .as_array()
            .and_then(|torrents| torrents.first())
        else {
            continue;
        };
        let value = torrent["progress"].as_f64().unwrap();
        progress_seen.push(value);
        if value >= 1.0 && torrent["state"].as_str().unwrap().contains("SEEDING") {
            break torrent["state"].clone();
        }
    };
    assert!(
        progress_seen.windows(2).all(|pair| pair[0] <= pair[1]),
        "progress went back: {progress_seen:?}"
    );
    let partial = progress_seen
        .iter()
        .filter(|value| (0.0..1.0).contains(*value) && **value > 0.0)
        .count();
    assert!(
        partial >= 2,
        "expected several progress steps, saw {progress_seen:?}"
    );
    assert!(
        final_state.as_str().unwrap().ends_with("SEEDING"),
        "{final_state}"
    );

    let completed = completions.next(Duration::from_secs(10)).await;
    let completed = if completed["kind"] == "all-subscribed" {
        completions.next(Duration::from_secs(10)).await
    } else {
        completed
    };
    assert_eq!(
        completed["payload"]["data"]["torrentCompleted"]["torrent"]["hash"], hash,
        "{completed}"
    );
    assert!(
        completions.is_quiet_for(Duration::from_secs(3)).await,
        "completion reported twice"
    );

    let downloaded = std::fs::read(leecher.save_path.join("payload.bin")).unwrap();
    let seeded = std::fs::read(&made.content).unwrap();
    assert!(downloaded == seeded, "B's payload differs from A's");
}
