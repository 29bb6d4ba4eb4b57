//! The use-cases every resolver calls. Services speak in domain types and
//! [`ServiceError`]; they know nothing of GraphQL or HTTP.

pub mod indexer_keys;
pub mod libraries;
pub mod login;
pub mod mirror;
pub mod search;
pub mod torrents;

use std::time::Duration;

use crate::clients::jellyfin::JellyfinError;
use crate::clients::qbittorrent::QbittorrentError;
use crate::clients::torrent_url::TorrentUrlError;
use crate::torrent::{self, InfoHash};

pub use torrents::{AddOutcome, AddRequest, TorrentService, TorrentSource};

/// Why a use-case failed, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Something the user sent is wrong and can be fixed by them.
    #[error("{0}")]
    InvalidInput(String),
    /// A magnet link, info hash or `.torrent` file is malformed.
    #[error(transparent)]
    InvalidTorrent(#[from] torrent::Error),
    /// The URL given to add a torrent from could not be fetched.
    #[error("could not get a torrent from the URL: {0}")]
    TorrentUrl(#[from] TorrentUrlError),
    /// qBittorrent does not list this torrent.
    #[error("no torrent with hash {0}")]
    TorrentNotFound(InfoHash),
    /// qBittorrent took the torrent but never listed it; it was removed
    /// again in case it turns up later.
    #[error("qBittorrent accepted the torrent but did not list it within {0:?}")]
    NotListed(Duration),
    #[error(transparent)]
    Qbittorrent(#[from] QbittorrentError),
    #[error(transparent)]
    Jellyfin(JellyfinError),
    /// A feature was used that the configuration does not enable.
    #[error("{0}")]
    NotConfigured(String),
    /// Too many attempts; try again later.
    #[error("{0}")]
    RateLimited(String),
    /// A valid Jellyfin login of a user who is not an administrator.
    #[error("the Jellyfin user {0:?} is not an administrator")]
    NotAdministrator(String),
    /// Every search provider asked failed.
    #[error("every search provider failed: {}", .0.iter().map(|f| format!("{}: {}", f.provider, f.message)).collect::<Vec<_>>().join("; "))]
    SearchFailed(Vec<search::ProviderFailure>),
}
