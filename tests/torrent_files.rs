//! Every kind of torrent qBittorrent takes, added through the API and
//! checked against qBittorrent's own list: hybrid v1/v2 and v2-only
//! `.torrent` files, `btmh` magnets, and files with unsorted keys or bytes
//! after the root dictionary. A hybrid is listed under its truncated v2
//! hash; torrentql finds it, and detects it as a duplicate, by either hash.

mod common;

use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use tokio::sync::OnceCell;

use common::app::{TestApp, data};
use common::qbittorrent::Qbittorrent;

const HYBRID_V1: &str = "27055e547d22b240d8ec578d8c8fc01665c60850";
const HYBRID_V2: &str = "acf73e081122dd56a0c00edc024fb7e29d757ac092a238569d3d4cac2433e64c";
const V2_ONLY: &str = "da7b2d6a01435ab3a32294172fc15ac0c0b966c441634a8c4c867f6b0d6bdb37";

const UPLOAD: &str = "mutation($f: Upload!) { addTorrent(input: { file: $f, paused: true }) { \
    hash duplicate torrent { hash infoHashV1 infoHashV2 name totalSize } } }";
const ADD_MAGNET: &str = "mutation($m: String!) { addTorrent(input: { magnet: $m, paused: true }) { \
    hash duplicate } }";

async fn app() -> &'static TestApp {
    static APP: OnceCell<TestApp> = OnceCell::const_new();
    common::app::shared(&APP, || TestApp::start(Qbittorrent::shared())).await
}

async fn upload(app: &TestApp, bytes: Vec<u8>) -> Value {
    let response = app.upload(UPLOAD, json!({ "f": null }), "f", bytes).await;
    let answer: Value = response.json().await.expect("JSON");
    data(&answer)["addTorrent"].clone()
}

async fn add_magnet(app: &TestApp, magnet: &str) -> Value {
    let answer = app.graphql(ADD_MAGNET, json!({ "m": magnet })).await;
    data(&answer)["addTorrent"].clone()
}

/// What qBittorrent itself lists under `hash`: (hash, `infohash_v1`,
/// `infohash_v2`).
async fn listed(hash: &str) -> Option<(String, Option<String>, Option<String>)> {
    let torrent = Qbittorrent::shared()
        .client()
        .torrent(hash.parse().expect("hash"))
        .await
        .expect("qBittorrent answers")?;
    Some((
        torrent.hash.to_string(),
        torrent.infohash_v1.map(|hash| hash.to_string()),
        torrent.infohash_v2.map(|hash| hash.to_string()),
    ))
}

#[tokio::test]
async fn a_hybrid_torrent_is_added_found_and_detected_by_either_hash() {
    let app = app().await;
    let id = &HYBRID_V2[..40];
    let added = upload(app, common::fixture("torrents/hybrid-two-files.torrent")).await;
    assert_eq!(added["hash"], id, "{added}");
    assert_eq!(added["duplicate"], false);
    assert_eq!(added["torrent"]["infoHashV1"], HYBRID_V1);
    assert_eq!(added["torrent"]["infoHashV2"], HYBRID_V2);
    assert_eq!(added["torrent"]["name"], "hybrid-sample");
    assert_eq!(
        listed(id).await,
        Some((
            id.to_owned(),
            Some(HYBRID_V1.to_owned()),
            Some(HYBRID_V2.to_owned())
        )),
        "qBittorrent lists the hybrid under its truncated v2 hash"
    );

    // Found by its v1 hash too, in every read.
    let answer = app
        .graphql(
            "query($h: String!) { torrent(hash: $h) { hash } torrents(hashes: [$h]) { nodes { hash } } }",
            json!({ "h": HYBRID_V1 }),
        )
        .await;
    assert_eq!(data(&answer)["torrent"]["hash"], id, "{answer}");
    assert_eq!(data(&answer)["torrents"]["nodes"], json!([{ "hash": id }]));

    // Every way of adding it again is a duplicate of the one listed.
    let again = upload(app, common::fixture("torrents/hybrid-two-files.torrent")).await;
    assert_eq!(
        (&again["hash"], &again["duplicate"]),
        (&json!(id), &json!(true))
    );
    for magnet in [
        format!("magnet:?xt=urn:btih:{HYBRID_V1}"),
        format!("magnet:?xt=urn:btmh:1220{HYBRID_V2}"),
        format!("magnet:?xt=urn:btih:{HYBRID_V1}&xt=urn:btmh:1220{HYBRID_V2}"),
    ] {
        let again = add_magnet(app, &magnet).await;
        assert_eq!(
            (&again["hash"], &again["duplicate"]),
            (&json!(id), &json!(true)),
            "{magnet}: {again}"
        );
    }
    assert!(
        listed(HYBRID_V1).await.is_none(),
        "no second torrent under the v1 hash"
    );

    // Mutations take the v1 hash as well.
    let answer = app
        .graphql(
            "mutation($h: String!) { deleteTorrent(hash: $h, deleteFiles: true) { hash } }",
            json!({ "h": HYBRID_V1 }),
        )
        .await;
    data(&answer);
    assert!(listed(id).await.is_none());
}

