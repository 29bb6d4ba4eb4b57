//! Pages of torrents: filtered, sorted (ties broken by hash, so paging is
//! stable) and cut at cursors, from the mirror while it is fresh.
//!
//! A cursor names a torrent by its sort key and hash, not by its place:
//! the next page starts right after it even when torrents before it come
//! and go, or it is gone itself.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::TorrentService;
use crate::clients::qbittorrent::{Torrent, TorrentFilter};
use crate::services::ServiceError;
use crate::torrent::InfoHash;

/// Most torrents one page may hold.
pub const MAX_PAGE: usize = 10_000;

/// Which torrents a list or a subscription shows, beyond their hashes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TorrentWhere {
    /// By state, as qBittorrent's own filters.
    pub state: TorrentFilter,
    /// In this category (exactly; empty for none).
    pub category: Option<String>,
    /// With every one of these tags.
    pub all_tags: Vec<String>,
    /// With at least one of these tags (when any are given).
    pub any_tags: Vec<String>,
    /// With a tracker on this host.
    pub tracker_host: Option<String>,
    /// Saved in this library's folders (by name, case-insensitive).
    pub library: Option<String>,
    /// Saved under this folder.
    pub save_path_prefix: Option<String>,
    /// Every word in the name, in any order, case-insensitive.
    pub search: Option<String>,
}

/// A [`TorrentWhere`] made ready to test torrents with: names resolved
/// to the torrents and folders they mean.
pub struct TorrentMatcher {
    state: TorrentFilter,
    category: Option<String>,
    all_tags: Vec<String>,
    any_tags: Vec<String>,
    /// The torrents on the tracker host asked for.
    on_tracker_host: Option<HashSet<InfoHash>>,
    /// The library's folders (as qBittorrent sees them): a save path must
    /// be under one.
    library_folders: Option<Vec<PathBuf>>,
    /// A save path must be under it.
    save_path_prefix: Option<PathBuf>,
    words: Vec<String>,
}

/// What a list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderField {
    /// The name, case-insensitive.
    Name,
    /// Bytes selected for download.
    Size,
    /// 0 to 1.
    Progress,
    /// In the order of [`crate::clients::qbittorrent::TorrentState`]'s
    /// values.
    State,
    /// Bytes per second.
    DownloadSpeed,
    /// Bytes per second.
    UploadSpeed,
    /// Seconds left; unknown last.
    Eta,
    /// Uploaded over downloaded.
    Ratio,
    /// When added (the default).
    #[default]
    AddedAt,
    /// When completed; incomplete last.
    CompletedAt,
    /// Seeds connected to.
    Seeds,
    /// Leechers connected to.
    Peers,
    /// The category's name; none last.
    Category,
    /// The save path.
    SavePath,
    /// The place in the download queue; not queued last.
    QueuePosition,
}

/// A sort order: a field, ascending or descending; unknown values (no
/// ETA, not completed, not queued) come last either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TorrentOrder {
    /// The field.
    pub field: OrderField,
    /// Largest (or last, alphabetically) first.
    pub descending: bool,
}

/// Which part of the sorted list to answer, as Relay's arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// The first this many (after `after`).
    pub first: Option<usize>,
    /// Right after this cursor.
    pub after: Option<String>,
    /// The last this many (before `before`).
    pub last: Option<usize>,
    /// Right before this cursor.
    pub before: Option<String>,
}

/// One page of torrents.
#[derive(Debug, Clone)]
pub struct Page {
    /// The torrents on the page, in order, each with its place (see
    /// [`Place::cursor`]).
    pub torrents: Vec<(Place, Arc<Torrent>)>,
    /// Every torrent the filter matches, on this page or not.
    pub total: usize,
    /// Whether torrents follow the page.
    pub has_next: bool,
    /// Whether torrents come before it.
    pub has_previous: bool,
}

/// Where a torrent stands in the order: its cursor, written only when a
/// client asks for it.
#[derive(Debug, Clone)]
pub struct Place {
    key: Option<SortKey>,
    hash: InfoHash,
}

impl Place {
    /// The opaque cursor of this place, for `after` and `before`.
    pub fn cursor(&self) -> String {
        let data = CursorData {
            k: self.key.clone(),
            h: self.hash.to_string(),
        };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&data).unwrap_or_default())
    }
}

/// A torrent's value for the order, compared with others of its kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
enum SortKey {
    Number(f64),
    Text(String),
}

/// What a cursor holds.
#[derive(Serialize, Deserialize)]
struct CursorData {
    /// The key, `None` for an unknown value.
    k: Option<SortKey>,
    /// The torrent's id.
    h: String,
}

