//! HTTP endpoints. Handlers are thin: they authenticate, call the schema
//! or a service, and shape the answer.

mod graphql;
mod health;
mod playground;

use axum::Router;
use axum::routing::{get, post};
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;

use crate::app::AppState;

pub use playground::render as render_playground;

/// Every route, before state and shared middleware are applied.
pub fn routes(state: &AppState) -> Router<AppState> {
    let timeout = TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        state.limits.request_timeout,
    );
    let graphql_post = post(graphql::execute).layer(timeout);
    let graphql = if state.playground.enabled {
        graphql_post.get(playground::page)
    } else {
        graphql_post
    };
    let mut router = Router::new()
        .route("/graphql", graphql)
        .route("/healthz", get(health::liveness))
        .route("/readyz", get(health::readiness));
    if let (true, Some(dir)) = (state.playground.enabled, &state.playground.assets_dir) {
        router = router.nest_service(playground::LOCAL_ASSETS_PATH, ServeDir::new(dir));
    }
    router
}
