//! The composition root: starts (or connects to) qBittorrent and wires
//! every client and service into the state the HTTP layer serves.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::{Authenticator, SecretSource};
use crate::clients::jellyfin::{ClientIdentity, JellyfinClient};
use crate::clients::qbittorrent::{Credentials, QbittorrentClient};
use crate::config::Config;
use crate::graphql::{self, ParsedQueries, Services};
use crate::http::connections::ConnectionLimits;
use crate::http::{self, AppState};
use crate::managed::ManagedQbittorrent;
use crate::services::TorrentService;
use crate::services::indexer_keys::IndexerKeys;
use crate::services::libraries::{LibraryService, PathMappings};
use crate::services::login::LoginService;
use crate::services::mirror::SyncSettings;
use crate::services::search::SearchService;
use crate::services::search::library_check::LibraryCheck;

/// A started backend: the state to serve, and the qbittorrent-nox we run
/// ourselves when no `qbittorrent.url` is configured.
pub struct Backend {
    /// What the HTTP server serves.
    pub state: AppState,
    /// The qbittorrent-nox torrentql runs itself, when no URL is configured.
    pub managed: Option<ManagedQbittorrent>,
    /// Whether the JWT secret was generated (then the start-up prints an
    /// admin token).
    pub secret_source: SecretSource,
}

impl Backend {
    /// Connects to the configured qBittorrent, or starts a managed one.
    pub async fn start(config: &Config) -> anyhow::Result<Self> {
        let (auth, secret_source) =
            Authenticator::from_config(&config.auth, &config.server.data_dir)?;
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
            .context("cannot build the qBittorrent client")?
            .with_retry_after_ban(qbittorrent.login_retry_after_ban);
        let client = Arc::new(client);
        let state = wire(config, Arc::clone(&client), auth)?;
        let mirror = Arc::clone(state.torrents.mirror());
        tokio::spawn(Arc::clone(&mirror).run(client, state.shutdown.clone()));
        tokio::spawn(
            Arc::clone(&state.libraries)
                .notify_completions(mirror.completions(None), state.shutdown.clone()),
        );
        tokio::spawn(crate::memory::release_periodically(state.shutdown.clone()));
        Ok(Self {
            state,
            managed,
            secret_source,
        })
    }

    /// Ends the qBittorrent session and stops what [`Backend::start`]
    /// started.
    pub async fn stop(self) {
        if let Err(error) = self.state.torrents.qbittorrent().log_out().await {
            tracing::debug!(%error, "could not log out of qBittorrent");
        }
        if let Some(managed) = self.managed {
            managed.stop().await;
        }
    }
}

/// The HTTP layer's state for a qBittorrent reachable through `client`:
/// every client and service, wired.
fn wire(
    config: &Config,
    client: Arc<QbittorrentClient>,
    auth: Authenticator,
) -> anyhow::Result<AppState> {
    let auth = Arc::new(auth);
    let jellyfin = match &config.jellyfin {
        Some(jellyfin) => {
            let device_id = crate::data_dir::read_or_create(
                &config.server.data_dir.join("jellyfin-device-id"),
                || crate::data_dir::random_token(16),
            )
            .context("cannot keep the Jellyfin device id in the data directory")?;
            Some(Arc::new(
                JellyfinClient::new(
                    &jellyfin.url,
                    jellyfin.api_key.clone(),
                    jellyfin.timeout,
                    ClientIdentity {
                        device_id,
                        version: env!("CARGO_PKG_VERSION").to_owned(),
                    },
                )
                .context("cannot build the Jellyfin client")?,
            ))
        }
        None => None,
    };
    let libraries = Arc::new(LibraryService::new(
        jellyfin.clone(),
        config
            .jellyfin
            .as_ref()
            .map_or(Duration::ZERO, |jellyfin| jellyfin.cache_ttl),
        config.libraries.clone(),
        PathMappings::new(config.path_mappings.clone()),
    ));
    let torrents = Arc::new(
        TorrentService::new(
            client,
            config.qbittorrent.allowed_save_roots.clone(),
            config.qbittorrent.trackers.clone(),
            SyncSettings {
                interval: config.sync.interval,
                max_busy_share: config.sync.max_busy_share,
            },
        )
        .context("cannot build the client for .torrent URLs")?
        .with_libraries(Arc::clone(&libraries))
        .with_indexer_keys(IndexerKeys::new(&config.search.torznab))
        .with_torrent_limits(config.limits.torrent()),
    );
    let library_check = jellyfin
        .as_ref()
        .zip(config.jellyfin.as_ref())
        .map(|(client, jellyfin)| LibraryCheck::new(Arc::clone(client), jellyfin.cache_ttl));
    let search = Arc::new(
        SearchService::new(&config.search, config.qbittorrent.trackers.clone())
            .context("cannot build the search clients")?
            .with_libraries(Arc::clone(&libraries), library_check),
    );
    let login = Arc::new(LoginService::new(jellyfin, Arc::clone(&auth)));
    let schema = graphql::build(
        Services {
            torrents: Arc::clone(&torrents),
            search,
            libraries: Arc::clone(&libraries),
            login,
        },
        &config.limits,
    );
    Ok(AppState {
        torrents,
        libraries,
        schema,
        parsed_queries: Arc::new(ParsedQueries::new(&config.limits)),
        persisted_queries: Arc::default(),
        auth,
        public_introspection: config.auth.public_introspection,
        cors_origins: config.server.cors_origins.clone(),
        trusted_proxies: config.server.trusted_proxies.clone(),
        limits: config.limits.clone(),
        playground: config.playground.clone(),
        playground_page: Arc::new(http::render_playground(&config.playground)),
        shutdown: CancellationToken::new(),
        connections: TaskTracker::new(),
        connection_limits: ConnectionLimits {
            max_connections: config.server.max_connections,
            header_timeout: config.server.header_timeout,
            drain_timeout: config.limits.request_timeout,
        },
    })
}
