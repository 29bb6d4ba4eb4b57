//! Torrent indexers: apibay (The Pirate Bay's JSON API) and Torznab feeds
//! (Jackett, Prowlarr). Each client turns one search into typed rows;
//! merging and ranking across indexers is the search service's job.

pub mod apibay;
pub mod torznab;

use std::time::Duration;

/// Why an indexer gave no results.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexerError {
    /// Could not connect, timed out, or answered 5xx.
    #[error("{0}")]
    Unavailable(String),
    /// Refused the request: a bad API key, or another error body.
    #[error("{0}")]
    Rejected(String),
    /// Answered something that is not the expected format.
    #[error("{0}")]
    Malformed(String),
}

/// A client for any indexer: one shared `reqwest::Client` per indexer.
fn http_client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("torrentql/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Describes a transport failure without the URL (it may carry an API key).
fn transport_error(error: &reqwest::Error) -> IndexerError {
    IndexerError::Unavailable(super::describe_transport_error(error).to_owned())
}

/// Maps an HTTP error status.
fn status_error(status: reqwest::StatusCode) -> IndexerError {
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        IndexerError::Unavailable(format!("answered {status}"))
    } else if status == reqwest::StatusCode::UNAUTHORIZED
        || status == reqwest::StatusCode::FORBIDDEN
    {
        IndexerError::Rejected(format!("refused the request ({status}); check the API key"))
    } else {
        IndexerError::Rejected(format!("answered {status}"))
    }
}
