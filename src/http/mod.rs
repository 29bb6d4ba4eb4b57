//! HTTP: the router, its endpoints and running the server. Handlers are
//! thin: they authenticate, call the schema or a service, and shape the
//! answer.

pub mod connections;
mod events;
mod graphql;
mod health;
mod negotiation;
mod playground;
mod state;
mod subscriptions;
mod ui;

use std::future::Future;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderValue, Method, header};
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use axum::Router;
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;

pub use state::AppState;

pub use playground::render as render_playground;

/// `GET /graphql`: a websocket upgrade for subscriptions, the playground
/// page for a browser, or a query.
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
        return graphql::get(state, &parts).await;
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
    // The socket keeps its connection's slot; it turns busy once its
    // client is authenticated.
    let slot = parts
        .extensions
        .get::<connections::ConnectionSlot>()
        .cloned();
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(subscriptions::MAX_MESSAGE_BYTES)
        // tungstenite reserves 128 KiB per socket for reading by default:
        // 128 MB at a thousand subscribers who send almost nothing.
        .read_buffer_size(subscriptions::SOCKET_BUFFER_BYTES)
        .write_buffer_size(subscriptions::SOCKET_BUFFER_BYTES)
        .on_upgrade(move |socket| {
            connections.track_future(subscriptions::serve_socket(socket, state, protocol, slot))
        })
}

/// Every route, before state and shared middleware are applied.
fn routes(state: &AppState) -> Router<AppState> {
    let timeout = TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        state.limits.request_timeout,
    );
    let graphql = post(graphql::post).get(get_graphql).layer(
        tower::ServiceBuilder::new()
            .layer(axum::middleware::map_response(graphql::payload_too_large))
            .layer(RequestBodyLimitLayer::new(state.limits.max_request_bytes))
            .layer(timeout),
    );
    let mut router = Router::new()
        .route("/graphql", graphql)
        .route("/healthz", get(health::liveness))
        .route("/readyz", get(health::readiness))
        .merge(ui::routes());
    if state.playground.enabled {
        router = match (
            &state.playground.assets_dir,
            &state.playground.asset_base_url,
        ) {
            (Some(dir), _) => {
                router.nest_service(playground::LOCAL_ASSETS_PATH, ServeDir::new(dir))
            }
            (None, None) => router.merge(playground::built_in_assets()),
            (None, Some(_)) => router,
        };
    }
    router
}

/// The application's routes.
pub fn router(state: AppState) -> Router {
    let cors = (!state.cors_origins.is_empty()).then(|| cors(&state.cors_origins));
    routes(&state)
        // gzip, brotli or zstd, as the client offers: a list of 10,000
        // torrents is megabytes of JSON.
        .layer(CompressionLayer::new())
        .layer(tower::util::option_layer(cors))
        // The path only: a query string may carry a token. A 5xx is not
        // an error to log: `/readyz` answers 503 until the first sync, and
        // anything else is logged where it happens.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
                })
                .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
        )
        .with_state(state)
}

/// Lets pages from `origins` call the API (tokens travel in the
/// `Authorization` header; no cookies, so no credentials mode). Without
/// this layer a browser refuses every cross-origin answer, preflights
/// included; the playground is served from torrentql itself and needs none.
fn cors(origins: &[String]) -> CorsLayer {
    let origins = origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok());
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(3600))
}

/// How long shutdown waits for websockets to send their close frames.
const WEBSOCKET_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves `router(state)` on `listener` until `shutdown` completes, then
/// lets in-flight requests finish and closes every websocket.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let stop = state.shutdown.clone();
    let connections = state.connections.clone();
    let limits = state.connection_limits;
    tokio::spawn({
        let stop = stop.clone();
        async move {
            shutdown.await;
            stop.cancel();
        }
    });
    connections::serve(listener, router(state), limits, stop).await;
    connections.close();
    if tokio::time::timeout(WEBSOCKET_CLOSE_TIMEOUT, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!("some websockets did not close in time");
    }
}
