//! `[jellyfin]`: the Jellyfin server whose libraries downloads land in.

use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

use super::Problems;
use super::lenient;
use super::values::{masked_required, parse_base_url, parse_duration, parse_timeout};

/// The Jellyfin server whose libraries downloads land in.
#[derive(Debug, Clone, Serialize)]
pub struct JellyfinConfig {
    /// Jellyfin's address, with its base path if any.
    pub url: Url,
    /// An API key made in Jellyfin's dashboard (administrator rights).
    #[serde(serialize_with = "masked_required")]
    pub api_key: SecretString,
    /// Bound on every call to Jellyfin.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// How long Jellyfin's library list, and its films and episodes for
    /// search results' `inLibrary`, are reused before asking again.
    #[serde(with = "humantime_serde")]
    pub cache_ttl: Duration,
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawJellyfin {
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

impl RawJellyfin {
    pub(super) fn validate(self, problems: &mut Problems) -> Option<Option<JellyfinConfig>> {
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
