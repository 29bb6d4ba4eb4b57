//! One typed client per upstream. Nothing here knows about GraphQL or axum.

pub mod indexers;
pub mod jellyfin;
pub mod qbittorrent;
pub mod torrent_url;

use reqwest::header::HeaderValue;

/// What went wrong on the way to an upstream, in words safe to show:
/// reqwest's own text names the URL, which may carry a key.
fn describe_transport_error(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "the connection failed"
    }
}

/// A header value marked sensitive, so HTTP-level debug logs never show it.
fn sensitive_header(value: &str) -> HeaderValue {
    let mut header = HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static(""));
    header.set_sensitive(true);
    header
}
