//! Changes to many torrents at once, categories and tags, against a real
//! qbittorrent-nox: each mutation is checked against qBittorrent's own
//! view after it, unknown hashes fail alone, and bad input is refused.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::app::{TestApp, data};
use common::proxy::RecordingProxy;
use common::qbittorrent::{Options, Qbittorrent, Version};
use common::torrents::{make_torrent, random_hash};
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use torrentql::clients::qbittorrent::{Torrent, TorrentFilter};
use torrentql::torrent::InfoHash;

/// How long qBittorrent may take to show a change.
const WAIT: Duration = Duration::from_secs(20);

/// One app per test binary, on the shared qBittorrent.
async fn app() -> &'static TestApp {
    static APP: OnceCell<TestApp> = OnceCell::const_new();
    common::app::shared(&APP, || TestApp::start(Qbittorrent::shared())).await
}

/// The torrents `hashes` names, as qBittorrent itself lists them.
async fn in_qbittorrent(hashes: &[&str]) -> Vec<Torrent> {
    let hashes: Vec<InfoHash> = hashes
        .iter()
        .map(|hash| hash.parse().expect("a hash"))
        .collect();
    Qbittorrent::shared()
        .client()
        .torrents(TorrentFilter::All, None, Some(&hashes))
        .await
        .expect("qBittorrent lists torrents")
}

async fn one_in_qbittorrent(hash: &str) -> Torrent {
    let mut listed = in_qbittorrent(&[hash]).await;
    assert_eq!(listed.len(), 1, "qBittorrent lists {hash} once");
    listed.pop().expect("one torrent")
}

/// A folder of its own under the shared qBittorrent's save path (an
/// allowed root).
fn new_folder() -> PathBuf {
    new_folder_in(Qbittorrent::shared())
}

/// Adds the `.torrent` `bytes` through `addTorrent` (saved in `save_path`,
/// or qBittorrent's default); its hash.
async fn add_file(app: &TestApp, bytes: Vec<u8>, save_path: Option<&Path>, paused: bool) -> String {
    let response = app
        .upload(
            r#"mutation($file: Upload!, $dir: String, $paused: Boolean) { addTorrent(input: { file: $file, savePath: $dir, paused: $paused }) { hash } }"#,
            json!({ "file": null, "dir": save_path.map(Path::to_string_lossy), "paused": paused }),
            "file",
            bytes,
        )
        .await;
    let answer: Value = response.json().await.expect("JSON");
    data(&answer)["addTorrent"]["hash"]
        .as_str()
        .expect("a hash")
        .to_owned()
}

/// Adds a torrent whose data is all there, and waits until qBittorrent
/// has checked it complete; its hash, and the folder holding it.
async fn add_complete(app: &TestApp, name: &str) -> (String, PathBuf) {
    let dir = new_folder();
    let made = make_torrent(&dir, name, &[("a.bin", 40_000), ("b/c.bin", 5000)]);
    let hash = add_file(app, made.bytes, Some(&dir), false).await;
    common::eventually(
        "the data checked complete",
        Duration::from_secs(20),
        || async { (one_in_qbittorrent(&hash).await.progress >= 1.0).then_some(()) },
    )
    .await;
    (hash, dir)
}

/// The `index`th error's code and path.
fn error_at(answer: &Value, index: usize) -> (&str, &Value) {
    let error = &answer["errors"][index];
    (
        error["extensions"]["code"].as_str().unwrap_or_default(),
        &error["path"],
    )
}

#[tokio::test]
async fn pause_and_resume_many_answer_each_and_an_unknown_hash_alone() {
    let app = app().await;
    let first = app.add_paused_magnet("batch one").await;
    let second = app.add_paused_magnet("batch two").await;
    let unknown = random_hash().to_string();
    let hashes = json!([first, unknown, second]);

    let resumed = app
        .graphql(
            "mutation($h: [String!]!) { resumeTorrents(hashes: $h) { hash state } }",
            json!({ "h": hashes }),
        )
        .await;
    let answers = &resumed["data"]["resumeTorrents"];
    assert_eq!(answers[0]["hash"], first.as_str(), "{resumed}");
    assert_eq!(answers[1], Value::Null, "{resumed}");
    assert_eq!(answers[2]["hash"], second.as_str(), "{resumed}");
    assert_eq!(
        error_at(&resumed, 0),
        ("NOT_FOUND", &json!(["resumeTorrents", 1])),
        "{resumed}"
    );
    assert_eq!(resumed["errors"].as_array().map(Vec::len), Some(1));
    for torrent in in_qbittorrent(&[&first, &second]).await {
        assert!(!torrent.state().is_paused(), "{}", torrent.state);
    }
    assert!(
        !answers[0]["state"]
            .as_str()
            .unwrap_or_default()
            .starts_with("PAUSED"),
        "the answer shows qBittorrent's state after the change: {resumed}"
    );

    let paused = app
        .graphql(
            "mutation($h: [String!]!) { pauseTorrents(hashes: $h) { state } }",
            json!({ "h": hashes }),
        )
        .await;
    assert!(
        paused["data"]["pauseTorrents"][0]["state"]
            .as_str()
            .unwrap_or_default()
            .starts_with("PAUSED"),
        "{paused}"
    );
    for torrent in in_qbittorrent(&[&first, &second]).await {
        assert!(torrent.state().is_paused(), "{}", torrent.state);
    }
}

#[tokio::test]
async fn a_batch_is_one_qbittorrent_call_per_action() {
    let qbittorrent = Qbittorrent::shared();
    let proxy = RecordingProxy::start(&qbittorrent.url).await;
    let app = TestApp::start_with(&proxy.url, qbittorrent, "").await;
    let hashes = [
        app.add_paused_magnet("call one").await,
        app.add_paused_magnet("call two").await,
        app.add_paused_magnet("call three").await,
    ];
    proxy.clear();
    let answer = app
        .graphql(
            "mutation($h: [String!]!) { resumeTorrents(hashes: $h) { state } \
             setTorrentsCategory(hashes: $h, category: \"\") { category } \
             addTorrentTags(hashes: $h, tags: [\"one-call\"]) { tags } }",
            json!({ "h": hashes }),
        )
        .await;
    data(&answer);
    let resume = match qbittorrent.version {
        Version::V4_5 => "/api/v2/torrents/resume",
        Version::V5_1 => "/api/v2/torrents/start",
    };
    for path in [
        resume,
        "/api/v2/torrents/setCategory",
        "/api/v2/torrents/addTags",
    ] {
        assert_eq!(proxy.count(path), 1, "{path}: {:?}", proxy.requests());
    }
}

