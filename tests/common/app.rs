//! `TestApp`: the real router, served in-process on 127.0.0.1, against a
//! real qBittorrent, with helpers to send GraphQL and mint tokens.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::OnceLock;

use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};
use tokio::sync::{OnceCell, oneshot};
use torrentql::app::Backend;
use torrentql::config::Config;
use torrentql::http::serve;
use url::Url;

use super::qbittorrent::{PASSWORD, Qbittorrent, USERNAME};
use super::torrents::random_magnet;

/// The HS256 secret every test app verifies with.
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// A running torrentql.
pub struct TestApp {
    pub address: SocketAddr,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    /// torrentql in front of `qbittorrent`.
    pub async fn start(qbittorrent: &Qbittorrent) -> Self {
        Self::start_with(&qbittorrent.url, qbittorrent, "").await
    }

    /// torrentql talking to qBittorrent at `url` (e.g. a proxy in front of
    /// `qbittorrent`), with extra TOML appended to the test configuration.
    pub async fn start_with(url: &Url, qbittorrent: &Qbittorrent, extra_toml: &str) -> Self {
        let auth = format!("jwt_secret = \"{JWT_SECRET}\"");
        Self::start_with_auth(url, qbittorrent, &auth, extra_toml).await
    }

    /// Like [`start_with`](Self::start_with), with `auth_toml` as the
    /// `[auth]` section instead of the test secret. Sections in
    /// `extra_toml` are merged into the test configuration, key by key
    /// (`[qbittorrent]\ntimeout = "1s"` changes just the timeout); keys
    /// before any section header belong to `[auth]`.
    pub async fn start_with_auth(
        url: &Url,
        qbittorrent: &Qbittorrent,
        auth_toml: &str,
        extra_toml: &str,
    ) -> Self {
        let data_dir = qbittorrent.profile_dir.join("torrentql");
        let mut config: toml::Table = format!(
            r#"
            [server]
            data_dir = "{data_dir}"
            [qbittorrent]
            url = "{url}"
            username = "{USERNAME}"
            password = "{PASSWORD}"
            timeout = "5s"
            "#,
            data_dir = data_dir.display(),
        )
        .parse()
        .expect("test TOML");
        let extra: toml::Table = format!("[auth]\n{auth_toml}\n{extra_toml}")
            .parse()
            .unwrap_or_else(|error| panic!("test TOML: {error}"));
        merge(&mut config, extra);
        let config = config.to_string();
        let config = Config::from_toml(&config).unwrap_or_else(|error| panic!("{error}"));
        let backend = Backend::start(&config).await.expect("backend starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(serve(listener, backend.state, async move {
            let _ = stopped.await;
        }));
        Self {
            address,
            // No idle connections: a shared app outlives the test runtime
            // a pooled connection's task would run on, and reusing it from
            // the next test fails with `IncompleteMessage`.
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .expect("client"),
            stop: Some(stop),
            served: Some(served),
        }
    }

    /// The websocket endpoint.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/graphql", self.address)
    }

    /// Stops the server as on SIGTERM and waits until it has.
    pub async fn shut_down(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(served) = self.served.take() {
            served.await.expect("the server stops cleanly");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Sends a query with an admin token and returns the JSON answer.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.graphql_as(Some(&admin_token()), query, variables)
            .await
    }

    /// Sends a query with the given bearer token (or none).
    pub async fn graphql_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .http
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        response.json().await.expect("JSON answer")
    }

    /// Adds a paused magnet of a random hash through `addTorrent` and
    /// returns its hash.
    pub async fn add_paused_magnet(&self, name: &str) -> String {
        let (hash, magnet) = random_magnet(name);
        let answer = self
            .graphql(
                "mutation($m: String!) { addTorrent(input: { magnet: $m, paused: true }) { hash } }",
                json!({ "m": magnet }),
            )
            .await;
        assert_eq!(data(&answer)["addTorrent"]["hash"], hash.to_string());
        hash.to_string()
    }

    /// Asks `/healthz` on a new connection every 20 ms, at least once and
    /// until `done`, panicking if it does not answer 200; the slowest
    /// answer.
    pub async fn probe_healthz_until(&self, done: impl Fn() -> bool) -> std::time::Duration {
        let mut slowest = std::time::Duration::ZERO;
        let mut probes = 0;
        while !done() || probes == 0 {
            let started = std::time::Instant::now();
            let status = self
                .http
                .get(self.url("/healthz"))
                .send()
                .await
                .unwrap_or_else(|error| panic!("/healthz after {probes} probes: {error}"))
                .status();
            assert_eq!(status, 200);
            slowest = slowest.max(started.elapsed());
            probes += 1;
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        slowest
    }

    /// A GraphQL multipart request uploading `file` as `variables.<path>`.
    pub async fn upload(
        &self,
        query: &str,
        variables: Value,
        path: &str,
        file: Vec<u8>,
    ) -> reqwest::Response {
        let operations = json!({ "query": query, "variables": variables });
        let map = json!({ "0": [format!("variables.{path}")] });
        let form = reqwest::multipart::Form::new()
            .text("operations", operations.to_string())
            .text("map", map.to_string())
            .part(
                "0",
                reqwest::multipart::Part::bytes(file)
                    .file_name("upload.torrent")
                    .mime_str("application/x-bittorrent")
                    .expect("mime"),
            );
        self.http
            .post(self.url("/graphql"))
            .bearer_auth(admin_token())
            .multipart(form)
            .send()
            .await
            .expect("request")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// `extra` laid over `base`, table by table.
fn merge(base: &mut toml::Table, extra: toml::Table) {
    for (key, value) in extra {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base)), toml::Value::Table(extra)) => merge(base, extra),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// An app for the whole test binary, kept in `cell` and started once by
/// `start`. It runs on a runtime of its own, as it must outlive the
/// runtime of the test that happened to start it.
pub async fn shared<F, Fut>(cell: &'static OnceCell<TestApp>, start: F) -> &'static TestApp
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = TestApp> + Send + 'static,
{
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
    });
    cell.get_or_init(|| async { runtime.spawn(start()).await.expect("app starts") })
        .await
}

/// Signs `claims` with the test secret.
pub fn sign(claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("sign")
}

/// A valid token with `roles`, expiring in an hour.
pub fn token_with_roles(roles: &[&str]) -> String {
    sign(&json!({ "sub": "tester", "roles": roles, "exp": chrono::Utc::now().timestamp() + 3600 }))
}

pub fn admin_token() -> String {
    token_with_roles(&["admin"])
}

/// The `extensions.code` of the first error, if any.
pub fn error_code(answer: &Value) -> Option<&str> {
    answer["errors"][0]["extensions"]["code"].as_str()
}

/// Panics with the answer when it has errors.
pub fn data(answer: &Value) -> &Value {
    assert!(
        answer.get("errors").is_none(),
        "unexpected errors: {answer:#}"
    );
    &answer["data"]
}
