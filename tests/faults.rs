//! Upstreams misbehaving under a running torrentql: a real qBittorrent that
//! is slow, refuses connections, cuts answers short, dies during an add or
//! refuses logins, and indexers and Jellyfin that are down or slow. Each
//! gives its documented `extensions.code`, the rest of the request still
//! answers, and torrentql recovers by itself when the upstream does.
//!
//! The faults come from [`FaultProxy`], a TCP proxy between torrentql and
//! the upstream. Behind it, a [`RecordingProxy`] counts what reaches
//! qBittorrent. (Garbage answers are covered in `graphql_api.rs`; slow,
//! failing and bad-key indexers and Jellyfin's error statuses in
//! `search.rs` and `libraries.rs`.)

mod common;

use std::time::{Duration, Instant};

use common::app::{TestApp, data, error_code};
use common::eventually;
use common::fault_proxy::{Fault, FaultProxy};
use common::fixture;
use common::proxy::RecordingProxy;
use common::qbittorrent::{Options, PASSWORD, Qbittorrent};
use common::torrents::{random_hash, random_magnet};
use serde_json::{Value, json};
use torrentql::clients::qbittorrent::{
    LoginRefusal, QbittorrentError, TorrentAction, TorrentFilter,
};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A read whose failing field is nullable, so an error there leaves
/// `viewer` answered beside it.
const READ: &str = "query($h: String!) { viewer { subject } torrent(hash: $h) { hash } }";

const ADD: &str = r#"mutation($input: AddTorrentInput!) {
    addTorrent(input: $input) { hash duplicate torrent { hash name state savePath category } }
}"#;

/// Longer than any `eventually` here needs, short enough to fail fast.
const PATIENCE: Duration = Duration::from_secs(20);

/// torrentql -> fault proxy -> recording proxy -> qBittorrent. The
/// recording proxy also sets the `Host` header qBittorrent expects: it
/// refuses a login whose `Host` names another port than its own.
struct Rig {
    faults: FaultProxy,
    recorder: RecordingProxy,
    app: TestApp,
}

impl Rig {
    async fn start(qbittorrent: &Qbittorrent, extra_toml: &str) -> Self {
        let recorder = RecordingProxy::start(&qbittorrent.url).await;
        let faults = FaultProxy::start(&recorder.url).await;
        let app = TestApp::start_with(&faults.url, qbittorrent, extra_toml).await;
        Self {
            faults,
            recorder,
            app,
        }
    }

    async fn read(&self, hash: &str) -> Value {
        self.app.graphql(READ, json!({ "h": hash })).await
    }

    /// Waits until reads of `hash` answer.
    async fn wait_until_answering(&self, hash: &str) {
        eventually("reads to answer again", PATIENCE, || async {
            let answer = self.read(hash).await;
            (answer.get("errors").is_none() && answer["data"]["torrent"]["hash"] == hash)
                .then_some(())
        })
        .await;
    }

    /// Waits until reads of `hash` come from the mirror: they answer without
    /// a call reaching qBittorrent.
    async fn wait_for_the_mirror(&self, hash: &str) {
        eventually("reads served from the mirror", PATIENCE, || async {
            let calls = self.recorder.count("/api/v2/torrents/info");
            let answer = self.read(hash).await;
            (answer.get("errors").is_none()
                && answer["data"]["torrent"]["hash"] == hash
                && self.recorder.count("/api/v2/torrents/info") == calls)
                .then_some(())
        })
        .await;
    }

    /// Waits until a read of `hash` fails, and returns the answer and how
    /// long it took.
    async fn wait_for_a_failed_read(&self, hash: &str) -> (Value, Duration) {
        eventually("a read to fail", PATIENCE, || async {
            let started = Instant::now();
            let answer = self.read(hash).await;
            answer
                .get("errors")
                .is_some()
                .then(|| (answer, started.elapsed()))
        })
        .await
    }
}