#[tokio::test]
async fn categories_and_tags_are_set_on_many() {
    let app = app().await;
    let first = app.add_paused_magnet("labels one").await;
    let second = app.add_paused_magnet("labels two").await;
    let hashes = json!([first, second]);
    let suffix = random_hash().to_string()[..8].to_owned();
    let category = format!("batch/{suffix}");
    let (keep, drop, only) = (
        format!("keep-{suffix}"),
        format!("drop-{suffix}"),
        format!("only-{suffix}"),
    );

    let answer = app
        .graphql(
            "mutation($h: [String!]!, $c: String!, $t: [String!]!) { \
             setTorrentsCategory(hashes: $h, category: $c) { category } \
             addTorrentTags(hashes: $h, tags: $t) { tags } }",
            json!({ "h": hashes, "c": category, "t": [keep, drop] }),
        )
        .await;
    assert_eq!(
        data(&answer)["setTorrentsCategory"][1]["category"],
        category.as_str()
    );
    for torrent in in_qbittorrent(&[&first, &second]).await {
        assert_eq!(torrent.category, category);
        assert_eq!(torrent.tags(), [drop.clone(), keep.clone()]);
    }

    let answer = app
        .graphql(
            "mutation($h: [String!]!, $t: [String!]!) { removeTorrentTags(hashes: $h, tags: $t) { tags } }",
            json!({ "h": hashes, "t": [drop] }),
        )
        .await;
    assert_eq!(data(&answer)["removeTorrentTags"][0]["tags"], json!([keep]));
    // qBittorrent before 5.1 has no torrents/setTags: two calls instead.
    let answer = app
        .graphql(
            "mutation($h: [String!]!, $t: [String!]!) { setTorrentTags(hashes: $h, tags: $t) { tags } }",
            json!({ "h": hashes, "t": [only] }),
        )
        .await;
    assert_eq!(data(&answer)["setTorrentTags"][1]["tags"], json!([only]));
    for torrent in in_qbittorrent(&[&first, &second]).await {
        assert_eq!(torrent.tags(), std::slice::from_ref(&only));
    }

    let answer = app.graphql("{ tags }", json!({})).await;
    let tags = data(&answer)["tags"].as_array().expect("tags").clone();
    assert!(
        tags.contains(&json!(keep)) && tags.contains(&json!(only)),
        "{tags:?}"
    );

    let missing = format!("missing-{suffix}");
    let answer = app
        .graphql(
            "mutation($t: [String!]!) { deleteTags(names: $t) }",
            json!({ "t": [only, missing] }),
        )
        .await;
    assert_eq!(
        answer["data"]["deleteTags"],
        json!([only, null]),
        "{answer}"
    );
    assert_eq!(
        error_at(&answer, 0),
        ("NOT_FOUND", &json!(["deleteTags", 1]))
    );
    let left = Qbittorrent::shared().client().tags().await.expect("tags");
    assert!(!left.contains(&only), "{left:?}");
    common::eventually(
        "the tag off the torrents",
        Duration::from_secs(5),
        || async {
            in_qbittorrent(&[&first, &second])
                .await
                .iter()
                .all(|torrent| torrent.tags().is_empty())
                .then_some(())
        },
    )
    .await;

    let answer = app
        .graphql(
            "mutation($h: [String!]!) { addTorrentTags(hashes: $h, tags: [\"a,b\"]) { tags } }",
            json!({ "h": hashes }),
        )
        .await;
    assert_eq!(error_at(&answer, 0).0, "BAD_USER_INPUT", "{answer}");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("comma")
    );
}

#[tokio::test]
async fn categories_are_created_edited_and_removed() {
    let app = app().await;
    let name = format!("crud-{}", &random_hash().to_string()[..8]);
    let first = new_folder().to_string_lossy().into_owned();
    let second = new_folder().to_string_lossy().into_owned();
    let create = "mutation($n: String!, $p: String) { createCategory(name: $n, savePath: $p) { name savePath } }";
    let saved_path = |categories: Vec<torrentql::clients::qbittorrent::Category>| {
        categories
            .into_iter()
            .find(|category| category.name == name)
            .map(|category| PathBuf::from(category.save_path))
    };
    let client = Qbittorrent::shared().client();

    let answer = app.graphql(create, json!({ "n": name, "p": first })).await;
    assert_eq!(data(&answer)["createCategory"]["name"], name.as_str());
    assert_eq!(
        saved_path(client.categories().await.expect("categories")),
        Some(PathBuf::from(&first))
    );
    let again = app.graphql(create, json!({ "n": name, "p": first })).await;
    assert_eq!(error_at(&again, 0).0, "BAD_USER_INPUT", "{again}");
    let outside = app
        .graphql(create, json!({ "n": format!("{name}-x"), "p": "/etc" }))
        .await;
    assert_eq!(error_at(&outside, 0).0, "BAD_USER_INPUT", "{outside}");

    let edit =
        "mutation($n: String!, $p: String) { editCategory(name: $n, savePath: $p) { savePath } }";
    let answer = app.graphql(edit, json!({ "n": name, "p": second })).await;
    data(&answer);
    assert_eq!(
        saved_path(client.categories().await.expect("categories")),
        Some(PathBuf::from(&second))
    );
    let unknown = app
        .graphql(edit, json!({ "n": format!("{name}-none"), "p": second }))
        .await;
    assert_eq!(error_at(&unknown, 0).0, "NOT_FOUND", "{unknown}");

    let answer = app
        .graphql(
            "mutation($n: [String!]!) { removeCategories(names: $n) { name } }",
            json!({ "n": [name, format!("{name}-none")] }),
        )
        .await;
    assert_eq!(
        answer["data"]["removeCategories"],
        json!([{ "name": name }, null]),
        "{answer}"
    );
    assert_eq!(error_at(&answer, 0).0, "NOT_FOUND");
    assert_eq!(
        saved_path(client.categories().await.expect("categories")),
        None
    );
}

