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
use ipnet::IpNet;
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
    pub auth: AuthConfig,
    pub limits: LimitsConfig,
    pub playground: PlaygroundConfig,
    pub sync: SyncConfig,
    pub search: SearchConfig,
    /// Set when `jellyfin.url` is.
    pub jellyfin: Option<JellyfinConfig>,
    /// Libraries defined here rather than (or besides) in Jellyfin.
    pub libraries: Vec<LibraryConfig>,
    /// How Jellyfin's paths look to qBittorrent.
    pub path_mappings: Vec<PathMappingConfig>,
}

#[derive(Debug, Clone, Serialize)]
pub struct JellyfinConfig {
    /// Jellyfin's address, with its base path if any.
    pub url: Url,
    /// An API key made in Jellyfin's dashboard (administrator rights).
    #[serde(serialize_with = "masked_required")]
    pub api_key: SecretString,
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// How long Jellyfin's library list is reused before asking again.
    #[serde(with = "humantime_serde")]
    pub cache_ttl: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct LibraryConfig {
    pub name: String,
    /// Folders as Jellyfin sees them.
    pub paths: Vec<PathBuf>,
    pub collection_type: Option<String>,
}

/// One folder seen by both: Jellyfin at `jellyfin`, qBittorrent at
/// `qbittorrent` (e.g. two containers mounting one volume differently).
#[derive(Debug, Clone, Serialize)]
pub struct PathMappingConfig {
    pub jellyfin: PathBuf,
    pub qbittorrent: PathBuf,
}

/// Torrent indexers searched by the `search` query.
#[derive(Debug, Clone, Serialize)]
pub struct SearchConfig {
    /// How long identical searches are answered from the cache.
    #[serde(with = "humantime_serde")]
    pub cache_ttl: Duration,
    pub apibay: ApibayConfig,
    pub torznab: Vec<TorznabConfig>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApibayConfig {
    pub enabled: bool,
    pub url: Url,
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

/// One Torznab indexer (Jackett, Prowlarr).
#[derive(Debug, Clone, Serialize)]
pub struct TorznabConfig {
    /// Shown in results and failures; what `search(providers:)` selects.
    pub name: String,
    /// The full Torznab endpoint up to `/api`.
    pub url: Url,
    #[serde(serialize_with = "masked_required")]
    pub api_key: SecretString,
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    pub enabled: bool,
}

/// How the one mirror of qBittorrent is kept up to date.
#[derive(Debug, Clone, Serialize)]
pub struct SyncConfig {
    /// Shortest time between two syncs.
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// Largest share of qBittorrent's time torrentql's syncs may take; a
    /// slow sync stretches the interval to keep under it.
    pub max_busy_share: f64,
}

/// How tokens are verified (and issued).
#[derive(Debug, Clone, Serialize)]
pub struct AuthConfig {
    /// HS256/384/512 secret, at least 32 bytes; verifies and issues tokens.
    #[serde(serialize_with = "masked")]
    pub jwt_secret: Option<SecretString>,
    /// PEM public key for tokens issued elsewhere (RS*, PS*, ES*, EdDSA).
    pub public_key_file: Option<PathBuf>,
    /// The only algorithm accepted.
    pub algorithm: jsonwebtoken::Algorithm,
    /// Required `iss`, when set.
    pub issuer: Option<String>,
    /// Required `aud`, when set.
    pub audience: Option<String>,
    /// Lifetime of tokens torrentql issues.
    #[serde(with = "humantime_serde")]
    pub token_ttl: Duration,
    /// Allow schema introspection without a token.
    pub public_introspection: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            public_key_file: None,
            algorithm: jsonwebtoken::Algorithm::HS256,
            issuer: None,
            audience: None,
            token_ttl: Duration::from_secs(12 * 3600),
            public_introspection: false,
        }
    }
}

/// Bounds on what one request may cost.
#[derive(Debug, Clone, Serialize)]
pub struct LimitsConfig {
    /// Deepest selection nesting accepted.
    pub max_depth: usize,
    /// Highest query complexity (one point per field) accepted.
    pub max_complexity: usize,
    /// Most selections (fields, fragment spreads, inline fragments) in a
    /// query document once its fragments are expanded.
    pub max_fields: usize,
    /// Longest query text (variables not included).
    pub max_query_bytes: usize,
    /// Largest request body, uploads included.
    pub max_request_bytes: usize,
    /// Largest `.torrent` upload (or download from a URL).
    pub max_upload_bytes: usize,
    /// Most files a `.torrent` may list.
    pub max_torrent_files: usize,
    /// Most operations in one batch request.
    pub max_batch: usize,
    /// Longest a request may run.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
}

/// The GraphiQL page served on `GET /graphql`.
#[derive(Debug, Clone, Serialize)]
pub struct PlaygroundConfig {
    pub enabled: bool,
    /// Where the page loads GraphiQL, React and ReactDOM from: an npm CDN
    /// base URL (`<base>/<package>@<version>/<file>`).
    pub asset_base_url: String,
    /// A local `node_modules` directory with graphiql, react and react-dom
    /// installed; when set, torrentql serves the assets itself (offline).
    pub assets_dir: Option<PathBuf>,
}

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

/// `TORRENTQL_<SECTION>__<KEY>` variables. Every key lives in a section,
/// so variables without `__` (`TORRENTQL_CONFIG`, `TORRENTQL_LOG`) are not
/// configuration and are left alone, while a misspelt sectioned one is
/// reported like a misspelt key in the file.
fn environment() -> Env {
    Env::prefixed("TORRENTQL_")
        .filter(|key| key.as_str().contains("__"))
        .split("__")
}

fn masked_required<S: Serializer>(_: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str("********")
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

    /// A blank value counts as unset: Docker Compose passes `""` for an
    /// empty line in a `.env` file.
    pub fn optional_string<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<String>, D::Error> {
        Ok(Option::<Scalar>::deserialize(deserializer)?
            .map(Scalar::into_text)
            .filter(|text| !text.trim().is_empty()))
    }

    /// A list, or one plain value for a list of one: an environment
    /// variable such as `TORRENTQL_QBITTORRENT__ALLOWED_SAVE_ROOTS=/downloads`
    /// reads as a single string. A blank value is an empty list.
    pub fn strings<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            Many(Vec<Scalar>),
            One(Scalar),
        }
        Ok(match OneOrMany::deserialize(deserializer)? {
            OneOrMany::Many(items) => items.into_iter().map(Scalar::into_text).collect(),
            OneOrMany::One(item) => {
                let text = item.into_text();
                if text.trim().is_empty() {
                    Vec::new()
                } else {
                    vec![text]
                }
            }
        })
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
    auth: RawAuth,
    limits: RawLimits,
    playground: RawPlayground,
    sync: RawSync,
    search: RawSearch,
    jellyfin: RawJellyfin,
    libraries: Vec<RawLibrary>,
    path_mappings: Vec<RawPathMapping>,
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawJellyfin {
    #[serde(deserialize_with = "lenient::optional_string")]
    url: Option<String>,
    #[serde(deserialize_with = "lenient::optional_secret")]
    api_key: Option<SecretString>,
    #[serde(deserialize_with = "lenient::string")]
    timeout: String,
    #[serde(deserialize_with = "lenient::string")]
    cache_ttl: String,
}

impl Default for RawJellyfin {
    fn default() -> Self {
        Self {
            url: None,
            api_key: None,
            timeout: "10s".to_owned(),
            cache_ttl: "30s".to_owned(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawLibrary {
    #[serde(deserialize_with = "lenient::string")]
    name: String,
    #[serde(deserialize_with = "lenient::strings")]
    paths: Vec<String>,
    #[serde(deserialize_with = "lenient::optional_string")]
    collection_type: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawPathMapping {
    #[serde(deserialize_with = "lenient::string")]
    jellyfin: String,
    #[serde(deserialize_with = "lenient::string")]
    qbittorrent: String,
}

impl RawJellyfin {
    fn validate(self, problems: &mut Problems) -> Option<Option<JellyfinConfig>> {
        let timeout = problems.check("jellyfin.timeout", parse_timeout(&self.timeout));
        let cache_ttl = problems.check(
            "jellyfin.cache_ttl",
            parse_duration(&self.cache_ttl, Duration::from_secs(24 * 3600)),
        );
        let Some(url) = self.url.filter(|url| !url.trim().is_empty()) else {
            if self.api_key.is_some() {
                problems.add("jellyfin.api_key", "is set but jellyfin.url is not");
            }
            return Some(None);
        };
        let url = problems.check("jellyfin.url", parse_base_url(url.trim()));
        if self.api_key.is_none() {
            problems.add(
                "jellyfin.api_key",
                "is required with jellyfin.url (Dashboard > API Keys)",
            );
        }
        Some(Some(JellyfinConfig {
            url: url?,
            api_key: self.api_key?,
            timeout: timeout?,
            cache_ttl: cache_ttl?,
        }))
    }
}

fn validate_libraries(raw: Vec<RawLibrary>, problems: &mut Problems) -> Vec<LibraryConfig> {
    let mut names = std::collections::HashSet::new();
    raw.into_iter()
        .enumerate()
        .map(|(index, library)| {
            let name = library.name.trim().to_owned();
            if name.is_empty() {
                problems.add(&format!("libraries[{index}].name"), "is required");
            } else if !names.insert(name.to_lowercase()) {
                problems.add(
                    &format!("libraries[{index}].name"),
                    format!("{name:?} is used twice"),
                );
            }
            if library.paths.is_empty() {
                problems.add(
                    &format!("libraries[{index}].paths"),
                    "needs at least one folder",
                );
            }
            let paths: Vec<PathBuf> = library
                .paths
                .iter()
                .enumerate()
                .filter_map(|(at, path)| {
                    problems.check(
                        &format!("libraries[{index}].paths[{at}]"),
                        crate::save_path::normalize(path),
                    )
                })
                .collect();
            LibraryConfig {
                name,
                paths,
                collection_type: library
                    .collection_type
                    .filter(|kind| !kind.trim().is_empty()),
            }
        })
        .collect()
}

fn validate_path_mappings(
    raw: Vec<RawPathMapping>,
    problems: &mut Problems,
) -> Vec<PathMappingConfig> {
    raw.into_iter()
        .enumerate()
        .filter_map(|(index, mapping)| {
            let jellyfin = problems.check(
                &format!("path_mappings[{index}].jellyfin"),
                crate::save_path::normalize(&mapping.jellyfin),
            );
            let qbittorrent = problems.check(
                &format!("path_mappings[{index}].qbittorrent"),
                crate::save_path::normalize(&mapping.qbittorrent),
            );
            Some(PathMappingConfig {
                jellyfin: jellyfin?,
                qbittorrent: qbittorrent?,
            })
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawSearch {
    #[serde(deserialize_with = "lenient::string")]
    cache_ttl: String,
    apibay: RawApibay,
    torznab: Vec<RawTorznab>,
}

impl Default for RawSearch {
    fn default() -> Self {
        Self {
            cache_ttl: "60s".to_owned(),
            apibay: RawApibay::default(),
            torznab: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawApibay {
    enabled: bool,
    #[serde(deserialize_with = "lenient::string")]
    url: String,
    #[serde(deserialize_with = "lenient::string")]
    timeout: String,
}

impl Default for RawApibay {
    fn default() -> Self {
        Self {
            enabled: true,
            url: crate::clients::indexers::apibay::DEFAULT_URL.to_owned(),
            timeout: "10s".to_owned(),
        }
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawTorznab {
    #[serde(deserialize_with = "lenient::string")]
    name: String,
    #[serde(deserialize_with = "lenient::string")]
    url: String,
    #[serde(deserialize_with = "lenient::optional_secret")]
    api_key: Option<SecretString>,
    #[serde(deserialize_with = "lenient::string")]
    timeout: String,
    enabled: bool,
}

impl Default for RawTorznab {
    fn default() -> Self {
        Self {
            name: String::new(),
            url: String::new(),
            api_key: None,
            timeout: "15s".to_owned(),
            enabled: true,
        }
    }
}

impl RawSearch {
    fn validate(self, problems: &mut Problems) -> Option<SearchConfig> {
        let cache_ttl = problems.check(
            "search.cache_ttl",
            parse_duration(&self.cache_ttl, Duration::from_secs(24 * 3600)),
        );
        let apibay_url =
            problems.check("search.apibay.url", parse_base_url(self.apibay.url.trim()));
        let apibay_timeout =
            problems.check("search.apibay.timeout", parse_timeout(&self.apibay.timeout));
        let mut names = std::collections::HashSet::new();
        let mut torznab = Vec::new();
        for (index, raw) in self.torznab.into_iter().enumerate() {
            let key = |field: &str| format!("search.torznab[{index}].{field}");
            let name = raw.name.trim().to_owned();
            if name.is_empty() {
                problems.add(&key("name"), "is required");
            } else if name.eq_ignore_ascii_case("apibay") || !names.insert(name.to_lowercase()) {
                problems.add(
                    &key("name"),
                    format!("{name:?} is already used by another provider"),
                );
            }
            let url = problems.check(&key("url"), parse_base_url(raw.url.trim()));
            if raw.api_key.is_none() {
                problems.add(
                    &key("api_key"),
                    "is required (Jackett and Prowlarr show it in their settings)",
                );
            }
            let timeout = problems.check(&key("timeout"), parse_timeout(&raw.timeout));
            if let (Some(url), Some(api_key), Some(timeout)) = (url, raw.api_key, timeout) {
                torznab.push(TorznabConfig {
                    name,
                    url,
                    api_key,
                    timeout,
                    enabled: raw.enabled,
                });
            }
        }
        Some(SearchConfig {
            cache_ttl: cache_ttl?,
            apibay: ApibayConfig {
                enabled: self.apibay.enabled,
                url: apibay_url?,
                timeout: apibay_timeout?,
            },
            torznab,
        })
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawSync {
    #[serde(deserialize_with = "lenient::string")]
    interval: String,
    max_busy_share: f64,
}

impl Default for RawSync {
    fn default() -> Self {
        Self {
            interval: "1s".to_owned(),
            max_busy_share: 0.1,
        }
    }
}

impl RawSync {
    fn validate(self, problems: &mut Problems) -> Option<SyncConfig> {
        if !(self.max_busy_share > 0.0 && self.max_busy_share <= 1.0) {
            problems.add("sync.max_busy_share", "must be above 0 and at most 1");
        }
        let interval = problems.check(
            "sync.interval",
            parse_duration(&self.interval, Duration::from_secs(600)),
        )?;
        Some(SyncConfig {
            interval,
            max_busy_share: self.max_busy_share,
        })
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawAuth {
    #[serde(deserialize_with = "lenient::optional_secret")]
    jwt_secret: Option<SecretString>,
    #[serde(deserialize_with = "lenient::optional_string")]
    public_key_file: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    algorithm: String,
    #[serde(deserialize_with = "lenient::optional_string")]
    issuer: Option<String>,
    #[serde(deserialize_with = "lenient::optional_string")]
    audience: Option<String>,
    #[serde(deserialize_with = "lenient::string")]
    token_ttl: String,
    public_introspection: bool,
}

impl Default for RawAuth {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            public_key_file: None,
            algorithm: "HS256".to_owned(),
            issuer: None,
            audience: None,
            token_ttl: "12h".to_owned(),
            public_introspection: false,
        }
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawLimits {
    max_depth: usize,
    max_complexity: usize,
    max_fields: usize,
    max_query_bytes: usize,
    max_request_bytes: usize,
    max_upload_bytes: usize,
    max_torrent_files: usize,
    max_batch: usize,
    #[serde(deserialize_with = "lenient::string")]
    request_timeout: String,
}

impl Default for RawLimits {
    fn default() -> Self {
        Self {
            max_depth: 15,
            max_complexity: 1000,
            max_fields: 2000,
            max_query_bytes: 64 * 1024,
            max_request_bytes: 10 * 1024 * 1024,
            max_upload_bytes: crate::torrent::MAX_TORRENT_FILE_BYTES,
            max_torrent_files: crate::torrent::MAX_TORRENT_FILES,
            max_batch: 10,
            request_timeout: "60s".to_owned(),
        }
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawPlayground {
    enabled: bool,
    #[serde(deserialize_with = "lenient::string")]
    asset_base_url: String,
    #[serde(deserialize_with = "lenient::optional_string")]
    assets_dir: Option<String>,
}

impl Default for RawPlayground {
    fn default() -> Self {
        Self {
            enabled: true,
            asset_base_url: "https://cdn.jsdelivr.net/npm".to_owned(),
            assets_dir: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawServer {
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
        let cors_origins: Vec<String> = server
            .cors_origins
            .iter()
            .enumerate()
            .filter_map(|(index, origin)| {
                problems.check(
                    &format!("server.cors_origins[{index}]"),
                    parse_origin(origin),
                )
            })
            .collect();
        let trusted_proxies: Vec<IpNet> = server
            .trusted_proxies
            .iter()
            .enumerate()
            .filter_map(|(index, proxy)| {
                problems.check(
                    &format!("server.trusted_proxies[{index}]"),
                    parse_network(proxy),
                )
            })
            .collect();
        if server.max_connections == 0 {
            problems.add("server.max_connections", "must be at least 1");
        }
        let header_timeout = problems.check(
            "server.header_timeout",
            parse_timeout(&server.header_timeout),
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
        let login_retry_after_ban = problems.check(
            "qbittorrent.login_retry_after_ban",
            parse_duration(
                &qbittorrent.login_retry_after_ban,
                Duration::from_secs(7 * 86_400),
            ),
        );
        let allowed_save_roots = qbittorrent
            .allowed_save_roots
            .iter()
            .enumerate()
            .filter_map(|(index, root)| {
                problems.check(
                    &format!("qbittorrent.allowed_save_roots[{index}]"),
                    crate::save_path::normalize(root),
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

        let auth = self.auth.validate(&mut problems);
        let limits = self.limits.validate(&mut problems);
        let playground = self.playground.validate(&mut problems);
        let sync = self.sync.validate(&mut problems);
        let search = self.search.validate(&mut problems);
        let jellyfin = self.jellyfin.validate(&mut problems);
        let libraries = validate_libraries(self.libraries, &mut problems);
        let path_mappings = validate_path_mappings(self.path_mappings, &mut problems);

        match (
            listen,
            data_dir,
            header_timeout,
            timeout,
            login_retry_after_ban,
            auth,
            limits,
            playground,
            sync,
            search,
            jellyfin,
        ) {
            (
                Some(listen),
                Some(data_dir),
                Some(header_timeout),
                Some(timeout),
                Some(login_retry_after_ban),
                Some(auth),
                Some(limits),
                Some(playground),
                Some(sync),
                Some(search),
                Some(jellyfin),
            ) if problems.0.is_empty() => Ok(Config {
                server: ServerConfig {
                    listen,
                    data_dir,
                    cors_origins,
                    trusted_proxies,
                    max_connections: server.max_connections,
                    header_timeout,
                },
                qbittorrent: QbittorrentConfig {
                    url,
                    username: qbittorrent.username.trim().to_owned(),
                    password: qbittorrent.password,
                    api_key: qbittorrent.api_key,
                    timeout,
                    login_retry_after_ban,
                    allowed_save_roots,
                    trackers: qbittorrent.trackers,
                    managed: ManagedConfig {
                        binary: PathBuf::from(qbittorrent.managed.binary.trim()),
                        isolated: qbittorrent.managed.isolated,
                        webui_port: qbittorrent.managed.webui_port,
                    },
                },
                auth,
                limits,
                playground,
                sync,
                search,
                jellyfin,
                libraries,
                path_mappings,
            }),
            _ => Err(ConfigError {
                problems: problems.0,
            }),
        }
    }
}

impl RawAuth {
    fn validate(self, problems: &mut Problems) -> Option<AuthConfig> {
        let algorithm = problems.check(
            "auth.algorithm",
            self.algorithm.trim().parse::<jsonwebtoken::Algorithm>().map_err(|_| {
                format!("{:?} is not one of HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA", self.algorithm)
            }),
        );
        let symmetric = matches!(
            algorithm,
            Some(
                jsonwebtoken::Algorithm::HS256
                    | jsonwebtoken::Algorithm::HS384
                    | jsonwebtoken::Algorithm::HS512
            )
        );
        let public_key_file = self
            .public_key_file
            .filter(|path| !path.trim().is_empty())
            .map(PathBuf::from);
        if let Some(secret) = &self.jwt_secret {
            use secrecy::ExposeSecret;
            if secret.expose_secret().len() < 32 {
                problems.add("auth.jwt_secret", "must be at least 32 bytes");
            }
            if !symmetric && algorithm.is_some() {
                problems.add(
                    "auth.jwt_secret",
                    "needs auth.algorithm HS256, HS384 or HS512",
                );
            }
        }
        match (&self.jwt_secret, &public_key_file) {
            (Some(_), Some(_)) => {
                problems.add("auth", "set either jwt_secret or public_key_file, not both")
            }
            (None, Some(_)) if symmetric => problems.add(
                "auth.public_key_file",
                "needs an asymmetric auth.algorithm (RS256, ES256, EdDSA, ...)",
            ),
            (None, None) if !symmetric && algorithm.is_some() => problems.add(
                "auth.algorithm",
                "an asymmetric algorithm needs auth.public_key_file",
            ),
            _ => {}
        }
        let token_ttl = problems.check(
            "auth.token_ttl",
            parse_duration(&self.token_ttl, Duration::from_secs(365 * 24 * 3600)),
        );
        Some(AuthConfig {
            jwt_secret: self.jwt_secret,
            public_key_file,
            algorithm: algorithm?,
            issuer: self.issuer.filter(|issuer| !issuer.trim().is_empty()),
            audience: self.audience.filter(|audience| !audience.trim().is_empty()),
            token_ttl: token_ttl?,
            public_introspection: self.public_introspection,
        })
    }
}

impl RawLimits {
    fn validate(self, problems: &mut Problems) -> Option<LimitsConfig> {
        for (key, value) in [
            ("limits.max_depth", self.max_depth),
            ("limits.max_complexity", self.max_complexity),
            ("limits.max_fields", self.max_fields),
            ("limits.max_query_bytes", self.max_query_bytes),
            ("limits.max_request_bytes", self.max_request_bytes),
            ("limits.max_upload_bytes", self.max_upload_bytes),
            ("limits.max_torrent_files", self.max_torrent_files),
            ("limits.max_batch", self.max_batch),
        ] {
            if value == 0 {
                problems.add(key, "must be at least 1");
            }
        }
        if self.max_upload_bytes > self.max_request_bytes {
            problems.add(
                "limits.max_upload_bytes",
                "must not exceed limits.max_request_bytes",
            );
        }
        let request_timeout = problems.check(
            "limits.request_timeout",
            parse_duration(&self.request_timeout, Duration::from_secs(3600)),
        )?;
        Some(LimitsConfig {
            max_depth: self.max_depth,
            max_complexity: self.max_complexity,
            max_fields: self.max_fields,
            max_query_bytes: self.max_query_bytes,
            max_request_bytes: self.max_request_bytes,
            max_upload_bytes: self.max_upload_bytes,
            max_torrent_files: self.max_torrent_files,
            max_batch: self.max_batch,
            request_timeout,
        })
    }
}

impl LimitsConfig {
    /// What a `.torrent` file may hold.
    pub fn torrent(&self) -> crate::torrent::TorrentLimits {
        crate::torrent::TorrentLimits {
            max_bytes: self.max_upload_bytes,
            max_files: self.max_torrent_files,
        }
    }
}

impl RawPlayground {
    fn validate(self, problems: &mut Problems) -> Option<PlaygroundConfig> {
        let base = self.asset_base_url.trim().trim_end_matches('/').to_owned();
        let base_is_valid = base.starts_with('/')
            || Url::parse(&base).is_ok_and(|url| matches!(url.scheme(), "http" | "https"));
        if !base_is_valid {
            problems.add(
                "playground.asset_base_url",
                format!(
                    "{:?} is neither an http(s) URL nor an absolute path",
                    self.asset_base_url
                ),
            );
        }
        let assets_dir = self
            .assets_dir
            .filter(|dir| !dir.trim().is_empty())
            .map(PathBuf::from);
        if let Some(dir) = &assets_dir
            && !dir.join("graphiql").is_dir()
        {
            problems.add(
                "playground.assets_dir",
                format!(
                    "{} has no graphiql package (npm install graphiql react react-dom there)",
                    dir.display()
                ),
            );
        }
        Some(PlaygroundConfig {
            enabled: self.enabled,
            asset_base_url: base,
            assets_dir,
        })
    }
}

/// `$XDG_DATA_HOME/torrentql` (usually `~/.local/share/torrentql`).
fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("torrentql")
}

fn parse_base_url(text: &str) -> Result<Url, String> {
    // The text is not echoed: a URL can carry a key or password.
    let url = Url::parse(text).map_err(|error| format!("is not a URL ({error})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http:// or https:// URL".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "must not contain credentials; use qbittorrent.username and qbittorrent.password"
                .to_owned(),
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(
            "must not have a query or fragment (give keys in their own settings)".to_owned(),
        );
    }
    Ok(url)
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

fn parse_timeout(text: &str) -> Result<Duration, String> {
    parse_duration(text, Duration::from_secs(600))
}

/// A humantime duration (`"10s"`, `"12h"`), above zero and at most `max`.
fn parse_duration(text: &str, max: Duration) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text.trim())
        .map_err(|_| format!("{text:?} is not a duration like \"10s\" or \"1m\""))?;
    if duration.is_zero() || duration > max {
        return Err(format!(
            "{text:?} must be above zero and at most {}",
            humantime::format_duration(max)
        ));
    }
    Ok(duration)
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
    fn example_file_is_valid_and_matches_the_defaults() {
        let example = Config::from_toml(include_str!("../torrentql.example.toml")).unwrap();
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
