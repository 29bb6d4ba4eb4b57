//! "Already in the library": which search results Jellyfin already has,
//! from one `GET /Items` per search (asked as an administrator, found once
//! with `GET /Users`, since Jellyfin 10.8 needs a user) (every film, series and episode, with
//! provider ids), kept for a short while so a burst of searches shares it.
//!
//! A result matches by IMDb, TMDB or TVDB id when the indexer gives one,
//! else by its parsed title (and year, when both have one); an episode
//! then needs its season and every episode number present, a season pack
//! at least one episode of each of its seasons.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

use super::ranking::comparable_title;
use super::{SearchHit, ServiceError};
use crate::clients::jellyfin::{JellyfinClient, JellyfinError, LibraryItem};
use crate::release::ReleaseKind;
use crate::services::libraries::Library;

/// What Jellyfin has of a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryMatch {
    /// Jellyfin's id of the film, episode or (for a season pack) series.
    pub item_id: String,
    /// The item's name as Jellyfin shows it (`Breaking Bad S05E14 Ozymandias`).
    pub name: String,
    /// The library holding it, when its folder is a library's.
    pub library: Option<String>,
}

/// Jellyfin's films and episodes, indexed for matching.
#[derive(Default)]
pub struct LibraryIndex {
    /// Films and series by provider id (`imdb:tt0133093`, `tvdb:81189`).
    by_id: HashMap<String, usize>,
    /// Films by comparable title.
    movies: HashMap<String, Vec<usize>>,
    /// Series by comparable title.
    series: HashMap<String, Vec<usize>>,
    /// Episodes by (series id, season, episode).
    episodes: HashMap<(String, u32, u32), usize>,
    items: Vec<LibraryItem>,
}

impl LibraryIndex {
    /// Indexes Jellyfin's answer.
    pub fn new(items: Vec<LibraryItem>) -> Self {
        let mut index = Self::default();
        for (position, item) in items.iter().enumerate() {
            match item.kind.as_str() {
                "Movie" | "Series" => {
                    for (provider, id) in &item.provider_ids {
                        index.by_id.insert(provider_key(provider, id), position);
                    }
                    let titles = if item.kind == "Movie" {
                        &mut index.movies
                    } else {
                        &mut index.series
                    };
                    titles
                        .entry(comparable_title(&item.name))
                        .or_default()
                        .push(position);
                }
                "Episode" => {
                    if let (Some(series), Some(season), Some(first)) =
                        (&item.series_id, item.parent_index_number, item.index_number)
                    {
                        for episode in first..=item.index_number_end.unwrap_or(first).max(first) {
                            index
                                .episodes
                                .insert((series.clone(), season, episode), position);
                        }
                    }
                }
                _ => {}
            }
        }
        index.items = items;
        index
    }

    /// What Jellyfin has of `hit`, if anything.
    pub fn find(&self, hit: &SearchHit, libraries: &[Library]) -> Option<LibraryMatch> {
        let facts = &hit.facts;
        let wanted = match facts.kind {
            ReleaseKind::Movie => "Movie",
            ReleaseKind::Episode => "Series",
            ReleaseKind::Other => return None,
        };
        let by_id = [
            ("imdb", hit.imdb_id.as_deref()),
            ("tmdb", hit.tmdb_id.as_deref()),
            ("tvdb", hit.tvdb_id.as_deref()),
        ]
        .into_iter()
        .filter_map(|(provider, id)| self.by_id.get(&provider_key(provider, id?)))
        .map(|position| &self.items[*position])
        .find(|item| item.kind == wanted);
        let titled = || {
            let title = comparable_title(facts.title.as_deref()?);
            let titles = if wanted == "Movie" {
                &self.movies
            } else {
                &self.series
            };
            let candidates: Vec<&LibraryItem> = titles
                .get(&title)?
                .iter()
                .map(|position| &self.items[*position])
                .collect();
            match facts.year {
                Some(year) => candidates
                    .into_iter()
                    .find(|item| item.production_year.is_none_or(|made| made == year)),
                // Without a year, only an unambiguous title matches.
                None if candidates.len() == 1 => candidates.into_iter().next(),
                None => None,
            }
        };
        let item = by_id.or_else(titled)?;
        let library = |item: &LibraryItem| library_of(item.path.as_deref()?, libraries);
        if item.kind == "Movie" {
            return Some(LibraryMatch {
                item_id: item.id.clone(),
                name: item.name.clone(),
                library: library(item),
            });
        }
        // A series: its episodes must be there.
        let [season] = facts.seasons[..] else {
            return self.season_pack(item, &facts.seasons, facts.season_pack, libraries);
        };
        if facts.episodes.is_empty() {
            return self.season_pack(item, &[season], true, libraries);
        }
        let found: Vec<&LibraryItem> = facts
            .episodes
            .iter()
            .map(|episode| {
                self.episodes
                    .get(&(item.id.clone(), season, *episode))
                    .map(|position| &self.items[*position])
            })
            .collect::<Option<_>>()?;
        let first = found.first()?;
        Some(LibraryMatch {
            item_id: first.id.clone(),
            name: format!(
                "{} {} {}",
                item.name,
                episode_label(season, &facts.episodes),
                first.name
            ),
            library: library(first),
        })
    }

