//! `/healthz` (the process is up) and `/readyz` (the mirror of qBittorrent
//! is fresh).
//! Neither needs a token: they say nothing about the torrents.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::AppState;

/// Always 200 while the server runs.
pub async fn liveness() -> &'static str {
    "ok"
}

/// 200 while torrentql answers from a fresh mirror of qBittorrent, 503
/// with the reason otherwise (before the first sync, or while qBittorrent
/// does not answer). It never calls qBittorrent itself: the poller does,
/// and probes every few seconds must not add to qBittorrent's load.
pub async fn readiness(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.torrents.mirror().readiness() {
        Ok(()) => (StatusCode::OK, Json(json!({ "ready": true }))),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "ready": false, "reason": reason })),
        ),
    }
}