impl TorrentService {
    /// The page `page` of the torrents `hashes` (every torrent when
    /// `None`) that `matching` selects, sorted by `order`.
    pub async fn page(
        &self,
        matching: &TorrentWhere,
        hashes: Option<&[InfoHash]>,
        order: TorrentOrder,
        page: &PageRequest,
    ) -> Result<Page, ServiceError> {
        let matcher = self.matcher(matching).await?;
        // Filtered inside the mirror: only the matching torrents are copied.
        let matched = match self
            .mirror
            .select(hashes, |torrent| matcher.matches(torrent))
        {
            Some(matched) => matched,
            None => self
                .list(matching.state, matching.category.as_deref(), hashes)
                .await?
                .into_iter()
                .filter(|torrent| matcher.matches(torrent))
                .collect(),
        };
        cut(sort(matched, order), order, page)
    }

    /// `matching`, with its library and tracker host resolved.
    pub async fn matcher(&self, matching: &TorrentWhere) -> Result<TorrentMatcher, ServiceError> {
        let library_folders = match &matching.library {
            Some(name) => {
                let Some(libraries) = &self.libraries else {
                    return Err(ServiceError::InvalidInput(
                        "library: no library is configured".to_owned(),
                    ));
                };
                Some(libraries.folders_of(&libraries.find(name).await?))
            }
            None => None,
        };
        let save_path_prefix = matching
            .save_path_prefix
            .as_deref()
            .map(crate::save_path::normalize)
            .transpose()
            .map_err(|why| ServiceError::InvalidInput(format!("savePathPrefix: {why}")))?;
        Ok(TorrentMatcher {
            state: matching.state,
            category: matching.category.clone(),
            all_tags: matching.all_tags.clone(),
            any_tags: matching.any_tags.clone(),
            on_tracker_host: matching
                .tracker_host
                .as_deref()
                .map(|host| self.mirror.with_tracker_host(host.trim())),
            library_folders,
            save_path_prefix,
            words: matching
                .search
                .as_deref()
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_lowercase)
                .collect(),
        })
    }
}

impl TorrentMatcher {
    /// Whether `torrent` is one of those asked for.
    pub fn matches(&self, torrent: &Torrent) -> bool {
        if !self.state.matches(torrent)
            || self
                .category
                .as_ref()
                .is_some_and(|category| torrent.category != *category)
        {
            return false;
        }
        if !self.all_tags.is_empty() || !self.any_tags.is_empty() {
            let tags = torrent.tags();
            if !self.all_tags.iter().all(|tag| tags.contains(tag))
                || (!self.any_tags.is_empty()
                    && !self.any_tags.iter().any(|tag| tags.contains(tag)))
            {
                return false;
            }
        }
        if self
            .on_tracker_host
            .as_ref()
            .is_some_and(|hashes| !hashes.contains(&torrent.hash))
        {
            return false;
        }
        if self.library_folders.is_some() || self.save_path_prefix.is_some() {
            let Ok(path) = crate::save_path::normalize(&torrent.save_path) else {
                return false;
            };
            if self
                .library_folders
                .as_ref()
                .is_some_and(|folders| !folders.iter().any(|folder| path.starts_with(folder)))
                || self
                    .save_path_prefix
                    .as_ref()
                    .is_some_and(|prefix| !path.starts_with(prefix))
            {
                return false;
            }
        }
        if !self.words.is_empty() {
            let name = torrent.name.to_lowercase();
            if !self.words.iter().all(|word| name.contains(word.as_str())) {
                return false;
            }
        }
        true
    }
}

/// `torrents` sorted by `order`, ties by hash, each with its key.
fn sort(torrents: Vec<Arc<Torrent>>, order: TorrentOrder) -> Vec<(Option<SortKey>, Arc<Torrent>)> {
    let mut keyed: Vec<(Option<SortKey>, Arc<Torrent>)> = torrents
        .into_iter()
        .map(|torrent| (key(&torrent, order.field), torrent))
        .collect();
    keyed.sort_by(|(a, a_torrent), (b, b_torrent)| {
        compare(a.as_ref(), b.as_ref(), order.descending).then(a_torrent.hash.cmp(&b_torrent.hash))
    });
    keyed
}

