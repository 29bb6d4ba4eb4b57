//! The one typed configuration, loaded and validated once at start-up.
//!
//! Sources, later ones winning: built-in defaults, one TOML file, then
//! environment variables named `TORRENTQL_` + the upper-cased key path with
//! `__` between sections (`TORRENTQL_QBITTORRENT__URL`). Every key is
//! documented in `torrentql.example.toml`. Validation reports every problem
//! at once, not just the first.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Serialize, Serializer};
use url::Url;

/// The file read when neither `--config` nor `TORRENTQL_CONFIG` names one.
pub const DEFAULT_CONFIG_FILE: &str = "torrentql.toml";

/// Everything wrong with a configuration, one problem per entry.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", problems.join("\n  - "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

/// The validated configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub server: ServerConfig,
    pub qbittorrent: QbittorrentConfig,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServerConfig {
    /// Address the HTTP server binds.
    pub listen: SocketAddr,
    /// Where torrentql keeps its state (the managed qBittorrent's profile,
    /// generated secrets).
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct QbittorrentConfig {
    /// The WebUI of an existing qBittorrent; `None` runs a managed one.
    pub url: Option<Url>,
    pub username: String,
    #[serde(serialize_with = "masked")]
    pub password: Option<SecretString>,
    /// qBittorrent 5.2+ API key, sent as `Authorization: Bearer`.
    #[serde(serialize_with = "masked")]
    pub api_key: Option<SecretString>,
    /// Bound on every call to qBittorrent.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Save paths must lie under one of these; empty means qBittorrent's
    /// own default save path.
    pub allowed_save_roots: Vec<PathBuf>,
    /// Appended to magnets built from a bare info hash.
    pub trackers: Vec<String>,
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

impl Config {
    /// Loads the file at `path` (which must exist), or `./torrentql.toml`
    /// when present, then the environment, and validates the result.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        match path {
            Some(path) if !path.is_file() => {
                return Err(ConfigError {
                    problems: vec![format!("config file {} does not exist", path.display())],
                });
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_CONFIG_FILE).is_file() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG_FILE));
            }
            None => {}
        }
        Self::from_figment(figment.merge(environment()))
    }

    /// Parses and validates TOML text (with no environment overrides).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        Self::from_figment(Figment::from(Toml::string(text)))
    }

    fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let raw: RawConfig = figment.extract().map_err(|error| ConfigError {
            problems: error.into_iter().map(|error| error.to_string()).collect(),
        })?;
        raw.validate()
    }

    /// The configuration as TOML, secrets masked: what `check-config` prints.
    pub fn to_masked_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|error| format!("# cannot print: {error}"))
    }
}

fn environment() -> Env {
    Env::prefixed("TORRENTQL_")
        .split("__")
        .ignore(&["config", "log"])
}

fn masked<S: Serializer>(secret: &Option<SecretString>, serializer: S) -> Result<S::Ok, S::Error> {
    match secret {
        Some(_) => serializer.serialize_str("********"),
        None => serializer.serialize_str("(not set)"),
    }
}

/// Environment values arrive typed by guesswork (`12345` becomes a number),
/// so string keys accept any scalar and keep its text.
mod lenient {
    use secrecy::SecretString;
    use serde::{Deserialize, Deserializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Text(String),
        Signed(i64),
        Unsigned(u64),
        Float(f64),
        Bool(bool),
    }

    impl Scalar {
        fn into_text(self) -> String {
            match self {
                Self::Text(text) => text,
                Self::Signed(number) => number.to_string(),
                Self::Unsigned(number) => number.to_string(),
                Self::Float(number) => number.to_string(),
                Self::Bool(flag) => flag.to_string(),
            }
        }
    }

    pub fn string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
        Ok(Scalar::deserialize(deserializer)?.into_text())
    }

    pub fn optional_string<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<String>, D::Error> {
        Ok(Option::<Scalar>::deserialize(deserializer)?.map(Scalar::into_text))
    }

    pub fn optional_secret<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<SecretString>, D::Error> {
        Ok(optional_string(deserializer)?.map(SecretString::from))
    }
}