/// Asserts that only `torrent` failed, with `code`, that `viewer` still
/// answered, and that the message gives away no address.
fn assert_only_torrent_failed(answer: &Value, code: &str, ports: &[u16]) {
    let errors = answer["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{answer:#}");
    assert_eq!(errors[0]["path"], json!(["torrent"]), "{answer:#}");
    assert_eq!(error_code(answer), Some(code), "{answer:#}");
    assert_eq!(answer["data"]["viewer"]["subject"], "tester", "{answer:#}");
    assert_eq!(answer["data"]["torrent"], Value::Null, "{answer:#}");
    let message = errors[0]["message"].as_str().expect("message");
    assert!(!message.trim().is_empty(), "{answer:#}");
    assert!(!message.contains("127.0.0.1"), "{message}");
    for port in ports {
        assert!(!message.contains(&port.to_string()), "{message}");
    }
}

fn ports(rig: &Rig, qbittorrent: &Qbittorrent) -> [u16; 3] {
    [
        rig.faults.url.port().expect("port"),
        rig.recorder.url.port().expect("port"),
        qbittorrent.webui_port,
    ]
}

#[tokio::test]
async fn a_qbittorrent_slower_than_the_timeout_is_unavailable_until_it_is_fast_again() {
    let qbittorrent = Qbittorrent::shared();
    let rig = Rig::start(qbittorrent, "[qbittorrent]\ntimeout = \"1s\"\n").await;
    let hash = rig.app.add_paused_magnet("faults-slow").await;

    rig.faults.set(Fault::Delay(Duration::from_secs(3))).await;
    // Reads come from the mirror until its syncs time out too.
    let (answer, took) = rig.wait_for_a_failed_read(&hash).await;
    assert_only_torrent_failed(&answer, "UPSTREAM_UNAVAILABLE", &ports(&rig, qbittorrent));
    assert!(
        took < Duration::from_millis(2500),
        "the 1 s timeout did not bound the read: {took:?}"
    );
    let info = rig
        .app
        .graphql("{ qbittorrent { connected error } }", json!({}))
        .await;
    assert_eq!(data(&info)["qbittorrent"]["connected"], false, "{info}");

    rig.faults.set(Fault::None).await;
    let answer = rig.read(&hash).await;
    assert_eq!(data(&answer)["torrent"]["hash"], hash, "{answer}");
    rig.wait_for_the_mirror(&hash).await;
}

#[tokio::test]
async fn refused_connections_are_unavailable_and_the_mirror_refills_when_they_are_back() {
    let qbittorrent = Qbittorrent::shared();
    let rig = Rig::start(qbittorrent, "").await;
    let hash = rig.app.add_paused_magnet("faults-refused").await;
    rig.wait_for_the_mirror(&hash).await;

    rig.faults.set(Fault::Refuse).await;
    let (answer, took) = rig.wait_for_a_failed_read(&hash).await;
    assert_only_torrent_failed(&answer, "UPSTREAM_UNAVAILABLE", &ports(&rig, qbittorrent));
    assert!(
        took < Duration::from_secs(1),
        "a refused connection took {took:?}"
    );
    // A non-null list field cannot fail alone: the error nulls `data`.
    let list = rig
        .app
        .graphql("{ torrents { nodes { hash } } }", json!({}))
        .await;
    assert_eq!(error_code(&list), Some("UPSTREAM_UNAVAILABLE"), "{list}");

    rig.faults.set(Fault::None).await;
    let answer = rig.read(&hash).await;
    assert_eq!(data(&answer)["torrent"]["hash"], hash, "{answer}");
    rig.wait_for_the_mirror(&hash).await;
    let list = rig
        .app
        .graphql(
            "query($h: [String!]) { torrents(hashes: $h) { nodes { hash } } }",
            json!({ "h": [hash] }),
        )
        .await;
    assert_eq!(data(&list)["torrents"]["nodes"], json!([{ "hash": hash }]));
}

#[tokio::test]
async fn answers_cut_short_are_unavailable_and_torrentql_recovers() {
    let qbittorrent = Qbittorrent::shared();
    let rig = Rig::start(qbittorrent, "").await;
    let hash = rig.app.add_paused_magnet("faults-cut").await;

    // Before the status line, inside the headers, inside the body (the
    // headers take about 500 bytes, one torrent's JSON about 1,000).
    for after in [0, 40, 800] {
        rig.faults.set(Fault::Cut { after }).await;
        let (answer, _) = rig.wait_for_a_failed_read(&hash).await;
        assert_only_torrent_failed(&answer, "UPSTREAM_UNAVAILABLE", &ports(&rig, qbittorrent));

        rig.faults.set(Fault::None).await;
        rig.wait_until_answering(&hash).await;
    }
    rig.wait_for_the_mirror(&hash).await;
}

