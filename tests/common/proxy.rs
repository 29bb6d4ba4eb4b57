//! An HTTP proxy in front of a real qBittorrent that records every request
//! (path, when, how long qBittorrent took) and can replace the answer for
//! one endpoint (to produce a garbage answer from an otherwise real
//! qBittorrent).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use url::Url;

#[derive(Clone)]
struct Shared {
    upstream: Url,
    http: reqwest::Client,
    requests: Arc<Mutex<Vec<Recorded>>>,
    replacements: Arc<Mutex<HashMap<String, (u16, String)>>>,
}

/// One proxied request.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub started: Instant,
    /// Time qBittorrent spent answering, from send to last byte (zero for
    /// a replaced answer).
    pub took: Duration,
}

/// A running recording proxy.
pub struct RecordingProxy {
    pub url: Url,
    shared: Shared,
}

impl RecordingProxy {
    /// Proxies 127.0.0.1:<free port> to `upstream`.
    pub async fn start(upstream: &Url) -> Self {
        let shared = Shared {
            upstream: upstream.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            requests: Arc::default(),
            replacements: Arc::default(),
        };
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/", listener.local_addr().expect("address"))
            .parse()
            .expect("url");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, shared }
    }

    /// How many requests went to `path` (e.g. `/api/v2/torrents/files`).
    pub fn count(&self, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|request| request.path == path)
            .count()
    }

    /// Every request so far.
    pub fn total(&self) -> usize {
        self.shared.requests.lock().expect("lock").len()
    }

    /// Every request since the last [`clear`](Self::clear), in the order
    /// their answers ended.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().expect("lock").clone()
    }

    pub fn clear(&self) {
        self.shared.requests.lock().expect("lock").clear();
    }

    /// Passes `path` to qBittorrent again after [`replace`](Self::replace).
    pub fn stop_replacing(&self, path: &str) {
        self.shared.replacements.lock().expect("lock").remove(path);
    }

    /// Answers `path` with `status` and `body` instead of qBittorrent.
    pub fn replace(&self, path: &str, status: u16, body: &str) {
        self.shared
            .replacements
            .lock()
            .expect("lock")
            .insert(path.to_owned(), (status, body.to_owned()));
    }
}

async fn forward(State(shared): State<Shared>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let record = |took| {
        shared.requests.lock().expect("lock").push(Recorded {
            path: path.clone(),
            started,
            took,
        });
    };
    if let Some((status, body)) = shared
        .replacements
        .lock()
        .expect("lock")
        .get(&path)
        .cloned()
    {
        record(Duration::ZERO);
        return Response::builder()
            .status(status)
            .body(Body::from(body))
            .expect("response");
    }
    let target = shared
        .upstream
        .join(
            request
                .uri()
                .path_and_query()
                .map_or("/", |pq| pq.as_str())
                .trim_start_matches('/'),
        )
        .expect("target");
    let method = request.method().clone();
    let mut headers = request.headers().clone();
    headers.remove("host");
    headers.remove("content-length");
    let body = to_bytes(request.into_body(), usize::MAX)
        .await
        .expect("body");
    let sent = Instant::now();
    let answer = shared
        .http
        .request(method, target)
        .headers(headers)
        .body(body)
        .send()
        .await;
    let Ok(answer) = answer else {
        record(sent.elapsed());
        return Response::builder()
            .status(502)
            .body(Body::empty())
            .expect("response");
    };
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != "content-length" && name != "transfer-encoding" {
            response = response.header(name, value);
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    record(sent.elapsed());
    response.body(Body::from(bytes)).expect("response")
}