/// Values as written, before validation: strings where a bad value should
/// be reported alongside the other problems rather than stop the parse.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawConfig {
    server: RawServer,
    qbittorrent: RawQbittorrent,
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawServer {
    #[serde(deserialize_with = "lenient::string")]
    listen: String,
    #[serde(deserialize_with = "lenient::optional_string")]
    data_dir: Option<String>,
}

impl Default for RawServer {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            data_dir: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawQbittorrent {
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
    allowed_save_roots: Vec<String>,
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

/// Collects problems while validating.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, key: &str, problem: impl fmt::Display) {
        self.0.push(format!("{key}: {problem}"));
    }

    fn check<T, E: fmt::Display>(&mut self, key: &str, result: Result<T, E>) -> Option<T> {
        result.map_err(|error| self.add(key, error)).ok()
    }
}

impl RawConfig {
    fn validate(self) -> Result<Config, ConfigError> {
        let mut problems = Problems::default();
        let server = &self.server;
        let listen = problems.check(
            "server.listen",
            server
                .listen
                .parse::<SocketAddr>()
                .map_err(|_| format!("{:?} is not an address like 127.0.0.1:8080", server.listen)),
        );
        let data_dir = match server.data_dir.as_deref().map(str::trim) {
            Some("") => {
                problems.add("server.data_dir", "must not be empty");
                None
            }
            Some(dir) => Some(PathBuf::from(dir)),
            None => Some(default_data_dir()),
        };

        let qbittorrent = self.qbittorrent;
        let url = qbittorrent
            .url
            .as_deref()
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .and_then(|url| problems.check("qbittorrent.url", parse_base_url(url)));
        let external = qbittorrent
            .url
            .as_deref()
            .is_some_and(|url| !url.trim().is_empty());
        match (&qbittorrent.password, &qbittorrent.api_key) {
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
        if qbittorrent.username.trim().is_empty() {
            problems.add("qbittorrent.username", "must not be empty");
        }
        let timeout = problems.check("qbittorrent.timeout", parse_timeout(&qbittorrent.timeout));
        let allowed_save_roots = qbittorrent
            .allowed_save_roots
            .iter()
            .enumerate()
            .filter_map(|(index, root)| {
                problems.check(
                    &format!("qbittorrent.allowed_save_roots[{index}]"),
                    crate::services::save_path::normalize(root),
                )
            })
            .collect();
        for (index, tracker) in qbittorrent.trackers.iter().enumerate() {
            let valid = Url::parse(tracker)
                .is_ok_and(|url| matches!(url.scheme(), "udp" | "http" | "https" | "ws" | "wss"));
            if !valid {
                problems.add(
                    &format!("qbittorrent.trackers[{index}]"),
                    format!("{tracker:?} is not a udp://, http(s):// or ws(s):// tracker URL"),
                );
            }
        }
        if qbittorrent.managed.binary.trim().is_empty() {
            problems.add("qbittorrent.managed.binary", "must not be empty");
        }

        match (listen, data_dir, timeout) {
            (Some(listen), Some(data_dir), Some(timeout)) if problems.0.is_empty() => Ok(Config {
                server: ServerConfig { listen, data_dir },
                qbittorrent: QbittorrentConfig {
                    url,
                    username: qbittorrent.username.trim().to_owned(),
                    password: qbittorrent.password,
                    api_key: qbittorrent.api_key,
                    timeout,
                    allowed_save_roots,
                    trackers: qbittorrent.trackers,
                    managed: ManagedConfig {
                        binary: PathBuf::from(qbittorrent.managed.binary.trim()),
                        isolated: qbittorrent.managed.isolated,
                        webui_port: qbittorrent.managed.webui_port,
                    },
                },
            }),
            _ => Err(ConfigError {
                problems: problems.0,
            }),
        }
    }
}

/// `$XDG_DATA_HOME/torrentql` (usually `~/.local/share/torrentql`).
fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("torrentql")
}

