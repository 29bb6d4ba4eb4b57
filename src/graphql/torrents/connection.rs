//! `torrents` as a Relay connection: sorted (`orderBy`), filtered
//! (`where`), and paged with cursors; its `nodes` keep the fast path of
//! a plain list (see [`super::object`]).

use async_graphql::{Enum, InputObject, Object, SimpleObject};

use super::Torrent;
use super::object::Torrents;
use super::queries::TorrentFilter;
use crate::services::torrents::{OrderField, Page, TorrentOrder, TorrentWhere};

/// A page of torrents.
pub struct TorrentConnection(Page);

impl TorrentConnection {
    pub fn new(page: Page) -> Self {
        Self(page)
    }
}

/// A page of torrents, with where it is in the whole list.
#[Object]
impl TorrentConnection {
    /// The torrents on the page, each with its cursor.
    async fn edges(&self) -> Vec<TorrentEdge> {
        self.0
            .torrents
            .iter()
            .map(|(place, torrent)| TorrentEdge {
                cursor: place.cursor(),
                node: Torrent::new(torrent.clone()),
            })
            .collect()
    }

    /// The torrents on the page, without cursors (the fastest way to ask
    /// for a long list).
    async fn nodes(&self) -> Torrents {
        self.0
            .torrents
            .iter()
            .map(|(_, torrent)| torrent.clone())
            .collect()
    }

    /// Where the page is in the whole list.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.0.has_next,
            has_previous_page: self.0.has_previous,
            start_cursor: self.0.torrents.first().map(|(place, _)| place.cursor()),
            end_cursor: self.0.torrents.last().map(|(place, _)| place.cursor()),
        }
    }

    /// How many torrents match, on this page or not.
    async fn total_count(&self) -> usize {
        self.0.total
    }
}

/// A torrent on a page, with its cursor.
#[derive(SimpleObject)]
pub struct TorrentEdge {
    /// Pass as `after` (or `before`) for the torrents after (before) this
    /// one, in the same order. Opaque; it holds the torrent's place, not
    /// its index, so pages stay right as torrents come and go.
    cursor: String,
    /// The torrent.
    node: Torrent,
}

/// Where a page is in the whole list.
#[derive(SimpleObject)]
pub struct PageInfo {
    /// Torrents follow this page.
    has_next_page: bool,
    /// Torrents come before this page.
    has_previous_page: bool,
    /// The first edge's cursor; null for an empty page.
    start_cursor: Option<String>,
    /// The last edge's cursor; null for an empty page.
    end_cursor: Option<String>,
}

/// How `torrents` is sorted; ties are broken by hash, so paging is stable.
#[derive(InputObject)]
pub struct TorrentOrderBy {
    /// What to sort by.
    field: TorrentOrderField,
    /// Ascending unless told otherwise.
    #[graphql(default_with = "OrderDirection::Asc")]
    direction: OrderDirection,
}

/// What `torrents` is sorted by. Unknown values (no ETA, not completed,
/// not queued, no category) come last in both directions.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "OrderField")]
pub enum TorrentOrderField {
    /// Case-insensitive.
    Name,
    /// Bytes selected for download.
    Size,
    /// 0 to 1.
    Progress,
    /// In the order of `TorrentState`'s values.
    State,
    /// Bytes per second.
    DownloadSpeed,
    /// Bytes per second.
    UploadSpeed,
    /// Seconds left.
    Eta,
    /// Uploaded over downloaded.
    Ratio,
    /// When added: the default.
    AddedAt,
    /// When completed.
    CompletedAt,
    /// Seeds connected to.
    Seeds,
    /// Leechers connected to.
    Peers,
    /// The category's name.
    Category,
    /// The save path.
    SavePath,
    /// The place in the download queue.
    QueuePosition,
}

/// Ascending or descending.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum OrderDirection {
    /// Smallest (or first alphabetically) first.
    Asc,
    /// Largest (or last alphabetically) first.
    Desc,
}

impl From<Option<TorrentOrderBy>> for TorrentOrder {
    fn from(order: Option<TorrentOrderBy>) -> Self {
        order.map_or_else(TorrentOrder::default, |order| TorrentOrder {
            field: order.field.into(),
            descending: order.direction == OrderDirection::Desc,
        })
    }
}

/// Which torrents to show: all of the given conditions hold.
#[derive(InputObject, Default)]
pub struct TorrentWhereInput {
    /// By state, as qBittorrent's own filters.
    state: Option<TorrentFilter>,
    /// In this category (by name).
    category: Option<String>,
    /// With every one of these tags.
    tags: Option<Vec<String>>,
    /// With at least one of these tags.
    any_tags: Option<Vec<String>>,
    /// With a tracker on this host (e.g. `tracker.example.org`), from the
    /// trackers qBittorrent lists for each torrent, working or not.
    tracker_host: Option<String>,
    /// Saved in this library's folders (see `libraries`).
    library: Option<String>,
    /// Saved under this folder, as qBittorrent sees it.
    save_path_prefix: Option<String>,
    /// Every word of it in the name, in any order, case-insensitive.
    search: Option<String>,
}

impl From<TorrentWhereInput> for TorrentWhere {
    fn from(input: TorrentWhereInput) -> Self {
        Self {
            state: input.state.unwrap_or_default().into(),
            category: input.category,
            all_tags: input.tags.unwrap_or_default(),
            any_tags: input.any_tags.unwrap_or_default(),
            tracker_host: input.tracker_host,
            library: input.library,
            save_path_prefix: input.save_path_prefix,
            search: input.search,
        }
    }
}
