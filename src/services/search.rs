//! Search: every configured indexer at once, one clean ranked list.
//!
//! Providers are asked concurrently, each bounded by its own timeout; one
//! that fails only adds an entry to `failures`. Results with the same info
//! hash are merged (highest seeder count, every provider's name), sorted by
//! seeders, and cut to the limit. Identical searches within the TTL come
//! from a bounded cache, and concurrent identical searches share one set of
//! provider requests. Only complete answers are cached: a search with a
//! failed provider is asked again next time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use moka::future::Cache;

use super::ServiceError;
use super::indexer_keys::IndexerKeys;
use crate::clients::indexers::IndexerError;
use crate::clients::indexers::apibay::{ApibayClient, ApibayRow};
use crate::clients::indexers::torznab::{TorznabClient, TorznabItem};
use crate::config::SearchConfig;
use crate::torrent::{InfoHash, Magnet};

/// The most results one search returns.
pub const MAX_LIMIT: usize = 100;
/// Distinct searches kept in the cache.
const CACHE_ENTRIES: u64 = 1_000;
/// The name apibay results and failures carry.
pub const APIBAY: &str = "apibay";

/// What kind of content to search for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SearchCategory {
    /// Every category.
    #[default]
    All,
    /// Films.
    Movies,
    /// Television series.
    Tv,
    /// Music.
    Music,
    /// Audiobooks.
    Audiobooks,
    /// Books and comics.
    Books,
    /// Games.
    Games,
    /// Applications.
    Software,
    /// Anything else.
    Other,
}

impl SearchCategory {
    /// apibay's category codes (one request each; 0 is every category).
    fn apibay_codes(self) -> &'static [u32] {
        match self {
            Self::All => &[0],
            Self::Movies => &[201, 207, 211],
            Self::Tv => &[205, 208, 212],
            Self::Music => &[101, 104],
            Self::Audiobooks => &[102],
            Self::Books => &[601],
            Self::Games => &[400],
            Self::Software => &[300],
            Self::Other => &[600],
        }
    }

    /// Newznab/Torznab category numbers; none means no filter.
    fn newznab_codes(self) -> &'static [u32] {
        match self {
            Self::All => &[],
            Self::Movies => &[2000],
            Self::Tv => &[5000],
            Self::Music => &[3000],
            Self::Audiobooks => &[3030],
            Self::Books => &[7000],
            Self::Games => &[4050, 1000],
            Self::Software => &[4000],
            Self::Other => &[8000],
        }
    }

    /// What an apibay category code is (`201` movies, `303` software...).
    fn of_apibay(code: &str) -> Self {
        match code.parse::<u32>().unwrap_or(0) {
            101 | 104 => Self::Music,
            102 => Self::Audiobooks,
            201 | 202 | 207 | 209 | 211 => Self::Movies,
            205 | 208 | 212 => Self::Tv,
            300..=399 => Self::Software,
            400..=499 => Self::Games,
            601 => Self::Books,
            _ => Self::Other,
        }
    }

    /// What a Newznab category number is (`5030` TV, `3030` audiobooks...).
    fn of_newznab(code: u32) -> Self {
        match code {
            2000..=2999 => Self::Movies,
            5000..=5999 => Self::Tv,
            3030 => Self::Audiobooks,
            3000..=3999 => Self::Music,
            7000..=7999 => Self::Books,
            1000..=1999 | 4050 => Self::Games,
            4000..=4999 => Self::Software,
            _ => Self::Other,
        }
    }
}

