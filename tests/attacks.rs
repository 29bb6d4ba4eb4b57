//! Attacks on the front door: forged and misplaced tokens over HTTP and
//! websockets, and cross-origin calls from browsers.

mod common;

use std::path::Path;

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use tokio_tungstenite::tungstenite::Message;

use common::app::{TestApp, admin_token, error_code};
use common::qbittorrent::Qbittorrent;

const ISSUER: &str = "https://id.example";
const AUDIENCE: &str = "torrentql";

fn fixture_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// torrentql verifying RS256 tokens from an identity provider, with a
/// required issuer and audience.
async fn rs256_app() -> &'static TestApp {
    static APP: OnceCell<TestApp> = OnceCell::const_new();
    common::app::shared(&APP, || async {
        let qbittorrent = Qbittorrent::shared();
        let auth = format!(
            r#"public_key_file = "{}"
            algorithm = "RS256"
            issuer = "{ISSUER}"
            audience = "{AUDIENCE}""#,
            fixture_path("jwt-test-rsa-public.pem").display()
        );
        TestApp::start_with_auth(&qbittorrent.url, qbittorrent, &auth, "").await
    })
    .await
}

/// torrentql with the test secret and two allowed browser origins.
async fn cors_app() -> &'static TestApp {
    static APP: OnceCell<TestApp> = OnceCell::const_new();
    common::app::shared(&APP, || async {
        let qbittorrent = Qbittorrent::shared();
        TestApp::start_with(
            &qbittorrent.url,
            qbittorrent,
            "[server]\ncors_origins = [\"https://media.example\", \"http://localhost:5173\"]",
        )
        .await
    })
    .await
}

fn claims(change: impl FnOnce(&mut Value)) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "sub": "attacker", "roles": ["admin"], "iss": ISSUER, "aud": AUDIENCE,
        "iat": now, "exp": now + 3600,
    });
    change(&mut claims);
    claims
}

fn rs256(claims: &Value) -> String {
    let key = EncodingKey::from_rsa_pem(
        &std::fs::read(fixture_path("jwt-test-rsa-private.pem")).expect("private key"),
    )
    .expect("RSA key");
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &key).expect("sign")
}

fn base64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Every forged or wrong token, by name; each must be refused.
fn forged_tokens() -> Vec<(&'static str, String)> {
    let now = chrono::Utc::now().timestamp();
    let valid = rs256(&claims(|_| {}));
    let (header, rest) = valid.split_once('.').expect("a JWT");
    let signature = rest.split_once('.').expect("a JWT").1;
    let public_key = std::fs::read(fixture_path("jwt-test-rsa-public.pem")).expect("public key");
    vec![
        (
            "alg none",
            format!(
                "{}.{}.",
                base64url(br#"{"alg":"none","typ":"JWT"}"#),
                base64url(claims(|_| {}).to_string().as_bytes())
            ),
        ),
        (
            "HS256 signed with the RS256 public key",
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims(|_| {}),
                &EncodingKey::from_secret(&public_key),
            )
            .expect("sign"),
        ),
        (
            "expired",
            rs256(&claims(|claims| claims["exp"] = json!(now - 120))),
        ),
        (
            "not yet valid (nbf)",
            rs256(&claims(|claims| claims["nbf"] = json!(now + 600))),
        ),
        (
            "wrong issuer",
            rs256(&claims(|claims| {
                claims["iss"] = json!("https://evil.example")
            })),
        ),
        (
            "no issuer",
            rs256(&claims(|claims| {
                claims.as_object_mut().expect("object").remove("iss");
            })),
        ),
        (
            "wrong audience",
            rs256(&claims(|claims| claims["aud"] = json!("jellyfin"))),
        ),
        (
            "no expiry",
            rs256(&claims(|claims| {
                claims.as_object_mut().expect("object").remove("exp");
            })),
        ),
        (
            "tampered payload",
            format!(
                "{header}.{}.{signature}",
                base64url(
                    claims(|claims| claims["sub"] = json!("someone-else"))
                        .to_string()
                        .as_bytes()
                )
            ),
        ),
        (
            "signed by another key (the test HS256 secret)",
            admin_token(),
        ),
        ("not a JWT", "not.a.jwt".to_owned()),
    ]
}

#[tokio::test]
async fn a_valid_rs256_token_is_accepted_over_http_and_websockets() {
    let app = rs256_app().await;
    let token = rs256(&claims(|_| {}));
    let answer = app
        .graphql_as(Some(&token), "{ viewer { subject isAdmin } }", json!({}))
        .await;
    assert_eq!(answer["data"]["viewer"]["isAdmin"], true, "{answer}");
    assert_eq!(
        websocket_init(app, json!({ "Authorization": format!("Bearer {token}") })).await,
        Init::Acknowledged
    );
}

#[tokio::test]
async fn forged_tokens_are_unauthenticated_over_http() {
    let app = rs256_app().await;
    for (case, token) in forged_tokens() {
        for operation in [
            "{ torrents { nodes { hash } } }",
            "mutation { pauseTorrent(hash: \"0123456789abcdef0123456789abcdef01234567\") { hash } }",
        ] {
            let answer = app.graphql_as(Some(&token), operation, json!({})).await;
            assert_eq!(
                error_code(&answer),
                Some("UNAUTHENTICATED"),
                "{case}: {answer}"
            );
            assert_eq!(answer["data"], Value::Null, "{case}: {answer}");
            let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
            assert!(!message.contains(&token), "{case}: the token is echoed");
        }
    }
}