/// The page `page` of `sorted`.
fn cut(
    sorted: Vec<(Option<SortKey>, Arc<Torrent>)>,
    order: TorrentOrder,
    page: &PageRequest,
) -> Result<Page, ServiceError> {
    if page.first.is_some() && page.last.is_some() {
        return Err(ServiceError::InvalidInput(
            "give first or last, not both".to_owned(),
        ));
    }
    for (name, count) in [("first", page.first), ("last", page.last)] {
        if count.is_some_and(|count| count > MAX_PAGE) {
            return Err(ServiceError::InvalidInput(format!(
                "{name} must be from 0 to {MAX_PAGE}"
            )));
        }
    }
    let position = |cursor: &str| -> Result<(Option<SortKey>, InfoHash), ServiceError> {
        let bad = || ServiceError::InvalidInput(format!("not a cursor of this list: {cursor:?}"));
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
        let data: CursorData = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        Ok((data.k, data.h.parse().map_err(|_| bad())?))
    };
    // Everything after `after` and before `before`.
    let relative = |entry: &(Option<SortKey>, Arc<Torrent>),
                    cursor: &(Option<SortKey>, InfoHash)| {
        compare(entry.0.as_ref(), cursor.0.as_ref(), order.descending)
            .then(entry.1.hash.cmp(&cursor.1))
    };
    let start = match &page.after {
        Some(cursor) => {
            let cursor = position(cursor)?;
            sorted.partition_point(|entry| relative(entry, &cursor) != Ordering::Greater)
        }
        None => 0,
    };
    let end = match &page.before {
        Some(cursor) => {
            let cursor = position(cursor)?;
            sorted.partition_point(|entry| relative(entry, &cursor) == Ordering::Less)
        }
        None => sorted.len(),
    }
    .max(start);
    let (mut from, mut to) = (start, end);
    if let Some(first) = page.first {
        to = to.min(from + first);
    }
    if let Some(last) = page.last {
        from = from.max(to.saturating_sub(last));
    }
    let total = sorted.len();
    let torrents = sorted
        .into_iter()
        .skip(from)
        .take(to - from)
        .map(|(key, torrent)| {
            let place = Place {
                key,
                hash: torrent.hash,
            };
            (place, torrent)
        })
        .collect();
    Ok(Page {
        torrents,
        total,
        has_next: to < total,
        has_previous: from > 0,
    })
}

/// `a` against `b`, unknown values last in both directions.
fn compare(a: Option<&SortKey>, b: Option<&SortKey>, descending: bool) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => {
            let ordering = match (a, b) {
                (SortKey::Number(a), SortKey::Number(b)) => a.total_cmp(b),
                (SortKey::Text(a), SortKey::Text(b)) => a.cmp(b),
                (SortKey::Number(_), SortKey::Text(_)) => Ordering::Less,
                (SortKey::Text(_), SortKey::Number(_)) => Ordering::Greater,
            };
            if descending {
                ordering.reverse()
            } else {
                ordering
            }
        }
    }
}

