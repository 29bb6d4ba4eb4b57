//! `[search]`: the indexers the `search` query asks (apibay, and Torznab
//! indexers such as Jackett and Prowlarr), how long answers are reused, and
//! `[search.quality]`: how results rank by quality and which are refused.

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

use super::Problems;
use super::lenient;
use super::values::{masked_required, parse_base_url, parse_duration, parse_timeout};
use crate::release::{ReleaseSource, Resolution, VideoCodec};

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
    /// How results rank by quality, and which are refused.
    pub quality: QualityConfig,
}

/// `[search.quality]`: the preference `orderBy: {field: QUALITY}` follows
/// (resolution first, then source, then video codec; each list best
/// first, anything unlisted or unknown after everything listed), and the
/// results no one wants to see.
#[derive(Debug, Clone, Serialize)]
pub struct QualityConfig {
    /// Resolutions, best first.
    pub resolutions: Vec<Resolution>,
    /// Sources, best first.
    pub sources: Vec<ReleaseSource>,
    /// Video codecs, best first.
    pub video_codecs: Vec<VideoCodec>,
    /// Results from these sources are refused (hidden unless asked for).
    pub refuse_sources: Vec<ReleaseSource>,
    /// Results in these resolutions are refused.
    pub refuse_resolutions: Vec<Resolution>,
    /// The largest torrent wanted per library kind (`movies`, `tvshows`),
    /// in bytes; larger results are refused.
    pub max_size: BTreeMap<String, u64>,
}

/// The library kinds `max_size` takes: Jellyfin's collection types for
/// films and series.
pub const SIZED_KINDS: &[&str] = &["movies", "tvshows"];

/// Reads a list of names (`["1080p", "720p"]`) of `all`, each known and
/// listed once.
fn parse_names<T: Copy + PartialEq>(
    names: &[String],
    all: &[T],
    name: fn(T) -> &'static str,
) -> Result<Vec<T>, String> {
    let mut values = Vec::new();
    for listed in names {
        let value = all
            .iter()
            .find(|value| name(**value).eq_ignore_ascii_case(listed.trim()))
            .ok_or_else(|| {
                let known: Vec<&str> = all.iter().map(|value| name(*value)).collect();
                format!("unknown value {listed:?}; known: {}", known.join(", "))
            })?;
        if values.contains(value) {
            return Err(format!("{listed:?} is listed twice"));
        }
        values.push(*value);
    }
    Ok(values)
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
    quality: RawQuality,
}

impl Default for RawSearch {
    fn default() -> Self {
        Self {
            cache_ttl: "60s".to_owned(),
            apibay: RawApibay::default(),
            torznab: Vec::new(),
            quality: RawQuality::default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawQuality {
    #[serde(deserialize_with = "lenient::strings")]
    resolutions: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    sources: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    video_codecs: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    refuse_sources: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    refuse_resolutions: Vec<String>,
    max_size: BTreeMap<String, toml::Value>,
}

impl Default for RawQuality {
    fn default() -> Self {
        let names = |names: &[&str]| names.iter().map(|name| (*name).to_owned()).collect();
        Self {
            resolutions: names(&["4320p", "2160p", "1440p", "1080p", "720p", "sd"]),
            sources: names(&[
                "remux",
                "bluray",
                "web_dl",
                "webrip",
                "hdtv",
                "dvd",
                "vhs",
                "screener",
                "workprint",
                "telecine",
                "telesync",
                "cam",
            ]),
            video_codecs: names(&[
                "h265", "av1", "h264", "vp9", "vc1", "mpeg2", "xvid", "divx", "other",
            ]),
            refuse_sources: Vec::new(),
            refuse_resolutions: Vec::new(),
            max_size: BTreeMap::new(),
        }
    }
}

impl RawQuality {
    fn validate(self, problems: &mut Problems) -> Option<QualityConfig> {
        let key = |field: &str| format!("search.quality.{field}");
        let read_resolutions = |names| parse_names(names, &Resolution::ALL, Resolution::name);
        let read_sources = |names| parse_names(names, &ReleaseSource::ALL, ReleaseSource::name);
        let resolutions = problems.check(&key("resolutions"), read_resolutions(&self.resolutions));
        let sources = problems.check(&key("sources"), read_sources(&self.sources));
        let video_codecs = problems.check(
            &key("video_codecs"),
            parse_names(&self.video_codecs, &VideoCodec::ALL, VideoCodec::name),
        );
        let refuse_sources =
            problems.check(&key("refuse_sources"), read_sources(&self.refuse_sources));
        let refuse_resolutions = problems.check(
            &key("refuse_resolutions"),
            read_resolutions(&self.refuse_resolutions),
        );
        let mut max_size = BTreeMap::new();
        for (kind, size) in self.max_size {
            let field = key(&format!("max_size.{kind}"));
            if !SIZED_KINDS.contains(&kind.as_str()) {
                problems.add(
                    &field,
                    format!("is not a library kind; use {}", SIZED_KINDS.join(" or ")),
                );
                continue;
            }
            if let Some(bytes) = problems.check(&field, parse_size(&size)) {
                max_size.insert(kind, bytes);
            }
        }
        Some(QualityConfig {
            resolutions: resolutions?,
            sources: sources?,
            video_codecs: video_codecs?,
            refuse_sources: refuse_sources?,
            refuse_resolutions: refuse_resolutions?,
            max_size,
        })
    }
}

/// A size as bytes (`40000000000`) or with a unit (`"40 GB"`, `"37.5 GiB"`).
fn parse_size(value: &toml::Value) -> Result<u64, String> {
    let bytes = match value {
        toml::Value::Integer(bytes) => {
            u64::try_from(*bytes).map_err(|_| "must not be negative".to_owned())?
        }
        toml::Value::String(text) => text
            .trim()
            .parse::<bytesize::ByteSize>()
            .map_err(|_| format!("{text:?} is not a size; write e.g. \"40 GiB\" or \"8 GB\""))?
            .as_u64(),
        _ => return Err("must be a size such as \"40 GiB\"".to_owned()),
    };
    if bytes == 0 {
        return Err("must be more than 0".to_owned());
    }
    Ok(bytes)
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
        let quality = self.quality.validate(problems);
        Some(SearchConfig {
            cache_ttl: cache_ttl?,
            quality: quality?,
            apibay: ApibayConfig {
                enabled: self.apibay.enabled,
                url: apibay_url?,
                timeout: apibay_timeout?,
            },
            torznab,
        })
    }
}
