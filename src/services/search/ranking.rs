//! Ranking search results: the quality preference of `[search.quality]`,
//! the refusals it makes, the filters and orders a search asks for, and
//! grouping the same title and episode in its different qualities.

use std::collections::HashMap;

use super::{SearchCategory, SearchHit};
use crate::config::QualityConfig;
use crate::release::{ReleaseFacts, ReleaseKind, ReleaseSource, Resolution};

/// What a search result is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchOrderField {
    /// Seeders (then leechers).
    #[default]
    Seeders,
    /// The torrent's size.
    Size,
    /// When it was uploaded.
    AddedAt,
    /// The configured quality preference (then seeders).
    Quality,
}

/// A sort: the field, and whether the largest (or best, or newest) comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchOrder {
    /// What to sort by.
    pub field: SearchOrderField,
    /// True for the largest, best or newest first.
    pub descending: bool,
}

impl Default for SearchOrder {
    fn default() -> Self {
        Self {
            field: SearchOrderField::Seeders,
            descending: true,
        }
    }
}

/// Which results to keep; every part that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFilter {
    /// Any of these resolutions.
    pub resolutions: Option<Vec<Resolution>>,
    /// Any of these sources.
    pub sources: Option<Vec<ReleaseSource>>,
    /// At least this many seeders.
    pub min_seeders: Option<u64>,
    /// Results holding this season (an episode of it, or a pack with it).
    pub season: Option<u32>,
    /// Results holding this episode (of `season` when given): the episode
    /// itself, or a season pack that contains it.
    pub episode: Option<u32>,
}

impl SearchFilter {
    fn matches(&self, hit: &SearchHit) -> bool {
        let facts = &hit.facts;
        fn any_of<T: PartialEq>(wanted: &Option<Vec<T>>, found: Option<T>) -> bool {
            wanted
                .as_ref()
                .is_none_or(|wanted| found.is_some_and(|found| wanted.contains(&found)))
        }
        any_of(&self.resolutions, facts.resolution)
            && any_of(&self.sources, facts.source)
            && self.min_seeders.is_none_or(|least| hit.seeders >= least)
            && self
                .season
                .is_none_or(|season| facts.seasons.contains(&season))
            && self.episode.is_none_or(|episode| {
                facts.episodes.contains(&episode) || (facts.season_pack && self.season.is_some())
            })
    }
}

/// A hit with what ranking found out about it.
#[derive(Debug, Clone)]
pub struct RankedHit {
    /// The result.
    pub hit: SearchHit,
    /// Its place in the quality preference: lower is better.
    pub quality_rank: u32,
    /// Why `[search.quality]` refuses it, if it does.
    pub refusal: Option<String>,
}

/// The quality preference of `[search.quality]`.
pub struct QualityPreference {
    config: QualityConfig,
}

impl QualityPreference {
    /// The preference `config` states.
    pub fn new(config: QualityConfig) -> Self {
        Self { config }
    }

    /// Places `facts` in the preference: resolution first, then source,
    /// then codec, each by its position in its list; unknown or unlisted
    /// values after every listed one.
    pub fn rank(&self, facts: &ReleaseFacts) -> u32 {
        fn place<T: PartialEq>(list: &[T], value: Option<T>) -> u32 {
            value
                .and_then(|value| list.iter().position(|listed| *listed == value))
                .map_or(list.len(), |position| position) as u32
        }
        let config = &self.config;
        let resolution = place(&config.resolutions, facts.resolution);
        let source = place(&config.sources, facts.source);
        let codec = place(&config.video_codecs, facts.video_codec);
        let sources = config.sources.len() as u32 + 1;
        let codecs = config.video_codecs.len() as u32 + 1;
        (resolution * sources + source) * codecs + codec
    }

    /// Why the preference refuses `hit`, if it does.
    pub fn refusal(&self, hit: &SearchHit) -> Option<String> {
        let config = &self.config;
        let facts = &hit.facts;
        if let Some(source) = facts
            .source
            .filter(|source| config.refuse_sources.contains(source))
        {
            return Some(format!(
                "its source ({}) is in search.quality.refuse_sources",
                source.name()
            ));
        }
        if let Some(resolution) = facts
            .resolution
            .filter(|resolution| config.refuse_resolutions.contains(resolution))
        {
            return Some(format!(
                "its resolution ({}) is in search.quality.refuse_resolutions",
                resolution.name()
            ));
        }
        let kind = library_kind(hit)?;
        let most = *config.max_size.get(kind)?;
        let size = u64::try_from(hit.size).unwrap_or(0);
        (size > most).then(|| {
            format!(
                "it is larger ({}) than search.quality.max_size.{kind} ({})",
                bytesize::ByteSize(size).display().iec(),
                bytesize::ByteSize(most).display().iec()
            )
        })
    }

