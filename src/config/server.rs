//! `[server]`: where torrentql listens and keeps its state, and what its
//! HTTP server lets in.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use url::Url;

use super::Problems;
use super::lenient;
use super::values::parse_timeout;

/// Where torrentql listens and keeps its state.
#[derive(Debug, Clone, Serialize)]
pub struct ServerConfig {
    /// Address the HTTP server binds.
    pub listen: SocketAddr,
    /// Where torrentql keeps its state (the managed qBittorrent's profile,
    /// generated secrets).
    pub data_dir: PathBuf,
    /// Browser origins (`https://app.example`) allowed to call the API
    /// from their pages; empty (the default) allows none.
    /// Each is `scheme://host[:port]`, as browsers send it.
    pub cors_origins: Vec<String>,
    /// Reverse proxies (addresses or networks) whose `X-Forwarded-For` is
    /// believed: the log-in limiter then counts the client behind them.
    pub trusted_proxies: Vec<IpNet>,
    /// Most connections open at once, websockets included.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, and how
    /// long an idle keep-alive connection stays open.
    #[serde(with = "humantime_serde")]
    pub header_timeout: Duration,
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawServer {
    #[serde(deserialize_with = "lenient::string")]
    listen: String,
    #[serde(deserialize_with = "lenient::optional_string")]
    data_dir: Option<String>,
    #[serde(deserialize_with = "lenient::strings")]
    cors_origins: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    trusted_proxies: Vec<String>,
    max_connections: usize,
    #[serde(deserialize_with = "lenient::string")]
    header_timeout: String,
}

impl Default for RawServer {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            data_dir: None,
            cors_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            max_connections: 1024,
            header_timeout: "30s".to_owned(),
        }
    }
}

impl RawServer {
    pub(super) fn validate(self, problems: &mut Problems) -> Option<ServerConfig> {
        let listen = problems.check(
            "server.listen",
            self.listen
                .parse::<SocketAddr>()
                .map_err(|_| format!("{:?} is not an address like 127.0.0.1:8080", self.listen)),
        );
        let cors_origins =
            problems.check_each("server.cors_origins", &self.cors_origins, parse_origin);
        let trusted_proxies = problems.check_each(
            "server.trusted_proxies",
            &self.trusted_proxies,
            parse_network,
        );
        if self.max_connections == 0 {
            problems.add("server.max_connections", "must be at least 1");
        }
        let header_timeout =
            problems.check("server.header_timeout", parse_timeout(&self.header_timeout));
        let data_dir = match self.data_dir.as_deref().map(str::trim) {
            Some("") => {
                problems.add("server.data_dir", "must not be empty");
                None
            }
            Some(dir) => Some(PathBuf::from(dir)),
            None => Some(default_data_dir()),
        };
        Some(ServerConfig {
            listen: listen?,
            data_dir: data_dir?,
            cors_origins,
            trusted_proxies,
            max_connections: self.max_connections,
            header_timeout: header_timeout?,
        })
    }
}

/// `$XDG_DATA_HOME/torrentql` (usually `~/.local/share/torrentql`).
fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("torrentql")
}

/// An address (`10.0.0.5`) or a network (`172.16.0.0/12`).
fn parse_network(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{text:?} is not an address or a network like 172.16.0.0/12"))
}

/// A browser origin, `scheme://host[:port]`, as its `Origin` header reads.
fn parse_origin(text: &str) -> Result<String, String> {
    let url = Url::parse(text.trim())
        .map_err(|error| format!("{text:?} is not an origin like https://app.example ({error})"))?;
    let origin = url.origin().ascii_serialization();
    if !matches!(url.scheme(), "http" | "https") || format!("{origin}/") != url.as_str() {
        return Err(format!(
            "{text:?} is not an origin like https://app.example (scheme, host and port only)"
        ));
    }
    Ok(origin)
}
