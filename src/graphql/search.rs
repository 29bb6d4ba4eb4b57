//! `search`: every configured indexer at once, one ranked list whose
//! results can be passed straight to `addTorrent`, each with its release
//! facts, its place in the quality preference, and what Jellyfin has.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};

use super::guards::AdminGuard;
use super::node::NodeId;
use super::release::{ReleaseFacts, ReleaseSource, Resolution};
use super::scalars::{Bytes, DateTime};
use super::torrents::OrderDirection;
use crate::error::AppError;
use crate::services::search::ranking::{SearchFilter, SearchOrder, SearchOrderField};
use crate::services::search::{self, FoundRelease, SearchRequest, SearchService};

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
#[derive(SimpleObject, Clone)]
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
    /// What its name says: title, episode, resolution, source, codecs...
    release: ReleaseFacts,
    /// Its place in the `[search.quality]` preference, and any refusal.
    quality: SearchQuality,
    /// What Jellyfin already has of it: the film, the episodes, or (for a
    /// season pack) the series with an episode of each season. Null when
    /// Jellyfin has none of it, and when it was not asked (no Jellyfin
    /// configured, or unreachable: see `SearchResults.libraryChecked`).
    in_library: Option<LibraryItemMatch>,
    /// The library it would go to: the first whose kind fits (`movies` for
    /// a film, `tvshows` for episodes, by the indexer's category first);
    /// pass it to `addTorrent(input: {library})`.
    suggested_library: Option<String>,
}

/// Where a result stands in the configured quality preference.
#[derive(SimpleObject, Clone)]
pub struct SearchQuality {
    /// Lower is better: resolution first, then source, then video codec,
    /// each by its place in `[search.quality]`. Compare it only between
    /// results of one search.
    rank: i32,
    /// Why `[search.quality]` refuses it (a refused source or resolution, a
    /// size above the maximum for its kind); null when it is wanted.
    /// Refused results are left out unless `includeRefused` is true.
    refusal: Option<String>,
}

/// A film, episode or series Jellyfin already has.
#[derive(SimpleObject, Clone)]
pub struct LibraryItemMatch {
    /// Jellyfin's id of the item.
    item_id: String,
    /// Its name as Jellyfin has it (`Breaking Bad S05E14 Ozymandias`).
    name: String,
    /// The library holding it; null when its folder is no library's.
    library: Option<String>,
}

/// Results of one title (and year), season and episode, in their qualities.
#[derive(SimpleObject)]
pub struct SearchResultGroup {
    /// The title read from the names; null when none was read (each such
    /// result is a group of its own).
    title: Option<String>,
    /// The year read.
    year: Option<i32>,
    /// The seasons.
    seasons: Vec<i32>,
    /// The episodes.
    episodes: Vec<i32>,
    /// Its results, in the order asked for (the first is the best placed).
    results: Vec<SearchResult>,
}

/// Which results to keep; every part given must match.
#[derive(InputObject, Default)]
pub struct SearchWhereInput {
    /// Any of these resolutions (results without one are left out).
    resolutions: Option<Vec<Resolution>>,
    /// Any of these sources (results without one are left out).
    sources: Option<Vec<ReleaseSource>>,
    /// At least this many seeders.
    min_seeders: Option<i32>,
    /// Results holding this season: an episode of it or a pack with it.
    /// Torznab indexers that offer `tvsearch` are asked for it; others get
    /// `S02` added to the words.
    season: Option<i32>,
    /// Results holding this episode (of `season`): the episode itself, or
    /// a pack of its season. Asked as `ep` of `tvsearch`, or `S02E05` in
    /// the words.
    episode: Option<i32>,
}

/// What search results are sorted by.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "SearchOrderField", remote = "SearchOrderField")]
pub enum SearchOrderFieldInput {
    /// Seeders, then leechers.
    Seeders,
    /// The torrent's size.
    Size,
    /// When it was uploaded (its age); unknown times last either way.
    AddedAt,
    /// The `[search.quality]` preference; `DESC` puts the best first.
    Quality,
}

/// A sort of search results; ties go to the most seeded, then by name.
#[derive(InputObject)]
pub struct SearchOrderBy {
    /// What to sort by.
    field: SearchOrderFieldInput,
    /// `DESC` (the default): most seeders, largest, newest, best first.
    #[graphql(default_with = "OrderDirection::Desc")]
    direction: OrderDirection,
}

