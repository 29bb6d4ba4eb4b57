//! Libraries and login against a fake Jellyfin on 127.0.0.1 that answers
//! with the real payloads in tests/fixtures/upstream and Jellyfin's status codes;
//! library-aware downloads in the real qBittorrent.

mod common;

use common::fixture;

use common::app::{TestApp, data, error_code};
use common::qbittorrent::Qbittorrent;
use common::torrents::random_magnet;
use serde_json::{Value, json};
use wiremock::matchers::header;
use wiremock::{MockServer, ResponseTemplate};

const API_KEY: &str = "jellyfin-api-key-1234";
const LIBRARIES: &str = "{ libraries { name paths collectionType downloadPath source staleness } }";

async fn jellyfin() -> MockServer {
    common::jellyfin::start().await
}

fn virtual_folders() -> wiremock::MockBuilder {
    common::jellyfin::endpoint("GET", "/Library/VirtualFolders").and(header(
        "authorization",
        format!("MediaBrowser Token=\"{API_KEY}\"").as_str(),
    ))
}

/// Jellyfin's `/media` is qBittorrent's `<save path>/media`.
fn config(jellyfin: Option<&MockServer>, extra: &str) -> String {
    let qbittorrent_media = Qbittorrent::shared().save_path.join("media");
    let mut toml = String::new();
    if let Some(server) = jellyfin {
        toml.push_str(&format!(
            "[jellyfin]\nurl = \"{}\"\napi_key = \"{API_KEY}\"\ncache_ttl = \"10ms\"\ntimeout = \"2s\"\n",
            common::jellyfin::url(&server.uri())
        ));
    }
    toml.push_str(&format!(
        "[[path_mappings]]\njellyfin = \"/media\"\nqbittorrent = \"{}\"\n{extra}",
        qbittorrent_media.display()
    ));
    toml
}

async fn start_app(toml: &str) -> TestApp {
    let qbittorrent = Qbittorrent::shared();
    TestApp::start_with(&qbittorrent.url, qbittorrent, toml).await
}

fn media(path: &str) -> String {
    Qbittorrent::shared()
        .save_path
        .join("media")
        .join(path)
        .display()
        .to_string()
}

#[tokio::test]
async fn libraries_come_from_jellyfin_with_download_paths_mapped() {
    let server = jellyfin().await;
    virtual_folders()
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            fixture("jellyfin-virtualfolders-10.8-four-libraries.json"),
            "application/json",
        ))
        .mount(&server)
        .await;
    let app = start_app(&config(Some(&server), "")).await;
    let answer = app.graphql(LIBRARIES, json!({})).await;
    let libraries = data(&answer)["libraries"].as_array().unwrap().clone();
    let names: Vec<&str> = libraries
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Books", "Movies", "Music", "Photos"]);
    assert_eq!(
        libraries[1],
        json!({ "name": "Movies", "paths": ["/media/movies"], "collectionType": "movies",
                "downloadPath": media("movies"), "source": "JELLYFIN", "staleness": null })
    );
    assert_eq!(libraries[3]["collectionType"], "homevideos");
}

#[tokio::test]
async fn configured_libraries_alone_and_merged_with_jellyfins() {
    let extra = "[[libraries]]\nname = \"Downloads\"\npaths = [\"/media/downloads\", \"/other\"]\n";
    let alone = start_app(&config(None, extra)).await;
    let answer = alone.graphql(LIBRARIES, json!({})).await;
    assert_eq!(
        data(&answer)["libraries"],
        json!([{ "name": "Downloads", "paths": ["/media/downloads", "/other"], "collectionType": null,
                 "downloadPath": media("downloads"), "source": "CONFIG", "staleness": null }])
    );

    let server = jellyfin().await;
    virtual_folders()
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            fixture("jellyfin-virtualfolders-10.8-four-libraries.json"),
            "application/json",
        ))
        .mount(&server)
        .await;
    let merged = start_app(&config(Some(&server), extra)).await;
    let answer = merged.graphql(LIBRARIES, json!({})).await;
    let sources: Vec<&str> = data(&answer)["libraries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["source"].as_str().unwrap())
        .collect();
    assert_eq!(
        sources,
        ["JELLYFIN", "JELLYFIN", "JELLYFIN", "JELLYFIN", "CONFIG"]
    );
}