#[tokio::test]
async fn toggles_reach_the_state_asked_for_whatever_each_torrent_had() {
    let app = app().await;
    let first = app.add_paused_magnet("toggle one").await;
    let second = app.add_paused_magnet("toggle two").await;
    // qBittorrent only toggles these: one torrent already on must stay on.
    let answer = app
        .graphql(
            "mutation($h: [String!]!) { setSequentialDownload(hashes: $h, enabled: true) { sequentialDownload } }",
            json!({ "h": [first] }),
        )
        .await;
    assert_eq!(
        data(&answer)["setSequentialDownload"][0]["sequentialDownload"],
        true
    );
    let answer = app
        .graphql(
            "mutation($h: [String!]!) { \
             setSequentialDownload(hashes: $h, enabled: true) { sequentialDownload } \
             setFirstLastPiecePriority(hashes: $h, enabled: true) { firstLastPiecePriority } \
             setForceStart(hashes: $h, enabled: true) { forceStart } \
             setAutomaticTorrentManagement(hashes: $h, enabled: true) { automaticTorrentManagement } }",
            json!({ "h": [first, second] }),
        )
        .await;
    let answers = data(&answer);
    assert_eq!(answers["setForceStart"][1]["forceStart"], true);
    for torrent in in_qbittorrent(&[&first, &second]).await {
        assert!(torrent.seq_dl, "{}", torrent.hash);
        assert!(torrent.f_l_piece_prio, "{}", torrent.hash);
        assert!(torrent.force_start, "{}", torrent.hash);
        assert!(torrent.auto_tmm, "{}", torrent.hash);
    }

    let answer = app
        .graphql(
            "mutation($h: [String!]!) { \
             setSequentialDownload(hashes: $h, enabled: false) { sequentialDownload } \
             setForceStart(hashes: $h, enabled: false) { forceStart } }",
            json!({ "h": [first, second] }),
        )
        .await;
    data(&answer);
    for torrent in in_qbittorrent(&[&first, &second]).await {
        assert!(!torrent.seq_dl && !torrent.force_start, "{}", torrent.hash);
    }
}