/// One result, merged across providers.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// `None` for a Torznab result with only a download link.
    pub info_hash: Option<InfoHash>,
    /// The release name.
    pub name: String,
    /// Bytes.
    pub size: i64,
    /// Peers with the whole torrent (the hit with the most is kept).
    pub seeders: u64,
    /// Peers still downloading.
    pub leechers: u64,
    /// How many files, when known.
    pub files: Option<u64>,
    /// Who uploaded it.
    pub uploader: Option<String>,
    /// `vip`, `trusted`, `member`, ... (apibay only).
    pub uploader_status: Option<String>,
    /// When it was uploaded.
    pub added_at: Option<DateTime<Utc>>,
    /// Our category, mapped from the provider's.
    pub category: SearchCategory,
    /// The provider's own category code.
    pub provider_category: Option<String>,
    /// The IMDb id (`tt0111161`).
    pub imdb_id: Option<String>,
    /// Ready for `addTorrent(input: {magnet})`; its hash is `info_hash`.
    pub magnet: Option<String>,
    /// A `.torrent` (or redirect-to-magnet) link, for `addTorrent(input: {url})`.
    pub download_url: Option<String>,
    /// The providers that found it.
    pub providers: Vec<String>,
}

/// A provider that gave no results, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderFailure {
    /// The provider's configured name.
    pub provider: String,
    /// True when the provider refused (a bad API key); false when it was
    /// unreachable, too slow or answered garbage.
    pub rejected: bool,
    /// What went wrong, cut short and without URLs.
    pub message: String,
}

/// What a search found.
#[derive(Debug, Clone, Default)]
pub struct SearchResults {
    /// Results, the most seeded first.
    pub hits: Vec<SearchHit>,
    /// The providers that failed.
    pub failures: Vec<ProviderFailure>,
}

/// A search as the caller asked it.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// What to search for.
    pub query: String,
    /// What kind of content.
    pub category: SearchCategory,
    /// Most results to return.
    pub limit: usize,
    /// Names of the providers to ask; every enabled one when `None`.
    pub providers: Option<Vec<String>>,
}

enum Indexer {
    Apibay(ApibayClient),
    Torznab(TorznabClient),
}

struct Provider {
    name: String,
    indexer: Indexer,
    timeout: Duration,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    query: String,
    category: SearchCategory,
    providers: Vec<String>,
}

/// Searches the configured indexers.
pub struct SearchService {
    providers: Vec<Provider>,
    /// Appended to magnets built from a bare hash.
    trackers: Vec<String>,
    /// Complete answers only, merged and sorted, before the limit.
    cache: Cache<CacheKey, Arc<SearchResults>>,
    /// Taken out of Torznab download links.
    indexer_keys: IndexerKeys,
}

impl SearchService {
    /// The service for the enabled providers; fails only when an HTTP
    /// client cannot be built (no TLS backend).
    pub fn new(config: &SearchConfig, trackers: Vec<String>) -> reqwest::Result<Self> {
        let mut providers = Vec::new();
        if config.apibay.enabled {
            providers.push(Provider {
                name: APIBAY.to_owned(),
                indexer: Indexer::Apibay(ApibayClient::new(
                    config.apibay.url.clone(),
                    config.apibay.timeout,
                )?),
                timeout: config.apibay.timeout,
            });
        }
        for torznab in config.torznab.iter().filter(|torznab| torznab.enabled) {
            providers.push(Provider {
                name: torznab.name.clone(),
                indexer: Indexer::Torznab(TorznabClient::new(
                    torznab.url.clone(),
                    torznab.api_key.clone(),
                    torznab.timeout,
                )?),
                timeout: torznab.timeout,
            });
        }
        Ok(Self {
            providers,
            trackers,
            indexer_keys: IndexerKeys::new(&config.torznab),
            cache: Cache::builder()
                .max_capacity(CACHE_ENTRIES)
                .time_to_live(config.cache_ttl)
                .build(),
        })
    }

    /// The names of the enabled providers.
    pub fn provider_names(&self) -> Vec<&str> {
        self.providers
            .iter()
            .map(|provider| provider.name.as_str())
            .collect()
    }