    /// A pack of `seasons` matches when Jellyfin has at least one episode
    /// of each.
    fn season_pack(
        &self,
        series: &LibraryItem,
        seasons: &[u32],
        is_pack: bool,
        libraries: &[Library],
    ) -> Option<LibraryMatch> {
        if !is_pack || seasons.is_empty() {
            return None;
        }
        let present: BTreeSet<u32> = self
            .episodes
            .keys()
            .filter(|(id, _, _)| *id == series.id)
            .map(|(_, season, _)| *season)
            .collect();
        seasons
            .iter()
            .all(|season| present.contains(season))
            .then(|| LibraryMatch {
                item_id: series.id.clone(),
                name: format!(
                    "{} {}",
                    series.name,
                    seasons
                        .iter()
                        .map(|season| format!("S{season:02}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                library: series
                    .path
                    .as_deref()
                    .and_then(|path| library_of(path, libraries)),
            })
    }
}

fn provider_key(provider: &str, id: &str) -> String {
    format!(
        "{}:{}",
        provider.to_ascii_lowercase(),
        id.trim().to_ascii_lowercase()
    )
}

fn episode_label(season: u32, episodes: &[u32]) -> String {
    let mut label = format!("S{season:02}");
    for episode in episodes {
        label.push_str(&format!("E{episode:02}"));
    }
    label
}

/// The library whose folder holds `path` (both as Jellyfin sees them).
fn library_of(path: &str, libraries: &[Library]) -> Option<String> {
    let path = Path::new(path);
    libraries
        .iter()
        .find(|library| library.paths.iter().any(|folder| path.starts_with(folder)))
        .map(|library| library.name.clone())
}

/// Jellyfin's library index, fetched at most once per `fresh_for`.
pub struct LibraryCheck {
    jellyfin: Arc<JellyfinClient>,
    index: Cache<(), Arc<LibraryIndex>>,
    /// The administrator whose view is asked for, found once; forgotten
    /// when Jellyfin refuses it (the user was removed).
    administrator: tokio::sync::Mutex<Option<String>>,
}

impl LibraryCheck {
    /// A check against `jellyfin`, reusing its answer for `fresh_for`.
    pub fn new(jellyfin: Arc<JellyfinClient>, fresh_for: Duration) -> Self {
        Self {
            jellyfin,
            index: Cache::builder()
                .max_capacity(1)
                .time_to_live(fresh_for)
                .build(),
            administrator: tokio::sync::Mutex::new(None),
        }
    }

    /// The index: cached, or one `GET /Items` shared by everyone asking.
    pub async fn index(&self) -> Result<Arc<LibraryIndex>, ServiceError> {
        self.index
            .try_get_with((), async {
                let mut administrator = self.administrator.lock().await;
                let user_id = match administrator.as_ref() {
                    Some(id) => id.clone(),
                    None => self.jellyfin.administrator_id().await?,
                };
                match self.jellyfin.library_items(&user_id).await {
                    Ok(items) => {
                        *administrator = Some(user_id);
                        Ok(Arc::new(LibraryIndex::new(items)))
                    }
                    Err(error) => {
                        *administrator = None;
                        Err(error)
                    }
                }
            })
            .await
            .map_err(|error: Arc<JellyfinError>| ServiceError::from((*error).clone()))
    }
}
