//! `/healthz` (the process is up) and `/readyz` (qBittorrent answers).
//! Neither needs a token: they say nothing about the torrents.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::app::AppState;

/// Always 200 while the server runs.
pub async fn liveness() -> &'static str {
    "ok"
}

/// 200 when qBittorrent answers an authenticated call now, 503 with the
/// reason otherwise.
pub async fn readiness(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.torrents.qbittorrent().app_version().await {
        Ok(version) => (
            StatusCode::OK,
            Json(json!({ "ready": true, "qbittorrent": { "version": version } })),
        ),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "ready": false, "reason": error.to_string() })),
        ),
    }
}
