//! `/healthz` (the process is up) and `/readyz` (the mirror of qBittorrent
//! is fresh). Neither needs a token: they say nothing about the torrents,
//! and without an admin token `/readyz` gives only the kind of reason.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};

use super::AppState;

/// Always 200 while the server runs.
pub async fn liveness() -> &'static str {
    "ok"
}

/// 200 while torrentql answers from a fresh mirror of qBittorrent, 503
/// with the kind of reason otherwise (`not_synced_yet`,
/// `qbittorrent_unavailable`, `sync_too_old`), and with an admin token the
/// reason itself. It never calls qBittorrent itself: the poller does, and
/// probes every few seconds must not add to qBittorrent's load.
pub async fn readiness(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> (StatusCode, Json<Value>) {
    let Err(unready) = state.torrents.mirror().readiness() else {
        return (StatusCode::OK, Json(json!({ "ready": true })));
    };
    let mut answer = json!({ "ready": false, "reason": unready.class() });
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    if state
        .auth
        .authenticate_header(authorization)
        .admin_claims()
        .is_ok()
    {
        answer["detail"] = json!(unready.to_string());
    }
    (StatusCode::SERVICE_UNAVAILABLE, Json(answer))
}
