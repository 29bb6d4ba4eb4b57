//! `AppError`: the only error users see. Every variant maps to one
//! `extensions.code`; messages are written for people and never carry an
//! upstream URL, cookie or stack trace.
//!
//! Converting into an `AppError` is pure. An error is logged once, where
//! it is answered: GraphQL's error log logs the errors of each HTTP answer
//! with [`AppError::log`] as the answer leaves (refusals made before the
//! schema runs included), and what never becomes an HTTP answer (a
//! websocket refusal, a response that cannot be serialized) logs at its
//! own site.

use std::sync::Arc;

use crate::auth::AccessDenied;
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
    /// `PERSISTED_QUERY_NOT_FOUND`: a persisted query's hash that is not
    /// (or no longer) known; the client sends the text with it once more.
    /// The message is the one Apollo's clients look for.
    PersistedQueryNotFound,
    /// `INTERNAL`: a bug or an unexpected answer. The text is for the log
    /// only; users see a fixed message.
    Internal(String),
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
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::Internal(_) => "INTERNAL",
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
            Self::PersistedQueryNotFound => "PersistedQueryNotFound",
            Self::Internal(_) => "internal error; the server log has the details",
        }
    }
}

impl AppError {
    /// Logs this error as answered at `path` (a response path such as
    /// `torrents.3.files`): what the operator must see at `error` or `warn`,
    /// what the user can fix at `debug`.
    pub fn log(&self, path: &str) {
        match self {
            Self::Internal(detail) => tracing::error!(path, error = detail, "internal error"),
            Self::UpstreamUnavailable(message) | Self::UpstreamRejected(message) => {
                tracing::warn!(path, code = self.code(), error = message, "upstream failed")
            }
            other => tracing::debug!(
                path,
                code = other.code(),
                error = other.message(),
                "refused"
            ),
        }
    }

    /// An answer refusing a whole operation with this error, for checks
    /// made before the schema runs it.
    pub fn into_graphql_response(self) -> async_graphql::Response {
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", self.code());
        let mut error = async_graphql::ServerError::new(self.message(), None);
        error.extensions = Some(extensions);
        error.source = Some(Arc::new(self));
        async_graphql::Response::from_errors(vec![error])
    }
}

impl From<AppError> for async_graphql::Error {
    /// The message and code users see; the `AppError` itself rides along as
    /// the error's source, for the error log.
    fn from(error: AppError) -> Self {
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", error.code());
        async_graphql::Error {
            message: error.message().to_owned(),
            source: Some(Arc::new(error)),
            extensions: Some(extensions),
        }
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

impl From<ServiceError> for AppError {
    fn from(error: ServiceError) -> Self {
        let message = error.to_string();
        match error {
            ServiceError::InvalidInput(_)
            | ServiceError::InvalidTorrent(_)
            | ServiceError::TorrentUrlRefused(_) => Self::BadUserInput(message),
            ServiceError::TorrentNotFound(_) | ServiceError::NotFound(_) => Self::NotFound(message),
            ServiceError::TorrentUrlUnavailable(_) | ServiceError::Unavailable(_) => {
                Self::UpstreamUnavailable(message)
            }
            ServiceError::NotListed(_) | ServiceError::Rejected(_) => {
                Self::UpstreamRejected(message)
            }
            ServiceError::UnexpectedAnswer(_) => Self::Internal(message),
            ServiceError::BadCredentials => Self::Unauthenticated(message),
            ServiceError::UserDisabled => Self::Forbidden(message),
            ServiceError::NotConfigured(_) => Self::NotConfigured(message),
            ServiceError::RateLimited(_) => Self::RateLimited(message),
            ServiceError::NotAdministrator(_) => {
                Self::Forbidden(format!("{message}; only administrators get a token"))
            }
            ServiceError::SearchFailed(failures) => {
                if failures.iter().all(|failure| failure.rejected) {
                    Self::UpstreamRejected(message)
                } else {
                    Self::UpstreamUnavailable(message)
                }
            }
        }
    }
}