/// How to group search results.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum SearchGroupBy {
    /// The same title (and year), season and episodes: one group per film
    /// or episode, holding its qualities.
    Title,
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
    /// In the order asked for (most seeders first by default); with
    /// `groupBy`, every result of `groups`, group by group.
    results: Vec<SearchResult>,
    /// With `groupBy: TITLE`: the results grouped, `limit` groups at most,
    /// the group of the best placed result first; null without `groupBy`.
    groups: Option<Vec<SearchResultGroup>>,
    /// How many results `[search.quality]` refused, shown or not.
    refused_count: i32,
    /// Whether Jellyfin was asked what it already has (`inLibrary`); false
    /// without Jellyfin, when it could not be reached, or when no
    /// `inLibrary` was selected.
    library_checked: bool,
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
    #[allow(clippy::too_many_arguments)]
    async fn search(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The words to search for, as typed.")] query: String,
        #[graphql(
            default_with = "Some(SearchCategory::All)",
            desc = "The kind of content; `ALL` sends no category filter."
        )]
        category: Option<SearchCategory>,
        #[graphql(
            default_with = "Some(20)",
            desc = "At most 100 results (with `groupBy`, groups)."
        )]
        limit: Option<i32>,
        #[graphql(
            desc = "Providers by configured name (`apibay`, a Torznab indexer's name); \
                    every enabled one when omitted."
        )]
        providers: Option<Vec<String>>,
        #[graphql(
            desc = "The film or series by IMDb id (`tt0903747`): Torznab indexers that \
                    take `imdbid` (by their caps) are asked by it."
        )]
        imdb_id: Option<String>,
        #[graphql(
            name = "where",
            desc = "Which results to keep: resolutions, sources, seeders, season, episode."
        )]
        filter: Option<SearchWhereInput>,
        #[graphql(desc = "The sort; most seeders first when omitted.")] order_by: Option<
            SearchOrderBy,
        >,
        #[graphql(desc = "Group the results of one title and episode (see `groups`).")]
        group_by: Option<SearchGroupBy>,
        #[graphql(
            default_with = "Some(false)",
            desc = "Keep the results `[search.quality]` refuses (each says why in `quality.refusal`)."
        )]
        include_refused: Option<bool>,
    ) -> Result<SearchResults> {
        let service = ctx.data::<Arc<SearchService>>()?;
        let limit = limit.unwrap_or(20);
        let filter = filter.unwrap_or_default();
        let look_ahead = ctx.look_ahead();
        let selects = |field: &str| {
            look_ahead.field("results").field(field).exists()
                || look_ahead
                    .field("groups")
                    .field("results")
                    .field(field)
                    .exists()
        };
        let found = service
            .search(SearchRequest {
                query,
                category: category.unwrap_or(SearchCategory::All).into(),
                limit: usize::try_from(limit).unwrap_or(0),
                providers,
                imdb_id,
                filter: SearchFilter {
                    resolutions: filter
                        .resolutions
                        .map(|wanted| wanted.into_iter().map(Into::into).collect()),
                    sources: filter
                        .sources
                        .map(|wanted| wanted.into_iter().map(Into::into).collect()),
                    min_seeders: count("where.minSeeders", filter.min_seeders)?.map(u64::from),
                    season: count("where.season", filter.season)?,
                    episode: count("where.episode", filter.episode)?,
                },
                order: order_by.map_or_else(SearchOrder::default, |order| SearchOrder {
                    field: order.field.into(),
                    descending: order.direction == OrderDirection::Desc,
                }),
                group: group_by.is_some(),
                include_refused: include_refused.unwrap_or(false),
                check_library: selects("inLibrary"),
                suggest_library: selects("suggestedLibrary"),
            })
            .await
            .map_err(AppError::from)?;
        let results: Vec<SearchResult> = found.hits.into_iter().map(SearchResult::from).collect();
        let groups = found.groups.map(|groups| {
            groups
                .into_iter()
                .map(|members| {
                    let results: Vec<SearchResult> = members
                        .into_iter()
                        .map(|member| results[member].clone())
                        .collect();
                    let first = &results[0].release;
                    SearchResultGroup {
                        title: first.title.clone(),
                        year: first.year,
                        seasons: first.seasons.clone(),
                        episodes: first.episodes.clone(),
                        results,
                    }
                })
                .collect()
        });
        Ok(SearchResults {
            results,
            groups,
            refused_count: i32::try_from(found.refused).unwrap_or(i32::MAX),
            library_checked: found.library_checked,
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

/// A count from the input: not negative.
fn count(field: &str, value: Option<i32>) -> Result<Option<u32>, AppError> {
    value
        .map(|value| {
            u32::try_from(value)
                .map_err(|_| AppError::BadUserInput(format!("{field} must not be negative")))
        })
        .transpose()
}

impl From<FoundRelease> for SearchResult {
    fn from(found: FoundRelease) -> Self {
        let hit = found.ranked.hit;
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
            release: hit.facts.into(),
            quality: SearchQuality {
                rank: i32::try_from(found.ranked.quality_rank).unwrap_or(i32::MAX),
                refusal: found.ranked.refusal,
            },
            in_library: found.in_library.map(|item| LibraryItemMatch {
                item_id: item.item_id,
                name: item.name,
                library: item.library,
            }),
            suggested_library: found.suggested_library,
        }
    }
}