/// qBittorrent acts on `torrents/add` but its answer is lost on the way,
/// and stays up. The add fails and, as the add flow promises, leaves
/// nothing behind: torrentql removes what qBittorrent added, although
/// qBittorrent may list it only a moment after the failure.
#[tokio::test]
async fn an_add_whose_answer_is_lost_leaves_nothing_behind() {
    let qbittorrent = Qbittorrent::shared();
    let rig = Rig::start(qbittorrent, "").await;
    let (hash, magnet) = random_magnet("faults-lost-answer");
    rig.faults
        .set(Fault::LoseAnswerTo("POST /api/v2/torrents/add "))
        .await;
    let answer = rig
        .app
        .graphql(
            ADD,
            json!({ "input": { "magnet": magnet, "paused": true } }),
        )
        .await;
    assert_eq!(
        error_code(&answer),
        Some("UPSTREAM_UNAVAILABLE"),
        "{answer:#}"
    );
    assert_eq!(answer["errors"][0]["path"], json!(["addTorrent"]));
    assert_eq!(rig.recorder.count("/api/v2/torrents/add"), 1);
    let read = rig.read(&hash.to_string()).await;
    assert_eq!(
        data(&read)["torrent"],
        Value::Null,
        "a read after the failed add"
    );

    rig.faults.set(Fault::None).await;
    // Well past the moment qBittorrent would list it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let listed = qbittorrent
        .client()
        .torrent(hash)
        .await
        .expect("torrents/info");
    assert!(listed.is_none(), "left behind: {listed:?}");
    assert_eq!(
        rig.recorder.count("/api/v2/torrents/delete"),
        1,
        "qBittorrent added it and torrentql removed it again"
    );
}

