//! `[search]`: the indexers the `search` query asks (apibay, and Torznab
//! indexers such as Jackett and Prowlarr) and how long answers are reused.

use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

use super::Problems;
use super::lenient;
use super::values::{masked_required, parse_base_url, parse_duration, parse_timeout};

/// Torrent indexers searched by the `search` query.
#[derive(Debug, Clone, Serialize)]
pub struct SearchConfig {
    /// How long identical searches are answered from the cache.
    #[serde(with = "humantime_serde")]
    pub cache_ttl: Duration,
    /// The apibay provider.
    pub apibay: ApibayConfig,
    /// Torznab providers, in the order they are listed.
    pub torznab: Vec<TorznabConfig>,
}

/// The apibay provider (The Pirate Bay's JSON API).
#[derive(Debug, Clone, Serialize)]
pub struct ApibayConfig {
    /// Whether it is asked at all.
    pub enabled: bool,
    /// Its base URL.
    pub url: Url,
    /// Bound on one search.
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
    /// Sent as `apikey`; never logged or shown.
    #[serde(serialize_with = "masked_required")]
    pub api_key: SecretString,
    /// Bound on one search.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Whether it is asked at all.
    pub enabled: bool,
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawSearch {
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
    pub(super) fn validate(self, problems: &mut Problems) -> Option<SearchConfig> {
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
