//! Fetches `.torrent` files from URLs users give, into memory.
//!
//! qBittorrent could fetch a URL itself, but then a bad link would only
//! fail later, inside qBittorrent, with no hash known up front. Fetching
//! here lets torrentql hash the file first, and lets an indexer's redirect
//! to a `magnet:` link (Prowlarr answers 301 like this) take the magnet
//! route instead.

use std::time::Duration;

use futures::StreamExt;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use url::Url;

/// Total time for one fetch, redirects included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 5;

/// Why a URL gave no torrent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TorrentUrlError {
    /// Not an `http`/`https` URL (or a redirect to one), e.g. `file:`.
    #[error("only http and https URLs can be fetched (and redirects to magnet links)")]
    UnsupportedScheme,
    /// Not a URL at all.
    #[error("the URL is not valid: {0}")]
    InvalidUrl(String),
    /// Redirects beyond [`MAX_REDIRECTS`].
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    /// A body larger than the upload limit.
    #[error("the download is larger than {0} bytes")]
    TooLarge(usize),
    /// The server answered with an error status.
    #[error("the server answered {0}")]
    Status(StatusCode),
    /// Could not connect, or timed out.
    #[error("could not fetch the URL: {0}")]
    Unreachable(String),
}

/// What a URL led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// A redirect to this `magnet:` link (not yet validated).
    Magnet(String),
    /// The body, at most the size limit.
    Body(Vec<u8>),
}

/// Fetches user-given URLs, following redirects by hand so that every hop
/// is checked.
pub struct TorrentUrlClient {
    http: reqwest::Client,
    max_bytes: usize,
}

impl TorrentUrlClient {
    /// A client that refuses bodies larger than `max_bytes`.
    pub fn new(max_bytes: usize) -> reqwest::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("torrentql/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, max_bytes })
    }

    /// The same client, refusing bodies over `max_bytes` instead.
    pub fn with_max_bytes(self, max_bytes: usize) -> Self {
        Self { max_bytes, ..self }
    }

    /// Fetches `url`, following at most [`MAX_REDIRECTS`] redirects, all
    /// within [`FETCH_TIMEOUT`].
    pub async fn fetch(&self, url: &str) -> Result<Fetched, TorrentUrlError> {
        tokio::time::timeout(FETCH_TIMEOUT, self.fetch_following_redirects(url))
            .await
            .unwrap_or_else(|_| Err(TorrentUrlError::Unreachable("timed out".to_owned())))
    }

    async fn fetch_following_redirects(&self, url: &str) -> Result<Fetched, TorrentUrlError> {
        let mut url = parse_http_url(url)?;
        for _ in 0..=MAX_REDIRECTS {
            let response = self
                .http
                .get(url.clone())
                .send()
                .await
                .map_err(unreachable)?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|value| value.to_str().ok())
                    .ok_or(TorrentUrlError::Status(status))?;
                if location
                    .get(..7)
                    .is_some_and(|s| s.eq_ignore_ascii_case("magnet:"))
                {
                    return Ok(Fetched::Magnet(location.to_owned()));
                }
                let next = url
                    .join(location)
                    .map_err(|error| TorrentUrlError::InvalidUrl(error.to_string()))?;
                url = parse_http_url(next.as_str())?;
                continue;
            }
            if !status.is_success() {
                return Err(TorrentUrlError::Status(status));
            }
            if response
                .content_length()
                .is_some_and(|length| length > self.max_bytes as u64)
            {
                return Err(TorrentUrlError::TooLarge(self.max_bytes));
            }
            let mut body = Vec::new();
            let mut chunks = response.bytes_stream();
            while let Some(chunk) = chunks.next().await {
                let chunk = chunk.map_err(unreachable)?;
                if body.len() + chunk.len() > self.max_bytes {
                    return Err(TorrentUrlError::TooLarge(self.max_bytes));
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(Fetched::Body(body));
        }
        Err(TorrentUrlError::TooManyRedirects)
    }
}

fn parse_http_url(text: &str) -> Result<Url, TorrentUrlError> {
    let url =
        Url::parse(text.trim()).map_err(|error| TorrentUrlError::InvalidUrl(error.to_string()))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        _ => Err(TorrentUrlError::UnsupportedScheme),
    }
}

/// Describes a transport failure without echoing the URL.
fn unreachable(error: reqwest::Error) -> TorrentUrlError {
    TorrentUrlError::Unreachable(super::describe_transport_error(&error).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_schemes_other_than_http_before_connecting() {
        let client = TorrentUrlClient::new(1024).unwrap();
        for url in ["file:///etc/passwd", "ftp://example/x.torrent", "data:,x"] {
            assert_eq!(
                client.fetch(url).await,
                Err(TorrentUrlError::UnsupportedScheme),
                "{url}"
            );
        }
        assert!(matches!(
            client.fetch("not a url").await,
            Err(TorrentUrlError::InvalidUrl(_))
        ));
    }

    #[tokio::test]
    async fn redirects_are_followed_up_to_the_limit_and_only_to_http_or_magnet() {
        use wiremock::matchers::path;
        use wiremock::{Mock, MockServer, ResponseTemplate};

        let server = MockServer::start().await;
        let redirect =
            |location: String| ResponseTemplate::new(302).insert_header("location", location);
        for hop in 0..10 {
            Mock::given(path(format!("/hop/{hop}")))
                .respond_with(redirect(format!("/hop/{}", hop + 1)))
                .mount(&server)
                .await;
        }
        Mock::given(path("/hop/10"))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(b"d4:infode".to_vec()))
            .mount(&server)
            .await;
        Mock::given(path("/to-file"))
            .respond_with(redirect("file:///etc/passwd".to_owned()))
            .mount(&server)
            .await;
        Mock::given(path("/to-magnet"))
            .respond_with(redirect(
                "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567".to_owned(),
            ))
            .mount(&server)
            .await;
        let client = TorrentUrlClient::new(1024).unwrap();
        let url = |path: &str| format!("{}{path}", server.uri());

        let hops = 10 - MAX_REDIRECTS;
        assert_eq!(
            client.fetch(&url(&format!("/hop/{hops}"))).await,
            Ok(Fetched::Body(b"d4:infode".to_vec())),
            "{MAX_REDIRECTS} redirects are followed"
        );
        assert_eq!(
            client.fetch(&url(&format!("/hop/{}", hops - 1))).await,
            Err(TorrentUrlError::TooManyRedirects)
        );
        assert_eq!(
            client.fetch(&url("/to-file")).await,
            Err(TorrentUrlError::UnsupportedScheme)
        );
        assert!(matches!(
            client.fetch(&url("/to-magnet")).await,
            Ok(Fetched::Magnet(magnet)) if magnet.starts_with("magnet:?xt=urn:btih:0123")
        ));
    }

    #[tokio::test]
    async fn bodies_over_the_size_limit_are_refused() {
        use wiremock::matchers::path;
        use wiremock::{Mock, MockServer, ResponseTemplate};

        let server = MockServer::start().await;
        for (name, size) in [("/fits", 1024), ("/too-big", 1025)] {
            Mock::given(path(name))
                .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'x'; size]))
                .mount(&server)
                .await;
        }
        let client = TorrentUrlClient::new(1024).unwrap();
        assert!(matches!(
            client.fetch(&format!("{}/fits", server.uri())).await,
            Ok(Fetched::Body(body)) if body.len() == 1024
        ));
        assert_eq!(
            client.fetch(&format!("{}/too-big", server.uri())).await,
            Err(TorrentUrlError::TooLarge(1024))
        );
    }
}