#[tokio::test]
async fn a_v2_only_torrent_and_its_btmh_magnet_are_one_torrent() {
    let app = app().await;
    let id = &V2_ONLY[..40];
    let added = upload(app, common::fixture("torrents/v2-only.torrent")).await;
    assert_eq!(added["hash"], id, "{added}");
    assert_eq!(added["duplicate"], false);
    assert_eq!(added["torrent"]["infoHashV1"], Value::Null);
    assert_eq!(added["torrent"]["infoHashV2"], V2_ONLY);
    assert_eq!(added["torrent"]["name"], "v2-only-sample");
    let (listed_hash, v1, v2) = listed(id).await.expect("qBittorrent lists it");
    assert_eq!(
        (listed_hash.as_str(), v1, v2.as_deref()),
        (id, None, Some(V2_ONLY))
    );

    let again = add_magnet(app, &format!("magnet:?xt=urn:btmh:1220{V2_ONLY}&dn=again")).await;
    assert_eq!(
        (&again["hash"], &again["duplicate"]),
        (&json!(id), &json!(true))
    );
}

#[tokio::test]
async fn a_btmh_magnet_is_added_under_its_truncated_hash() {
    let app = app().await;
    let v2: String = (0..64)
        .map(|_| char::from(b"0123456789abcdef"[rand::random_range(0..16)]))
        .collect();
    let added = add_magnet(app, &format!("magnet:?xt=urn:btmh:1220{v2}&dn=v2-magnet")).await;
    assert_eq!(added["hash"], &v2[..40], "{added}");
    assert_eq!(added["duplicate"], false);
    let (hash, _, listed_v2) = listed(&v2[..40]).await.expect("qBittorrent lists it");
    assert_eq!(hash, &v2[..40]);
    assert_eq!(listed_v2.as_deref(), Some(v2.as_str()));
}

/// A one-piece v1 torrent whose info dictionary keys are written in the
/// order `keys` gives (qBittorrent's reader does not require them sorted),
/// and the SHA-1 of exactly those info bytes.
fn v1_torrent(name: &str, keys: [&str; 4]) -> (Vec<u8>, String) {
    let content: Vec<u8> = (0..1000).map(|_| rand::random::<u8>()).collect();
    let piece = Sha1::digest(&content);
    let mut info = b"d".to_vec();
    for key in keys {
        info.extend_from_slice(format!("{}:{key}", key.len()).as_bytes());
        match key {
            "name" => info.extend_from_slice(format!("{}:{name}", name.len()).as_bytes()),
            "length" => info.extend_from_slice(b"i1000e"),
            "piece length" => info.extend_from_slice(b"i16384e"),
            "pieces" => {
                info.extend_from_slice(b"20:");
                info.extend_from_slice(&piece);
            }
            _ => unreachable!(),
        }
    }
    info.push(b'e');
    let mut bytes = b"d4:info".to_vec();
    bytes.extend_from_slice(&info);
    bytes.extend_from_slice(b"8:announce21:http://t.example/annoe");
    (bytes, hex(&Sha1::digest(&info)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[tokio::test]
async fn unsorted_keys_and_trailing_bytes_are_added_under_the_hash_qbittorrent_lists() {
    let app = app().await;
    let (unsorted, unsorted_hash) =
        v1_torrent("unsorted", ["pieces", "name", "piece length", "length"]);
    let (mut trailing, trailing_hash) =
        v1_torrent("trailing", ["length", "name", "piece length", "pieces"]);
    trailing.extend_from_slice(b"\r\n\0 bytes some tools leave after the torrent");
    for (what, bytes, hash) in [
        ("unsorted keys", unsorted, unsorted_hash),
        ("trailing bytes", trailing, trailing_hash),
    ] {
        let added = upload(app, bytes).await;
        assert_eq!(added["hash"], hash, "{what}: {added}");
        assert_eq!(added["duplicate"], false, "{what}");
        assert_eq!(
            listed(&hash).await.map(|(listed, _, _)| listed),
            Some(hash.clone()),
            "{what}: qBittorrent lists it under the hash of its info bytes"
        );
    }
}