#[tokio::test]
async fn jellyfin_errors_map_to_codes_and_a_cached_list_is_served_stale() {
    for (status, body, code) in [
        (401, "", "UPSTREAM_REJECTED"),
        (403, "", "UPSTREAM_REJECTED"),
        (503, "Jellyfin Server is loading", "UPSTREAM_UNAVAILABLE"),
    ] {
        let server = jellyfin().await;
        virtual_folders()
            .respond_with(ResponseTemplate::new(status).set_body_string(body))
            .mount(&server)
            .await;
        let app = start_app(&config(Some(&server), "")).await;
        let answer = app.graphql(LIBRARIES, json!({})).await;
        assert_eq!(error_code(&answer), Some(code), "{status}: {answer}");
        assert!(!answer.to_string().contains(API_KEY));
    }

    // One good answer, then Jellyfin goes away.
    let server = jellyfin().await;
    virtual_folders()
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            fixture("jellyfin-virtualfolders-10.8-four-libraries.json"),
            "application/json",
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    virtual_folders()
        .respond_with(ResponseTemplate::new(503).set_body_string("Jellyfin Server is loading"))
        .mount(&server)
        .await;
    let app = start_app(&config(Some(&server), "")).await;
    data(&app.graphql(LIBRARIES, json!({})).await);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let stale = app.graphql(LIBRARIES, json!({})).await;
    let libraries = data(&stale)["libraries"].as_array().unwrap();
    assert_eq!(libraries.len(), 4);
    let hint = libraries[0]["staleness"]
        .as_str()
        .unwrap_or_else(|| panic!("not marked stale: {stale}"));
    assert!(
        hint.contains("unreachable") && hint.contains("list from"),
        "{hint}"
    );

    // Nothing listens there (a dropped wiremock server may be reused).
    let closed_port = torrentql::managed::profile::free_port().unwrap();
    let toml = format!(
        "[jellyfin]\nurl = \"http://127.0.0.1:{closed_port}\"\napi_key = \"{API_KEY}\"\ntimeout = \"1s\"\n"
    );
    let app = start_app(&toml).await;
    let answer = app.graphql(LIBRARIES, json!({})).await;
    assert_eq!(
        error_code(&answer),
        Some("UPSTREAM_UNAVAILABLE"),
        "{answer}"
    );
}

#[tokio::test]
async fn adding_into_a_library_saves_into_its_download_path() {
    let extra = "[[libraries]]\nname = \"Films\"\npaths = [\"/media/films\"]\ncollection_type = \"movies\"\n";
    let app = start_app(&config(None, extra)).await;
    let (hash, magnet) = random_magnet("into-a-library");
    let add = "mutation($i: AddTorrentInput!) { addTorrent(input: $i) { torrent { hash savePath library { name downloadPath } } } }";
    let answer = app
        .graphql(
            add,
            json!({ "i": { "magnet": magnet, "library": "films", "paused": true } }),
        )
        .await;
    let torrent = &data(&answer)["addTorrent"]["torrent"];
    assert_eq!(torrent["hash"], hash.to_string());
    assert_eq!(
        torrent["savePath"].as_str().unwrap().trim_end_matches('/'),
        media("films")
    );
    assert_eq!(
        torrent["library"],
        json!({ "name": "Films", "downloadPath": media("films") })
    );

    // A save path inside the library's folder is allowed too.
    let (_, other) = random_magnet("inside-the-library");
    let answer = app
        .graphql(
            add,
            json!({ "i": { "magnet": other, "savePath": media("films/sub"), "paused": true } }),
        )
        .await;
    assert_eq!(
        data(&answer)["addTorrent"]["torrent"]["library"]["name"],
        "Films"
    );

    for input in [
        json!({ "magnet": random_magnet("x").1, "library": "Films", "savePath": media("films") }),
        json!({ "magnet": random_magnet("y").1, "library": "Nope" }),
    ] {
        let answer = app.graphql(add, json!({ "i": input })).await;
        assert_eq!(error_code(&answer), Some("BAD_USER_INPUT"), "{answer}");
    }
    let outside = app
        .graphql(
            "mutation($h: String!) { torrent: pauseTorrent(hash: $h) { library { name } } }",
            json!({ "h": hash.to_string() }),
        )
        .await;
    assert_eq!(data(&outside)["torrent"]["library"]["name"], "Films");
}

