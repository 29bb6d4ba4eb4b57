//! `[qbittorrent]`: which qBittorrent torrentql drives and how it logs in,
//! or how it runs one of its own (`[qbittorrent.managed]`).

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

use super::Problems;
use super::lenient;
use super::values::{masked, parse_base_url, parse_duration, parse_timeout};

/// The qBittorrent torrentql drives, and how it logs in.
#[derive(Debug, Clone, Serialize)]
pub struct QbittorrentConfig {
    /// The WebUI of an existing qBittorrent; `None` runs a managed one.
    pub url: Option<Url>,
    /// The WebUI user.
    pub username: String,
    /// The WebUI password; generated for a managed qBittorrent.
    #[serde(serialize_with = "masked")]
    pub password: Option<SecretString>,
    /// qBittorrent 5.2+ API key, sent as `Authorization: Bearer`.
    #[serde(serialize_with = "masked")]
    pub api_key: Option<SecretString>,
    /// Bound on every call to qBittorrent.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// After qBittorrent answers that torrentql's address is banned, how
    /// long before torrentql tries to log in again. Refused credentials are
    /// never tried again by themselves.
    #[serde(with = "humantime_serde")]
    pub login_retry_after_ban: Duration,
    /// Save paths must lie under one of these; empty means qBittorrent's
    /// own default save path.
    pub allowed_save_roots: Vec<PathBuf>,
    /// Appended to magnets built from a bare info hash.
    pub trackers: Vec<String>,
    /// The managed qBittorrent, when `url` is not set.
    pub managed: ManagedConfig,
}

/// How torrentql runs its own qbittorrent-nox when no `url` is set.
#[derive(Debug, Clone, Serialize)]
pub struct ManagedConfig {
    /// The qbittorrent-nox executable (a path, or a name looked up in PATH).
    pub binary: PathBuf,
    /// Keep BitTorrent on loopback with DHT, PeX, LSD, UPnP and GeoIP off
    /// (for tests); real downloads want this off.
    pub isolated: bool,
    /// WebUI port on 127.0.0.1; `None` picks a free one.
    pub webui_port: Option<u16>,
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawQbittorrent {
    #[serde(deserialize_with = "lenient::optional_string")]
    url: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    username: String,
    #[serde(deserialize_with = "lenient::optional_secret")]
    password: Option<SecretString>,
    #[serde(deserialize_with = "lenient::optional_secret")]
    api_key: Option<SecretString>,
    #[serde(deserialize_with = "lenient::string")]
    timeout: String,
    #[serde(deserialize_with = "lenient::string")]
    login_retry_after_ban: String,
    #[serde(deserialize_with = "lenient::strings")]
    allowed_save_roots: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    trackers: Vec<String>,
    managed: RawManaged,
}

impl Default for RawQbittorrent {
    fn default() -> Self {
        Self {
            url: None,
            username: "admin".to_owned(),
            password: None,
            api_key: None,
            timeout: "10s".to_owned(),
            login_retry_after_ban: "1h".to_owned(),
            allowed_save_roots: Vec::new(),
            trackers: Vec::new(),
            managed: RawManaged::default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawManaged {
    #[serde(deserialize_with = "lenient::string")]
    binary: String,
    isolated: bool,
    webui_port: Option<u16>,
}

impl Default for RawManaged {
    fn default() -> Self {
        Self {
            binary: "qbittorrent-nox".to_owned(),
            isolated: false,
            webui_port: None,
        }
    }
}

impl RawQbittorrent {
    pub(super) fn validate(self, problems: &mut Problems) -> Option<QbittorrentConfig> {
        let url_text = self
            .url
            .as_deref()
            .map(str::trim)
            .filter(|url| !url.is_empty());
        let external = url_text.is_some();
        let url = url_text.and_then(|url| problems.check("qbittorrent.url", parse_base_url(url)));
        match (&self.password, &self.api_key) {
            (Some(_), Some(_)) => problems.add(
                "qbittorrent",
                "set either password or api_key, not both",
            ),
            (None, None) if external => problems.add(
                "qbittorrent",
                "with qbittorrent.url set, set qbittorrent.password (or qbittorrent.api_key for qBittorrent 5.2+)",
            ),
            (_, Some(_)) if !external => problems.add(
                "qbittorrent.api_key",
                "only used with qbittorrent.url; a managed qBittorrent uses a generated password",
            ),
            _ => {}
        }
        if self.username.trim().is_empty() {
            problems.add("qbittorrent.username", "must not be empty");
        }
        let timeout = problems.check("qbittorrent.timeout", parse_timeout(&self.timeout));
        let login_retry_after_ban = problems.check(
            "qbittorrent.login_retry_after_ban",
            parse_duration(&self.login_retry_after_ban, Duration::from_secs(7 * 86_400)),
        );
        let allowed_save_roots = problems.check_each(
            "qbittorrent.allowed_save_roots",
            &self.allowed_save_roots,
            crate::save_path::normalize,
        );
        let trackers = problems.check_each("qbittorrent.trackers", &self.trackers, |tracker| {
            let valid = Url::parse(tracker)
                .is_ok_and(|url| matches!(url.scheme(), "udp" | "http" | "https" | "ws" | "wss"));
            valid.then(|| tracker.to_owned()).ok_or_else(|| {
                format!("{tracker:?} is not a udp://, http(s):// or ws(s):// tracker URL")
            })
        });
        let managed = self.managed.validate(problems);
        Some(QbittorrentConfig {
            url,
            username: self.username.trim().to_owned(),
            password: self.password,
            api_key: self.api_key,
            timeout: timeout?,
            login_retry_after_ban: login_retry_after_ban?,
            allowed_save_roots,
            trackers,
            managed: managed?,
        })
    }
}

impl RawManaged {
    fn validate(self, problems: &mut Problems) -> Option<ManagedConfig> {
        let binary = self.binary.trim();
        if binary.is_empty() {
            problems.add("qbittorrent.managed.binary", "must not be empty");
            return None;
        }
        Some(ManagedConfig {
            binary: PathBuf::from(binary),
            isolated: self.isolated,
            webui_port: self.webui_port,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn a_blank_secret_is_unset_not_empty() {
        let error = Config::from_toml("[qbittorrent]\nurl = \"http://q:1\"\npassword = \"  \"")
            .unwrap_err();
        assert!(
            error.to_string().contains("set qbittorrent.password"),
            "{error}"
        );
    }

    #[test]
    fn password_and_api_key_are_exclusive() {
        let error = Config::from_toml(
            "[qbittorrent]\nurl = \"http://q:1\"\npassword = \"a\"\napi_key = \"b\"",
        )
        .unwrap_err();
        assert!(error.to_string().contains("not both"), "{error}");
    }
}
