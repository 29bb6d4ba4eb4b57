//! HTTP endpoints. Handlers are thin: they call a service and shape the
//! answer.

mod health;

use axum::Router;
use axum::routing::get;

use crate::app::AppState;

/// Every route, before state and middleware are applied.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::liveness))
        .route("/readyz", get(health::readiness))
}
