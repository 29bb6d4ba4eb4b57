//! `search`: every configured indexer at once, one ranked list whose
//! results can be passed straight to `addTorrent`.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};

use super::guards::AdminGuard;
use super::node::NodeId;
use super::scalars::{Bytes, DateTime};
use crate::error::AppError;
use crate::services::search::{self, SearchRequest, SearchService};

/// What kind of content to search for. `ALL` sends no category filter.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "search::SearchCategory")]
pub enum SearchCategory {
    /// Any kind; as a result's category, never used.
    All,
    /// Films (apibay 201, 202, 207, 209, 211; Newznab 2000-2999).
    Movies,
    /// TV shows (apibay 205, 208, 212; Newznab 5000-5999).
    Tv,
    /// Music (apibay 101, 104; Newznab 3000-3999 but 3030).
    Music,
    /// Audiobooks (apibay 102; Newznab 3030).
    Audiobooks,
    /// E-books and comics (apibay 601; Newznab 7000-7999).
    Books,
    /// Games (apibay 400-499; Newznab 1000-1999 and 4050).
    Games,
    /// Applications (apibay 300-399; Newznab 4000-4999 but 4050).
    Software,
    /// Anything else, or a category the provider did not give.
    Other,
}

/// One torrent found, merged across the providers that returned it.
#[derive(SimpleObject)]
pub struct SearchResult {
    /// Opaque and stable: the info hash (or, without one, the download
    /// link). `node(id:)` answers null for it: results are not kept.
    #[graphql(owned)]
    pub(crate) id: ID,
    /// Lowercase hex; null only for a Torznab result with nothing but a
    /// download link (add it with `addTorrent(input: {url: downloadUrl})`).
    info_hash: Option<String>,
    /// HTML entities decoded.
    name: String,
    /// The total size of its files.
    size: Bytes,
    /// The highest count any provider reported.
    seeders: i64,
    /// Peers still downloading, the highest count any provider reported.
    leechers: i64,
    /// How many files it has; null when the provider does not say.
    files: Option<i64>,
    /// Who uploaded it, as the provider names them; null when unknown.
    uploader: Option<String>,
    /// The uploader's standing on apibay: `vip`, `trusted`, `member`...
    uploader_status: Option<String>,
    /// When it was uploaded; null when the provider does not say.
    added_at: Option<DateTime>,
    /// The kind of content, mapped from the provider's own category.
    category: SearchCategory,
    /// The provider's own category code (apibay `207`, Newznab `2040`...).
    provider_category: Option<String>,
    /// The IMDb id of the film or show (`tt0111161`), when the provider gives one.
    imdb_id: Option<String>,
    /// Ready for `addTorrent(input: {magnet})`; adds the torrent `infoHash` names.
    magnet: Option<String>,
    /// A link to the `.torrent` (or to a magnet redirect), for `addTorrent(input: {url})`.
    download_url: Option<String>,
    /// The providers that returned it.
    providers: Vec<String>,
}

/// A provider that contributed nothing, and why.
#[derive(SimpleObject)]
pub struct SearchFailure {
    /// The provider's configured name (`apibay` for apibay).
    provider: String,
    /// As in `extensions.code`: `UPSTREAM_UNAVAILABLE` or `UPSTREAM_REJECTED`.
    code: String,
    /// What went wrong, for people.
    message: String,
}

/// What a search found, and which providers failed.
#[derive(SimpleObject)]
pub struct SearchResults {
    /// Sorted by seeders, most first.
    results: Vec<SearchResult>,
    /// The providers that failed or timed out; empty when all answered.
    failures: Vec<SearchFailure>,
}

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Searches every enabled indexer (or those named in `providers`) at
    /// once. A provider that fails or times out is listed in `failures`;
    /// only when every one fails is the field an error.
    #[graphql(guard = "AdminGuard")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The words to search for, as typed.")] query: String,
        #[graphql(
            default_with = "Some(SearchCategory::All)",
            desc = "The kind of content; `ALL` sends no category filter."
        )]
        category: Option<SearchCategory>,
        #[graphql(default_with = "Some(20)", desc = "At most 100.")] limit: Option<i32>,
        #[graphql(
            desc = "Providers by configured name (`apibay`, a Torznab indexer's name); \
                    every enabled one when omitted."
        )]
        providers: Option<Vec<String>>,
    ) -> Result<SearchResults> {
        let service = ctx.data::<Arc<SearchService>>()?;
        let limit = limit.unwrap_or(20);
        let found = service
            .search(SearchRequest {
                query,
                category: category.unwrap_or(SearchCategory::All).into(),
                limit: usize::try_from(limit).unwrap_or(0),
                providers,
            })
            .await
            .map_err(AppError::from)?;
        Ok(SearchResults {
            results: found.hits.into_iter().map(SearchResult::from).collect(),
            failures: found
                .failures
                .into_iter()
                .map(|failure| SearchFailure {
                    code: if failure.rejected {
                        "UPSTREAM_REJECTED"
                    } else {
                        "UPSTREAM_UNAVAILABLE"
                    }
                    .to_owned(),
                    provider: failure.provider,
                    message: failure.message,
                })
                .collect(),
        })
    }
}

impl From<search::SearchHit> for SearchResult {
    fn from(hit: search::SearchHit) -> Self {
        let count = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
        let info_hash = hit.info_hash.map(|hash| hash.to_string());
        Self {
            id: NodeId::search_result(info_hash.as_deref(), hit.download_url.as_deref()).to_id(),
            info_hash,
            name: hit.name,
            size: Bytes(hit.size),
            seeders: count(hit.seeders),
            leechers: count(hit.leechers),
            files: hit.files.map(count),
            uploader: hit.uploader,
            uploader_status: hit.uploader_status,
            added_at: hit.added_at.map(DateTime),
            category: hit.category.into(),
            provider_category: hit.provider_category,
            imdb_id: hit.imdb_id,
            magnet: hit.magnet,
            download_url: hit.download_url,
            providers: hit.providers,
        }
    }
}