    /// Ranks every hit.
    pub fn ranked(&self, hits: &[SearchHit]) -> Vec<RankedHit> {
        hits.iter()
            .map(|hit| RankedHit {
                quality_rank: self.rank(&hit.facts),
                refusal: self.refusal(hit),
                hit: hit.clone(),
            })
            .collect()
    }
}

/// The Jellyfin collection type a result belongs in: `movies` for a film,
/// `tvshows` for episodes, `music` or `books` by the indexer's category.
pub fn library_kind(hit: &SearchHit) -> Option<&'static str> {
    match hit.category {
        SearchCategory::Music => return Some("music"),
        SearchCategory::Books | SearchCategory::Audiobooks => return Some("books"),
        SearchCategory::Games | SearchCategory::Software => return None,
        SearchCategory::Movies => return Some("movies"),
        SearchCategory::Tv => return Some("tvshows"),
        SearchCategory::All | SearchCategory::Other => {}
    }
    match hit.facts.kind {
        ReleaseKind::Movie => Some("movies"),
        ReleaseKind::Episode => Some("tvshows"),
        ReleaseKind::Other => None,
    }
}

/// Keeps the hits `filter` matches, sorted by `order`; ties by seeders,
/// then name, so the order is stable.
pub fn filter_and_sort(
    hits: Vec<RankedHit>,
    filter: &SearchFilter,
    order: SearchOrder,
) -> Vec<RankedHit> {
    let mut hits: Vec<RankedHit> = hits
        .into_iter()
        .filter(|ranked| filter.matches(&ranked.hit))
        .collect();
    let directed = |ordering: std::cmp::Ordering| {
        if order.descending {
            ordering.reverse()
        } else {
            ordering
        }
    };
    hits.sort_by(|a, b| {
        let by_field = match order.field {
            SearchOrderField::Seeders => directed(
                a.hit
                    .seeders
                    .cmp(&b.hit.seeders)
                    .then(a.hit.leechers.cmp(&b.hit.leechers)),
            ),
            SearchOrderField::Size => directed(a.hit.size.cmp(&b.hit.size)),
            // An unknown upload time comes last either way.
            SearchOrderField::AddedAt => match (a.hit.added_at, b.hit.added_at) {
                (Some(a), Some(b)) => directed(a.cmp(&b)),
                (a, b) => b.is_none().cmp(&a.is_none()).reverse(),
            },
            // A lower rank is better: "descending" puts the best first.
            SearchOrderField::Quality => directed(b.quality_rank.cmp(&a.quality_rank)),
        };
        by_field
            .then_with(|| b.hit.seeders.cmp(&a.hit.seeders))
            .then_with(|| a.hit.name.cmp(&b.hit.name))
    });
    hits
}

/// What groups results: the same title (and year), season and episodes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupKey {
    /// The title, lowercase words; the name itself when none was read.
    pub title: String,
    /// The year, when read.
    pub year: Option<i32>,
    /// Seasons.
    pub seasons: Vec<u32>,
    /// Episodes.
    pub episodes: Vec<u32>,
}

impl GroupKey {
    fn of(hit: &SearchHit) -> Self {
        let facts = &hit.facts;
        Self {
            title: facts
                .title
                .as_deref()
                .map_or_else(|| hit.name.to_lowercase(), comparable_title),
            year: facts.year,
            seasons: facts.seasons.clone(),
            episodes: facts.episodes.clone(),
        }
    }
}

/// Groups sorted hits by [`GroupKey`], in the order of each group's first
/// (best placed) hit; the indexes point into `hits`.
pub fn group(hits: &[RankedHit]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut index: HashMap<GroupKey, usize> = HashMap::new();
    for (position, ranked) in hits.iter().enumerate() {
        let key = GroupKey::of(&ranked.hit);
        match index.get(&key) {
            Some(group) => groups[*group].push(position),
            None => {
                index.insert(key, groups.len());
                groups.push(vec![position]);
            }
        }
    }
    groups
}

/// A title as compared across names and with Jellyfin: lowercase letters
/// and digits, one space between words, `&` as `and` ("Dune: Part Two"
/// and "Dune Part Two" are the same).
pub fn comparable_title(title: &str) -> String {
    title
        .replace('&', " and ")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}
