//! Inside a torrent: its file tree, its trackers, its peers, and the
//! mutations on them (file priorities, renaming files and folders,
//! adding, editing and removing trackers, banning peers). Each answers with qBittorrent's view after it.

use async_graphql::{Context, Enum, Object, Result, SimpleObject};

use super::object::FilePriority;
use super::{TorrentFile, parse_hash, service};
use crate::clients::qbittorrent;
use crate::error::AppError;
use crate::graphql::cost;
use crate::graphql::guards::AdminGuard;
use crate::graphql::scalars::Bytes;
use crate::services::torrents::{ChangedFiles, FileTreeEntry, PathKind};

/// One row of a torrent's file tree, a folder or a file. `fileTree` lists
/// them depth first, each folder before what it holds, so a UI shows the
/// tree by indenting rows by `depth`, without nesting selections.
#[derive(SimpleObject)]
pub struct FileTreeRow {
    /// The path from the torrent's save path, `/` between folders.
    path: String,
    /// The last part of the path.
    name: String,
    /// How many folders it is inside (0 at the top).
    depth: i32,
    /// For a file, its index (as `setFilePriority` takes it); null for a
    /// folder.
    index: Option<i64>,
    /// Bytes of the file, or of every file under the folder.
    size: Bytes,
    /// 0 to 1; a folder's is weighted by its files' sizes.
    progress: f64,
    /// The file's priority, or the one every file under the folder has;
    /// null when they differ.
    priority: Option<FilePriority>,
}

impl From<FileTreeEntry> for FileTreeRow {
    fn from(entry: FileTreeEntry) -> Self {
        Self {
            name: entry.name().to_owned(),
            depth: i32::try_from(entry.depth).unwrap_or(i32::MAX),
            index: entry.index,
            size: Bytes(entry.size),
            progress: entry.progress,
            priority: entry.priority.map(Into::into),
            path: entry.path,
        }
    }
}

/// A tracker of a torrent.
#[derive(SimpleObject)]
pub struct Tracker {
    /// The announce URL.
    url: String,
    /// What qBittorrent last heard from it.
    status: TrackerStatus,
    /// Announce tier, from 0: qBittorrent tries a tier only when every
    /// tracker of the tiers before failed.
    tier: i64,
    /// Peers in its last answer; null when not known.
    peers: Option<i64>,
    /// Seeds it reported; null when not known.
    seeds: Option<i64>,
    /// Leechers it reported; null when not known.
    leechers: Option<i64>,
    /// Completed downloads it reported; null when not known.
    downloaded: Option<i64>,
    /// Its last message or error, as the tracker or qBittorrent put it;
    /// empty when none.
    message: String,
}

/// What qBittorrent last heard from a tracker.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum TrackerStatus {
    /// Disabled.
    Disabled,
    /// Not contacted yet.
    NotContacted,
    /// Its last answer was good.
    Working,
    /// Being announced to now.
    Updating,
    /// Its last announce failed (qBittorrent 5 tells `TRACKER_ERROR` and
    /// `UNREACHABLE` apart).
    NotWorking,
    /// It answered with an error (qBittorrent 5).
    TrackerError,
    /// It could not be reached (qBittorrent 5).
    Unreachable,
}

impl From<qbittorrent::Tracker> for Tracker {
    fn from(tracker: qbittorrent::Tracker) -> Self {
        let known = |count: i64| Some(count).filter(|count| *count >= 0);
        Self {
            status: match tracker.status {
                0 => TrackerStatus::Disabled,
                1 => TrackerStatus::NotContacted,
                2 => TrackerStatus::Working,
                3 => TrackerStatus::Updating,
                5 => TrackerStatus::TrackerError,
                6 => TrackerStatus::Unreachable,
                _ => TrackerStatus::NotWorking,
            },
            tier: tracker.tier.max(0),
            peers: known(tracker.num_peers),
            seeds: known(tracker.num_seeds),
            leechers: known(tracker.num_leeches),
            downloaded: known(tracker.num_downloaded),
            message: tracker.msg,
            url: tracker.url,
        }
    }
}

/// A peer of a torrent.
#[derive(SimpleObject)]
pub struct Peer {
    /// `ip:port`, as `banPeers` takes it.
    address: String,
    /// Its client, as it names itself.
    client: String,
    /// `BT`, `uTP`, `Web`...
    connection: String,
    /// Its country, when qBittorrent resolves countries (off by default).
    country: Option<String>,
    /// Its country's ISO 3166 code, lowercase, for a flag icon.
    country_code: Option<String>,
    /// The flag letters qBittorrent shows (`D` downloading from it, `U`
    /// uploading to it, `E` encrypted...).
    flags: String,
    /// What the flags mean.
    flags_description: String,
    /// How much of the torrent it has, 0 to 1.
    progress: f64,
    /// From it, bytes per second.
    download_speed: Bytes,
    /// To it, bytes per second.
    upload_speed: Bytes,
    /// From it so far.
    downloaded: Bytes,
    /// To it so far.
    uploaded: Bytes,
    /// How much of what it has is still missing here, 0 to 1.
    relevance: f64,
}

impl From<qbittorrent::Peer> for Peer {
    fn from(peer: qbittorrent::Peer) -> Self {
        let known = |text: String| Some(text).filter(|text| !text.is_empty());
        let address = match peer.ip.parse::<std::net::IpAddr>() {
            Ok(ip) => std::net::SocketAddr::new(ip, peer.port).to_string(),
            Err(_) => format!("{}:{}", peer.ip, peer.port),
        };
        Self {
            address,
            client: peer.client,
            connection: peer.connection,
            country: known(peer.country),
            country_code: known(peer.country_code),
            flags: peer.flags,
            flags_description: peer.flags_desc,
            progress: peer.progress,
            download_speed: Bytes(peer.dl_speed),
            upload_speed: Bytes(peer.up_speed),
            downloaded: Bytes(peer.downloaded),
            uploaded: Bytes(peer.uploaded),
            relevance: peer.relevance,
        }
    }
}

