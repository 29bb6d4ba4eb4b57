//! Secrets never reach the logs or the answers: every kind of operation,
//! succeeding and failing, with torrentql's logs (and its dependencies')
//! captured at debug level, then searched for every secret involved.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::app::{JWT_SECRET, TestApp, admin_token, sign};
use common::qbittorrent::{PASSWORD, Qbittorrent};

const JELLYFIN_API_KEY: &str = "jf-api-key-7c1d9e0b44";
const TORZNAB_API_KEY: &str = "tz-api-key-51aa02f7c3";
const LOGIN_PASSWORD: &str = "login-pw-correct-horse-91";
const WRONG_LOGIN_PASSWORD: &str = "login-pw-wrong-guess-17";
const WRONG_QBITTORRENT_PASSWORD: &str = "qbt-pw-wrong-0e5b2";

/// Everything logged, by every thread, at debug level and above.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLogs {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn capture_logs() -> &'static CapturedLogs {
    static LOGS: OnceLock<CapturedLogs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = CapturedLogs::default();
        tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_ansi(false)
            .with_writer(logs.clone())
            .init();
        logs
    })
}

/// A fake Prowlarr: search answers with a result whose link carries the
/// API key, and the download link itself answers 404.
async fn torznab() -> MockServer {
    let server = MockServer::start().await;
    let feed = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:torznab="http://torznab.com/schemas/2015/feed"><channel><item>
<title>Link only</title><size>1000</size>
<link>{}/1/download?apikey={TORZNAB_API_KEY}&amp;link=abc</link>
</item></channel></rss>"#,
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path("/1/api"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(feed, "application/rss+xml"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/1/download"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    server
}

/// A fake Jellyfin: an admin log-in succeeds, anything else is 401; the
/// library list fails with 401 (a wrong API key).
async fn jellyfin() -> MockServer {
    let server = common::jellyfin::start().await;
    common::jellyfin::serve_users(&server, LOGIN_PASSWORD).await;
    common::jellyfin::endpoint("GET", "/Library/VirtualFolders")
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn no_secret_reaches_the_logs_or_the_answers() {
    let logs = capture_logs();
    let qbittorrent = Qbittorrent::shared();
    let (torznab, jellyfin) = (torznab().await, jellyfin().await);
    let services = format!(
        r#"
        [search.apibay]
        enabled = false
        [[search.torznab]]
        name = "prowlarr"
        url = "{}/1/api"
        api_key = "{TORZNAB_API_KEY}"
        [jellyfin]
        url = "{}"
        api_key = "{JELLYFIN_API_KEY}"
        "#,
        torznab.uri(),
        common::jellyfin::url(&jellyfin.uri())
    );
    let app = TestApp::start_with(&qbittorrent.url, qbittorrent, &services).await;
    let mut answers = Vec::new();
    let mut tokens = vec![admin_token()];

    let operations = [
        "{ viewer { subject } torrents { nodes { hash name } } qbittorrent { connected version } }",
        "{ libraries { name } }",
        "{ search(query: \"ubuntu\") { results { name downloadUrl } failures { message } } }",
        "mutation { addTorrent(input: { magnet: \"magnet:?xt=urn:btih:nothex\" }) { hash } }",
    ];
    for operation in operations {
        answers.push(app.graphql(operation, json!({})).await);
    }
    let download_url = answers[2]["data"]["search"]["results"][0]["downloadUrl"]
        .as_str()
        .expect("a download link")
        .to_owned();
    assert!(download_url.contains("apikey=&"), "{download_url}");
    // Adding by that link: torrentql puts the key back (the indexer then
    // answers 404), and says nothing of it.
    answers.push(
        app.graphql(
            "mutation($u: String!) { addTorrent(input: { url: $u }) { hash } }",
            json!({ "u": download_url }),
        )
        .await,
    );
    let download_requests = torznab
        .received_requests()
        .await
        .expect("recorded")
        .into_iter()
        .filter(|request| request.url.path() == "/1/download")
        .collect::<Vec<_>>();
    assert_eq!(download_requests.len(), 1);
    assert!(
        download_requests[0]
            .url
            .query()
            .is_some_and(|query| query.contains(&format!("apikey={TORZNAB_API_KEY}"))),
        "the key was not put back: {}",
        download_requests[0].url
    );

    // Logging in, right and wrong.
    let login =
        "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";
    for password in [LOGIN_PASSWORD, WRONG_LOGIN_PASSWORD] {
        let answer = app
            .graphql_as(None, login, json!({ "u": "admin", "p": password }))
            .await;
        if let Some(token) = answer["data"]["login"]["token"].as_str() {
            tokens.push(token.to_owned());
        }
        answers.push(answer);
    }
    assert_eq!(tokens.len(), 2, "the right password logs in: {answers:?}");

    // Refused tokens, in the header and where they do not belong.
    let expired = sign(&json!({ "sub": "x", "roles": ["admin"], "exp": 1 }));
    let forged = format!("{}x", admin_token());
    for token in [&expired, &forged] {
        answers.push(
            app.graphql_as(Some(token), "{ torrents { nodes { hash } } }", json!({}))
                .await,
        );
    }
    tokens.extend([expired, forged]);
    let in_query_string = app
        .http
        .post(app.url(&format!("/graphql?token={}", tokens[0])))
        .json(&json!({ "query": "{ viewer { subject } }" }))
        .send()
        .await
        .expect("request");
    answers.push(in_query_string.json().await.expect("JSON"));

    // qBittorrent refusing torrentql's password.
    let refused = TestApp::start_with(
        &qbittorrent.url,
        qbittorrent,
        &format!("[qbittorrent]\npassword = \"{WRONG_QBITTORRENT_PASSWORD}\""),
    )
    .await;
    answers.push(
        refused
            .graphql(
                "{ torrents { nodes { hash } } qbittorrent { error } }",
                json!({}),
            )
            .await,
    );

    let logs = String::from_utf8_lossy(&logs.0.lock().expect("logs")).into_owned();
    assert!(
        logs.contains("torrentql"),
        "nothing was captured; is the subscriber installed?"
    );
    // Each error is logged once, where it is answered, with its path.
    for (what, line) in [
        (
            "the refused add",
            r#"refused path="addTorrent" code="BAD_USER_INPUT" error="an info hash is 40"#,
        ),
        (
            "qBittorrent refusing torrentql",
            r#"upstream failed path="torrents" code="UPSTREAM_UNAVAILABLE""#,
        ),
    ] {
        let logged = logs.lines().filter(|logged| logged.contains(line)).count();
        assert_eq!(logged, 1, "{what} was logged {logged} times:\n{logs}");
    }
    let mut secrets: Vec<(&str, String)> = vec![
        ("the JWT secret", JWT_SECRET.to_owned()),
        ("qBittorrent's password", PASSWORD.to_owned()),
        (
            "a wrong qBittorrent password",
            WRONG_QBITTORRENT_PASSWORD.to_owned(),
        ),
        ("Jellyfin's API key", JELLYFIN_API_KEY.to_owned()),
        ("the Torznab API key", TORZNAB_API_KEY.to_owned()),
        ("a Jellyfin password", LOGIN_PASSWORD.to_owned()),
        ("a wrong Jellyfin password", WRONG_LOGIN_PASSWORD.to_owned()),
        // Jellyfin's session token from the log-in fixture.
        (
            "a Jellyfin session token",
            "4a5b6c7d8e9f40a1b2c3d4e5f6a7b8c9".to_owned(),
        ),
        // Any JWT at all (their header always starts so), any SID cookie.
        ("a JWT", "eyJ".to_owned()),
        ("a SID cookie", "SID=".to_owned()),
        ("a qBittorrent 5 SID cookie", "QBT_SID".to_owned()),
    ];
    secrets.extend(tokens.iter().map(|token| ("a token", token.clone())));
    for (what, secret) in &secrets {
        assert!(!logs.contains(secret.as_str()), "{what} is in the logs");
    }
    for answer in &answers {
        // The log-in answer carries the token it issues, and only that.
        let mut text = answer.to_string();
        if let Some(issued) = answer["data"]["login"]["token"].as_str() {
            text = text.replace(issued, "<issued>");
        }
        for (what, secret) in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{what} is in an answer: {text}"
            );
        }
    }
}