/// qBittorrent dies after acting on `torrents/add` but before its answer
/// reaches torrentql. The add fails, nothing can be cleaned up, and after
/// the restart the torrent is either absent or whole (name, category,
/// paused), never half there; the same add then completes the job.
#[tokio::test]
async fn qbittorrent_killed_during_an_add_leaves_the_torrent_whole_or_absent() {
    let qbittorrent = Qbittorrent::start(Options::default()).await;
    let rig = Rig::start(&qbittorrent, "").await;
    let (faults, app) = (&rig.faults, &rig.app);
    // Logged in and synced before the fault.
    data(
        &app.graphql("{ torrents { nodes { hash } } }", json!({}))
            .await,
    );

    let (hash, magnet) = random_magnet("faults-killed");
    let input = json!({ "input": {
        "magnet": magnet, "name": "Killed mid-add", "category": "faults-killed", "paused": true,
    } });
    let direct = qbittorrent.client();
    // Each answer is held 1.5 s: time to see the add land and kill
    // qBittorrent before torrentql hears of it.
    faults.set(Fault::Delay(Duration::from_millis(1500))).await;
    let (answer, ()) = tokio::join!(app.graphql(ADD, input.clone()), async {
        eventually("qBittorrent to list the torrent", PATIENCE, || async {
            direct.torrent(hash).await.ok().flatten().map(drop)
        })
        .await;
        // The answer qBittorrent already sent is lost with it.
        faults.set(Fault::Refuse).await;
        qbittorrent.kill();
    });
    assert_eq!(
        error_code(&answer),
        Some("UPSTREAM_UNAVAILABLE"),
        "{answer:#}"
    );
    assert_eq!(answer["errors"][0]["path"], json!(["addTorrent"]));

    qbittorrent.restart().await;
    faults.set(Fault::None).await;
    let query = r#"query($h: String!) {
        torrent(hash: $h) { hash name state savePath category }
        categories { name }
    }"#;
    // qBittorrent loads its torrents in the background after a restart:
    // whether this one survived shows within a few seconds.
    let came_back = tokio::time::timeout(Duration::from_secs(5), async {
        while direct.torrent(hash).await.ok().flatten().is_none() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .is_ok();
    let after_restart = eventually("torrentql to answer again", PATIENCE, || async {
        let answer = app.graphql(query, json!({ "h": hash.to_string() })).await;
        let listed = !answer["data"]["torrent"].is_null();
        (answer.get("errors").is_none() && listed == came_back).then_some(answer)
    })
    .await;
    let torrent = &after_restart["data"]["torrent"];
    if came_back {
        assert_eq!(torrent["name"], "Killed mid-add", "{torrent}");
        assert_eq!(torrent["category"], "faults-killed", "{torrent}");
        assert_eq!(
            torrent["savePath"].as_str().unwrap().trim_end_matches('/'),
            qbittorrent.save_path.display().to_string(),
        );
        let categories = after_restart["data"]["categories"].as_array().unwrap();
        assert!(
            categories.contains(&json!({ "name": "faults-killed" })),
            "the torrent's category is missing: {after_restart}"
        );
        eventually("the torrent to be paused again", PATIENCE, || async {
            let answer = app.graphql(query, json!({ "h": hash.to_string() })).await;
            (answer["data"]["torrent"]["state"] == "PAUSED_DOWNLOADING").then_some(())
        })
        .await;
    }

    let retried = app.graphql(ADD, input).await;
    let added = &data(&retried)["addTorrent"];
    assert_eq!(added["duplicate"], came_back, "{retried}");
    assert_eq!(added["torrent"]["name"], "Killed mid-add");
    assert_eq!(added["torrent"]["category"], "faults-killed");
    assert_eq!(added["torrent"]["state"], "PAUSED_DOWNLOADING");
    let listed = direct
        .torrents(TorrentFilter::All, None, Some(&[hash]))
        .await
        .expect("torrents/info");
    assert_eq!(listed.len(), 1, "{listed:?}");
}

/// qBittorrent starts refusing torrentql's login (here its answer is
/// replaced, so that the same qBittorrent accepted it before). Calls
/// fail as `UPSTREAM_UNAVAILABLE` ("refusing torrentql's credentials", see
/// `AppError`), the password shows nowhere, and torrentql tries once, not
/// on every call, and not again by itself: only when an admin asks.
#[tokio::test]
async fn refused_logins_are_unavailable_without_the_password_or_a_retry_storm() {
    let qbittorrent = Qbittorrent::start(Options::default()).await;
    let rig = Rig::start(&qbittorrent, "").await;
    let hash = random_hash().to_string();
    data(&rig.read(&hash).await);

    // torrentql's session stays valid until the restart: it has no reason
    // to log in again before.
    rig.recorder.clear();
    rig.recorder.replace("/api/v2/auth/login", 200, "Fails.");
    // A restart ends torrentql's session: its next call is answered 403.
    qbittorrent.restart().await;
    let (answer, _) = rig.wait_for_a_failed_read(&hash).await;
    assert_only_torrent_failed(&answer, "UPSTREAM_UNAVAILABLE", &ports(&rig, &qbittorrent));
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("credentials"),
        "{answer}"
    );

    // The poller keeps going and every read fails, without logging in.
    for _ in 0..10 {
        let started = Instant::now();
        let answer = rig
            .app
            .graphql(
                "query($h: String!) { viewer { subject } qbittorrent { connected error } torrent(hash: $h) { hash } }",
                json!({ "h": hash }),
            )
            .await;
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            error_code(&answer),
            Some("UPSTREAM_UNAVAILABLE"),
            "{answer}"
        );
        assert_eq!(answer["data"]["viewer"]["subject"], "tester");
        assert_eq!(answer["data"]["qbittorrent"]["connected"], false);
        assert!(!answer.to_string().contains(PASSWORD), "{answer}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(
        rig.recorder.count("/api/v2/auth/login"),
        1,
        "{:?}",
        rig.recorder.requests()
    );

    // Asking many times at once tries once.
    let aliases: String = (0..5)
        .map(|index| format!("r{index}: retryQbittorrentLogin {{ connected }} "))
        .collect();
    let answer = rig
        .app
        .graphql(&format!("mutation {{ {aliases} }}"), json!({}))
        .await;
    assert_eq!(data(&answer)["r4"]["connected"], false, "{answer}");
    assert_eq!(rig.recorder.count("/api/v2/auth/login"), 2);

    // The password is right again, but torrentql does not find out by
    // itself: every try counts towards qBittorrent's ban.
    rig.recorder.stop_replacing("/api/v2/auth/login");
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        error_code(&rig.read(&hash).await),
        Some("UPSTREAM_UNAVAILABLE")
    );
    assert_eq!(rig.recorder.count("/api/v2/auth/login"), 2);

    // An admin asks, and it logs in at once.
    let retried = rig
        .app
        .graphql(
            "mutation { retryQbittorrentLogin { connected error } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&retried)["retryQbittorrentLogin"],
        json!({ "connected": true, "error": null })
    );
    assert_eq!(rig.recorder.count("/api/v2/auth/login"), 3);
    eventually("reads to answer again", PATIENCE, || async {
        rig.read(&hash).await.get("errors").is_none().then_some(())
    })
    .await;
}