#[derive(Default)]
pub struct TorrentContentMutation;

#[Object]
impl TorrentContentMutation {
    /// Gives files of a torrent a priority (`SKIP` to not download them),
    /// in one call, and answers every file of the torrent after it. An
    /// index the torrent does not have is `BAD_USER_INPUT`, as is a magnet
    /// still fetching its metadata (it has no files yet).
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION + child_complexity")]
    async fn set_file_priority(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The torrent's `hash` (a hybrid's v1 hash works too).")] hash: String,
        #[graphql(desc = "The files, by `TorrentFile.index`.")] indexes: Vec<i64>,
        #[graphql(desc = "The new priority.")] priority: FilePriority,
    ) -> Result<Vec<TorrentFile>> {
        let hash = parse_hash(&hash)?;
        let changed = service(ctx)?
            .set_file_priority(hash, &indexes, priority.into())
            .await
            .map_err(AppError::from)?;
        Ok(files_of(changed))
    }

    /// Renames a file of a torrent, or moves it within the torrent (a
    /// `/` in `newPath` puts it in a folder), and answers every file after
    /// it. The data on disk is renamed too.
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION + child_complexity")]
    async fn rename_torrent_file(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The torrent's `hash` (a hybrid's v1 hash works too).")] hash: String,
        #[graphql(desc = "The file's `TorrentFile.name`.")] path: String,
        #[graphql(desc = "Its new path within the torrent.")] new_path: String,
    ) -> Result<Vec<TorrentFile>> {
        rename(ctx, &hash, PathKind::File, &path, &new_path).await
    }

    /// Renames a folder of a torrent (everything under it moves with it),
    /// and answers every file after it.
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION + child_complexity")]
    async fn rename_torrent_folder(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The torrent's `hash` (a hybrid's v1 hash works too).")] hash: String,
        #[graphql(desc = "The folder's path, as `FileTreeRow.path`.")] path: String,
        #[graphql(desc = "Its new path within the torrent.")] new_path: String,
    ) -> Result<Vec<TorrentFile>> {
        rename(ctx, &hash, PathKind::Folder, &path, &new_path).await
    }

    /// Adds trackers to a torrent (http, https or udp URLs), and answers
    /// its trackers once qBittorrent lists the new ones.
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION + child_complexity")]
    async fn add_trackers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The torrent's `hash` (a hybrid's v1 hash works too).")] hash: String,
        #[graphql(desc = "Announce URLs: http, https or udp; 1 to 100.")] urls: Vec<String>,
    ) -> Result<Vec<Tracker>> {
        let hash = parse_hash(&hash)?;
        let trackers = service(ctx)?
            .add_trackers(hash, &urls)
            .await
            .map_err(AppError::from)?;
        Ok(trackers.into_iter().map(Tracker::from).collect())
    }

    /// Replaces a tracker's URL, and answers the torrent's trackers.
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION + child_complexity")]
    async fn edit_tracker(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The torrent's `hash` (a hybrid's v1 hash works too).")] hash: String,
        #[graphql(desc = "The tracker's URL now.")] url: String,
        #[graphql(desc = "Its new URL: http, https or udp.")] new_url: String,
    ) -> Result<Vec<Tracker>> {
        let hash = parse_hash(&hash)?;
        let trackers = service(ctx)?
            .edit_tracker(hash, &url, &new_url)
            .await
            .map_err(AppError::from)?;
        Ok(trackers.into_iter().map(Tracker::from).collect())
    }

    /// Removes trackers from a torrent, and answers the ones left. A URL
    /// the torrent does not have is `BAD_USER_INPUT`, and nothing is
    /// removed.
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION + child_complexity")]
    async fn remove_trackers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The torrent's `hash` (a hybrid's v1 hash works too).")] hash: String,
        #[graphql(desc = "The trackers' URLs.")] urls: Vec<String>,
    ) -> Result<Vec<Tracker>> {
        let hash = parse_hash(&hash)?;
        let trackers = service(ctx)?
            .remove_trackers(hash, &urls)
            .await
            .map_err(AppError::from)?;
        Ok(trackers.into_iter().map(Tracker::from).collect())
    }
    /// Bans peers for every torrent (qBittorrent keeps the IPs in its
    /// banned list), and answers the addresses banned.
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION")]
    async fn ban_peers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The peers, as `ip:port` (`Peer.address`).")] peers: Vec<String>,
    ) -> Result<Vec<String>> {
        let banned = service(ctx)?
            .ban_peers(&peers)
            .await
            .map_err(AppError::from)?;
        Ok(banned.iter().map(ToString::to_string).collect())
    }
}

async fn rename(
    ctx: &Context<'_>,
    hash: &str,
    kind: PathKind,
    path: &str,
    new_path: &str,
) -> Result<Vec<TorrentFile>> {
    let hash = parse_hash(hash)?;
    let changed = service(ctx)?
        .rename_path(hash, kind, path, new_path)
        .await
        .map_err(AppError::from)?;
    Ok(files_of(changed))
}

fn files_of(changed: ChangedFiles) -> Vec<TorrentFile> {
    changed
        .files
        .into_iter()
        .map(|file| TorrentFile::new(changed.torrent, file))
        .collect()
}
