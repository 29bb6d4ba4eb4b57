//! `torrents` as a connection against a real qbittorrent-nox: sorted,
//! filtered and paged with cursors, and `torrentProgress` following the
//! same filters. Each test works in a category of its own.

mod common;

use std::time::Duration;

use common::app::{TestApp, admin_token, data};
use common::qbittorrent::Qbittorrent;
use common::subscriber::{Protocol, Subscriber};
use common::torrents::random_hash;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

async fn app() -> &'static TestApp {
    static APP: OnceCell<TestApp> = OnceCell::const_new();
    common::app::shared(&APP, || TestApp::start(Qbittorrent::shared())).await
}

const PAGE: &str = "query($w: TorrentWhereInput, $o: TorrentOrderBy, $first: Int, $after: String, $last: Int, $before: String) {
    torrents(where: $w, orderBy: $o, first: $first, after: $after, last: $last, before: $before) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { name } }
        nodes { name hash }
    }
}";

/// Adds paused magnets named `<prefix> NN` (NN from 00), each with
/// `extra` appended to the magnet, into `category`; their hashes.
async fn add_named(
    app: &TestApp,
    category: &str,
    prefix: &str,
    count: usize,
    extra: &str,
) -> Vec<String> {
    let mut hashes = Vec::new();
    for index in 0..count {
        let hash = random_hash().to_string();
        let magnet = format!("magnet:?xt=urn:btih:{hash}&dn={prefix}%20{index:02}{extra}");
        let answer = app
            .graphql(
                "mutation($m: String!, $c: String) { addTorrent(input: { magnet: $m, paused: true, category: $c }) { hash } }",
                json!({ "m": magnet, "c": category }),
            )
            .await;
        assert_eq!(data(&answer)["addTorrent"]["hash"], hash.as_str());
        hashes.push(hash);
    }
    hashes
}

