//! The one typed configuration, loaded and validated once at start-up.
//!
//! Sources, later ones winning: built-in defaults, one TOML file, then
//! environment variables named `TORRENTQL_` + the upper-cased key path with
//! `__` between sections (`TORRENTQL_QBITTORRENT__URL`). Every key is
//! documented in `torrentql.example.toml`. Validation reports every problem
//! at once, not just the first.
//!
//! Each section has its own file holding its typed struct, the raw struct
//! it is read into (whose `Default` is the one place its defaults are
//! written) and the validation between the two. Raw values are strings
//! where a bad value should be reported alongside the other problems
//! rather than stop the parse.

use std::fmt;
use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Serialize};

mod auth;
mod jellyfin;
mod lenient;
mod libraries;
mod limits;
mod playground;
mod qbittorrent;
mod search;
mod server;
mod sync;
mod values;

pub use auth::AuthConfig;
pub use jellyfin::JellyfinConfig;
pub use libraries::{LibraryConfig, PathMappingConfig};
pub use limits::LimitsConfig;
pub use playground::PlaygroundConfig;
pub use qbittorrent::{ManagedConfig, QbittorrentConfig};
pub use search::{ApibayConfig, QualityConfig, SearchConfig, TorznabConfig};
pub use server::ServerConfig;
pub use sync::SyncConfig;

/// The file read when neither `--config` nor `TORRENTQL_CONFIG` names one.
pub const DEFAULT_CONFIG_FILE: &str = "torrentql.toml";

/// Everything wrong with a configuration, one problem per entry.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", problems.join("\n  - "))]
pub struct ConfigError {
    /// Each problem, `key: what is wrong`.
    pub problems: Vec<String>,
}

/// The validated configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// `[server]`.
    pub server: ServerConfig,
    /// `[qbittorrent]`.
    pub qbittorrent: QbittorrentConfig,
    /// `[auth]`.
    pub auth: AuthConfig,
    /// `[limits]`.
    pub limits: LimitsConfig,
    /// `[playground]`.
    pub playground: PlaygroundConfig,
    /// `[sync]`.
    pub sync: SyncConfig,
    /// `[search]`.
    pub search: SearchConfig,
    /// Set when `jellyfin.url` is.
    pub jellyfin: Option<JellyfinConfig>,
    /// Libraries defined here rather than (or besides) in Jellyfin.
    pub libraries: Vec<LibraryConfig>,
    /// How Jellyfin's paths look to qBittorrent.
    pub path_mappings: Vec<PathMappingConfig>,
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

/// `TORRENTQL_<SECTION>__<KEY>` variables. Every key lives in a section,
/// so variables without `__` (`TORRENTQL_CONFIG`, `TORRENTQL_LOG`) are not
/// configuration and are left alone, while a misspelt sectioned one is
/// reported like a misspelt key in the file.
fn environment() -> Env {
    Env::prefixed("TORRENTQL_")
        .filter(|key| key.as_str().contains("__"))
        .split("__")
}

/// The configuration as written, before validation.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawConfig {
    server: server::RawServer,
    qbittorrent: qbittorrent::RawQbittorrent,
    auth: auth::RawAuth,
    limits: limits::RawLimits,
    playground: playground::RawPlayground,
    sync: sync::RawSync,
    search: search::RawSearch,
    jellyfin: jellyfin::RawJellyfin,
    libraries: Vec<libraries::RawLibrary>,
    path_mappings: Vec<libraries::RawPathMapping>,
}

impl RawConfig {
    fn validate(self) -> Result<Config, ConfigError> {
        let mut problems = Problems::default();
        match self.validate_sections(&mut problems) {
            Some(config) if problems.0.is_empty() => Ok(config),
            _ => Err(ConfigError {
                problems: problems.0,
            }),
        }
    }

    /// Validates every section before giving up on any, so that all their
    /// problems are reported.
    fn validate_sections(self, problems: &mut Problems) -> Option<Config> {
        let server = self.server.validate(problems);
        let qbittorrent = self.qbittorrent.validate(problems);
        let auth = self.auth.validate(problems);
        let limits = self.limits.validate(problems);
        let playground = self.playground.validate(problems);
        let sync = self.sync.validate(problems);
        let search = self.search.validate(problems);
        let jellyfin = self.jellyfin.validate(problems);
        let libraries = libraries::validate_libraries(self.libraries, problems);
        let path_mappings = libraries::validate_path_mappings(self.path_mappings, problems);
        Some(Config {
            server: server?,
            qbittorrent: qbittorrent?,
            auth: auth?,
            limits: limits?,
            playground: playground?,
            sync: sync?,
            search: search?,
            jellyfin: jellyfin?,
            libraries,
            path_mappings,
        })
    }
}

/// Collects problems while validating, each as `key: problem`.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, key: &str, problem: impl fmt::Display) {
        self.0.push(format!("{key}: {problem}"));
    }

    /// The value, or `None` with the error recorded against `key`.
    fn check<T, E: fmt::Display>(&mut self, key: &str, result: Result<T, E>) -> Option<T> {
        result.map_err(|error| self.add(key, error)).ok()
    }

    /// Each item of the list at `key` parsed, with a problem recorded as
    /// `key[index]` for every item that is not.
    fn check_each<T, E: fmt::Display>(
        &mut self,
        key: &str,
        items: &[String],
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Vec<T> {
        items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| self.check(&format!("{key}[{index}]"), parse(item)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

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
    fn example_file_is_valid_and_matches_the_defaults() {
        let example = Config::from_toml(include_str!("../../torrentql.example.toml")).unwrap();
        let defaults = Config::from_toml("").unwrap();
        assert_eq!(example.to_masked_toml(), defaults.to_masked_toml());
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
    #[allow(
        clippy::result_large_err,
        reason = "figment's Jail API fixes the error type"
    )]
    fn environment_overrides_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "torrentql.toml",
                "[server]\nlisten = \"127.0.0.1:1\"\n[qbittorrent]\nurl = \"http://a:1\"\npassword = \"p\"",
            )?;
            jail.set_env("TORRENTQL_SERVER__LISTEN", "127.0.0.1:9999");
            jail.set_env("TORRENTQL_QBITTORRENT__PASSWORD", "12345");
            jail.set_env("TORRENTQL_QBITTORRENT__MANAGED__ISOLATED", "true");
            jail.set_env("TORRENTQL_SOMETHING_ELSE", "not configuration");
            // One plain value where a list goes: a list of one.
            jail.set_env("TORRENTQL_QBITTORRENT__ALLOWED_SAVE_ROOTS", "/downloads");
            jail.set_env("TORRENTQL_SERVER__CORS_ORIGINS", "");
            let config = Config::load(None).map_err(|error| error.to_string())?;
            assert_eq!(config.server.listen.port(), 9999);
            assert_eq!(
                config.qbittorrent.allowed_save_roots,
                [std::path::PathBuf::from("/downloads")]
            );
            assert!(config.server.cors_origins.is_empty());
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