    /// Runs a search. Fails only when the input is bad or every provider
    /// asked failed.
    pub async fn search(&self, request: SearchRequest) -> Result<SearchResults, ServiceError> {
        let query = request
            .query
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if query.is_empty() {
            return Err(ServiceError::InvalidInput(
                "query must not be empty".to_owned(),
            ));
        }
        if !(1..=MAX_LIMIT).contains(&request.limit) {
            return Err(ServiceError::InvalidInput(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        let selected = self.select(request.providers.as_deref())?;
        let key = CacheKey {
            query: query.to_lowercase(),
            category: request.category,
            providers: selected
                .iter()
                .map(|provider| provider.name.to_lowercase())
                .collect(),
        };
        let results = match self
            .cache
            .try_get_with(key, self.ask_all(&query, request.category, &selected))
            .await
        {
            Ok(complete) => complete,
            Err(partial) => Arc::clone(partial.as_ref()),
        };
        if results.hits.is_empty()
            && !results.failures.is_empty()
            && results.failures.len() == selected.len()
        {
            return Err(ServiceError::SearchFailed(results.failures.clone()));
        }
        Ok(SearchResults {
            hits: results.hits.iter().take(request.limit).cloned().collect(),
            failures: results.failures.clone(),
        })
    }

    fn select(&self, names: Option<&[String]>) -> Result<Vec<&Provider>, ServiceError> {
        let Some(names) = names else {
            if self.providers.is_empty() {
                return Err(ServiceError::NotConfigured(
                    "no search provider is enabled: configure [search.apibay] or [[search.torznab]]".to_owned(),
                ));
            }
            return Ok(self.providers.iter().collect());
        };
        let mut selected = Vec::new();
        for name in names {
            let provider = self
                .providers
                .iter()
                .find(|provider| provider.name.eq_ignore_ascii_case(name.trim()))
                .ok_or_else(|| {
                    ServiceError::InvalidInput(format!(
                        "unknown search provider {}; enabled: {}",
                        crate::text::quote(name),
                        self.provider_names().join(", ")
                    ))
                })?;
            if !selected
                .iter()
                .any(|chosen: &&Provider| std::ptr::eq(*chosen, provider))
            {
                selected.push(provider);
            }
        }
        if selected.is_empty() {
            return Err(ServiceError::InvalidInput(
                "providers must name at least one provider".to_owned(),
            ));
        }
        Ok(selected)
    }

    /// Asks every selected provider; `Err` carries a partial answer, which
    /// is returned but not cached.
    async fn ask_all(
        &self,
        query: &str,
        category: SearchCategory,
        providers: &[&Provider],
    ) -> Result<Arc<SearchResults>, Arc<SearchResults>> {
        let answers = join_all(providers.iter().map(|provider| async move {
            let answer =
                tokio::time::timeout(provider.timeout, self.ask(provider, query, category))
                    .await
                    .unwrap_or_else(|_| {
                        Err(IndexerError::Unavailable(format!(
                            "no answer within {:?}",
                            provider.timeout
                        )))
                    });
            (provider.name.as_str(), answer)
        }))
        .await;

        let mut merged: HashMap<InfoHash, SearchHit> = HashMap::new();
        let mut link_only = Vec::new();
        let mut failures = Vec::new();
        for (name, answer) in answers {
            match answer {
                Ok(hits) => {
                    for hit in hits {
                        match hit.info_hash {
                            Some(hash) => merge(&mut merged, hash, hit),
                            None => link_only.push(hit),
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(provider = name, %error, "search provider failed");
                    failures.push(ProviderFailure {
                        provider: name.to_owned(),
                        rejected: matches!(error, IndexerError::Rejected(_)),
                        message: error.to_string(),
                    });
                }
            }
        }
        let mut hits: Vec<SearchHit> = merged.into_values().chain(link_only).collect();
        hits.sort_by(|a, b| {
            b.seeders
                .cmp(&a.seeders)
                .then(b.leechers.cmp(&a.leechers))
                .then_with(|| a.name.cmp(&b.name))
        });
        let results = Arc::new(SearchResults { hits, failures });
        if results.failures.is_empty() {
            Ok(results)
        } else {
            Err(results)
        }
    }

    async fn ask(
        &self,
        provider: &Provider,
        query: &str,
        category: SearchCategory,
    ) -> Result<Vec<SearchHit>, IndexerError> {
        match &provider.indexer {
            Indexer::Apibay(client) => {
                let pages = join_all(
                    category
                        .apibay_codes()
                        .iter()
                        .map(|code| client.search(query, *code)),
                )
                .await;
                let mut hits = Vec::new();
                for page in pages {
                    hits.extend(
                        page?
                            .into_iter()
                            .map(|row| self.apibay_hit(row, &provider.name)),
                    );
                }
                Ok(hits)
            }
            Indexer::Torznab(client) => Ok(client
                .search(query, category.newznab_codes())
                .await?
                .into_iter()
                .map(|item| self.torznab_hit(item, &provider.name))
                .collect()),
        }
    }

    fn apibay_hit(&self, row: ApibayRow, provider: &str) -> SearchHit {
        let magnet = Magnet::from_info_hash(row.info_hash, Some(&row.name), &self.trackers);
        SearchHit {
            info_hash: Some(row.info_hash),
            magnet: Some(magnet.to_string()),
            category: SearchCategory::of_apibay(&row.category),
            provider_category: Some(row.category).filter(|code| !code.is_empty()),
            name: row.name,
            size: row.size,
            seeders: row.seeders,
            leechers: row.leechers,
            files: row.files,
            uploader: row.uploader,
            uploader_status: row.uploader_status,
            added_at: row.added_at,
            imdb_id: row.imdb_id,
            download_url: None,
            providers: vec![provider.to_owned()],
        }
    }

    fn torznab_hit(&self, item: TorznabItem, provider: &str) -> SearchHit {
        // The result's magnet must add the torrent its hash names: keep the
        // indexer's magnet (canonicalised) only when the two agree.
        let magnet = item.info_hash.map(|hash| {
            item.magnet
                .as_deref()
                .and_then(|magnet| Magnet::parse(magnet).ok())
                .filter(|magnet| magnet.info_hash() == hash)
                .unwrap_or_else(|| Magnet::from_info_hash(hash, Some(&item.title), &self.trackers))
                .to_string()
        });
        SearchHit {
            info_hash: item.info_hash,
            magnet,
            category: item
                .categories
                .first()
                .map_or(SearchCategory::Other, |code| {
                    SearchCategory::of_newznab(*code)
                }),
            provider_category: item.categories.first().map(u32::to_string),
            name: item.title,
            size: item.size.unwrap_or(0),
            seeders: item.seeders.unwrap_or(0),
            leechers: item.leechers.unwrap_or(0),
            files: item.files,
            uploader: item.uploader,
            uploader_status: None,
            added_at: item.published_at,
            imdb_id: item.imdb_id,
            download_url: item
                .download_url
                .map(|link| self.indexer_keys.redact(&link)),
            providers: vec![provider.to_owned()],
        }
    }
}

/// Keeps the hit with the most seeders, and every provider's name.
fn merge(merged: &mut HashMap<InfoHash, SearchHit>, hash: InfoHash, hit: SearchHit) {
    match merged.get_mut(&hash) {
        None => {
            merged.insert(hash, hit);
        }
        Some(existing) => {
            let mut providers = std::mem::take(&mut existing.providers);
            for provider in &hit.providers {
                if !providers.contains(provider) {
                    providers.push(provider.clone());
                }
            }
            if hit.seeders > existing.seeders {
                *existing = hit;
            }
            existing.providers = providers;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_map_both_ways() {
        assert_eq!(SearchCategory::of_apibay("207"), SearchCategory::Movies);
        assert_eq!(SearchCategory::of_apibay("303"), SearchCategory::Software);
        assert_eq!(SearchCategory::of_apibay(""), SearchCategory::Other);
        assert_eq!(SearchCategory::of_newznab(5030), SearchCategory::Tv);
        assert_eq!(SearchCategory::of_newznab(3030), SearchCategory::Audiobooks);
        assert_eq!(SearchCategory::of_newznab(4050), SearchCategory::Games);
        assert_eq!(SearchCategory::of_newznab(100_001), SearchCategory::Other);
        for category in [
            SearchCategory::Movies,
            SearchCategory::Tv,
            SearchCategory::Books,
        ] {
            for code in category.newznab_codes() {
                assert_eq!(SearchCategory::of_newznab(*code), category);
            }
            for code in category.apibay_codes() {
                assert_eq!(SearchCategory::of_apibay(&code.to_string()), category);
            }
        }
    }
}
