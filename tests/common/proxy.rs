//! An HTTP proxy in front of a real qBittorrent that records every request
//! path and can replace the answer for one endpoint (to produce a garbage
//! answer from an otherwise real qBittorrent).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use url::Url;

#[derive(Clone)]
struct Shared {
    upstream: Url,
    http: reqwest::Client,
    paths: Arc<Mutex<Vec<String>>>,
    /// Nanoseconds qBittorrent spent answering (from send to last byte).
    busy_nanos: Arc<std::sync::atomic::AtomicU64>,
    replacements: Arc<Mutex<HashMap<String, (u16, String)>>>,
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
            paths: Arc::default(),
            busy_nanos: Arc::default(),
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
        self.shared
            .paths
            .lock()
            .expect("lock")
            .iter()
            .filter(|seen| *seen == path)
            .count()
    }

    /// Every request so far.
    pub fn total(&self) -> usize {
        self.shared.paths.lock().expect("lock").len()
    }

    /// Time qBittorrent spent answering the proxied requests.
    pub fn busy(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(
            self.shared
                .busy_nanos
                .load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    pub fn clear(&self) {
        self.shared.paths.lock().expect("lock").clear();
        self.shared
            .busy_nanos
            .store(0, std::sync::atomic::Ordering::Relaxed);
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
    shared.paths.lock().expect("lock").push(path.clone());
    if let Some((status, body)) = shared
        .replacements
        .lock()
        .expect("lock")
        .get(&path)
        .cloned()
    {
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
    let started = std::time::Instant::now();
    let answer = shared
        .http
        .request(method, target)
        .headers(headers)
        .body(body)
        .send()
        .await;
    let Ok(answer) = answer else {
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
    let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    shared
        .busy_nanos
        .fetch_add(nanos, std::sync::atomic::Ordering::Relaxed);
    response.body(Body::from(bytes)).expect("response")
}