/// The lines of qBittorrent's own log that record a failed WebUI login.
fn failed_logins_logged(qbittorrent: &Qbittorrent) -> Vec<String> {
    let log = qbittorrent
        .profile_dir
        .join("qBittorrent/data/logs/qbittorrent.log");
    std::fs::read_to_string(&log)
        .unwrap_or_else(|error| panic!("{}: {error}", log.display()))
        .lines()
        .filter(|line| line.contains("WebAPI login failure"))
        .map(str::to_owned)
        .collect()
}

/// The WebUI password is changed in qBittorrent (through its own API, then
/// a restart ends torrentql's session): torrentql's old password is
/// refused once and never tried again by itself, however long it waits,
/// so qBittorrent never bans it; the error says what to do.
#[tokio::test]
async fn a_changed_password_is_tried_once_and_never_gets_the_address_banned() {
    let qbittorrent = Qbittorrent::start(Options {
        login_ban: true,
        ..Options::default()
    })
    .await;
    // A one-second window: five windows pass in the wait below.
    let app = TestApp::start_with(
        &qbittorrent.url,
        &qbittorrent,
        "[qbittorrent]\nlogin_retry_after_ban = \"1s\"\n",
    )
    .await;
    let hash = app.add_paused_magnet("faults-password").await;

    qbittorrent.change_password("a-new-password-1234").await;
    qbittorrent.restart().await;
    let status = eventually("the refused login to show", PATIENCE, || async {
        let answer = app
            .graphql("{ qbittorrent { connected error } }", json!({}))
            .await;
        let status = data(&answer)["qbittorrent"].clone();
        (status["connected"] == false).then_some(status)
    })
    .await;
    let error = status["error"].as_str().expect("error");
    assert!(error.contains("username or password is wrong"), "{error}");
    assert!(error.contains("retryQbittorrentLogin"), "{error}");

    tokio::time::sleep(Duration::from_secs(7)).await;
    let failures = failed_logins_logged(&qbittorrent);
    assert_eq!(failures.len(), 1, "{failures:#?}");
    assert!(!failures.iter().any(|line| line.contains("banned")));

    // The right password is back: one retry from an admin is enough.
    qbittorrent.change_password(PASSWORD).await;
    let retried = app
        .graphql(
            "mutation { retryQbittorrentLogin { connected } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&retried)["retryQbittorrentLogin"]["connected"], true);
    let answer = app.graphql(READ, json!({ "h": hash })).await;
    assert_eq!(data(&answer)["torrent"]["hash"], hash);
}

/// Someone else gets 127.0.0.1 banned: torrentql says that the address is
/// banned and for how long qBittorrent bans by default, instead of blaming
/// its password, and its tries during the ban cost nothing.
#[tokio::test]
async fn a_banned_address_is_reported_as_banned() {
    let qbittorrent = Qbittorrent::start(Options {
        login_ban: true,
        ..Options::default()
    })
    .await;
    // Five wrong guesses, each from a client of its own: qBittorrent bans
    // the address at the fifth.
    let intruder = || {
        qbittorrent.client_with(torrentql::clients::qbittorrent::Credentials::Password {
            username: "admin".to_owned(),
            password: "guessing".to_owned().into(),
        })
    };
    for _ in 0..5 {
        let _ = intruder().retry_login().await;
    }
    let banned = intruder().retry_login().await.expect_err("banned");
    assert!(
        matches!(
            banned,
            QbittorrentError::Unauthorized(LoginRefusal::Banned { .. })
        ),
        "{banned:?}"
    );
    let app = TestApp::start_with(
        &qbittorrent.url,
        &qbittorrent,
        "[qbittorrent]\nlogin_retry_after_ban = \"1s\"\n",
    )
    .await;
    let error = eventually("the ban to show", PATIENCE, || async {
        let answer = app
            .graphql("{ qbittorrent { connected error } }", json!({}))
            .await;
        let error = data(&answer)["qbittorrent"]["error"]
            .as_str()
            .map(str::to_owned);
        error.filter(|error| error.contains("banned"))
    })
    .await;
    assert!(error.contains("1 hour"), "{error}");
    assert!(!error.contains("password is wrong"), "{error}");
}

#[tokio::test]
async fn a_search_provider_that_refuses_connections_is_a_failure_until_it_is_back() {
    let apibay = MockServer::start().await;
    Mock::given(path("/q.php"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(fixture("apibay-search-ubuntu.json"), "application/json"),
        )
        .mount(&apibay)
        .await;
    let torznab = MockServer::start().await;
    Mock::given(path("/api"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            fixture("torznab-animetosho.xml"),
            "application/rss+xml; charset=utf-8",
        ))
        .mount(&torznab)
        .await;
    let faults = FaultProxy::start(&apibay.uri().parse().unwrap()).await;
    let toml = format!(
        "[search]\ncache_ttl = \"60s\"\n[search.apibay]\nurl = \"{}\"\ntimeout = \"2s\"\n\
         [[search.torznab]]\nname = \"good\"\nurl = \"{}/api\"\napi_key = \"key\"\ntimeout = \"2s\"\n",
        faults.url,
        torznab.uri()
    );
    let qbittorrent = Qbittorrent::shared();
    let app = TestApp::start_with(&qbittorrent.url, qbittorrent, &toml).await;
    let search = r#"{ viewer { subject } search(query: "ubuntu") {
        results { name providers } failures { provider code message } } }"#;

    faults.set(Fault::Refuse).await;
    let started = Instant::now();
    let down = app.graphql(search, json!({})).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(data(&down)["viewer"]["subject"], "tester");
    let results = data(&down)["search"]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{down:#}");
    let failures = &data(&down)["search"]["failures"];
    assert_eq!(failures.as_array().unwrap().len(), 1, "{down:#}");
    assert_eq!(failures[0]["provider"], "apibay");
    assert_eq!(failures[0]["code"], "UPSTREAM_UNAVAILABLE");
    let port = faults.url.port().unwrap().to_string();
    assert!(!failures[0]["message"].as_str().unwrap().contains(&port));

    // A partial answer is not cached: the same search asks apibay again.
    faults.set(Fault::None).await;
    let back = app.graphql(search, json!({})).await;
    assert_eq!(data(&back)["search"]["failures"], json!([]), "{back:#}");
    let results = data(&back)["search"]["results"].as_array().unwrap();
    assert_eq!(results.len(), 7, "{back:#}");
    assert!(
        results
            .iter()
            .any(|result| result["providers"] == json!(["apibay"])),
        "{back:#}"
    );
}

const JELLYFIN_KEY: &str = "jellyfin-api-key-faults";
const LIBRARIES: &str = "{ viewer { subject } libraries { name staleness } }";

/// A fake Jellyfin with four libraries behind a fault proxy, and an app
/// that caches its list for 10 ms and waits 1 s for it.
async fn jellyfin_behind_faults() -> (MockServer, FaultProxy, TestApp) {
    let jellyfin = common::jellyfin::start().await;
    common::jellyfin::serve_four_libraries(&jellyfin).await;
    let faults = FaultProxy::start(&jellyfin.uri().parse().expect("the fake Jellyfin's URL")).await;
    let toml = format!(
        "[jellyfin]\nurl = \"{}\"\napi_key = \"{JELLYFIN_KEY}\"\ncache_ttl = \"10ms\"\ntimeout = \"1s\"\n",
        common::jellyfin::url(faults.url.as_str())
    );
    let qbittorrent = Qbittorrent::shared();
    let app = TestApp::start_with(&qbittorrent.url, qbittorrent, &toml).await;
    (jellyfin, faults, app)
}

#[tokio::test]
async fn a_jellyfin_slower_than_its_timeout_is_unavailable_until_it_answers_again() {
    let (_jellyfin, faults, app) = jellyfin_behind_faults().await;
    faults.set(Fault::Delay(Duration::from_secs(3))).await;
    let started = Instant::now();
    let slow = app.graphql(LIBRARIES, json!({})).await;
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "the 1 s timeout did not bound the request: {:?}",
        started.elapsed()
    );
    assert_eq!(error_code(&slow), Some("UPSTREAM_UNAVAILABLE"), "{slow}");
    assert!(!slow.to_string().contains(JELLYFIN_KEY));
    let viewer = app.graphql("{ viewer { subject } }", json!({})).await;
    assert_eq!(data(&viewer)["viewer"]["subject"], "tester");

    // A failure is remembered for a few seconds, then Jellyfin is asked again.
    faults.set(Fault::None).await;
    let back = eventually("Jellyfin's libraries again", PATIENCE, || async {
        let answer = app.graphql(LIBRARIES, json!({})).await;
        answer.get("errors").is_none().then_some(answer)
    })
    .await;
    let libraries = data(&back)["libraries"].as_array().unwrap();
    assert_eq!(libraries.len(), 4);
    assert!(
        libraries
            .iter()
            .all(|library| library["staleness"].is_null())
    );
}

