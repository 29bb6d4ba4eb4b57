//! The qBittorrent client against a real qbittorrent-nox: sessions, the
//! version split, and incremental sync.

mod common;

use std::time::Duration;

use common::qbittorrent::{Options, Qbittorrent, USERNAME, Version};
use common::torrents::{paused_magnets, random_magnet};
use secrecy::SecretString;
use torrentql::clients::qbittorrent::{
    AddTorrent, Credentials, QbittorrentClient, QbittorrentError, TorrentAction, TorrentFilter,
};
use torrentql::torrent::InfoHash;
use torrentql::torrent::Magnet;

fn paused_magnet_add(magnet: &str) -> AddTorrent {
    paused_magnets(vec![Magnet::parse(magnet).expect("a valid magnet")])
}

/// Adds a paused magnet of a random hash and waits until it is listed.
async fn add_listed(client: &QbittorrentClient, name: &str) -> InfoHash {
    let (hash, magnet) = random_magnet(name);
    client
        .add(&paused_magnet_add(&magnet))
        .await
        .expect("qBittorrent takes the magnet");
    common::eventually(
        "the torrent to be listed",
        Duration::from_secs(5),
        || async {
            client
                .torrent(hash)
                .await
                .expect("qBittorrent lists torrents")
        },
    )
    .await;
    hash
}

#[tokio::test]
async fn login_with_good_credentials_reads_the_api_version() {
    let qbittorrent = Qbittorrent::shared();
    let version = qbittorrent.client().api_version().await.unwrap();
    match qbittorrent.version {
        Version::V4_5 => assert!(!version.uses_start_stop(), "{version}"),
        Version::V5_1 => assert!(version.uses_start_stop(), "{version}"),
    }
}

#[tokio::test]
async fn login_with_bad_credentials_is_unauthorized_and_not_retried() {
    let qbittorrent = Qbittorrent::shared();
    let client = qbittorrent.client_with(Credentials::Password {
        username: USERNAME.to_owned(),
        password: SecretString::from("wrong password"),
    });
    let error = client.api_version().await.unwrap_err();
    assert!(
        matches!(error, QbittorrentError::Unauthorized(_)),
        "{error}"
    );
    // A second call fails at once, without another login attempt.
    let started = std::time::Instant::now();
    let error = client
        .torrents(TorrentFilter::All, None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, QbittorrentError::Unauthorized(_)),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_millis(50));
    assert!(!error.to_string().contains("wrong password"));
}

#[tokio::test]
async fn session_lost_to_a_restart_is_renewed_transparently() {
    let qbittorrent = Qbittorrent::start(Options::default()).await;
    let client = qbittorrent.client();
    client
        .torrents(TorrentFilter::All, None, None)
        .await
        .unwrap();

    // A restart on the same port invalidates the session cookie: the next
    // call is answered 403 and the client logs in again by itself.
    qbittorrent.restart().await;
    let torrents = client
        .torrents(TorrentFilter::All, None, None)
        .await
        .unwrap();
    assert!(torrents.is_empty());
}

#[tokio::test]
async fn log_out_ends_the_session_and_a_later_call_logs_in_again() {
    let qbittorrent = Qbittorrent::shared();
    let client = qbittorrent.client();
    client.log_out().await.expect("nothing to end yet");
    client.api_version().await.unwrap();
    // qBittorrent answers `auth/logout` 403 without a live session, so Ok
    // means the session cookie was sent and the session ended.
    client.log_out().await.expect("the session ends");
    client
        .torrents(TorrentFilter::All, None, None)
        .await
        .expect("a call after logging out logs in again");
    client.log_out().await.expect("the new session ends too");
}

#[tokio::test]
async fn qbittorrent_down_is_unavailable_without_leaking_the_url() {
    let qbittorrent = Qbittorrent::start(Options::default()).await;
    let client = qbittorrent.client();
    qbittorrent.kill();
    let error = client.api_version().await.unwrap_err();
    assert!(matches!(error, QbittorrentError::Unavailable(_)), "{error}");
    assert!(!error.to_string().contains("127.0.0.1"), "{error}");
}

#[tokio::test]
async fn single_hash_endpoints_answer_not_found_for_unknown_hashes() {
    let client = Qbittorrent::shared().client();
    let (hash, _) = random_magnet("absent");
    let error = client.files(hash).await.unwrap_err();
    assert!(matches!(error, QbittorrentError::NotFound), "{error}");
    assert!(client.torrent(hash).await.unwrap().is_none());
}

#[tokio::test]
async fn set_category_to_a_missing_category_is_rejected() {
    let client = Qbittorrent::shared().client();
    let hash = add_listed(&client, "category-conflict").await;
    let error = client
        .act(
            &[hash],
            &TorrentAction::SetCategory(format!("missing-{hash}")),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, QbittorrentError::Rejected(_)), "{error}");
    client
        .act(&[hash], &TorrentAction::Delete { delete_files: true })
        .await
        .unwrap();
}

#[tokio::test]
async fn sync_maindata_returns_only_what_changed() {
    let qbittorrent = Qbittorrent::start(Options::default()).await;
    let client = qbittorrent.client();
    let (first, first_magnet) = random_magnet("first");
    client.add(&paused_magnet_add(&first_magnet)).await.unwrap();
    let full = common::eventually(
        "the first torrent in a full sync",
        Duration::from_secs(5),
        || async {
            let data = client.sync_maindata(0).await.unwrap();
            data.torrents
                .contains_key(&first.to_string())
                .then_some(data)
        },
    )
    .await;
    assert!(full.full_update);

    // Let the first torrent settle so it has nothing left to report.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let settled = client.sync_maindata(full.rid).await.unwrap();

    let (second, second_magnet) = random_magnet("second");
    client
        .add(&paused_magnet_add(&second_magnet))
        .await
        .unwrap();
    let delta = common::eventually(
        "the second torrent in a delta",
        Duration::from_secs(5),
        || async {
            let data = client.sync_maindata(settled.rid).await.unwrap();
            data.torrents
                .contains_key(&second.to_string())
                .then_some(data)
        },
    )
    .await;
    assert!(!delta.full_update);
    assert!(
        !delta.torrents.contains_key(&first.to_string()),
        "the unchanged torrent was sent again: {:?}",
        delta.torrents.keys()
    );
    let entry: serde_json::Value =
        serde_json::from_str(delta.torrents[&second.to_string()].get()).unwrap();
    assert!(entry.get("name").is_some(), "{entry}");

    client
        .act(
            &[second],
            &TorrentAction::Delete {
                delete_files: false,
            },
        )
        .await
        .unwrap();
    let removal = common::eventually("the removal in a delta", Duration::from_secs(5), || async {
        let data = client.sync_maindata(delta.rid).await.unwrap();
        data.torrents_removed
            .contains(&second.to_string())
            .then_some(data)
    })
    .await;
    assert!(!removal.torrents.contains_key(&first.to_string()));
}

#[tokio::test]
async fn add_peers_is_accepted_for_a_listed_torrent() {
    let client = Qbittorrent::shared().client();
    let hash = add_listed(&client, "peers").await;
    client
        .act(
            &[hash],
            &TorrentAction::AddPeers(vec!["127.0.0.1:9".parse().expect("an address")]),
        )
        .await
        .unwrap();
    client
        .act(&[hash], &TorrentAction::Delete { delete_files: true })
        .await
        .unwrap();
}
