//! The torrent queries: `torrents` (its connection types in
//! [`super::connection`]), `torrent`, `categories` and `qbittorrent`.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};

use super::connection::{TorrentConnection, TorrentOrderBy, TorrentWhereInput};
use super::{Torrent, parse_hash, service};
use crate::clients::qbittorrent;
use crate::error::AppError;
use crate::graphql::cost;
use crate::graphql::guards::AdminGuard;
use crate::graphql::node::NodeId;
use crate::services::torrents::{PageRequest, QbittorrentStatus};

/// Which torrents `torrents` lists.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
#[graphql(remote = "qbittorrent::TorrentFilter")]
pub enum TorrentFilter {
    /// Every torrent.
    #[default]
    All,
    /// Incomplete torrents, paused, queued, stalled and checking ones included
    /// (qBittorrent's `downloading` filter).
    Downloading,
    /// Complete torrents except paused ones (queued, stalled and checking ones
    /// included; qBittorrent's `seeding` filter).
    Seeding,
    /// Complete torrents, paused or not.
    Completed,
    /// Paused (on qBittorrent 5: stopped) torrents.
    Paused,
    /// Torrents at work now: a download or upload speed above 0, or in state
    /// `DOWNLOADING`, `FORCED_DOWNLOADING`, `FETCHING_METADATA`,
    /// `FORCED_FETCHING_METADATA` or `MOVING` (qBittorrent's `active` filter).
    Active,
    /// Every torrent `ACTIVE` leaves out (qBittorrent's `inactive` filter).
    Inactive,
    /// Not paused.
    Resumed,
    /// Torrents in state `STALLED_DOWNLOADING` or `STALLED_SEEDING`: no peer is
    /// sending to them, or downloading from them.
    Stalled,
    /// Torrents in error, or whose files are missing.
    Errored,
}

/// A qBittorrent category.
#[derive(SimpleObject)]
pub struct Category {
    /// Opaque and stable across restarts: the category's name.
    #[graphql(owned)]
    pub(crate) id: ID,
    /// The category's name; `/` separates subcategories.
    name: String,
    /// Empty when the category uses the default save path.
    save_path: String,
}

/// The qBittorrent torrentql talks to.
#[derive(SimpleObject)]
pub struct QbittorrentInfo {
    /// Opaque and stable across restarts: the qBittorrent instance.
    #[graphql(owned)]
    pub(crate) id: ID,
    /// Whether qBittorrent answers now.
    connected: bool,
    /// The qBittorrent version, e.g. `v5.1.0`; null when not connected.
    version: Option<String>,
    /// The WebUI API version, e.g. `2.11.4`; null when not connected.
    webapi_version: Option<String>,
    /// Why it is not connected.
    error: Option<String>,
    /// Seconds between two full syncs of torrentql's mirror of qBittorrent
    /// now: `sync.interval`, or longer while qBittorrent is slow to answer
    /// them (so that syncing takes at most `sync.max_busy_share` of its
    /// time). Changes to every torrent come this often; torrents a
    /// subscriber names by hash are also polled every `sync.interval` in
    /// between.
    sync_period: f64,
}

impl From<qbittorrent::Category> for Category {
    fn from(category: qbittorrent::Category) -> Self {
        Self {
            id: NodeId::Category(category.name.clone()).to_id(),
            name: category.name,
            save_path: category.save_path,
        }
    }
}

impl From<QbittorrentStatus> for QbittorrentInfo {
    fn from(status: QbittorrentStatus) -> Self {
        let (versions, error) = match status.versions {
            Ok(versions) => (Some(versions), None),
            Err(reason) => (None, Some(reason)),
        };
        Self {
            id: NodeId::Qbittorrent.to_id(),
            connected: versions.is_some(),
            version: versions.as_ref().map(|(version, _)| version.clone()),
            webapi_version: versions.map(|(_, api)| api),
            error,
            sync_period: status.sync_period.as_secs_f64(),
        }
    }
}

#[derive(Default)]
pub struct TorrentQuery;

#[Object]
impl TorrentQuery {
    /// Torrents as a Relay connection: those `where` and `hashes` select,
    /// sorted by `orderBy` (when added, by default), a page of them from
    /// `first`/`after` or `last`/`before` (every one when neither count is
    /// given). Served from torrentql's mirror of qBittorrent while it is
    /// fresh.
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::torrent_list(hashes.as_ref(), child_complexity)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn torrents(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where", desc = "Which torrents; all when omitted.")] matching: Option<
            TorrentWhereInput,
        >,
        #[graphql(desc = "Only these torrents, by `hash` (a hybrid's v1 hash works too).")]
        hashes: Option<Vec<String>>,
        #[graphql(desc = "The order; ties by hash.")] order_by: Option<TorrentOrderBy>,
        #[graphql(desc = "The first this many (at most 10000), after `after`.")] first: Option<
            usize,
        >,
        #[graphql(desc = "A cursor: start right after its torrent.")] after: Option<String>,
        #[graphql(desc = "The last this many (at most 10000), before `before`.")] last: Option<
            usize,
        >,
        #[graphql(desc = "A cursor: end right before its torrent.")] before: Option<String>,
    ) -> Result<TorrentConnection> {
        let hashes = hashes
            .map(|hashes| {
                hashes
                    .iter()
                    .map(|hash| parse_hash(hash))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let page = service(ctx)?
            .page(
                &matching.unwrap_or_default().into(),
                hashes.as_deref(),
                order_by.into(),
                &PageRequest {
                    first,
                    after,
                    last,
                    before,
                },
            )
            .await
            .map_err(AppError::from)?;
        Ok(TorrentConnection::new(page))
    }

    /// One torrent; null when qBittorrent does not have it.
    #[graphql(guard = "AdminGuard")]
    async fn torrent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The torrent's `hash` (a hybrid's v1 hash works too).")] hash: String,
    ) -> Result<Option<Torrent>> {
        let hash = parse_hash(&hash)?;
        let torrent = service(ctx)?.get(hash).await.map_err(AppError::from)?;
        Ok(torrent.map(Torrent::new))
    }

    /// The categories qBittorrent has, with their save paths.
    #[graphql(guard = "AdminGuard")]
    async fn categories(&self, ctx: &Context<'_>) -> Result<Vec<Category>> {
        let categories = service(ctx)?.categories().await.map_err(AppError::from)?;
        Ok(categories.into_iter().map(Category::from).collect())
    }

    /// Whether qBittorrent answers, and its versions.
    #[graphql(guard = "AdminGuard")]
    async fn qbittorrent(&self, ctx: &Context<'_>) -> Result<QbittorrentInfo> {
        Ok(service(ctx)?.qbittorrent_status().await.into())
    }
}
