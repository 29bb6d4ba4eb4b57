//! Wiring: the shared state, the router, and running the server.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::clients::qbittorrent::{Credentials, QbittorrentClient};
use crate::config::Config;
use crate::http;
use crate::managed::ManagedQbittorrent;
use crate::services::TorrentService;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub torrents: Arc<TorrentService>,
}

impl AppState {
    /// State for a qBittorrent reachable through `client`.
    pub fn new(config: &Config, client: Arc<QbittorrentClient>) -> Self {
        let torrents = TorrentService::new(
            client,
            config.qbittorrent.allowed_save_roots.clone(),
            config.qbittorrent.trackers.clone(),
        );
        Self {
            torrents: Arc::new(torrents),
        }
    }
}

/// The application's routes.
pub fn router(state: AppState) -> Router {
    http::routes()
        .with_state(state)
        .layer(TraceLayer::new_for_http())
}

/// Serves `router(state)` on `listener` until `shutdown` completes, then
/// lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A started backend: the state to serve, and the qbittorrent-nox we run
/// ourselves when no `qbittorrent.url` is configured.
pub struct Backend {
    pub state: AppState,
    pub managed: Option<ManagedQbittorrent>,
}

impl Backend {
    /// Connects to the configured qBittorrent, or starts a managed one.
    pub async fn start(config: &Config) -> anyhow::Result<Self> {
        let qbittorrent = &config.qbittorrent;
        let (url, credentials, managed) = match &qbittorrent.url {
            Some(url) => {
                let credentials = match (&qbittorrent.api_key, &qbittorrent.password) {
                    (Some(key), _) => Credentials::ApiKey(key.clone()),
                    (None, Some(password)) => Credentials::Password {
                        username: qbittorrent.username.clone(),
                        password: password.clone(),
                    },
                    (None, None) => anyhow::bail!("qbittorrent.password is not set"),
                };
                (url.clone(), credentials, None)
            }
            None => {
                let managed = ManagedQbittorrent::start(
                    &qbittorrent.managed,
                    &config.server.data_dir,
                    &qbittorrent.username,
                    qbittorrent.password.clone(),
                )
                .await?;
                (managed.url().clone(), managed.credentials(), Some(managed))
            }
        };
        let client = QbittorrentClient::new(&url, credentials, qbittorrent.timeout)
            .context("cannot build the qBittorrent client")?;
        Ok(Self {
            state: AppState::new(config, Arc::new(client)),
            managed,
        })
    }

    /// Stops what [`Backend::start`] started.
    pub async fn stop(self) {
        if let Some(managed) = self.managed {
            managed.stop().await;
        }
    }
}