const LOGIN: &str = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token expiresAt viewer { subject isAdmin } } }";

/// A fake Jellyfin that knows `admin`/`right`, the non-admin `demo`, and
/// the disabled `gone`.
async fn jellyfin_with_users() -> MockServer {
    let server = jellyfin().await;
    common::jellyfin::serve_users(&server, "right").await;
    server
}

#[tokio::test]
async fn an_administrator_logs_in_and_the_token_works() {
    let server = jellyfin_with_users().await;
    let app = start_app(&config(Some(&server), "")).await;
    let answer = app
        .graphql_as(None, LOGIN, json!({ "u": "admin", "p": "right" }))
        .await;
    let login = &data(&answer)["login"];
    assert_eq!(
        login["viewer"],
        json!({ "subject": "admin", "isAdmin": true })
    );
    let token = login["token"].as_str().unwrap();
    let viewer = app
        .graphql_as(Some(token), "{ viewer { subject } }", json!({}))
        .await;
    assert_eq!(data(&viewer)["viewer"]["subject"], "admin");

    // The Jellyfin session is logged out again, with its own token.
    common::eventually(
        "the Jellyfin logout",
        std::time::Duration::from_secs(5),
        || async {
            let requests = server.received_requests().await.unwrap();
            requests
                .iter()
                .find(|request| request.url.path() == "/jellyfin/Sessions/Logout")
                .map(|request| {
                    request.headers["authorization"]
                        .to_str()
                        .unwrap()
                        .to_owned()
                })
        },
    )
    .await
    .contains("Token=\"4a5b6c7d8e9f40a1b2c3d4e5f6a7b8c9\"")
    .then_some(())
    .expect("logout carries the session token");
}

#[tokio::test]
async fn non_administrators_wrong_passwords_and_disabled_users_get_no_token() {
    let server = jellyfin_with_users().await;
    let app = start_app(&config(Some(&server), "")).await;
    for (user, password, code) in [
        ("demo", "right", "FORBIDDEN"),
        ("admin", "hunter2-not-it", "UNAUTHENTICATED"),
        ("gone", "right", "FORBIDDEN"),
    ] {
        let answer = app
            .graphql_as(None, LOGIN, json!({ "u": user, "p": password }))
            .await;
        assert_eq!(error_code(&answer), Some(code), "{user}: {answer}");
        assert_eq!(answer["data"], Value::Null);
        assert!(
            !answer.to_string().contains("hunter2"),
            "the password was echoed: {answer}"
        );
    }
}

