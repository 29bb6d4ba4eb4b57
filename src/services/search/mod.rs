//! Search: every configured indexer at once, one clean ranked list.
//!
//! Providers are asked concurrently, each bounded by its own timeout; one
//! that fails only adds an entry to `failures`. Torznab indexers are asked
//! with the function their `t=caps` offers for the search (`tvsearch` with
//! season and episode, `movie` with an IMDb id), read once per indexer and
//! kept. Results with the same info hash are merged (highest seeder count,
//! every provider's name) and their names read as [`ReleaseFacts`]; then
//! [`ranking`] refuses, filters, sorts, groups and cuts them, and
//! [`library_check`] says what Jellyfin already has. Identical searches
//! within the TTL come from a bounded cache, and concurrent identical
//! searches share one set of provider requests. Only complete answers are
//! cached: a search with a failed provider is asked again next time.

pub mod library_check;
pub mod ranking;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use moka::future::Cache;

use self::library_check::{LibraryCheck, LibraryMatch};
use self::ranking::{QualityPreference, RankedHit, SearchFilter, SearchOrder};
use super::ServiceError;
use super::indexer_keys::IndexerKeys;
use super::libraries::{Library, LibraryService};
use crate::clients::indexers::IndexerError;
use crate::clients::indexers::apibay::{ApibayClient, ApibayRow};
use crate::clients::indexers::torznab::{
    TorznabCaps, TorznabClient, TorznabItem, TorznabMode, TorznabQuery,
};
use crate::config::SearchConfig;
use crate::release::ReleaseFacts;
use crate::torrent::{InfoHash, Magnet};

/// The most results one search returns.
pub const MAX_LIMIT: usize = 100;
/// Distinct searches kept in the cache.
const CACHE_ENTRIES: u64 = 1_000;
/// The name apibay results and failures carry.
pub const APIBAY: &str = "apibay";
/// How long an indexer's `t=caps` answer is kept.
const CAPS_TTL: Duration = Duration::from_secs(6 * 3600);

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
    /// The TMDB id (Torznab only).
    pub tmdb_id: Option<String>,
    /// The TVDB id (Torznab only).
    pub tvdb_id: Option<String>,
    /// What the name says, read once when the hit is made.
    pub facts: ReleaseFacts,
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

/// A result as a search answers it.
#[derive(Debug, Clone)]
pub struct FoundRelease {
    /// The result, its quality rank and any refusal.
    pub ranked: RankedHit,
    /// What Jellyfin already has of it; `None` also when not checked.
    pub in_library: Option<LibraryMatch>,
    /// The library it would go to: the first of its kind (`movies` for a
    /// film, `tvshows` for episodes); `None` also when not asked for.
    pub suggested_library: Option<String>,
}

/// What a search found.
#[derive(Debug, Clone, Default)]
pub struct SearchResults {
    /// Results in the order asked for.
    pub hits: Vec<FoundRelease>,
    /// When grouping was asked for: each group's results, as indexes into
    /// `hits`, best placed group first.
    pub groups: Option<Vec<Vec<usize>>>,
    /// How many results `[search.quality]` refused (shown or not).
    pub refused: usize,
    /// Whether Jellyfin was asked what it already has.
    pub library_checked: bool,
    /// The providers that failed.
    pub failures: Vec<ProviderFailure>,
}

/// Merged results of every provider, before ranking: what is cached.
#[derive(Debug, Default)]
struct Merged {
    hits: Vec<SearchHit>,
    failures: Vec<ProviderFailure>,
}

/// A search as the caller asked it.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// What to search for.
    pub query: String,
    /// What kind of content.
    pub category: SearchCategory,
    /// Most results (or groups) to return.
    pub limit: usize,
    /// Names of the providers to ask; every enabled one when `None`.
    pub providers: Option<Vec<String>>,
    /// The film or series, by IMDb id (`tt0903747`), for the indexers that
    /// search by it.
    pub imdb_id: Option<String>,
    /// Which results to keep; its season and episode also shape the
    /// request to each indexer.
    pub filter: SearchFilter,
    /// How to sort.
    pub order: SearchOrder,
    /// Group the same title and episode in its qualities.
    pub group: bool,
    /// Keep the results `[search.quality]` refuses.
    pub include_refused: bool,
    /// Ask Jellyfin what it already has.
    pub check_library: bool,
    /// Name each result's suggested library.
    pub suggest_library: bool,
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
    season: Option<u32>,
    episode: Option<u32>,
    imdb_id: Option<String>,
}

