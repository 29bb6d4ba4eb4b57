//! `AppError`: the only error users see. Every variant maps to one
//! `extensions.code`; messages are written for people and never carry an
//! upstream URL, cookie or stack trace. Internals are logged once, here,
//! where they are turned into what the user sees.

use crate::auth::AccessDenied;
use crate::clients::jellyfin::JellyfinError;
use crate::clients::qbittorrent::QbittorrentError;
use crate::clients::torrent_url::TorrentUrlError;
use crate::services::ServiceError;

/// An error as the API reports it.
///
/// Deliberately not `Display`: async-graphql converts any `Display` error
/// into a bare message, and every error must carry its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppError {
    /// `BAD_USER_INPUT`: the request is wrong and the user can fix it.
    BadUserInput(String),
    /// `UNAUTHENTICATED`: no valid token.
    Unauthenticated(String),
    /// `FORBIDDEN`: a valid token without the admin role.
    Forbidden(String),
    /// `NOT_FOUND`: no torrent with that hash, or the like.
    NotFound(String),
    /// `UPSTREAM_UNAVAILABLE`: qBittorrent (or another upstream) is down,
    /// timing out, or refusing torrentql's credentials.
    UpstreamUnavailable(String),
    /// `UPSTREAM_REJECTED`: the upstream understood and refused.
    UpstreamRejected(String),
    /// `NOT_CONFIGURED`: the feature needs configuration it does not have.
    NotConfigured(String),
    /// `RATE_LIMITED`: too many attempts; try again later.
    RateLimited(String),
    /// `INTERNAL`: a bug or an unexpected answer; details are in the log.
    Internal,
}

impl AppError {
    /// The `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUserInput(_) => "BAD_USER_INPUT",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::UpstreamUnavailable(_) => "UPSTREAM_UNAVAILABLE",
            Self::UpstreamRejected(_) => "UPSTREAM_REJECTED",
            Self::NotConfigured(_) => "NOT_CONFIGURED",
            Self::RateLimited(_) => "RATE_LIMITED",
            Self::Internal => "INTERNAL",
        }
    }

    /// The message shown to the user.
    pub fn message(&self) -> &str {
        match self {
            Self::BadUserInput(message)
            | Self::Unauthenticated(message)
            | Self::Forbidden(message)
            | Self::NotFound(message)
            | Self::UpstreamUnavailable(message)
            | Self::UpstreamRejected(message)
            | Self::NotConfigured(message)
            | Self::RateLimited(message) => message,
            Self::Internal => "internal error; the server log has the details",
        }
    }
}

impl AppError {
    /// An answer refusing a whole operation with this error, for checks
    /// made before the schema runs it.
    pub fn into_graphql_response(self) -> async_graphql::Response {
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", self.code());
        let mut error = async_graphql::ServerError::new(self.message(), None);
        error.extensions = Some(extensions);
        async_graphql::Response::from_errors(vec![error])
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(error: AppError) -> Self {
        use async_graphql::ErrorExtensions;
        async_graphql::Error::new(error.message())
            .extend_with(|_, extensions| extensions.set("code", error.code()))
    }
}

impl From<AccessDenied> for AppError {
    fn from(denied: AccessDenied) -> Self {
        match denied {
            AccessDenied::NotAdmin => Self::Forbidden(denied.to_string()),
            _ => Self::Unauthenticated(denied.to_string()),
        }
    }
}

impl From<QbittorrentError> for AppError {
    fn from(error: QbittorrentError) -> Self {
        match &error {
            QbittorrentError::Unauthorized(_) | QbittorrentError::Unavailable(_) => {
                tracing::warn!(%error, "qBittorrent call failed");
                Self::UpstreamUnavailable(error.to_string())
            }
            QbittorrentError::NotFound => Self::NotFound(error.to_string()),
            QbittorrentError::Rejected(_) => Self::UpstreamRejected(error.to_string()),
            QbittorrentError::Other(_) => {
                tracing::error!(%error, "unexpected answer from qBittorrent");
                Self::Internal
            }
        }
    }
}

impl From<ServiceError> for AppError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::InvalidInput(_) | ServiceError::InvalidTorrent(_) => {
                Self::BadUserInput(error.to_string())
            }
            ServiceError::TorrentUrl(ref cause) => match cause {
                TorrentUrlError::Unreachable(_) => Self::UpstreamUnavailable(error.to_string()),
                TorrentUrlError::Status(status) if status.is_server_error() => {
                    Self::UpstreamUnavailable(error.to_string())
                }
                _ => Self::BadUserInput(error.to_string()),
            },
            ServiceError::TorrentNotFound(_) => Self::NotFound(error.to_string()),
            ServiceError::NotListed(_) => {
                tracing::warn!(%error, "added torrent never appeared");
                Self::UpstreamRejected(error.to_string())
            }
            ServiceError::Qbittorrent(error) => error.into(),
            ServiceError::Jellyfin(ref jellyfin) => match jellyfin {
                JellyfinError::BadCredentials => Self::Unauthenticated(error.to_string()),
                JellyfinError::UserDisabled => Self::Forbidden(error.to_string()),
                JellyfinError::BadApiKey | JellyfinError::NotAdminKey => {
                    tracing::error!(%error, "Jellyfin refused torrentql's API key");
                    Self::UpstreamRejected(error.to_string())
                }
                JellyfinError::Starting | JellyfinError::Unavailable(_) => {
                    Self::UpstreamUnavailable(error.to_string())
                }
                JellyfinError::Other(_) => {
                    tracing::error!(%error, "unexpected answer from Jellyfin");
                    Self::Internal
                }
            },
            ServiceError::NotConfigured(message) => Self::NotConfigured(message),
            ServiceError::RateLimited(message) => Self::RateLimited(message),
            ServiceError::NotAdministrator(_) => {
                Self::Forbidden(format!("{error}; only administrators get a token"))
            }
            ServiceError::SearchFailed(ref failures) => {
                if failures.iter().all(|failure| failure.rejected) {
                    Self::UpstreamRejected(error.to_string())
                } else {
                    Self::UpstreamUnavailable(error.to_string())
                }
            }
        }
    }
}