#[tokio::test]
async fn login_without_jellyfin_says_so() {
    let app = start_app(&config(None, "")).await;
    let answer = app
        .graphql_as(None, LOGIN, json!({ "u": "admin", "p": "right" }))
        .await;
    assert_eq!(error_code(&answer), Some("NOT_CONFIGURED"), "{answer}");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("jellyfin.url")
    );
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_username_and_per_address() {
    let server = jellyfin_with_users().await;
    let app = start_app(&config(Some(&server), "")).await;
    let attempt = |user: &'static str, password: &'static str| {
        let app = &app;
        async move {
            let answer: Value = app
                .graphql_as(None, LOGIN, json!({ "u": user, "p": password }))
                .await;
            error_code(&answer).map(str::to_owned)
        }
    };
    // Per username: two attempts, below Jellyfin's own lockout of three.
    assert_eq!(
        attempt("admin", "wrong").await.as_deref(),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(
        attempt("admin", "wrong").await.as_deref(),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(
        attempt("admin", "wrong").await.as_deref(),
        Some("RATE_LIMITED")
    );
    // The limit holds for the right password too.
    assert_eq!(
        attempt("admin", "right").await.as_deref(),
        Some("RATE_LIMITED")
    );
    // Per address: five attempts a minute in all, whatever the username.
    assert_eq!(
        attempt("someone", "wrong").await.as_deref(),
        Some("UNAUTHENTICATED"),
        "the fifth"
    );
    assert_eq!(
        attempt("another", "wrong").await.as_deref(),
        Some("RATE_LIMITED"),
        "the sixth"
    );
    let asked = log_ins_at(&server).await.len();
    assert_eq!(asked, 3, "refused attempts never reach Jellyfin");
}

/// The log-in requests Jellyfin received.
async fn log_ins_at(server: &MockServer) -> Vec<wiremock::Request> {
    server
        .received_requests()
        .await
        .expect("wiremock records requests")
        .into_iter()
        .filter(|request| request.url.path().ends_with("AuthenticateByName"))
        .collect()
}

#[tokio::test]
async fn login_limits_hold_under_a_parallel_burst() {
    let server = jellyfin_with_users().await;
    let app = start_app(&config(Some(&server), "")).await;
    // 40 attempts at once: half at the admin account (one with the right
    // password), half spread over other usernames.
    let attempts = (0..40).map(|index| {
        let app = &app;
        async move {
            let (user, password) = match index {
                0 => ("admin".to_owned(), "right".to_owned()),
                1..20 => ("admin".to_owned(), format!("guess-{index}")),
                _ => (format!("user-{index}"), "guess".to_owned()),
            };
            let answer: Value = app
                .graphql_as(None, LOGIN, json!({ "u": user, "p": password }))
                .await;
            error_code(&answer).map(str::to_owned)
        }
    });
    let codes = futures::future::join_all(attempts).await;
    let refused = codes
        .iter()
        .filter(|code| code.as_deref() == Some("RATE_LIMITED"))
        .count();
    let log_ins = log_ins_at(&server).await;
    let asked = log_ins.len();
    // Five a minute from one address, and at most two of them for admin.
    assert!(asked <= 5, "{asked} attempts reached Jellyfin: {codes:?}");
    assert_eq!(refused, 40 - asked, "{codes:?}");
    let admin_attempts = log_ins
        .iter()
        .filter(|request| String::from_utf8_lossy(&request.body).contains("\"admin\""))
        .count();
    assert!(admin_attempts <= 2, "{admin_attempts} attempts at admin");
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let server = jellyfin_with_users().await;
    let attempt = |app: &TestApp, user: &str, forwarded_for: &str| {
        let request = app
            .http
            .post(app.url("/graphql"))
            .header("x-forwarded-for", forwarded_for)
            .json(&json!({ "query": LOGIN, "variables": { "u": user, "p": "wrong" } }))
            .send();
        async move {
            let answer: Value = request.await.unwrap().json().await.unwrap();
            error_code(&answer).map(str::to_owned)
        }
    };
    // Five attempts a minute per address: the sixth client behind the
    // proxy still gets its own.
    let behind_proxy = start_app(&config(
        Some(&server),
        "[server]\ntrusted_proxies = [\"127.0.0.1\"]\n",
    ))
    .await;
    for index in 0..5 {
        assert_eq!(
            attempt(&behind_proxy, &format!("user-{index}"), "203.0.113.7")
                .await
                .as_deref(),
            Some("UNAUTHENTICATED")
        );
    }
    assert_eq!(
        attempt(&behind_proxy, "user-5", "203.0.113.7")
            .await
            .as_deref(),
        Some("RATE_LIMITED")
    );
    assert_eq!(
        attempt(&behind_proxy, "user-6", "203.0.113.8")
            .await
            .as_deref(),
        Some("UNAUTHENTICATED"),
        "another client behind the proxy"
    );

    // Without a trusted proxy the header is the client's word, and ignored.
    let direct = start_app(&config(Some(&server), "")).await;
    for index in 0..5 {
        attempt(
            &direct,
            &format!("direct-{index}"),
            &format!("198.51.100.{index}"),
        )
        .await;
    }
    assert_eq!(
        attempt(&direct, "direct-5", "198.51.100.99")
            .await
            .as_deref(),
        Some("RATE_LIMITED")
    );
}
