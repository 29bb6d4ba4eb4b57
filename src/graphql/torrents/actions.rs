//! The mutations on torrents already in qBittorrent: each takes many
//! torrents by `hashes`, makes one qBittorrent call for all of them, and
//! answers each hash in order (null, with an error at its place in the
//! list, for one qBittorrent does not have or the change does not suit).
//! The single-torrent forms kept from before answer one torrent.

use async_graphql::{Context, Enum, Object, Result, SimpleObject};

use super::share_limits::{RequestedShareLimits, ShareLimitsInput};
use super::{Torrent, parse_hash, service};
use crate::clients::qbittorrent::QueueMove;
use crate::error::AppError;
use crate::graphql::cost;
use crate::graphql::guards::AdminGuard;
use crate::graphql::scalars::Bytes;
use crate::services::{Outcome, TorrentChange};
use crate::torrent::InfoHash;

/// Each torrent a batch names, as qBittorrent shows it after the change;
/// null (and an error at its place) for one the change did not reach.
type Answers = Vec<Option<Result<Torrent>>>;

/// Where `moveTorrentsInQueue` moves torrents.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "QueueMove")]
pub enum QueueMoveTo {
    /// To the front of the queue.
    Top,
    /// To the back.
    Bottom,
    /// One place forward.
    Up,
    /// One place back.
    Down,
}

/// A torrent `deleteTorrents` removed.
#[derive(SimpleObject)]
pub struct DeleteTorrentPayload {
    /// The hash as given, as 40 lowercase hexadecimal characters: for a
    /// hybrid named by its v1 hash, that v1 hash rather than `Torrent.hash`.
    hash: String,
    /// Whether the downloaded data was deleted too.
    deleted_files: bool,
}

#[derive(Default)]
pub struct TorrentActionMutation;

