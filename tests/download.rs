//! A real download on loopback, watched live: qBittorrent A seeds a
//! generated file, torrentql drives qBittorrent B (download rate capped so
//! it takes seconds), and real `graphql-ws` clients watch the progress and
//! the completion.

mod common;

use std::time::Duration;

use common::app::{TestApp, admin_token, data};
use common::subscriber::{Protocol, Subscriber};
use common::swarm::{
    PAYLOAD_BYTES, introduce, seed, seed_files, seeder_address, seeder_and_leecher,
};
use serde_json::{Value, json};
use torrentql::clients::qbittorrent::TorrentAction;
use wiremock::ResponseTemplate;
use wiremock::matchers::body_json;

#[tokio::test]
async fn a_watched_download_reports_rising_progress_and_one_completion() {
    let (seeder, leecher) = seeder_and_leecher().await;
    let made = seed(&seeder, "payload.bin", PAYLOAD_BYTES).await;

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
        .act(
            &[made.hash],
            &TorrentAction::AddPeers(vec![seeder_address(&seeder)]),
        )
        .await
        .expect("B takes the peer");

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

/// Completed downloads inside a library are reported to Jellyfin once, with
/// Jellyfin's path, even when Jellyfin is down at first; downloads outside
/// every library are not reported.
#[tokio::test]
async fn completed_downloads_are_reported_to_jellyfin_once() {
    let (seeder, leecher) = seeder_and_leecher().await;
    let mib = 1024 * 1024;
    let reported = seed(&seeder, "reported.bin", 4 * mib).await;
    let retried = seed(&seeder, "retried.bin", 4 * mib).await;
    let outside = seed(&seeder, "outside.bin", 4 * mib).await;

    let jellyfin = common::jellyfin::start().await;
    common::jellyfin::serve_four_libraries(&jellyfin).await;
    let updated = |file: &str| {
        common::jellyfin::endpoint("POST", "/Library/Media/Updated")
            .and(body_json(json!({ "Updates": [{ "Path": format!("/media/movies/{file}"), "UpdateType": "Created" }] })))
    };
    updated("reported.bin")
        .respond_with(ResponseTemplate::new(204))
        .mount(&jellyfin)
        .await;
    // Jellyfin is down for the first two attempts at this one.
    updated("retried.bin")
        .respond_with(ResponseTemplate::new(503).set_body_string("Jellyfin Server is loading"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&jellyfin)
        .await;
    updated("retried.bin")
        .respond_with(ResponseTemplate::new(204))
        .mount(&jellyfin)
        .await;

    let toml = format!(
        "[jellyfin]\nurl = \"{}\"\napi_key = \"key\"\n[[path_mappings]]\njellyfin = \"/media\"\nqbittorrent = \"{}\"\n",
        common::jellyfin::url(&jellyfin.uri()),
        leecher.save_path.join("media").display()
    );
    let app = TestApp::start_with(&leecher.url, &leecher, &toml).await;
    let params = json!({ "token": admin_token() });
    let mut completions = Subscriber::start(
        &app.ws_url(),
        Protocol::GraphqlTransportWs,
        params,
        "subscription { torrentCompleted { torrent { hash } } }",
        1,
    );
    let add = "mutation($i: AddTorrentInput!) { addTorrent(input: $i) { hash } }";
    for (torrent, name, library) in [
        (&reported, "reported.bin", Some("Movies")),
        (&retried, "retried.bin", Some("Movies")),
        (&outside, "outside.bin", None),
    ] {
        let mut input =
            json!({ "magnet": format!("magnet:?xt=urn:btih:{}&dn={name}", torrent.hash) });
        if let Some(library) = library {
            input["library"] = json!(library);
        }
        data(&app.graphql(add, json!({ "i": input })).await);
        introduce(&leecher, &seeder, torrent).await;
    }

    let mut completed = Vec::new();
    let mut quiet_rounds = 0;
    while completed.len() < 3 {
        // A peer added while B still sets a magnet up can be dropped:
        // introduce A again whenever nothing completes for a while.
        let next = tokio::time::timeout(
            Duration::from_secs(10),
            completions.next(Duration::from_secs(3600)),
        );
        let Ok(line) = next.await else {
            quiet_rounds += 1;
            assert!(quiet_rounds < 6, "no completion in 60 s");
            for torrent in [&reported, &retried, &outside] {
                introduce(&leecher, &seeder, torrent).await;
            }
            continue;
        };
        if line["kind"] == "next" {
            completed.push(
                line["payload"]["data"]["torrentCompleted"]["torrent"]["hash"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
    }
    completed.sort();
    let mut expected = vec![
        reported.hash.to_string(),
        retried.hash.to_string(),
        outside.hash.to_string(),
    ];
    expected.sort();
    assert_eq!(completed, expected, "each completion once");

    // Retries wait 1 s, then 2 s: four notices in all, then no more.
    let notice_paths = || async {
        jellyfin
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|request| request.url.path() == "/jellyfin/Library/Media/Updated")
            .map(|request| {
                let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
                body["Updates"][0]["Path"].as_str().unwrap().to_owned()
            })
            .collect::<Vec<_>>()
    };
    common::eventually(
        "Jellyfin to take both notices",
        Duration::from_secs(20),
        || async { (notice_paths().await.len() >= 4).then_some(()) },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let paths = notice_paths().await;
    let count = |file: &str| paths.iter().filter(|path| path.ends_with(file)).count();
    assert_eq!(count("reported.bin"), 1, "{paths:?}");
    assert_eq!(
        count("retried.bin"),
        3,
        "two refused attempts, then one accepted: {paths:?}"
    );
    assert_eq!(count("outside.bin"), 0, "{paths:?}");
    assert!(
        paths.iter().all(|path| path.starts_with("/media/movies/")),
        "Jellyfin's paths: {paths:?}"
    );
}

#[tokio::test]
async fn a_magnet_gets_its_files_chosen_when_its_metadata_arrives_and_its_peers_listed_then_banned()
{
    let (seeder, leecher) = seeder_and_leecher().await;
    let mib = 1024 * 1024;
    let made = seed_files(
        &seeder,
        "pair",
        &[("keep.bin", 4 * mib), ("skip.bin", 4 * mib)],
    )
    .await;
    let app = TestApp::start(&leecher).await;
    let hash = made.hash.to_string();
    // A magnet: its files are known only once the metadata comes from A.
    let added = app
        .graphql(
            "mutation($m: String!) { addTorrent(input: { magnet: $m, files: { globs: [\"*/KEEP.bin\"] } }) { hash torrent { fileSelectionPending } } }",
            json!({ "m": format!("magnet:?xt=urn:btih:{hash}&dn=pair") }),
        )
        .await;
    assert_eq!(
        data(&added)["addTorrent"]["torrent"]["fileSelectionPending"],
        true
    );
    let peer = format!("127.0.0.1:{}", seeder.bittorrent_port);
    let answer = app
        .graphql(
            "mutation($h: [String!]!, $p: [String!]!) { addPeers(hashes: $h, peers: $p) { hash } }",
            json!({ "h": [hash], "p": [peer] }),
        )
        .await;
    assert_eq!(data(&answer)["addPeers"][0]["hash"], hash.as_str());
    common::eventually("the files chosen", Duration::from_secs(30), || async {
        let answer = app
            .graphql(
                "query($h: String!) { torrent(hash: $h) { fileSelectionPending } }",
                json!({ "h": hash }),
            )
            .await;
        (data(&answer)["torrent"]["fileSelectionPending"] == false).then_some(())
    })
    .await;
    let names: Vec<(String, i64)> = leecher
        .client()
        .files(made.hash)
        .await
        .expect("B lists the files")
        .into_iter()
        .map(|file| (file.name, file.index))
        .collect();
    let index_of = |name: &str| {
        names
            .iter()
            .find(|(file, _)| file == name)
            .map(|(_, index)| *index)
            .unwrap_or_else(|| panic!("{name} in {names:?}"))
    };
    let (keep, skip) = (index_of("pair/keep.bin"), index_of("pair/skip.bin"));

    let peers = "query($h: String!) { torrent(hash: $h) { connectedPeers { address client progress connection country countryCode } } }";
    let listed = common::eventually(
        "the seeder among the peers, with all its pieces and its client named",
        Duration::from_secs(30),
        || async {
            let answer = app.graphql(peers, json!({ "h": hash })).await;
            let peers = data(&answer)["torrent"]["connectedPeers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            // Listed at once on connecting; its client name and pieces come
            // with the handshake and bitfield, in a later incremental sync.
            peers.into_iter().find(|listed| {
                listed["address"] == peer.as_str()
                    && listed["progress"] == 1.0
                    && !listed["client"].as_str().unwrap_or_default().is_empty()
            })
        },
    )
    .await;
    assert!(listed["connection"].is_string(), "{listed}");
    // The test profiles resolve no countries (GeoIP needs a database from
    // the internet): qBittorrent's empty strings read as null.
    assert_eq!(
        (&listed["country"], &listed["countryCode"]),
        (&Value::Null, &Value::Null),
        "{listed}"
    );

    let client = leecher.client();
    common::eventually(
        "the kept file downloaded",
        Duration::from_secs(60),
        || async {
            let torrent = client.torrent(made.hash).await.expect("B lists it")?;
            (torrent.progress >= 1.0).then_some(())
        },
    )
    .await;
    let shown = client.files(made.hash).await.expect("B lists the files");
    let progress = |index: i64| {
        shown
            .iter()
            .find(|file| file.index == index)
            .map(|file| (file.progress, file.priority))
    };
    assert_eq!(progress(keep), Some((1.0, 1)));
    assert_eq!(
        progress(skip),
        Some((0.0, 0)),
        "qBittorrent shows the skipped file untouched"
    );
    let skipped = leecher.save_path.join("pair/skip.bin");
    assert!(
        std::fs::metadata(&skipped).map_or(true, |file| file.len() < (4 * mib) as u64),
        "{} was downloaded",
        skipped.display()
    );

    let answer = app
        .graphql(
            "mutation($p: [String!]!) { banPeers(peers: $p) }",
            json!({ "p": [peer] }),
        )
        .await;
    assert_eq!(data(&answer)["banPeers"], json!([peer]));
    common::eventually("the banned peer gone", Duration::from_secs(15), || async {
        let answer = app.graphql(peers, json!({ "h": hash })).await;
        let peers = data(&answer)["torrent"]["connectedPeers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        (!peers
            .iter()
            .any(|listed| listed["address"] == peer.as_str()))
        .then_some(())
    })
    .await;
    let bad = app
        .graphql(
            "mutation { banPeers(peers: [\"not-an-address\"]) }",
            json!({}),
        )
        .await;
    assert_eq!(
        common::app::error_code(&bad),
        Some("BAD_USER_INPUT"),
        "{bad}"
    );
}