/// With Jellyfin slow and a list cached, libraries are served stale, and a
/// list of torrents resolving `library` waits for one timeout, not one per
/// torrent.
#[tokio::test]
async fn a_slow_jellyfin_costs_one_timeout_and_the_cached_list_is_served_stale() {
    let (_jellyfin, faults, app) = jellyfin_behind_faults().await;
    let mut hashes = Vec::new();
    for n in 0..3 {
        let (hash, magnet) = random_magnet(&format!("faults-library-{n}"));
        let answer = app
            .graphql(
                ADD,
                json!({ "input": { "magnet": magnet, "paused": true } }),
            )
            .await;
        data(&answer);
        hashes.push(hash.to_string());
    }
    data(&app.graphql(LIBRARIES, json!({})).await);

    faults.set(Fault::Delay(Duration::from_secs(3))).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let started = Instant::now();
    let answer = app
        .graphql(
            "query($h: [String!]) { libraries { name staleness } torrents(hashes: $h) { nodes { hash library { name } } } }",
            json!({ "h": hashes }),
        )
        .await;
    let took = started.elapsed();
    let libraries = data(&answer)["libraries"].as_array().unwrap();
    assert_eq!(libraries.len(), 4);
    for library in libraries {
        let note = library["staleness"].as_str().unwrap_or_default();
        assert!(note.contains("unreachable"), "not marked stale: {answer}");
    }
    assert_eq!(
        data(&answer)["torrents"]["nodes"].as_array().unwrap().len(),
        3
    );
    assert!(
        took < Duration::from_millis(2500),
        "each torrent waited for Jellyfin: {took:?}"
    );
}

