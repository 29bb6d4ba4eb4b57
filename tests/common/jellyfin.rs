//! One fake Jellyfin on 127.0.0.1 (wiremock) for every test binary: the
//! real payloads in `tests/fixtures/upstream`, under the base path
//! `/jellyfin` (as behind a reverse proxy), with Jellyfin's status codes.
//! Each test mounts what it needs on top.

use serde_json::json;
use wiremock::matchers::{body_json, header_regex, method, path};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

use super::fixture;

/// The base path torrentql is configured with.
pub const BASE_PATH: &str = "/jellyfin";

/// A fake Jellyfin with nothing mounted yet.
pub async fn start() -> MockServer {
    MockServer::start().await
}

/// The `jellyfin.url` for `server` (or for a proxy in front of it at
/// `root`, which ends with `/`).
pub fn url(root: &str) -> String {
    format!("{}{}", root.trim_end_matches('/'), BASE_PATH)
}

/// A mock of `method endpoint` under the base path.
pub fn endpoint(verb: &str, endpoint: &str) -> MockBuilder {
    Mock::given(method(verb)).and(path(format!("{BASE_PATH}{endpoint}")))
}

/// `GET /Library/VirtualFolders` answered with Jellyfin 10.8's four
/// libraries.
pub async fn serve_four_libraries(server: &MockServer) {
    endpoint("GET", "/Library/VirtualFolders")
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            fixture("jellyfin-virtualfolders-10.8-four-libraries.json"),
            "application/json",
        ))
        .mount(server)
        .await;
}

/// Users who log in with `password`: `admin` (an administrator, Jellyfin
/// 10.11's shape), `demo` (a user, 10.8's), `gone` (disabled: 403); anyone
/// else, or another password, gets 401 with Jellyfin's `text/plain` body.
/// Logging a session out answers 204.
pub async fn serve_users(server: &MockServer, password: &str) {
    let login = || {
        endpoint("POST", "/Users/AuthenticateByName").and(header_regex(
            "authorization",
            r#"^MediaBrowser Client="torrentql", Device="torrentql", DeviceId="[^"]+", Version="[^"]+"$"#,
        ))
    };
    for (username, answer) in [
        (
            "admin",
            Some("jellyfin-authenticatebyname-admin-10.11-constructed.json"),
        ),
        ("demo", Some("jellyfin-authenticatebyname.json")),
        ("gone", None),
    ] {
        let response = match answer {
            Some(payload) => {
                ResponseTemplate::new(200).set_body_raw(fixture(payload), "application/json")
            }
            None => ResponseTemplate::new(403),
        };
        login()
            .and(body_json(json!({ "Username": username, "Pw": password })))
            .respond_with(response)
            .mount(server)
            .await;
    }
    login()
        .respond_with(
            ResponseTemplate::new(401).set_body_raw("Error processing request.", "text/plain"),
        )
        .mount(server)
        .await;
    endpoint("POST", "/Sessions/Logout")
        .respond_with(ResponseTemplate::new(204))
        .mount(server)
        .await;
}