/// What is asked of every provider.
struct Asked<'a> {
    query: &'a str,
    category: SearchCategory,
    season: Option<u32>,
    episode: Option<u32>,
    imdb_id: Option<&'a str>,
}

/// Searches the configured indexers.
pub struct SearchService {
    providers: Vec<Provider>,
    /// Turns indexer rows into hits.
    hits: Arc<HitMaker>,
    /// Complete answers only, merged, before ranking.
    cache: Cache<CacheKey, Arc<Merged>>,
    /// Each Torznab indexer's `t=caps`, by provider name.
    caps: Cache<String, Arc<TorznabCaps>>,
    /// `[search.quality]`.
    quality: QualityPreference,
    /// For suggested libraries and the library of a match.
    libraries: Option<Arc<LibraryService>>,
    /// "Already in the library", with Jellyfin configured.
    library_check: Option<LibraryCheck>,
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
            hits: Arc::new(HitMaker {
                trackers,
                indexer_keys: IndexerKeys::new(&config.torznab),
            }),
            cache: Cache::builder()
                .max_capacity(CACHE_ENTRIES)
                .time_to_live(config.cache_ttl)
                .build(),
            caps: Cache::builder().time_to_live(CAPS_TTL).build(),
            quality: QualityPreference::new(config.quality.clone()),
            libraries: None,
            library_check: None,
        })
    }

    /// Suggests libraries from `libraries`, and checks results against
    /// Jellyfin's items with `check` when Jellyfin is configured.
    pub fn with_libraries(
        mut self,
        libraries: Arc<LibraryService>,
        check: Option<LibraryCheck>,
    ) -> Self {
        self.libraries = Some(libraries);
        self.library_check = check;
        self
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
        let imdb_id = request.imdb_id.as_deref().map(imdb_id).transpose()?;
        let asked = Asked {
            query: &query,
            category: request.category,
            season: request.filter.season,
            episode: request.filter.episode,
            imdb_id: imdb_id.as_deref(),
        };
        let key = CacheKey {
            query: query.to_lowercase(),
            category: request.category,
            providers: selected
                .iter()
                .map(|provider| provider.name.to_lowercase())
                .collect(),
            season: asked.season,
            episode: asked.episode,
            imdb_id: imdb_id.clone(),
        };
        let merged = match self
            .cache
            .try_get_with(key, self.ask_all(&asked, &selected))
            .await
        {
            Ok(complete) => complete,
            Err(partial) => Arc::clone(partial.as_ref()),
        };
        if merged.hits.is_empty()
            && !merged.failures.is_empty()
            && merged.failures.len() == selected.len()
        {
            return Err(ServiceError::SearchFailed(merged.failures.clone()));
        }
        Ok(self.rank(&merged, &request).await)
    }

    /// Refuses, filters, sorts, groups and cuts merged results, then adds
    /// what the libraries say of them.
    async fn rank(&self, merged: &Merged, request: &SearchRequest) -> SearchResults {
        let ranked = self.quality.ranked(&merged.hits);
        let refused = ranked.iter().filter(|hit| hit.refusal.is_some()).count();
        let kept = ranked
            .into_iter()
            .filter(|hit| request.include_refused || hit.refusal.is_none())
            .collect();
        let mut sorted = ranking::filter_and_sort(kept, &request.filter, request.order);
        let groups = if request.group {
            let mut groups = ranking::group(&sorted);
            groups.truncate(request.limit);
            let mut ordered = Vec::new();
            let groups = groups
                .into_iter()
                .map(|members| {
                    members
                        .into_iter()
                        .map(|member| {
                            ordered.push(sorted[member].clone());
                            ordered.len() - 1
                        })
                        .collect()
                })
                .collect();
            sorted = ordered;
            Some(groups)
        } else {
            sorted.truncate(request.limit);
            None
        };
        // The libraries name a match's library and the suggestion; they are
        // not asked for (Jellyfin may be slow) when neither is wanted.
        let libraries = match &self.libraries {
            Some(service) if request.check_library || request.suggest_library => {
                match service.libraries().await {
                    Ok(libraries) => libraries.libraries,
                    Err(_) => Arc::default(),
                }
            }
            _ => Arc::default(),
        };
        let index = match (&self.library_check, request.check_library) {
            (Some(check), true) => match check.index().await {
                Ok(index) => Some(index),
                Err(error) => {
                    tracing::warn!(%error, "cannot check search results against Jellyfin's library");
                    None
                }
            },
            _ => None,
        };
        let hits = sorted
            .into_iter()
            .map(|ranked| FoundRelease {
                in_library: index
                    .as_ref()
                    .and_then(|index| index.find(&ranked.hit, &libraries)),
                suggested_library: request
                    .suggest_library
                    .then(|| suggested_library(&ranked.hit, &libraries))
                    .flatten(),
                ranked,
            })
            .collect();
        SearchResults {
            hits,
            groups,
            refused,
            library_checked: index.is_some(),
            failures: merged.failures.clone(),
        }
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
        asked: &Asked<'_>,
        providers: &[&Provider],
    ) -> Result<Arc<Merged>, Arc<Merged>> {
        let answers = join_all(providers.iter().map(|provider| async move {
            let answer = tokio::time::timeout(provider.timeout, self.ask(provider, asked))
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
        hits.sort_by(|a, b| a.name.cmp(&b.name));
        let merged = Arc::new(Merged { hits, failures });
        if merged.failures.is_empty() {
            Ok(merged)
        } else {
            Err(merged)
        }
    }

    async fn ask(
        &self,
        provider: &Provider,
        asked: &Asked<'_>,
    ) -> Result<Vec<SearchHit>, IndexerError> {
        match &provider.indexer {
            Indexer::Apibay(client) => {
                let query = with_episode(asked);
                let pages = join_all(
                    asked
                        .category
                        .apibay_codes()
                        .iter()
                        .map(|code| client.search(&query, *code)),
                )
                .await;
                let mut rows = Vec::new();
                for page in pages {
                    rows.extend(page?);
                }
                self.made(provider, move |maker, name| {
                    rows.into_iter()
                        .map(|row| maker.apibay_hit(row, name))
                        .collect()
                })
                .await
            }
            Indexer::Torznab(client) => {
                let caps = self.caps(provider, client).await;
                let planned = torznab_query(caps.as_deref(), asked);
                let items = client.search(&planned.request()).await?;
                self.made(provider, move |maker, name| {
                    items
                        .into_iter()
                        .map(|item| maker.torznab_hit(item, name))
                        .collect()
                })
                .await
            }
        }
    }

    /// Makes hits off the async threads: reading their names costs about
    /// 0.2 ms each, 20 ms for a page of 100.
    async fn made(
        &self,
        provider: &Provider,
        make: impl FnOnce(&HitMaker, &str) -> Vec<SearchHit> + Send + 'static,
    ) -> Result<Vec<SearchHit>, IndexerError> {
        let maker = Arc::clone(&self.hits);
        let name = provider.name.clone();
        tokio::task::spawn_blocking(move || make(&maker, &name))
            .await
            .map_err(|error| {
                IndexerError::Malformed(format!("reading the results failed: {error}"))
            })
    }

    /// The indexer's `t=caps`, read once and kept; `None` (plain search)
    /// when it cannot be read, asked again next time.
    async fn caps(&self, provider: &Provider, client: &TorznabClient) -> Option<Arc<TorznabCaps>> {
        let read = self
            .caps
            .try_get_with(provider.name.clone(), async {
                client.caps().await.map(Arc::new)
            })
            .await;
        match read {
            Ok(caps) => Some(caps),
            Err(error) => {
                tracing::warn!(provider = %provider.name, %error, "cannot read the indexer's capabilities; searching by words");
                None
            }
        }
    }
}

/// What turning an indexer's row into a hit needs.
struct HitMaker {
    /// Appended to magnets built from a bare hash.
    trackers: Vec<String>,
    /// Taken out of Torznab download links.
    indexer_keys: IndexerKeys,
}

impl HitMaker {
    fn apibay_hit(&self, row: ApibayRow, provider: &str) -> SearchHit {
        let magnet = Magnet::from_info_hash(row.info_hash, Some(&row.name), &self.trackers);
        let category = SearchCategory::of_apibay(&row.category);
        SearchHit {
            facts: facts(&row.name, category),
            info_hash: Some(row.info_hash),
            magnet: Some(magnet.to_string()),
            category,
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
            tmdb_id: None,
            tvdb_id: None,
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
        let category = item
            .categories
            .first()
            .map_or(SearchCategory::Other, |code| {
                SearchCategory::of_newznab(*code)
            });
        SearchHit {
            info_hash: item.info_hash,
            magnet,
            facts: facts(&item.title, category),
            category,
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
            tmdb_id: item.tmdb_id,
            tvdb_id: item.tvdb_id,
            download_url: item
                .download_url
                .map(|link| self.indexer_keys.redact(&link)),
            providers: vec![provider.to_owned()],
        }
    }
}

/// A name's facts; an indexer category that is no video (music, books,
/// software, games) makes it [`ReleaseKind::Other`] whatever the name says.
fn facts(name: &str, category: SearchCategory) -> ReleaseFacts {
    let mut facts = ReleaseFacts::parse(name);
    if !matches!(
        category,
        SearchCategory::Movies | SearchCategory::Tv | SearchCategory::Other | SearchCategory::All
    ) {
        facts.kind = crate::release::ReleaseKind::Other;
    }
    facts
}

/// The first library of the kind the hit belongs in.
fn suggested_library(hit: &SearchHit, libraries: &[Library]) -> Option<String> {
    let kind = ranking::library_kind(hit)?;
    libraries
        .iter()
        .find(|library| library.collection_type.as_deref() == Some(kind))
        .map(|library| library.name.clone())
}

/// An IMDb id as indexers take it: `tt` and at least 7 digits.
fn imdb_id(id: &str) -> Result<String, ServiceError> {
    let digits = id.trim().trim_start_matches("tt");
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(ServiceError::InvalidInput(format!(
            "imdbId must look like tt0903747, not {}",
            crate::text::quote(id)
        )));
    }
    Ok(format!("tt{digits:0>7}"))
}

/// The words with the season and episode asked for (`S02E05`, `S02`), for
/// indexers that search by words alone.
fn with_episode(asked: &Asked<'_>) -> String {
    match (asked.season, asked.episode) {
        (Some(season), Some(episode)) => format!("{} S{season:02}E{episode:02}", asked.query),
        (Some(season), None) => format!("{} S{season:02}", asked.query),
        _ => asked.query.to_owned(),
    }
}

/// A Torznab request, planned from the caps and what was asked.
struct PlannedQuery {
    mode: TorznabMode,
    text: Option<String>,
    categories: &'static [u32],
    season: Option<u32>,
    episode: Option<u32>,
    imdb_id: Option<String>,
}

impl PlannedQuery {
    fn request(&self) -> TorznabQuery<'_> {
        TorznabQuery {
            mode: self.mode,
            text: self.text.as_deref(),
            categories: self.categories,
            season: self.season,
            episode: self.episode,
            imdb_id: self.imdb_id.as_deref(),
        }
    }
}

/// The Torznab function and parameters for a search, by what the
/// indexer's caps offer: `tvsearch` for a season or episode, `movie` for
/// an IMDb id, else `search` with the season and episode in the words.
fn torznab_query(caps: Option<&TorznabCaps>, asked: &Asked<'_>) -> PlannedQuery {
    let plain = PlannedQuery {
        mode: TorznabMode::Search,
        text: Some(with_episode(asked)),
        categories: asked.category.newznab_codes(),
        season: None,
        episode: None,
        imdb_id: None,
    };
    let Some(caps) = caps else {
        return plain;
    };
    let mode = if (asked.season.is_some() || asked.episode.is_some())
        && caps.params(TorznabMode::TvSearch).is_some()
    {
        TorznabMode::TvSearch
    } else if asked.imdb_id.is_some() && caps.takes(TorznabMode::Movie, "imdbid") {
        TorznabMode::Movie
    } else {
        return plain;
    };
    let takes = |param: &str| caps.takes(mode, param);
    PlannedQuery {
        mode,
        text: Some(asked.query.to_owned()).filter(|_| takes("q")),
        season: asked.season.filter(|_| takes("season")),
        episode: asked.episode.filter(|_| takes("ep")),
        imdb_id: asked.imdb_id.filter(|_| takes("imdbid")).map(str::to_owned),
        ..plain
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