fn parse_base_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|error| format!("{text:?} is not a URL ({error})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{text:?} must be an http:// or https:// URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "must not contain credentials; use qbittorrent.username and qbittorrent.password"
                .to_owned(),
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{text:?} must not have a query or fragment"));
    }
    Ok(url)
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    let timeout = humantime::parse_duration(text.trim())
        .map_err(|_| format!("{text:?} is not a duration like \"10s\" or \"1m\""))?;
    if timeout.is_zero() || timeout > Duration::from_secs(600) {
        return Err(format!("{text:?} must be between 1ms and 10m"));
    }
    Ok(timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_file() {
        let config = Config::from_toml("").unwrap();
        assert_eq!(config.server.listen, "127.0.0.1:8080".parse().unwrap());
        assert!(
            config.qbittorrent.url.is_none(),
            "no url means a managed qBittorrent"
        );
        assert_eq!(config.qbittorrent.timeout, Duration::from_secs(10));
        assert_eq!(
            config.qbittorrent.managed.binary,
            Path::new("qbittorrent-nox")
        );
    }

    #[test]
    fn reports_every_problem_at_once() {
        let error = Config::from_toml(
            r#"
            [server]
            listen = "nowhere"
            [qbittorrent]
            url = "ftp://qbt"
            timeout = "soon"
            allowed_save_roots = ["relative/path"]
            trackers = ["not a tracker"]
            "#,
        )
        .unwrap_err();
        let text = error.to_string();
        for key in [
            "server.listen",
            "qbittorrent.url",
            "qbittorrent.timeout",
            "qbittorrent.allowed_save_roots[0]",
            "qbittorrent.trackers[0]",
            "set qbittorrent.password",
        ] {
            assert!(text.contains(key), "{key} missing from:\n{text}");
        }
        assert_eq!(error.problems.len(), 6, "{text}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let error = Config::from_toml("[qbittorrent]\npasword = \"x\"").unwrap_err();
        assert!(error.to_string().contains("pasword"), "{error}");
    }

    #[test]
    fn secrets_are_masked_in_every_printed_form() {
        let config = Config::from_toml(
            "[qbittorrent]\nurl = \"http://127.0.0.1:8081\"\npassword = \"hunter2-secret\"",
        )
        .unwrap();
        assert!(!config.to_masked_toml().contains("hunter2-secret"));
        assert!(config.to_masked_toml().contains("********"));
        assert!(!format!("{config:?}").contains("hunter2-secret"));
    }

    #[test]
    fn password_and_api_key_are_exclusive() {
        let error = Config::from_toml(
            "[qbittorrent]\nurl = \"http://q:1\"\npassword = \"a\"\napi_key = \"b\"",
        )
        .unwrap_err();
        assert!(error.to_string().contains("not both"), "{error}");
    }

    #[test]
    fn environment_overrides_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "torrentql.toml",
                "[server]\nlisten = \"127.0.0.1:1\"\n[qbittorrent]\nurl = \"http://a:1\"\npassword = \"p\"",
            )?;
            jail.set_env("TORRENTQL_SERVER__LISTEN", "127.0.0.1:9999");
            jail.set_env("TORRENTQL_QBITTORRENT__PASSWORD", "12345");
            jail.set_env("TORRENTQL_QBITTORRENT__MANAGED__ISOLATED", "true");
            let config = Config::load(None).map_err(|error| error.to_string())?;
            assert_eq!(config.server.listen.port(), 9999);
            assert!(config.qbittorrent.managed.isolated);
            use secrecy::ExposeSecret;
            assert_eq!(
                config.qbittorrent.password.unwrap().expose_secret(),
                "12345"
            );
            Ok(())
        });
    }
}
