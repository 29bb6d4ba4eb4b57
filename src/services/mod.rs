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

pub use torrents::{AddOutcome, AddRequest, Outcome, TorrentChange, TorrentService, TorrentSource};

/// Why a use-case failed, in terms a caller can act on: what went wrong,
/// not which client saw it.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Something the user sent is wrong and can be fixed by them.
    #[error("{0}")]
    InvalidInput(String),
    /// A magnet link, info hash or `.torrent` file is malformed.
    #[error(transparent)]
    InvalidTorrent(#[from] torrent::Error),
    /// The URL given to add a torrent from leads to no torrent (a bad
    /// scheme, too many redirects, too large, a 4xx): the user can fix it.
    #[error("could not get a torrent from the URL: {0}")]
    TorrentUrlRefused(String),
    /// The server of the URL given to add a torrent from is down or failing.
    #[error("could not get a torrent from the URL: {0}")]
    TorrentUrlUnavailable(String),
    /// qBittorrent does not list this torrent.
    #[error("no torrent with hash {0}")]
    TorrentNotFound(InfoHash),
    /// qBittorrent answered "not found" for something else.
    #[error("{0}")]
    NotFound(String),
    /// qBittorrent took the torrent but never listed it; it was removed
    /// again in case it turns up later.
    #[error("qBittorrent accepted the torrent but did not list it within {0:?}")]
    NotListed(Duration),
    /// qBittorrent or Jellyfin cannot be reached, times out, is starting,
    /// or will not let torrentql in.
    #[error("{0}")]
    Unavailable(String),
    /// qBittorrent or Jellyfin understood the request and refused it.
    #[error("{0}")]
    Rejected(String),
    /// qBittorrent or Jellyfin answered something torrentql cannot read: a
    /// bug, or a version it does not know.
    #[error("{0}")]
    UnexpectedAnswer(String),
    /// A Jellyfin login with a wrong username or password.
    #[error("wrong username or password")]
    BadCredentials,
    /// A Jellyfin login of a disabled user.
    #[error("this Jellyfin user is disabled")]
    UserDisabled,
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

impl From<QbittorrentError> for ServiceError {
    fn from(error: QbittorrentError) -> Self {
        let message = error.to_string();
        match error {
            QbittorrentError::Unauthorized(_) | QbittorrentError::Unavailable(_) => {
                Self::Unavailable(message)
            }
            QbittorrentError::NotFound => Self::NotFound(message),
            QbittorrentError::Rejected(_) => Self::Rejected(message),
            QbittorrentError::Other(_) => Self::UnexpectedAnswer(message),
        }
    }
}

impl From<JellyfinError> for ServiceError {
    fn from(error: JellyfinError) -> Self {
        let message = error.to_string();
        match error {
            JellyfinError::BadCredentials => Self::BadCredentials,
            JellyfinError::UserDisabled => Self::UserDisabled,
            JellyfinError::BadApiKey | JellyfinError::NotAdminKey => Self::Rejected(message),
            JellyfinError::Starting | JellyfinError::Unavailable(_) => Self::Unavailable(message),
            JellyfinError::Other(_) => Self::UnexpectedAnswer(message),
        }
    }
}

impl From<TorrentUrlError> for ServiceError {
    fn from(error: TorrentUrlError) -> Self {
        let message = error.to_string();
        match error {
            TorrentUrlError::Unreachable(_) => Self::TorrentUrlUnavailable(message),
            TorrentUrlError::Status(status) if status.is_server_error() => {
                Self::TorrentUrlUnavailable(message)
            }
            _ => Self::TorrentUrlRefused(message),
        }
    }
}
