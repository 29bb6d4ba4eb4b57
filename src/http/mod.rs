//! HTTP endpoints. Handlers are thin: they authenticate, call the schema
//! or a service, and shape the answer.

pub mod connections;
mod graphql;
mod health;
mod playground;
mod subscriptions;

use axum::Router;
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;

use crate::app::AppState;

pub use playground::render as render_playground;

/// `GET /graphql`: a websocket upgrade for subscriptions, or the
/// playground page for a browser.
async fn get_graphql(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::extract::FromRequestParts;
    use axum::response::IntoResponse;

    let (mut parts, _) = request.into_parts();
    let is_upgrade = parts
        .headers
        .get(axum::http::header::UPGRADE)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"websocket"));
    if !is_upgrade {
        return if state.playground.enabled {
            playground::page(axum::extract::State(state))
                .await
                .into_response()
        } else {
            axum::http::StatusCode::NOT_FOUND.into_response()
        };
    }
    // Answer in the protocol the handshake will name: the first of ours
    // the client offers (graphql-transport-ws, then graphql-ws); clients
    // that offer none get graphql-transport-ws.
    let offered: Vec<String> = parts
        .headers
        .get(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|value| value.to_str().ok())
        .map(|offered| {
            offered
                .split(',')
                .map(|name| name.trim().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let protocol = async_graphql::http::ALL_WEBSOCKET_PROTOCOLS
        .iter()
        .find(|ours| offered.iter().any(|name| name == *ours))
        .and_then(|name| name.parse::<async_graphql::http::WebSocketProtocols>().ok())
        .unwrap_or(async_graphql::http::WebSocketProtocols::GraphQLWS);
    let upgrade =
        match axum::extract::ws::WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
            Ok(upgrade) => upgrade,
            Err(rejection) => return rejection.into_response(),
        };
    let connections = state.connections.clone();
    // The socket keeps its connection busy until it closes.
    let busy = parts
        .extensions
        .get::<connections::ConnectionSlot>()
        .map(connections::ConnectionSlot::busy);
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(subscriptions::MAX_MESSAGE_BYTES)
        // tungstenite reserves 128 KiB per socket for reading by default:
        // 128 MB at a thousand subscribers who send almost nothing.
        .read_buffer_size(subscriptions::SOCKET_BUFFER_BYTES)
        .write_buffer_size(subscriptions::SOCKET_BUFFER_BYTES)
        .on_upgrade(move |socket| {
            connections.track_future(async move {
                subscriptions::serve_socket(socket, state, protocol).await;
                drop(busy);
            })
        })
}

/// Every route, before state and shared middleware are applied.
pub fn routes(state: &AppState) -> Router<AppState> {
    let timeout = TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        state.limits.request_timeout,
    );
    let graphql_post = post(graphql::execute).layer(
        tower::ServiceBuilder::new()
            .layer(axum::middleware::map_response(graphql::payload_too_large))
            .layer(RequestBodyLimitLayer::new(state.limits.max_request_bytes))
            .layer(timeout),
    );
    let graphql = graphql_post.get(get_graphql);
    let mut router = Router::new()
        .route("/graphql", graphql)
        .route("/healthz", get(health::liveness))
        .route("/readyz", get(health::readiness));
    if let (true, Some(dir)) = (state.playground.enabled, &state.playground.assets_dir) {
        router = router.nest_service(playground::LOCAL_ASSETS_PATH, ServeDir::new(dir));
    }
    router
}