#[Object]
impl TorrentActionMutation {
    /// Pauses (on qBittorrent 5: stops) torrents.
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::torrent_batch(&hashes, child_complexity)"
    )]
    async fn pause_torrents(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The torrents, by `hash` (a hybrid's v1 hash works too); at most 10000. The answer lists them in this order."
        )]
        hashes: Vec<String>,
    ) -> Result<Answers> {
        change(ctx, &hashes, TorrentChange::Pause).await
    }

    /// Resumes (on qBittorrent 5: starts) torrents.
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::torrent_batch(&hashes, child_complexity)"
    )]
    async fn resume_torrents(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The torrents, by `hash` (a hybrid's v1 hash works too); at most 10000. The answer lists them in this order."
        )]
        hashes: Vec<String>,
    ) -> Result<Answers> {
        change(ctx, &hashes, TorrentChange::Resume).await
    }

    /// Removes torrents, and their downloaded data with `deleteFiles`;
    /// answers once qBittorrent no longer lists them.
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::torrent_batch(&hashes, child_complexity)"
    )]
    async fn delete_torrents(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The torrents, by `hash` (a hybrid's v1 hash works too); at most 10000. The answer lists them in this order."
        )]
        hashes: Vec<String>,
        #[graphql(
            default = false,
            desc = "Also delete the downloaded data from disk; without it, the files stay."
        )]
        delete_files: bool,
    ) -> Result<Vec<Option<Result<DeleteTorrentPayload>>>> {
        let hashes = parse_hashes(&hashes)?;
        let outcomes = service(ctx)?
            .delete(&hashes, delete_files)
            .await
            .map_err(AppError::from)?;
        Ok(outcomes
            .into_iter()
            .zip(hashes)
            .map(|(outcome, hash)| {
                Some(answer(outcome.map(|_| DeleteTorrentPayload {
                    hash: hash.to_string(),
                    deleted_files: delete_files,
                })))
            })
            .collect())
    }

    /// Puts torrents in a category, creating the category when needed; an
    /// empty string takes them out of their category.
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::torrent_batch(&hashes, child_complexity)"
    )]
    async fn set_torrents_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The torrents, by `hash` (a hybrid's v1 hash works too); at most 10000. The answer lists them in this order."
        )]
        hashes: Vec<String>,
        #[graphql(desc = "The category's name (`/` separates subcategories); empty for none.")]
        category: String,
    ) -> Result<Answers> {
        change(ctx, &hashes, TorrentChange::SetCategory(category)).await
    }

    /// Adds tags to torrents, creating the tags when needed.
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::torrent_batch(&hashes, child_complexity)"
    )]
    async fn add_torrent_tags(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The torrents, by `hash` (a hybrid's v1 hash works too); at most 10000. The answer lists them in this order."
        )]
        hashes: Vec<String>,
        #[graphql(desc = "Tag names: not empty, no commas.")] tags: Vec<String>,
    ) -> Result<Answers> {
        change(ctx, &hashes, TorrentChange::AddTags(tags)).await
    }

    /// Takes tags off torrents (the tags themselves stay; see `deleteTags`).
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::torrent_batch(&hashes, child_complexity)"
    )]
    async fn remove_torrent_tags(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The torrents, by `hash` (a hybrid's v1 hash works too); at most 10000. The answer lists them in this order."
        )]
        hashes: Vec<String>,
        #[graphql(desc = "Tag names: not empty, no commas.")] tags: Vec<String>,
    ) -> Result<Answers> {
        change(ctx, &hashes, TorrentChange::RemoveTags(tags)).await
    }

    /// Gives torrents exactly these tags (none for an empty list), creating
    /// them when needed.
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::torrent_batch(&hashes, child_complexity)"
    )]
    async fn set_torrent_tags(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The torrents, by `hash` (a hybrid's v1 hash works too); at most 10000. The answer lists them in this order."
        )]
        hashes: Vec<String>,
        #[graphql(desc = "Tag names: not empty, no commas.")] tags: Vec<String>,
    ) -> Result<Answers> {
        change(ctx, &hashes, TorrentChange::SetTags(tags)).await
    }

    /// Starts torrents regardless of the queue limits, or puts them back
    /// under the queue.
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::torrent_batch(&hashes, child_complexity)"
    )]
    async fn set_force_start(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The torrents, by `hash` (a hybrid's v1 hash works too); at most 10000. The answer lists them in this order."
        )]
        hashes: Vec<String>,
        #[graphql(desc = "true: start regardless of the queue; false: back under it.")]
        enabled: bool,
    ) -> Result<Answers> {
        change(ctx, &hashes, TorrentChange::ForceStart(enabled)).await
    }

    /// Checks torrents' downloaded data again. Answers at once: the torrents
    /// show `CHECKING_*` states while qBittorrent works.
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::torrent_batch(&hashes, child_complexity)"
    )]
    async fn recheck_torrents(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The torrents, by `hash` (a hybrid's v1 hash works too); at most 10000. The answer lists them in this order."
        )]
        hashes: Vec<String>,
    ) -> Result<Answers> {
        change(ctx, &hashes, TorrentChange::Recheck).await
    }

    /// Announces torrents to their trackers now.
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::torrent_batch(&hashes, child_complexity)"
    )]
    async fn reannounce_torrents(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The torrents, by `hash` (a hybrid's v1 hash works too); at most 10000. The answer lists them in this order."
        )]
        hashes: Vec<String>,
    ) -> Result<Answers> {
        change(ctx, &hashes, TorrentChange::Reannounce).await
    }

    /// Downloads pieces in order (for watching while downloading), or not.
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::torrent_batch(&hashes, child_complexity)"
    )]
    async fn set_sequential_download(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The torrents, by `hash` (a hybrid's v1 hash works too); at most 10000. The answer lists them in this order."
        )]
        hashes: Vec<String>,
        #[graphql(desc = "true: in order; false: rarest first, as usual.")] enabled: bool,
    ) -> Result<Answers> {
        change(ctx, &hashes, TorrentChange::SequentialDownload(enabled)).await
    }

    /// Downloads the first and last piece of each file first, or not.
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::torrent_batch(&hashes, child_complexity)"
    )]
    async fn set_first_last_piece_priority(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The torrents, by `hash` (a hybrid's v1 hash works too); at most 10000. The answer lists them in this order."
        )]
        hashes: Vec<String>,
        #[graphql(desc = "true: first and last pieces first; false: as usual.")] enabled: bool,
    ) -> Result<Answers> {
        change(ctx, &hashes, TorrentChange::FirstLastPiecePriority(enabled)).await
    }

    /// Turns super seeding on or off. Only complete torrents take it: an
    /// incomplete one is refused with `BAD_USER_INPUT` at its place.
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::torrent_batch(&hashes, child_complexity)"
    )]
    async fn set_super_seeding(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The torrents, by `hash` (a hybrid's v1 hash works too); at most 10000. The answer lists them in this order."
        )]
        hashes: Vec<String>,
        #[graphql(desc = "true: on; false: off.")] enabled: bool,
    ) -> Result<Answers> {
        change(ctx, &hashes, TorrentChange::SuperSeeding(enabled)).await
    }

    /// Lets torrents' categories decide their save paths (qBittorrent's
    /// automatic torrent management), or not. Turning it on may move data.
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::torrent_batch(&hashes, child_complexity)"
    )]
    async fn set_automatic_torrent_management(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The torrents, by `hash` (a hybrid's v1 hash works too); at most 10000. The answer lists them in this order."
        )]
        hashes: Vec<String>,
        #[graphql(desc = "true: the category decides; false: each torrent keeps its path.")]
        enabled: bool,
    ) -> Result<Answers> {
        change(ctx, &hashes, TorrentChange::AutomaticManagement(enabled)).await
    }

    /// Moves torrents in the download queue. Needs torrent queueing on in
    /// qBittorrent (`BAD_USER_INPUT` says so when it is off); complete
    /// torrents have no place in it. `queuePosition` shows the new places
    /// with qBittorrent's next status refresh: this answers once it does.
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::torrent_batch(&hashes, child_complexity)"
    )]
    async fn move_torrents_in_queue(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The torrents, by `hash` (a hybrid's v1 hash works too); at most 10000. The answer lists them in this order."
        )]
        hashes: Vec<String>,
        #[graphql(desc = "Where to.")] to: QueueMoveTo,
    ) -> Result<Answers> {
        change(ctx, &hashes, TorrentChange::Queue(to.into())).await
    }

    /// Moves torrents' data to a new save path, which must lie under an
    /// allowed root or a library's folder, as an add's does. Answers once
    /// qBittorrent shows the new path and has finished moving.
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::torrent_batch(&hashes, child_complexity)"
    )]
    async fn move_torrents(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The torrents, by `hash` (a hybrid's v1 hash works too); at most 10000. The answer lists them in this order."
        )]
        hashes: Vec<String>,
        #[graphql(desc = "The new save path, as qBittorrent sees it.")] save_path: String,
    ) -> Result<Answers> {
        change(ctx, &hashes, TorrentChange::Move(save_path)).await
    }

    /// Sets torrents' own speed limits; a limit left out stays as it is.
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::torrent_batch(&hashes, child_complexity)"
    )]
    async fn set_torrent_speed_limits(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The torrents, by `hash` (a hybrid's v1 hash works too); at most 10000. The answer lists them in this order."
        )]
        hashes: Vec<String>,
        #[graphql(desc = "Bytes per second; 0 for none.")] download_limit: Option<Bytes>,
        #[graphql(desc = "Bytes per second; 0 for none.")] upload_limit: Option<Bytes>,
    ) -> Result<Answers> {
        let limits = TorrentChange::SpeedLimits {
            download: download_limit.map(|limit| limit.0),
            upload: upload_limit.map(|limit| limit.0),
        };
        change(ctx, &hashes, limits).await
    }

    /// Sets torrents' share limits, all at once (a limit left out becomes
    /// `GLOBAL`, as qBittorrent takes them together).
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::torrent_batch(&hashes, child_complexity)"
    )]
    async fn set_torrent_share_limits(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The torrents, by `hash` (a hybrid's v1 hash works too); at most 10000. The answer lists them in this order."
        )]
        hashes: Vec<String>,
        #[graphql(desc = "The new limits; each left out becomes `GLOBAL`.")]
        limits: ShareLimitsInput,
    ) -> Result<Answers> {
        let limits = RequestedShareLimits::try_from(limits)?;
        let limits = TorrentChange::ShareLimits {
            ratio: limits.ratio,
            seeding_minutes: limits.seeding_minutes,
            inactive_seeding_minutes: limits.inactive_seeding_minutes,
        };
        change(ctx, &hashes, limits).await
    }

    /// Tells qBittorrent to connect the torrents to these peers (with DHT
    /// and trackers off, the only way they find each other).
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::torrent_batch(&hashes, child_complexity)"
    )]
    async fn add_peers(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The torrents, by `hash` (a hybrid's v1 hash works too); at most 10000. The answer lists them in this order."
        )]
        hashes: Vec<String>,
        #[graphql(desc = "The peers, as `ip:port` (`[ipv6]:port`).")] peers: Vec<String>,
    ) -> Result<Answers> {
        change(ctx, &hashes, TorrentChange::AddPeers(peers)).await
    }

    /// Gives a torrent the name qBittorrent shows (its files keep theirs).
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION + child_complexity")]
    async fn rename_torrent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The torrent's `hash` (a hybrid's v1 hash works too).")] hash: String,
        #[graphql(desc = "The new name; not empty.")] name: String,
    ) -> Result<Torrent> {
        let hash = parse_hash(&hash)?;
        let torrent = service(ctx)?
            .rename(hash, &name)
            .await
            .map_err(AppError::from)?;
        Ok(Torrent::new(torrent))
    }

    /// Pauses (on qBittorrent 5: stops) a torrent; `pauseTorrents` for many.
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION + child_complexity")]
    async fn pause_torrent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The torrent's `hash` (a hybrid's v1 hash works too).")] hash: String,
    ) -> Result<Torrent> {
        change_one(ctx, &hash, TorrentChange::Pause).await
    }

    /// Resumes (on qBittorrent 5: starts) a torrent; `resumeTorrents` for
    /// many.
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION + child_complexity")]
    async fn resume_torrent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The torrent's `hash` (a hybrid's v1 hash works too).")] hash: String,
    ) -> Result<Torrent> {
        change_one(ctx, &hash, TorrentChange::Resume).await
    }

    /// Puts a torrent in a category, creating the category when needed; an
    /// empty string removes the torrent from its category.
    /// `setTorrentsCategory` for many.
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION + child_complexity")]
    async fn set_torrent_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The torrent's `hash` (a hybrid's v1 hash works too).")] hash: String,
        #[graphql(desc = "The category's name (`/` separates subcategories); empty for none.")]
        category: String,
    ) -> Result<Torrent> {
        change_one(ctx, &hash, TorrentChange::SetCategory(category)).await
    }

    /// Removes a torrent, and its downloaded data with `deleteFiles`;
    /// `deleteTorrents` for many.
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION + child_complexity")]
    async fn delete_torrent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The torrent's `hash` (a hybrid's v1 hash works too).")] hash: String,
        #[graphql(
            default = false,
            desc = "Also delete the downloaded data from disk; without it, the files stay."
        )]
        delete_files: bool,
    ) -> Result<DeleteTorrentPayload> {
        let hash = parse_hash(&hash)?;
        let outcome = service(ctx)?
            .delete(&[hash], delete_files)
            .await
            .map_err(AppError::from)?;
        only(outcome)?;
        Ok(DeleteTorrentPayload {
            hash: hash.to_string(),
            deleted_files: delete_files,
        })
    }
}

