//! What every request handler shares.

use std::sync::Arc;

use ipnet::IpNet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::connections::ConnectionLimits;
use crate::auth::Authenticator;
use crate::config::{LimitsConfig, PlaygroundConfig};
use crate::graphql::{ParsedQueries, PersistedQueries, TorrentqlSchema};
use crate::services::TorrentService;
use crate::services::libraries::LibraryService;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The torrent use-cases; `/readyz` reads their mirror's health.
    pub torrents: Arc<TorrentService>,
    /// The libraries, whose completion notices run beside the server.
    pub libraries: Arc<LibraryService>,
    /// The schema every GraphQL request runs on.
    pub schema: TorrentqlSchema,
    /// Parsed queries, by their text.
    pub parsed_queries: Arc<ParsedQueries>,
    /// Query texts by hash, for automatic persisted queries.
    pub persisted_queries: Arc<PersistedQueries>,
    /// Verifies the tokens of requests and websockets.
    pub auth: Arc<Authenticator>,
    /// Whether callers without an admin token may introspect the schema.
    pub public_introspection: bool,
    /// Browser origins allowed to call the API cross-origin (none: CORS
    /// stays closed).
    pub cors_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpNet>,
    /// Request size, batch and time limits.
    pub limits: LimitsConfig,
    /// The GraphiQL page.
    pub playground: PlaygroundConfig,
    /// Rendered once: it only depends on the configuration.
    pub playground_page: Arc<String>,
    /// Cancelled when the server stops: ends the poller and closes
    /// websockets with a close frame.
    pub shutdown: CancellationToken,
    /// Open websocket connections, so shutdown can wait for their close
    /// frames to go out.
    pub connections: TaskTracker,
    /// How many connections may be open, and how long they may idle.
    pub connection_limits: ConnectionLimits,
}