fn names(page: &Value) -> Vec<String> {
    page["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| node["name"].as_str().expect("a name").to_owned())
        .collect()
}

async fn page(app: &TestApp, variables: Value) -> Value {
    let answer = app.graphql(PAGE, variables).await;
    data(&answer)["torrents"].clone()
}

/// The hashes, sorted, of the torrents in `category` that `matching`
/// (a `TorrentWhereInput` without its category) selects.
async fn matching_hashes(app: &TestApp, category: &str, mut matching: Value) -> Vec<String> {
    matching["category"] = json!(category);
    let answer = page(app, json!({ "w": matching })).await;
    let mut hashes: Vec<String> = answer["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| node["hash"].as_str().expect("hash").to_owned())
        .collect();
    hashes.sort();
    hashes
}

fn unique(what: &str) -> String {
    format!("{what}-{}", &random_hash().to_string()[..10])
}

#[tokio::test]
async fn pages_follow_the_order_and_cursors_to_the_end_and_back() {
    let app = app().await;
    let category = unique("pages");
    add_named(app, &category, "Item", 12, "").await;
    let by_name = json!({ "field": "NAME" });
    let first = page(
        app,
        json!({ "w": { "category": category }, "o": by_name, "first": 5 }),
    )
    .await;
    assert_eq!(first["totalCount"], 12);
    assert_eq!(
        names(&first),
        ["Item 00", "Item 01", "Item 02", "Item 03", "Item 04"]
    );
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    assert_eq!(first["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(first["edges"][4]["cursor"], first["pageInfo"]["endCursor"]);
    assert_eq!(
        first["edges"][0]["node"]["name"], "Item 00",
        "edges and nodes agree"
    );

    let mut seen = names(&first);
    let mut after = first["pageInfo"]["endCursor"].clone();
    loop {
        let next = page(
            app,
            json!({ "w": { "category": category }, "o": by_name, "first": 5, "after": after }),
        )
        .await;
        seen.extend(names(&next));
        assert_eq!(next["pageInfo"]["hasPreviousPage"], true);
        if next["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = next["pageInfo"]["endCursor"].clone();
    }
    let expected: Vec<String> = (0..12).map(|index| format!("Item {index:02}")).collect();
    assert_eq!(seen, expected, "every torrent once, in order");

    let descending = page(
        app,
        json!({ "w": { "category": category }, "o": { "field": "NAME", "direction": "DESC" }, "last": 2 }),
    )
    .await;
    assert_eq!(names(&descending), ["Item 01", "Item 00"]);
    let before = page(
        app,
        json!({ "w": { "category": category }, "o": by_name, "last": 2, "before": first["edges"][3]["cursor"] }),
    )
    .await;
    assert_eq!(names(&before), ["Item 01", "Item 02"]);

    let bad = app
        .graphql(
            PAGE,
            json!({ "w": { "category": category }, "first": 1, "last": 1 }),
        )
        .await;
    assert_eq!(
        common::app::error_code(&bad),
        Some("BAD_USER_INPUT"),
        "{bad}"
    );
    let bad = app
        .graphql(
            PAGE,
            json!({ "w": { "category": category }, "after": "bm90LWEtY3Vyc29y" }),
        )
        .await;
    assert_eq!(
        common::app::error_code(&bad),
        Some("BAD_USER_INPUT"),
        "{bad}"
    );
}

#[tokio::test]
async fn filters_narrow_by_words_tags_save_path_and_tracker() {
    let app = app().await;
    let category = unique("filters");
    let tracker = format!("{}.tracker.test", unique("t"));
    let plain = add_named(app, &category, "Ubuntu Desktop iso", 2, "").await;
    let tracked = add_named(
        app,
        &category,
        "Debian netinst",
        2,
        &format!("&tr=http%3A%2F%2F{tracker}%3A6969%2Fannounce"),
    )
    .await;
    let answer = app
        .graphql(
            "mutation($h: [String!]!) { a: addTorrentTags(hashes: $h, tags: [\"linux\", \"iso\"]) { hash } }",
            json!({ "h": [plain[0], tracked[0]] }),
        )
        .await;
    data(&answer);
    let answer = app
        .graphql(
            "mutation($h: [String!]!) { addTorrentTags(hashes: $h, tags: [\"linux\"]) { hash } }",
            json!({ "h": [plain[1]] }),
        )
        .await;
    data(&answer);

    let count = |matching: Value| matching_hashes(app, &category, matching);
    let sorted = |hashes: &[&String]| {
        let mut hashes: Vec<String> = hashes.iter().map(|hash| (*hash).clone()).collect();
        hashes.sort();
        hashes
    };
    assert_eq!(
        count(json!({ "search": "ISO ubuntu" })).await,
        sorted(&[&plain[0], &plain[1]])
    );
    assert_eq!(
        count(json!({ "search": "ubuntu 01" })).await,
        sorted(&[&plain[1]])
    );
    assert_eq!(
        count(json!({ "tags": ["linux", "iso"] })).await,
        sorted(&[&plain[0], &tracked[0]])
    );
    assert_eq!(
        count(json!({ "anyTags": ["iso", "linux"] })).await,
        sorted(&[&plain[0], &plain[1], &tracked[0]])
    );
    let save_path = Qbittorrent::shared()
        .save_path
        .to_string_lossy()
        .into_owned();
    assert_eq!(count(json!({ "savePathPrefix": save_path })).await.len(), 4);
    assert!(
        count(json!({ "savePathPrefix": "/elsewhere" }))
            .await
            .is_empty()
    );
    // Tracker lists come with the mirror's syncs.
    let on_tracker =
        common::eventually("the tracker in the mirror", Duration::from_secs(10), || {
            let count = &count;
            let tracker = tracker.clone();
            async move {
                let found = count(json!({ "trackerHost": tracker.to_uppercase() })).await;
                (!found.is_empty()).then_some(found)
            }
        })
        .await;
    assert_eq!(on_tracker, sorted(&[&tracked[0], &tracked[1]]));
    assert!(
        count(json!({ "state": "DOWNLOADING", "search": "no such words" }))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn progress_follows_the_filter_in_and_out() {
    let app = app().await;
    let category = unique("follow");
    let hashes = add_named(app, &category, "Followed", 2, "").await;
    let mut subscriber = Subscriber::start(
        &app.ws_url(),
        Protocol::GraphqlTransportWs,
        json!({ "authorization": format!("Bearer {}", admin_token()) }),
        &format!(
            "subscription {{ torrentProgress(where: {{ category: \"{category}\", state: PAUSED }}) {{ snapshot removed torrents {{ hash }} }} }}"
        ),
        1,
    );
    let snapshot = subscriber.next_progress(Duration::from_secs(10)).await;
    assert_eq!(snapshot["snapshot"], true);
    assert_eq!(
        snapshot["torrents"].as_array().map(Vec::len),
        Some(2),
        "{snapshot}"
    );

    let answer = app
        .graphql(
            "mutation($h: [String!]!) { resumeTorrents(hashes: $h) { state } }",
            json!({ "h": [hashes[0]] }),
        )
        .await;
    data(&answer);
    let left = subscriber.next_progress(Duration::from_secs(10)).await;
    assert_eq!(left["removed"], json!([hashes[0]]), "{left}");
    assert_eq!(left["torrents"], json!([]));

    let answer = app
        .graphql(
            "mutation($h: [String!]!) { pauseTorrents(hashes: $h) { state } }",
            json!({ "h": [hashes[0]] }),
        )
        .await;
    data(&answer);
    let back = subscriber.next_progress(Duration::from_secs(10)).await;
    assert_eq!(back["torrents"], json!([{ "hash": hashes[0] }]), "{back}");
}

#[tokio::test]
async fn a_torrent_reads_its_release_facts_from_the_name_qbittorrent_shows() {
    let app = app().await;
    let hash = random_hash().to_string();
    let magnet = format!(
        "magnet:?xt=urn:btih:{hash}&dn=Dune.Part.Two.2024.2160p.UHD.BluRay.REMUX.DV.HDR10.HEVC.TrueHD.7.1.Atmos-FGT"
    );
    let added = app
        .graphql(
            "mutation($m: String!) { addTorrent(input: { magnet: $m, paused: true, category: \"release-facts\" }) {
                torrent { name release { title year kind resolution source videoCodec hdr audioCodecs audioChannels releaseGroup } } } }",
            json!({ "m": magnet }),
        )
        .await;
    let torrent = &data(&added)["addTorrent"]["torrent"];
    assert!(
        torrent["name"]
            .as_str()
            .unwrap()
            .starts_with("Dune.Part.Two"),
        "qBittorrent names a magnet by its dn: {torrent}"
    );
    assert_eq!(
        torrent["release"],
        json!({ "title": "Dune Part Two", "year": 2024, "kind": "MOVIE", "resolution": "UHD_2160P",
                "source": "REMUX", "videoCodec": "H265", "hdr": ["DOLBY_VISION", "HDR10"],
                "audioCodecs": ["TRUE_HD", "ATMOS"], "audioChannels": "7.1", "releaseGroup": "FGT" })
    );
}