/// Applies `change` to the torrents `hashes` names.
async fn change(ctx: &Context<'_>, hashes: &[String], change: TorrentChange) -> Result<Answers> {
    let hashes = parse_hashes(hashes)?;
    let outcomes = service(ctx)?
        .change(&hashes, change)
        .await
        .map_err(AppError::from)?;
    Ok(outcomes
        .into_iter()
        .map(|outcome| Some(answer(outcome.map(Torrent::new))))
        .collect())
}

/// Applies `change` to one torrent, whose failure is the field's.
async fn change_one(ctx: &Context<'_>, hash: &str, change: TorrentChange) -> Result<Torrent> {
    let hash = parse_hash(hash)?;
    let outcomes = service(ctx)?
        .change(&[hash], change)
        .await
        .map_err(AppError::from)?;
    Ok(Torrent::new(only(outcomes)?))
}

/// The one outcome of a change to one torrent.
fn only<T>(outcomes: Vec<Outcome<T>>) -> Result<T, AppError> {
    let outcome = outcomes
        .into_iter()
        .next()
        .ok_or_else(|| AppError::Internal("a change to one torrent answered none".to_owned()))?;
    outcome.map_err(AppError::from)
}

fn answer<T>(outcome: Outcome<T>) -> Result<T> {
    outcome.map_err(|error| AppError::from(error).into())
}

fn parse_hashes(hashes: &[String]) -> Result<Vec<InfoHash>, AppError> {
    hashes.iter().map(|hash| parse_hash(hash)).collect()
}