#[tokio::test]
async fn login_while_jellyfin_is_down_or_slow_is_unavailable_not_a_wrong_password() {
    let jellyfin = common::jellyfin::start().await;
    common::jellyfin::serve_users(&jellyfin, "the-admins-password").await;
    let faults = FaultProxy::start(&jellyfin.uri().parse().unwrap()).await;
    let toml = format!(
        "[jellyfin]\nurl = \"{}\"\napi_key = \"{JELLYFIN_KEY}\"\ntimeout = \"1s\"\n",
        common::jellyfin::url(faults.url.as_str())
    );
    let qbittorrent = Qbittorrent::shared();
    let app = TestApp::start_with(&qbittorrent.url, qbittorrent, &toml).await;
    let login =
        "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";
    let password = "the-admins-password";

    // One username per attempt: each username gets only two attempts in
    // five minutes, failed for whatever reason.
    for (fault, username) in [
        (Fault::Refuse, "admin-refused"),
        (Fault::Delay(Duration::from_secs(3)), "admin-slow"),
    ] {
        faults.set(fault).await;
        let started = Instant::now();
        let answer = app
            .graphql_as(None, login, json!({ "u": username, "p": password }))
            .await;
        assert!(
            started.elapsed() < Duration::from_millis(2500),
            "{fault:?}: {:?}",
            started.elapsed()
        );
        assert_eq!(
            error_code(&answer),
            Some("UPSTREAM_UNAVAILABLE"),
            "{fault:?}: {answer}"
        );
        assert!(!answer.to_string().contains(password));
    }

    faults.set(Fault::None).await;
    let answer = app
        .graphql_as(None, login, json!({ "u": "admin", "p": password }))
        .await;
    assert!(data(&answer)["login"]["token"].is_string(), "{answer}");
}