/// `torrent`'s value for `field`; `None` when it has none.
fn key(torrent: &Torrent, field: OrderField) -> Option<SortKey> {
    let number = |value: i64| Some(SortKey::Number(value as f64));
    let text = |value: &str| Some(SortKey::Text(value.to_lowercase()));
    match field {
        OrderField::Name => text(&torrent.name),
        OrderField::Size => number(torrent.size),
        OrderField::Progress => Some(SortKey::Number(torrent.progress)),
        OrderField::State => number(torrent.state() as i64),
        OrderField::DownloadSpeed => number(torrent.dlspeed),
        OrderField::UploadSpeed => number(torrent.upspeed),
        OrderField::Eta => torrent.eta().and_then(number),
        OrderField::Ratio => Some(SortKey::Number(torrent.ratio)),
        OrderField::AddedAt => number(torrent.added_on),
        OrderField::CompletedAt => Some(torrent.completion_on)
            .filter(|at| *at > 0)
            .and_then(number),
        OrderField::Seeds => number(torrent.num_seeds),
        OrderField::Peers => number(torrent.num_leechs),
        OrderField::Category => Some(torrent.category.as_str())
            .filter(|category| !category.is_empty())
            .and_then(text),
        OrderField::SavePath => Some(SortKey::Text(torrent.save_path.clone())),
        OrderField::QueuePosition => Some(torrent.priority)
            .filter(|position| *position > 0)
            .and_then(number),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn torrent(hash: char, name: &str, size: i64, eta: i64) -> Arc<Torrent> {
        let hash: String = std::iter::repeat_n(hash, 40).collect();
        Arc::new(
            serde_json::from_value(serde_json::json!({
                "hash": hash, "name": name, "size": size, "eta": eta, "tags": "hd, tv",
            }))
            .unwrap(),
        )
    }

    fn names(page: &Page) -> Vec<&str> {
        page.torrents
            .iter()
            .map(|(_, torrent)| torrent.name.as_str())
            .collect()
    }

    fn all() -> Vec<Arc<Torrent>> {
        vec![
            torrent('a', "Delta", 30, 100),
            torrent('b', "alpha", 10, 8_640_000),
            torrent('c', "Charlie", 20, 50),
            torrent('d', "bravo", 20, 10),
        ]
    }

    fn by(field: OrderField, descending: bool) -> TorrentOrder {
        TorrentOrder { field, descending }
    }

    #[test]
    fn names_sort_case_insensitively_and_ties_by_hash() {
        let order = by(OrderField::Name, false);
        let page = cut(sort(all(), order), order, &PageRequest::default()).unwrap();
        assert_eq!(names(&page), ["alpha", "bravo", "Charlie", "Delta"]);
        let order = by(OrderField::Size, true);
        let page = cut(sort(all(), order), order, &PageRequest::default()).unwrap();
        // Charlie (c) and bravo (d) are both 20: by hash.
        assert_eq!(names(&page), ["Delta", "Charlie", "bravo", "alpha"]);
    }

    #[test]
    fn unknown_values_come_last_both_ways() {
        for descending in [false, true] {
            let order = by(OrderField::Eta, descending);
            let page = cut(sort(all(), order), order, &PageRequest::default()).unwrap();
            assert_eq!(names(&page).last(), Some(&"alpha"), "{descending}");
        }
    }

    #[test]
    fn pages_follow_cursors_forward_and_back() {
        let order = by(OrderField::Name, false);
        let first = cut(
            sort(all(), order),
            order,
            &PageRequest {
                first: Some(2),
                ..PageRequest::default()
            },
        )
        .unwrap();
        assert_eq!(names(&first), ["alpha", "bravo"]);
        assert!(first.has_next && !first.has_previous);
        assert_eq!(first.total, 4);
        let after = first.torrents[1].0.cursor();
        let second = cut(
            sort(all(), order),
            order,
            &PageRequest {
                first: Some(2),
                after: Some(after.clone()),
                ..PageRequest::default()
            },
        )
        .unwrap();
        assert_eq!(names(&second), ["Charlie", "Delta"]);
        assert!(!second.has_next && second.has_previous);

        // The cursor's torrent is gone: the next page starts where it was.
        let without_bravo: Vec<_> = all().into_iter().filter(|t| t.name != "bravo").collect();
        let again = cut(
            sort(without_bravo, order),
            order,
            &PageRequest {
                first: Some(1),
                after: Some(after.clone()),
                ..PageRequest::default()
            },
        )
        .unwrap();
        assert_eq!(names(&again), ["Charlie"]);

        let back = cut(
            sort(all(), order),
            order,
            &PageRequest {
                last: Some(1),
                before: Some(after),
                ..PageRequest::default()
            },
        )
        .unwrap();
        assert_eq!(names(&back), ["alpha"]);
        assert!(back.has_next && !back.has_previous);
    }

    #[test]
    fn bad_page_requests_are_refused() {
        let order = TorrentOrder::default();
        for request in [
            PageRequest {
                first: Some(1),
                last: Some(1),
                ..PageRequest::default()
            },
            PageRequest {
                first: Some(MAX_PAGE + 1),
                ..PageRequest::default()
            },
            PageRequest {
                after: Some("not-a-cursor".to_owned()),
                ..PageRequest::default()
            },
        ] {
            assert!(
                cut(sort(all(), order), order, &request).is_err(),
                "{request:?}"
            );
        }
    }

    #[test]
    fn the_matcher_takes_tags_words_and_paths() {
        let matcher = |change: fn(&mut TorrentMatcher)| {
            let mut matcher = TorrentMatcher {
                state: TorrentFilter::All,
                category: None,
                all_tags: Vec::new(),
                any_tags: Vec::new(),
                on_tracker_host: None,
                library_folders: None,
                save_path_prefix: None,
                words: Vec::new(),
            };
            change(&mut matcher);
            matcher
        };
        let delta = torrent('a', "The Delta Show S01", 1, 1);
        assert!(matcher(|m| m.words = vec!["show".into(), "delta".into()]).matches(&delta));
        assert!(!matcher(|m| m.words = vec!["delta".into(), "s02".into()]).matches(&delta));
        assert!(matcher(|m| m.all_tags = vec!["hd".into(), "tv".into()]).matches(&delta));
        assert!(!matcher(|m| m.all_tags = vec!["hd".into(), "4k".into()]).matches(&delta));
        assert!(matcher(|m| m.any_tags = vec!["4k".into(), "tv".into()]).matches(&delta));
        assert!(!matcher(|m| m.any_tags = vec!["4k".into()]).matches(&delta));
        assert!(!matcher(|m| m.on_tracker_host = Some(HashSet::new())).matches(&delta));
    }
}