#[tokio::test]
async fn forged_tokens_are_refused_over_websockets() {
    let app = rs256_app().await;
    for (case, token) in forged_tokens() {
        for payload in [
            json!({ "Authorization": format!("Bearer {token}") }),
            json!({ "token": token }),
        ] {
            assert_eq!(
                websocket_init(app, payload).await,
                Init::Closed(4403),
                "{case}"
            );
        }
    }
}

#[tokio::test]
async fn a_valid_token_in_the_wrong_place_does_not_authenticate() {
    let app = rs256_app().await;
    let token = rs256(&claims(|_| {}));
    let query = json!({ "query": "{ torrents { nodes { hash } } }" });
    let misplaced = [
        ("X-Access-Token", token.clone()),
        ("Authorization", format!("Token {token}")),
        ("Authorization", format!("Basic {token}")),
        ("Authorization", token.clone()),
        ("Cookie", format!("token={token}")),
    ];
    let answer = |request: reqwest::RequestBuilder| async {
        let answer: Value = request
            .json(&query)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("JSON");
        answer
    };
    for (header, value) in misplaced {
        let answer = answer(app.http.post(app.url("/graphql")).header(header, &value)).await;
        assert_eq!(
            error_code(&answer),
            Some("UNAUTHENTICATED"),
            "{header}: {answer}"
        );
    }
    let in_query_string = answer(app.http.post(app.url(&format!("/graphql?token={token}")))).await;
    assert_eq!(error_code(&in_query_string), Some("UNAUTHENTICATED"));

    for payload in [
        json!({ "X-Access-Token": token }),
        json!({ "headers": { "Authorization": format!("Bearer {token}") } }),
        json!({ "Authorization": token }),
    ] {
        assert_eq!(
            websocket_init(app, payload.clone()).await,
            Init::Closed(4403),
            "{payload}"
        );
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Init {
    Acknowledged,
    Closed(u16),
}

/// Opens a `graphql-transport-ws` connection and sends `connection_init`
/// with `payload`: acknowledged, or closed with a code.
async fn websocket_init(app: &TestApp, payload: Value) -> Init {
    match common::websocket::init(app, payload).await.1 {
        Some(Message::Text(text)) => {
            let message: Value = serde_json::from_str(&text).expect("JSON");
            assert_eq!(message["type"], "connection_ack", "{message}");
            Init::Acknowledged
        }
        Some(Message::Close(Some(frame))) => Init::Closed(frame.code.into()),
        other => panic!("unexpected answer to connection_init: {other:?}"),
    }
}

#[tokio::test]
async fn cors_is_closed_by_default() {
    let qbittorrent = Qbittorrent::shared();
    let app = TestApp::start(qbittorrent).await;
    let preflight = preflight(&app, "https://media.example").await;
    assert_eq!(allowed_origin(&preflight), None);
    let answer = cross_origin_query(&app, "https://media.example").await;
    assert_eq!(allowed_origin(&answer), None);
    // The playground is same-origin: it needs no CORS.
    let page = app
        .http
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("request");
    assert_eq!(page.status(), 200);
}

#[tokio::test]
async fn cors_allows_exactly_the_configured_origins() {
    let app = cors_app().await;
    for origin in ["https://media.example", "http://localhost:5173"] {
        let preflight = preflight(app, origin).await;
        assert!(preflight.status().is_success(), "{}", preflight.status());
        let headers = preflight.headers();
        assert_eq!(allowed_origin(&preflight), Some(origin));
        let allowed_headers = headers["access-control-allow-headers"]
            .to_str()
            .expect("text")
            .to_lowercase();
        assert!(
            allowed_headers.contains("authorization") && allowed_headers.contains("content-type"),
            "{allowed_headers}"
        );
        assert!(
            headers.get("access-control-allow-credentials").is_none(),
            "tokens travel in a header; cookies are never allowed"
        );
    }
    for origin in [
        "https://evil.example",
        "https://media.example.evil.example",
        "http://media.example",
        "null",
    ] {
        let preflight = preflight(app, origin).await;
        assert_eq!(allowed_origin(&preflight), None, "{origin}");
    }
    let answer = cross_origin_query(app, "https://media.example").await;
    assert_eq!(allowed_origin(&answer), Some("https://media.example"));
    let answer: Value = answer.json().await.expect("JSON");
    assert_eq!(answer["data"]["viewer"]["isAdmin"], true);
}

/// The origin a response lets read it, if any.
fn allowed_origin(response: &reqwest::Response) -> Option<&str> {
    response
        .headers()
        .get("access-control-allow-origin")
        .map(|origin| origin.to_str().expect("text"))
}

/// A query as a page from `origin` sends it.
async fn cross_origin_query(app: &TestApp, origin: &str) -> reqwest::Response {
    app.http
        .post(app.url("/graphql"))
        .header("origin", origin)
        .bearer_auth(admin_token())
        .json(&json!({ "query": "{ viewer { isAdmin } }" }))
        .send()
        .await
        .expect("request")
}

/// A browser's preflight for a JSON POST with a bearer token.
async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.http
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .expect("request")
}