/// qBittorrent hangs for 30 s (SIGSTOP) and goes on (SIGCONT). While it
/// hangs torrentql is not ready and a new subscriber is told its snapshot
/// is stale; within 10 s of qBittorrent going on, the mirror syncs at the
/// configured interval again and a change made in qBittorrent reaches the
/// subscriber. (Before, the call that hung was taken for what a sync
/// costs: updates came 98 s apart for six minutes, and `/readyz` said
/// ready throughout.)
#[tokio::test]
async fn after_a_hang_updates_flow_at_the_configured_interval_within_ten_seconds() {
    use nix::sys::signal::Signal;

    let qbittorrent = Qbittorrent::start(Options::default()).await;
    let app = TestApp::start(&qbittorrent).await;
    let hash = app.add_paused_magnet("faults-hang").await;
    let ready = || async {
        app.http
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("/readyz")
            .status()
            .as_u16()
    };
    eventually("/readyz to say ready", PATIENCE, || async {
        (ready().await == 200).then_some(())
    })
    .await;

    qbittorrent.signal(Signal::SIGSTOP);
    let stopped = Instant::now();
    eventually("/readyz to say not ready", PATIENCE, || async {
        (ready().await == 503).then_some(())
    })
    .await;
    let query = format!(
        "subscription {{ torrentProgress(hashes: [\"{hash}\"]) {{ snapshot stale torrents {{ hash state }} }} }}"
    );
    let params = json!({ "token": common::app::admin_token() });
    let mut subscriber = common::subscriber::Subscriber::start(
        &app.ws_url(),
        common::subscriber::Protocol::GraphqlTransportWs,
        params,
        &query,
        1,
    );
    let first = subscriber.next_progress(PATIENCE).await;
    assert_eq!(
        (&first["snapshot"], &first["stale"]),
        (&json!(true), &json!(true)),
        "{first}"
    );

    tokio::time::sleep(Duration::from_secs(30).saturating_sub(stopped.elapsed())).await;
    qbittorrent.signal(Signal::SIGCONT);
    let resumed = Instant::now();

    eventually("syncs at the configured interval", PATIENCE, || async {
        let answer = app
            .graphql("{ qbittorrent { connected syncPeriod } }", json!({}))
            .await;
        let status = &data(&answer)["qbittorrent"];
        (status["connected"] == true && status["syncPeriod"] == 1.0 && ready().await == 200)
            .then_some(())
    })
    .await;
    qbittorrent
        .client()
        .act(&[hash.parse().expect("hash")], &TorrentAction::Resume)
        .await
        .expect("resume in qBittorrent");
    loop {
        let event = subscriber.next_progress(PATIENCE).await;
        assert_eq!(event["stale"], false, "{event}");
        let state = event["torrents"][0]["state"].as_str().unwrap_or_default();
        if !state.is_empty() && !state.starts_with("PAUSED") {
            break;
        }
    }
    let recovered = resumed.elapsed();
    assert!(
        recovered < Duration::from_secs(10),
        "the change arrived {recovered:?} after qBittorrent went on"
    );
    println!("updates flowed again {recovered:?} after SIGCONT");
}