#[tokio::test]
async fn speed_and_share_limits_are_set_and_checked() {
    let app = app().await;
    let hash = app.add_paused_magnet("limits").await;
    let answer = app
        .graphql(
            "mutation($h: [String!]!) { setTorrentSpeedLimits(hashes: $h, downloadLimit: 102400, uploadLimit: 51200) { downloadLimit uploadLimit } }",
            json!({ "h": [hash] }),
        )
        .await;
    assert_eq!(
        data(&answer)["setTorrentSpeedLimits"][0],
        json!({ "downloadLimit": 102400, "uploadLimit": 51200 })
    );
    let torrent = one_in_qbittorrent(&hash).await;
    assert_eq!((torrent.dl_limit, torrent.up_limit), (102_400, 51_200));
    let answer = app
        .graphql(
            "mutation($h: [String!]!) { setTorrentSpeedLimits(hashes: $h, downloadLimit: 0) { downloadLimit uploadLimit } }",
            json!({ "h": [hash] }),
        )
        .await;
    assert_eq!(
        data(&answer)["setTorrentSpeedLimits"][0],
        json!({ "downloadLimit": null, "uploadLimit": 51200 }),
        "0 takes the limit off; the other stays"
    );

    let has_inactive_limit = Qbittorrent::shared().version == Version::V5_1;
    let inactive = if has_inactive_limit {
        "inactiveSeedingTime: { mode: LIMITED, minutes: 30 }"
    } else {
        ""
    };
    let query = format!(
        "mutation($h: [String!]!) {{ setTorrentShareLimits(hashes: $h, limits: {{ \
         ratio: {{ mode: LIMITED, ratio: 1.5 }}, seedingTime: {{ mode: UNLIMITED }} {inactive} }}) \
         {{ shareLimits {{ ratio {{ mode ratio }} seedingTime {{ mode minutes }} inactiveSeedingTime {{ mode minutes }} }} }} }}"
    );
    let answer = app.graphql(&query, json!({ "h": [hash] })).await;
    let limits = &data(&answer)["setTorrentShareLimits"][0]["shareLimits"];
    assert_eq!(limits["ratio"], json!({ "mode": "LIMITED", "ratio": 1.5 }));
    assert_eq!(
        limits["seedingTime"],
        json!({ "mode": "UNLIMITED", "minutes": null })
    );
    let torrent = one_in_qbittorrent(&hash).await;
    assert!(
        (torrent.ratio_limit - 1.5).abs() < 0.01,
        "{}",
        torrent.ratio_limit
    );
    assert_eq!(torrent.seeding_time_limit, -1);
    if has_inactive_limit {
        assert_eq!(torrent.inactive_seeding_time_limit, Some(30));
        assert_eq!(
            limits["inactiveSeedingTime"],
            json!({ "mode": "LIMITED", "minutes": 30 })
        );
    } else {
        assert_eq!(limits["inactiveSeedingTime"], Value::Null);
        let refused = app
            .graphql(
                "mutation($h: [String!]!) { setTorrentShareLimits(hashes: $h, limits: { inactiveSeedingTime: { mode: UNLIMITED } }) { hash } }",
                json!({ "h": [hash] }),
            )
            .await;
        assert_eq!(error_at(&refused, 0).0, "BAD_USER_INPUT", "{refused}");
        assert!(
            refused["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("4.6"),
            "{refused}"
        );
    }

    for limits in [
        "{ ratio: { mode: LIMITED } }",
        "{ ratio: { mode: GLOBAL, ratio: 2 } }",
        "{ ratio: { mode: LIMITED, ratio: 10000 } }",
        "{ seedingTime: { mode: LIMITED, minutes: -5 } }",
    ] {
        let answer = app
            .graphql(
                &format!("mutation($h: [String!]!) {{ setTorrentShareLimits(hashes: $h, limits: {limits}) {{ hash }} }}"),
                json!({ "h": [hash] }),
            )
            .await;
        assert_eq!(
            error_at(&answer, 0).0,
            "BAD_USER_INPUT",
            "{limits}: {answer}"
        );
    }
}

#[tokio::test]
async fn super_seeding_takes_complete_torrents_and_refuses_the_rest() {
    let app = app().await;
    let (complete, _) = add_complete(app, "super seed").await;
    let incomplete = app.add_paused_magnet("not complete").await;
    let answer = app
        .graphql(
            "mutation($h: [String!]!) { setSuperSeeding(hashes: $h, enabled: true) { superSeeding } }",
            json!({ "h": [complete, incomplete] }),
        )
        .await;
    assert_eq!(
        answer["data"]["setSuperSeeding"],
        json!([{ "superSeeding": true }, null]),
        "{answer}"
    );
    assert_eq!(
        error_at(&answer, 0),
        ("BAD_USER_INPUT", &json!(["setSuperSeeding", 1]))
    );
    assert!(one_in_qbittorrent(&complete).await.super_seeding);
}

#[tokio::test]
async fn a_moved_torrent_has_its_files_at_the_new_path() {
    let app = app().await;
    let (hash, old) = add_complete(app, "moving").await;
    let new = new_folder();
    let answer = app
        .graphql(
            "mutation($h: [String!]!, $p: String!) { moveTorrents(hashes: $h, savePath: $p) { savePath } }",
            json!({ "h": [hash], "p": new.to_string_lossy() }),
        )
        .await;
    let shown = data(&answer)["moveTorrents"][0]["savePath"]
        .as_str()
        .expect("a save path")
        .to_owned();
    assert_eq!(PathBuf::from(shown), new);
    assert_eq!(
        PathBuf::from(one_in_qbittorrent(&hash).await.save_path),
        new
    );
    common::eventually(
        "the files at the new path",
        Duration::from_secs(10),
        || async {
            (new.join("moving/a.bin").is_file() && !old.join("moving/a.bin").exists()).then_some(())
        },
    )
    .await;

    let outside = app
        .graphql(
            "mutation($h: [String!]!) { moveTorrents(hashes: $h, savePath: \"/etc\") { savePath } }",
            json!({ "h": [hash] }),
        )
        .await;
    assert_eq!(error_at(&outside, 0).0, "BAD_USER_INPUT", "{outside}");
    assert_eq!(
        PathBuf::from(one_in_qbittorrent(&hash).await.save_path),
        new
    );
}

#[tokio::test]
async fn a_recheck_finds_missing_data() {
    let app = app().await;
    let (hash, dir) = add_complete(app, "rechecked").await;
    std::fs::remove_file(dir.join("rechecked/a.bin")).expect("remove a file");
    let answer = app
        .graphql(
            "mutation($h: [String!]!) { recheckTorrents(hashes: $h) { hash } }",
            json!({ "h": [hash] }),
        )
        .await;
    assert_eq!(data(&answer)["recheckTorrents"][0]["hash"], hash.as_str());
    common::eventually(
        "the recheck to find data missing",
        Duration::from_secs(20),
        || async { (one_in_qbittorrent(&hash).await.progress < 0.5).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn rename_shows_the_new_name_and_refuses_an_empty_one() {
    let app = app().await;
    let hash = app.add_paused_magnet("old name").await;
    let rename =
        "mutation($h: String!, $n: String!) { renameTorrent(hash: $h, name: $n) { name } }";
    let answer = app
        .graphql(rename, json!({ "h": hash, "n": " New name " }))
        .await;
    assert_eq!(data(&answer)["renameTorrent"]["name"], "New name");
    assert_eq!(one_in_qbittorrent(&hash).await.name, "New name");
    let empty = app.graphql(rename, json!({ "h": hash, "n": "  " })).await;
    assert_eq!(error_at(&empty, 0).0, "BAD_USER_INPUT", "{empty}");
    let unknown = app
        .graphql(rename, json!({ "h": random_hash().to_string(), "n": "x" }))
        .await;
    assert_eq!(error_at(&unknown, 0).0, "NOT_FOUND", "{unknown}");
}

#[tokio::test]
async fn delete_many_removes_each_and_reports_an_unknown_hash_alone() {
    let app = app().await;
    let (with_data, dir) = add_complete(app, "deleted").await;
    let magnet = app.add_paused_magnet("deleted magnet").await;
    let unknown = random_hash().to_string();
    let answer = app
        .graphql(
            "mutation($h: [String!]!) { deleteTorrents(hashes: $h, deleteFiles: true) { hash deletedFiles } }",
            json!({ "h": [with_data, unknown, magnet] }),
        )
        .await;
    assert_eq!(
        answer["data"]["deleteTorrents"],
        json!([
            { "hash": with_data, "deletedFiles": true },
            null,
            { "hash": magnet, "deletedFiles": true },
        ]),
        "{answer}"
    );
    assert_eq!(
        error_at(&answer, 0),
        ("NOT_FOUND", &json!(["deleteTorrents", 1]))
    );
    assert!(in_qbittorrent(&[&with_data, &magnet]).await.is_empty());
    common::eventually("the data deleted", Duration::from_secs(10), || async {
        (!dir.join("deleted/a.bin").exists()).then_some(())
    })
    .await;
}

/// Queue places need torrent queueing: one qBittorrent with it on (its
/// default) and one with it off, each of this test's own, as the queue
/// is global.
#[tokio::test]
async fn the_queue_moves_when_queueing_is_on_and_says_so_when_off() {
    let queued = Qbittorrent::start(Options::default()).await;
    let app = TestApp::start(&queued).await;
    let hashes = [
        app.add_paused_magnet("queue one").await,
        app.add_paused_magnet("queue two").await,
        app.add_paused_magnet("queue three").await,
    ];
    let move_to = "mutation($h: [String!]!, $to: QueueMoveTo!) { moveTorrentsInQueue(hashes: $h, to: $to) { hash queuePosition } }";
    // qBittorrent shows queue places with its next status refresh.
    common::eventually("queue places", Duration::from_secs(5), || async {
        let answer = app
            .graphql(
                "query($h: [String!]) { torrents(hashes: $h) { nodes { queuePosition } } }",
                json!({ "h": hashes }),
            )
            .await;
        data(&answer)["torrents"]["nodes"]
            .as_array()
            .expect("torrents")
            .iter()
            .all(|torrent| torrent["queuePosition"].is_i64())
            .then_some(())
    })
    .await;
    let answer = app
        .graphql(move_to, json!({ "h": [hashes[2]], "to": "TOP" }))
        .await;
    assert_eq!(
        data(&answer)["moveTorrentsInQueue"][0]["queuePosition"],
        1,
        "the answer waits for qBittorrent to show the new place"
    );
    let client = queued.client();
    let hash: InfoHash = hashes[2].parse().expect("hash");
    let shown = client.torrent(hash).await.expect("listed").expect("there");
    assert_eq!(shown.priority, 1);

    let answer = app
        .graphql(move_to, json!({ "h": [hashes[2]], "to": "DOWN" }))
        .await;
    assert_eq!(data(&answer)["moveTorrentsInQueue"][0]["queuePosition"], 2);

    let unqueued = Qbittorrent::start(Options {
        queueing_off: true,
        ..Options::default()
    })
    .await;
    let app = TestApp::start(&unqueued).await;
    let hash = app.add_paused_magnet("no queue").await;
    let answer = app
        .graphql(move_to, json!({ "h": [hash], "to": "TOP" }))
        .await;
    assert_eq!(error_at(&answer, 0).0, "BAD_USER_INPUT", "{answer}");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("queueing is off"),
        "{answer}"
    );
}

/// Adds a two-file torrent whose data is not there (so nothing is
/// complete), paused; its hash.
async fn add_incomplete(app: &TestApp, name: &str) -> String {
    let made = make_torrent(&new_folder(), name, &[("a.bin", 40_000), ("b/c.bin", 5000)]);
    add_file(app, made.bytes, Some(&new_folder()), true).await
}

/// The torrent's files as qBittorrent lists them: (name, priority) by
/// index.
async fn files_in_qbittorrent(hash: &str) -> Vec<(String, i64)> {
    let files = Qbittorrent::shared()
        .client()
        .files(hash.parse().expect("a hash"))
        .await
        .expect("qBittorrent lists the files");
    files
        .into_iter()
        .map(|file| (file.name, file.priority))
        .collect()
}

#[tokio::test]
async fn file_priorities_are_set_for_many_files_and_shown_in_the_tree() {
    let app = app().await;
    let hash = add_incomplete(app, "tree").await;
    let files = files_in_qbittorrent(&hash).await;
    let index_of = |name: &str| {
        files
            .iter()
            .position(|(file, _)| file == name)
            .unwrap_or_else(|| panic!("{name} in {files:?}"))
    };
    let (a, c) = (index_of("tree/a.bin"), index_of("tree/b/c.bin"));

    let set = "mutation($h: String!, $i: [Int!]!, $p: FilePriority!) { setFilePriority(hash: $h, indexes: $i, priority: $p) { index name priority } }";
    let answer = app
        .graphql(set, json!({ "h": hash, "i": [c], "p": "SKIP" }))
        .await;
    let answered = data(&answer)["setFilePriority"]
        .as_array()
        .expect("files")
        .clone();
    assert!(answered.contains(&json!({ "index": c, "name": "tree/b/c.bin", "priority": "SKIP" })));
    let shown = files_in_qbittorrent(&hash).await;
    assert_eq!((shown[c].1, shown[a].1), (0, 1), "{shown:?}");

    let answer = app
        .graphql(set, json!({ "h": hash, "i": [a, c], "p": "MAXIMUM" }))
        .await;
    data(&answer);
    let shown = files_in_qbittorrent(&hash).await;
    assert_eq!((shown[c].1, shown[a].1), (7, 7), "{shown:?}");
    app.graphql(set, json!({ "h": hash, "i": [c], "p": "HIGH" }))
        .await;

    let tree = app
        .graphql(
            "query($h: String!) { torrent(hash: $h) { fileTree { path name depth index size priority } } }",
            json!({ "h": hash }),
        )
        .await;
    assert_eq!(
        data(&tree)["torrent"]["fileTree"],
        json!([
            { "path": "tree", "name": "tree", "depth": 0, "index": null, "size": 45000, "priority": null },
            { "path": "tree/b", "name": "b", "depth": 1, "index": null, "size": 5000, "priority": "HIGH" },
            { "path": "tree/b/c.bin", "name": "c.bin", "depth": 2, "index": c, "size": 5000, "priority": "HIGH" },
            { "path": "tree/a.bin", "name": "a.bin", "depth": 1, "index": a, "size": 40000, "priority": "MAXIMUM" },
        ])
    );

    let unknown = app
        .graphql(set, json!({ "h": hash, "i": [a, 99], "p": "SKIP" }))
        .await;
    assert_eq!(error_at(&unknown, 0).0, "BAD_USER_INPUT", "{unknown}");
    assert!(
        unknown["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("99")
    );
    assert_eq!(files_in_qbittorrent(&hash).await[a].1, 7, "nothing changed");
    let out_of_range = app
        .graphql(set, json!({ "h": hash, "i": [a], "p": "LOUD" }))
        .await;
    assert_eq!(
        error_at(&out_of_range, 0).0,
        "BAD_USER_INPUT",
        "{out_of_range}"
    );
}

#[tokio::test]
async fn files_and_folders_are_renamed_inside_the_torrent() {
    let app = app().await;
    let hash = add_incomplete(app, "names").await;
    let file = "mutation($h: String!, $p: String!, $n: String!) { renameTorrentFile(hash: $h, path: $p, newPath: $n) { name } }";
    let folder = "mutation($h: String!, $p: String!, $n: String!) { renameTorrentFolder(hash: $h, path: $p, newPath: $n) { name } }";

    let answer = app
        .graphql(
            file,
            json!({ "h": hash, "p": "names/a.bin", "n": "names/renamed.bin" }),
        )
        .await;
    data(&answer);
    let answer = app
        .graphql(
            folder,
            json!({ "h": hash, "p": "names/b", "n": "names/sub" }),
        )
        .await;
    let names: Vec<&str> = data(&answer)["renameTorrentFolder"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|file| file["name"].as_str())
        .collect();
    assert!(names.contains(&"names/sub/c.bin"), "{names:?}");
    let shown: Vec<String> = files_in_qbittorrent(&hash)
        .await
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert!(
        shown.contains(&"names/renamed.bin".to_owned())
            && shown.contains(&"names/sub/c.bin".to_owned()),
        "{shown:?}"
    );

    for (query, path, new_path) in [
        (file, "names/renamed.bin", ""),
        (file, "names/renamed.bin", "../escape.bin"),
        (file, "names/missing.bin", "names/x.bin"),
        (file, "names/renamed.bin", "names/sub/c.bin"),
        (folder, "names/none", "names/x"),
    ] {
        let answer = app
            .graphql(query, json!({ "h": hash, "p": path, "n": new_path }))
            .await;
        assert_eq!(
            error_at(&answer, 0).0,
            "BAD_USER_INPUT",
            "{path} -> {new_path}: {answer}"
        );
    }
}

#[tokio::test]
async fn trackers_are_added_edited_and_removed() {
    let app = app().await;
    let hash = app.add_paused_magnet("trackers").await;
    let (http, udp, edited) = (
        "http://127.0.0.1:9/announce",
        "udp://127.0.0.1:9/announce",
        "https://127.0.0.1:10/announce",
    );
    let in_qbittorrent = || async {
        let trackers = Qbittorrent::shared()
            .client()
            .trackers(hash.parse().expect("a hash"))
            .await
            .expect("qBittorrent lists trackers");
        let mut urls: Vec<String> = trackers
            .into_iter()
            .map(|tracker| tracker.url)
            .filter(|url| !url.starts_with("** ["))
            .collect();
        // In qBittorrent's order, which is not the order added.
        urls.sort();
        urls
    };

    let answer = app
        .graphql(
            "mutation($h: String!, $u: [String!]!) { addTrackers(hash: $h, urls: $u) { url status tier } }",
            json!({ "h": hash, "u": [http, udp] }),
        )
        .await;
    let mut urls: Vec<&str> = data(&answer)["addTrackers"]
        .as_array()
        .expect("trackers")
        .iter()
        .filter_map(|tracker| tracker["url"].as_str())
        .collect();
    urls.sort_unstable();
    assert_eq!(urls, [http, udp]);
    assert_eq!(in_qbittorrent().await, [http, udp]);

    let answer = app
        .graphql(
            "mutation($h: String!, $u: String!, $n: String!) { editTracker(hash: $h, url: $u, newUrl: $n) { url } }",
            json!({ "h": hash, "u": http, "n": edited }),
        )
        .await;
    data(&answer);
    assert_eq!(in_qbittorrent().await, [edited, udp]);

    let remove =
        "mutation($h: String!, $u: [String!]!) { removeTrackers(hash: $h, urls: $u) { url } }";
    let answer = app.graphql(remove, json!({ "h": hash, "u": [udp] })).await;
    assert_eq!(data(&answer)["removeTrackers"], json!([{ "url": edited }]));
    assert_eq!(in_qbittorrent().await, [edited]);

    let listed = app
        .graphql(
            "query($h: String!) { torrent(hash: $h) { trackers { url status tier peers message } } }",
            json!({ "h": hash }),
        )
        .await;
    let trackers = &data(&listed)["torrent"]["trackers"];
    assert_eq!(trackers[0]["url"], edited);
    assert_eq!(
        trackers.as_array().map(Vec::len),
        Some(1),
        "no DHT/PeX/LSD rows"
    );

    for (query, variables) in [
        (
            "mutation($h: String!, $u: [String!]!) { addTrackers(hash: $h, urls: $u) { url } }",
            json!({ "h": hash, "u": ["ftp://127.0.0.1/announce"] }),
        ),
        (remove, json!({ "h": hash, "u": [udp] })),
        (
            "mutation($h: String!, $u: String!, $n: String!) { editTracker(hash: $h, url: $u, newUrl: $n) { url } }",
            json!({ "h": hash, "u": edited, "n": "not a url" }),
        ),
    ] {
        let answer = app.graphql(query, variables.clone()).await;
        assert_eq!(
            error_at(&answer, 0).0,
            "BAD_USER_INPUT",
            "{variables}: {answer}"
        );
    }
    assert_eq!(
        in_qbittorrent().await,
        [edited],
        "refused changes change nothing"
    );
}

/// Preferences are global: this test has a qBittorrent of its own.
#[tokio::test]
async fn transfer_state_speed_modes_and_preferences_as_qbittorrent_shows_them() {
    let qbittorrent = Qbittorrent::start(Options::default()).await;
    let app = TestApp::start(&qbittorrent).await;
    let client = qbittorrent.client();
    let transfer = "{ transfer { connectionStatus freeDiskSpace allTimeDownloaded downloadLimit alternativeSpeedLimits dhtNodes } }";
    let state = common::eventually(
        "a synced transfer state",
        Duration::from_secs(10),
        || async {
            let answer = app.graphql(transfer, json!({})).await;
            let state = data(&answer)["transfer"].clone();
            state["freeDiskSpace"].is_u64().then_some(state)
        },
    )
    .await;
    assert!(state["freeDiskSpace"].as_u64() > Some(0), "{state}");
    assert_eq!(state["alternativeSpeedLimits"], false);
    assert_eq!(state["downloadLimit"], Value::Null);
    assert_eq!(state["dhtNodes"], 0, "DHT is off in test profiles");

    let mut updates = common::subscriber::Subscriber::start(
        &app.ws_url(),
        common::subscriber::Protocol::GraphqlTransportWs,
        json!({ "authorization": format!("Bearer {}", common::app::admin_token()) }),
        "subscription { transferUpdates { snapshot changed transfer { ... on Transfer { alternativeSpeedLimits } } } }",
        1,
    );
    let first = updates.next_of("next", Duration::from_secs(10)).await;
    let first = &first["payload"]["data"]["transferUpdates"];
    assert_eq!(first["snapshot"], true, "{first}");
    assert_eq!(
        first["transfer"]["alternativeSpeedLimits"], false,
        "{first}"
    );

    let default_save_path = new_folder_in(&qbittorrent);
    let has_inactive_limit = qbittorrent.version == Version::V5_1;
    let answer = app
        .graphql(
            "mutation($p: String!) { setPreferences(input: { defaultSavePath: $p, downloadLimit: 102400, uploadLimit: 51200, \
             alternativeDownloadLimit: 20480, alternativeUploadLimit: 10240, ratioLimit: 2.5, seedingTimeLimit: 120, \
             maxActiveDownloads: 5, maxActiveTorrents: null, queueing: true }) \
             { defaultSavePath downloadLimit alternativeDownloadLimit ratioLimit seedingTimeLimit maxActiveDownloads maxActiveTorrents hasInactiveSeedingTimeLimit } }",
            json!({ "p": default_save_path.to_string_lossy() }),
        )
        .await;
    let answered = &data(&answer)["setPreferences"];
    assert_eq!(answered["downloadLimit"], 102_400, "{answered}");
    assert_eq!(answered["maxActiveTorrents"], Value::Null);
    assert_eq!(answered["hasInactiveSeedingTimeLimit"], has_inactive_limit);
    let shown = client.preferences().await.expect("preferences");
    assert_eq!(PathBuf::from(&shown.save_path), default_save_path);
    assert_eq!(
        (
            shown.dl_limit,
            shown.up_limit,
            shown.alt_dl_limit,
            shown.alt_up_limit
        ),
        (102_400, 51_200, 20_480, 10_240)
    );
    assert!(shown.max_ratio_enabled && (shown.max_ratio - 2.5).abs() < 1e-9);
    assert!(shown.max_seeding_time_enabled && shown.max_seeding_time == 120);
    assert_eq!(
        (shown.max_active_downloads, shown.max_active_torrents),
        (5, -1)
    );
    assert_eq!(
        client
            .transfer_info()
            .await
            .expect("transfer info")
            .dl_rate_limit,
        102_400,
        "qBittorrent applies the limit in bytes per second"
    );

    // The mirror has synced the new global limit: a change of a field the
    // subscription does not select, so it sent nothing.
    common::eventually(
        "the mirror to sync the new limit",
        Duration::from_secs(10),
        || async {
            let answer = app
                .graphql("{ transfer { downloadLimit } }", json!({}))
                .await;
            (data(&answer)["transfer"]["downloadLimit"] == 102_400).then_some(())
        },
    )
    .await;
    let answer = app
        .graphql(
            "mutation { setAlternativeSpeedLimits(enabled: true) { alternativeSpeedLimits downloadLimit uploadLimit } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&answer)["setAlternativeSpeedLimits"],
        json!({ "alternativeSpeedLimits": true, "downloadLimit": 20480, "uploadLimit": 10240 })
    );
    assert!(client.alternative_speed_limits().await.expect("mode"));
    // Events come with syncs, and only for the two fields selected: the
    // new global limit, then the switch (or both at once).
    // The next event is the switch: it changed the limit in force too.
    let switched = updates.next_of("next", Duration::from_secs(10)).await;
    let switched = &switched["payload"]["data"]["transferUpdates"];
    assert_eq!(switched["snapshot"], false, "{switched}");
    assert_eq!(
        switched["transfer"]["alternativeSpeedLimits"], true,
        "{switched}"
    );
    let changed = switched["changed"].as_array().expect("changed");
    assert!(
        changed.contains(&json!("ALTERNATIVE_SPEED_LIMITS"))
            && changed.contains(&json!("DOWNLOAD_LIMIT")),
        "{switched}"
    );
    let answer = app
        .graphql(
            "mutation { a: setAlternativeSpeedLimits(enabled: false) { alternativeSpeedLimits } \
             b: setAlternativeSpeedLimits(enabled: false) { alternativeSpeedLimits } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&answer)["b"]["alternativeSpeedLimits"],
        false,
        "asking twice does not toggle back"
    );
    assert!(!client.alternative_speed_limits().await.expect("mode"));

    let answer = app
        .graphql("mutation { setPreferences(input: { ratioLimit: null, downloadLimit: 0 }) { ratioLimit downloadLimit } }", json!({}))
        .await;
    assert_eq!(
        data(&answer)["setPreferences"],
        json!({ "ratioLimit": null, "downloadLimit": null })
    );
    let shown = client.preferences().await.expect("preferences");
    assert!(!shown.max_ratio_enabled && shown.dl_limit == 0);

    let inactive = app
        .graphql("mutation { setPreferences(input: { inactiveSeedingTimeLimit: 30 }) { inactiveSeedingTimeLimit } }", json!({}))
        .await;
    if has_inactive_limit {
        assert_eq!(
            data(&inactive)["setPreferences"]["inactiveSeedingTimeLimit"],
            30
        );
        let shown = client.preferences().await.expect("preferences");
        assert_eq!(shown.max_inactive_seeding_time, Some(30));
    } else {
        assert_eq!(error_at(&inactive, 0).0, "BAD_USER_INPUT", "{inactive}");
    }

    for input in [
        "{ ratioLimit: 10000 }",
        "{ seedingTimeLimit: -3 }",
        "{ maxActiveDownloads: -5 }",
        "{ defaultSavePath: \"/etc\" }",
    ] {
        let answer = app
            .graphql(
                &format!("mutation {{ setPreferences(input: {input}) {{ ratioLimit }} }}"),
                json!({}),
            )
            .await;
        assert_eq!(
            error_at(&answer, 0).0,
            "BAD_USER_INPUT",
            "{input}: {answer}"
        );
    }
    assert_eq!(
        PathBuf::from(client.preferences().await.expect("preferences").save_path),
        default_save_path,
        "refused changes change nothing"
    );
}

/// A folder of its own under `qbittorrent`'s save path.
fn new_folder_in(qbittorrent: &Qbittorrent) -> PathBuf {
    let dir = qbittorrent.save_path.join(random_hash().to_string());
    std::fs::create_dir_all(&dir).expect("a folder");
    dir
}

#[tokio::test]
async fn web_seeds_and_piece_states_are_as_qbittorrent_lists_them() {
    let app = app().await;
    let web_seed = "http://127.0.0.1:9/seeds/";
    let made = common::torrents::make_torrent_with_web_seeds(
        &new_folder(),
        "webseeded",
        &[("a.bin", 40_000), ("b.bin", 9000)],
        &[web_seed],
    );
    let hash = add_file(app, made.bytes, Some(&new_folder()), true).await;
    let query = "query($h: String!) { torrent(hash: $h) { webSeeds pieceStates } }";
    let answer = app.graphql(query, json!({ "h": hash })).await;
    assert_eq!(data(&answer)["torrent"]["webSeeds"], json!([web_seed]));
    // qBittorrent knows the pieces once it has checked the (missing)
    // data; a torrent without a web seed, so none is being fetched.
    let missing = add_incomplete(app, "pieces").await;
    let answer = app
        .graphql(
            "mutation($h: [String!]!) { setForceStart(hashes: $h, enabled: true) { hash } }",
            json!({ "h": [missing] }),
        )
        .await;
    data(&answer);
    // 45,000 bytes in pieces of 16 KiB: three, none there.
    common::eventually("three missing pieces", Duration::from_secs(10), || async {
        let answer = app.graphql(query, json!({ "h": missing })).await;
        (data(&answer)["torrent"]["pieceStates"] == "000").then_some(())
    })
    .await;

    let (complete, _) = add_complete(app, "all pieces").await;
    // 45,000 bytes: three pieces, all downloaded.
    common::eventually("three pieces there", Duration::from_secs(10), || async {
        let answer = app.graphql(query, json!({ "h": complete })).await;
        let torrent = &data(&answer)["torrent"];
        (torrent["pieceStates"] == "222" && torrent["webSeeds"] == json!([])).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_torrent_file_is_added_with_only_the_chosen_files() {
    let app = app().await;
    let add = r#"mutation($file: Upload!, $dir: String, $files: FileSelectionInput, $paused: Boolean) {
        addTorrent(input: { file: $file, savePath: $dir, files: $files, paused: $paused }) {
            hash torrent { state fileSelectionPending files { index name priority } } } }"#;
    let made = make_torrent(
        &new_folder(),
        "chosen",
        &[("a.mkv", 40_000), ("b.nfo", 5000)],
    );
    let response = app
        .upload(
            add,
            json!({ "file": null, "dir": new_folder().to_string_lossy(), "files": { "globs": ["*.MKV"] }, "paused": false }),
            "file",
            made.bytes,
        )
        .await;
    let answer: Value = response.json().await.expect("JSON");
    let torrent = &data(&answer)["addTorrent"]["torrent"];
    assert_eq!(
        torrent["fileSelectionPending"], false,
        "a .torrent's files are chosen at once"
    );
    assert!(
        !torrent["state"]
            .as_str()
            .unwrap_or_default()
            .starts_with("PAUSED"),
        "started once its files were chosen: {torrent}"
    );
    let hash = data(&answer)["addTorrent"]["hash"]
        .as_str()
        .expect("hash")
        .to_owned();
    let shown = files_in_qbittorrent(&hash).await;
    assert!(
        shown.contains(&("chosen/a.mkv".to_owned(), 1))
            && shown.contains(&("chosen/b.nfo".to_owned(), 0)),
        "{shown:?}"
    );

    for (files, why) in [
        (json!({ "globs": ["*.iso"] }), "none of the 2 files"),
        (json!({ "indexes": [7] }), "index 7"),
        (json!({ "globs": ["[oops"] }), "not valid"),
        (json!({}), "at least one file"),
    ] {
        let made = make_torrent(
            &new_folder(),
            "refused",
            &[("a.mkv", 1000), ("b.nfo", 1000)],
        );
        let hash = made.hash.to_string();
        let response = app
            .upload(
                add,
                json!({ "file": null, "files": files, "paused": true }),
                "file",
                made.bytes,
            )
            .await;
        let answer: Value = response.json().await.expect("JSON");
        assert_eq!(
            error_at(&answer, 0).0,
            "BAD_USER_INPUT",
            "{files}: {answer}"
        );
        assert!(
            answer["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(why),
            "{answer}"
        );
        common::eventually("nothing left behind", Duration::from_secs(5), || async {
            in_qbittorrent(&[&hash]).await.is_empty().then_some(())
        })
        .await;
    }
}

#[tokio::test]
async fn a_preview_numbers_the_files_as_qbittorrent_does_once_added() {
    let app = app().await;
    let preview = r#"mutation($file: Upload) { previewTorrent(input: { file: $file }) {
        hash name size files { index path size } existing { hash } } }"#;
    let made = make_torrent(
        &new_folder(),
        "previewed",
        &[
            ("z/last.mkv", 7000),
            ("a.nfo", 100),
            ("m/n/middle.bin", 3000),
        ],
    );
    let response = app
        .upload(preview, json!({ "file": null }), "file", made.bytes.clone())
        .await;
    let answer: Value = response.json().await.expect("JSON");
    let before = data(&answer)["previewTorrent"].clone();
    assert_eq!(before["hash"], made.hash.to_string());
    assert_eq!(before["size"], 10_100);
    assert_eq!(before["existing"], Value::Null);

    let hash = add_file(app, made.bytes.clone(), None, true).await;
    let shown: Vec<Value> = Qbittorrent::shared()
        .client()
        .files(hash.parse().expect("hash"))
        .await
        .expect("qBittorrent lists the files")
        .into_iter()
        .map(|file| json!({ "index": file.index, "path": file.name, "size": file.size }))
        .collect();
    assert_eq!(
        before["files"],
        json!(shown),
        "the preview's numbering is qBittorrent's"
    );

    let response = app
        .upload(preview, json!({ "file": null }), "file", made.bytes)
        .await;
    let answer: Value = response.json().await.expect("JSON");
    assert_eq!(
        data(&answer)["previewTorrent"]["existing"]["hash"],
        hash.as_str()
    );

    let magnet = app
        .graphql(
            "mutation($m: String!) { previewTorrent(input: { magnet: $m }) { name files { index } existing { hash } } }",
            json!({ "m": format!("magnet:?xt=urn:btih:{}&dn=Unknown%20yet", random_hash()) }),
        )
        .await;
    assert_eq!(
        data(&magnet)["previewTorrent"],
        json!({ "name": "Unknown yet", "files": null, "existing": null })
    );
}

/// A fake HTTP tracker on 127.0.0.1 hears the torrent start, then one more
/// announce on `reannounceTorrents`. It asks for announces an hour apart
/// (and allows them at any time), so only the reannounce explains the
/// second one. The test has a qBittorrent of its own: on the shared one
/// the other tests' torrents fill the download queue, and a queued
/// torrent does not announce.
#[tokio::test]
async fn a_reannounce_reaches_the_tracker_and_an_unknown_torrent_is_not_found() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let tracker = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/announce"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_bytes(b"d8:intervali3600e12:min intervali0e5:peers0:e".to_vec()),
        )
        .mount(&tracker)
        .await;
    // Announces by their `event`: `started` first (one per listening
    // address), none for a reannounce.
    let announces = async |started: bool| {
        tracker
            .received_requests()
            .await
            .expect("requests are recorded")
            .iter()
            .filter(|request| {
                request
                    .url
                    .query_pairs()
                    .any(|(key, value)| key == "event" && value == "started")
                    == started
            })
            .count()
    };

    let qbittorrent = Qbittorrent::start(Options::default()).await;
    let app = TestApp::start(&qbittorrent).await;
    let (hash, magnet) = common::torrents::random_magnet("announced");
    let magnet = format!("{magnet}&tr={}/announce", tracker.uri());
    let answer = app
        .graphql(
            "mutation($m: String!) { addTorrent(input: { magnet: $m }) { hash } }",
            json!({ "m": magnet }),
        )
        .await;
    assert_eq!(data(&answer)["addTorrent"]["hash"], hash.to_string());
    common::eventually("the torrent to announce it started", WAIT, || async {
        (announces(true).await > 0).then_some(())
    })
    .await;
    assert_eq!(announces(false).await, 0, "no announce but the first yet");

    let unknown = random_hash().to_string();
    let answer = app
        .graphql(
            "mutation($h: [String!]!) { reannounceTorrents(hashes: $h) { hash } }",
            json!({ "h": [hash.to_string(), unknown] }),
        )
        .await;
    assert_eq!(
        answer["data"]["reannounceTorrents"],
        json!([{ "hash": hash.to_string() }, null]),
        "{answer}"
    );
    assert_eq!(
        error_at(&answer, 0),
        ("NOT_FOUND", &json!(["reannounceTorrents", 1]))
    );
    common::eventually("the reannounce to reach the tracker", WAIT, || async {
        (announces(false).await > 0).then_some(())
    })
    .await;
}
