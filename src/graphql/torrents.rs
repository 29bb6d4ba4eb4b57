//! Torrent queries: `torrents`, `torrent`, `categories`, `qbittorrent`, and
//! the mutations that add, pause, resume, delete and categorise them.

use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, Upload};

use super::cost;
use super::guards::AdminGuard;
use super::torrent::{Torrent, Torrents};
use crate::clients::qbittorrent;
use crate::config::LimitsConfig;
use crate::error::AppError;
use crate::services::torrents::QbittorrentStatus;
use crate::services::{AddRequest, TorrentService, TorrentSource};
use crate::torrent::InfoHash;

/// Which torrents `torrents` lists.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
#[graphql(remote = "qbittorrent::TorrentFilter")]
pub enum TorrentFilter {
    #[default]
    All,
    Downloading,
    Seeding,
    Completed,
    Paused,
    Active,
    Inactive,
    /// Not paused.
    Resumed,
    Stalled,
    Errored,
}

/// A qBittorrent category.
#[derive(SimpleObject)]
pub struct Category {
    name: String,
    /// Empty when the category uses the default save path.
    save_path: String,
}

/// The qBittorrent torrentql talks to.
#[derive(SimpleObject)]
pub struct QbittorrentInfo {
    /// Whether qBittorrent answers now.
    connected: bool,
    /// qBittorrent's version, e.g. `v5.1.0`; null when not connected.
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

impl From<QbittorrentStatus> for QbittorrentInfo {
    fn from(status: QbittorrentStatus) -> Self {
        let (versions, error) = match status.versions {
            Ok(versions) => (Some(versions), None),
            Err(reason) => (None, Some(reason)),
        };
        Self {
            connected: versions.is_some(),
            version: versions.as_ref().map(|(version, _)| version.clone()),
            webapi_version: versions.map(|(_, api)| api),
            error,
            sync_period: status.sync_period.as_secs_f64(),
        }
    }
}

/// A torrent to add: exactly one of `magnet`, `infoHash`, `url`, `file`.
#[derive(InputObject)]
pub struct AddTorrentInput {
    /// A `magnet:?xt=urn:btih:` (hex or base32) or `urn:btmh:` link.
    magnet: Option<String>,
    /// A bare info hash (40 hex or 32 base32 characters); a magnet is built
    /// with the configured trackers.
    info_hash: Option<String>,
    /// An http(s) URL of a `.torrent` file (or one redirecting to a magnet);
    /// torrentql fetches it.
    url: Option<String>,
    /// A `.torrent` file, as a GraphQL multipart upload.
    file: Option<Upload>,
    /// A name to show instead of the torrent's own.
    name: Option<String>,
    /// Where to save, as qBittorrent sees it; must lie under an allowed root
    /// (or a library's folder). Not together with `library`.
    save_path: Option<String>,
    /// Save into this library's download path (see `libraries`).
    library: Option<String>,
    /// Created when it does not exist.
    category: Option<String>,
    /// Add it paused (on qBittorrent 5: stopped).
    #[graphql(default_with = "Some(false)")]
    paused: Option<bool>,
}

#[derive(SimpleObject)]
pub struct AddTorrentPayload {
    /// The hash qBittorrent lists the torrent under (see `Torrent.hash`):
    /// computed before qBittorrent is asked, and confirmed by its list.
    hash: String,
    /// True when qBittorrent already had it (by either of a hybrid's
    /// hashes); nothing was added.
    duplicate: bool,
    torrent: Torrent,
}

#[derive(SimpleObject)]
pub struct DeleteTorrentPayload {
    hash: String,
    /// Whether the downloaded data was deleted too.
    deleted_files: bool,
}

#[derive(Default)]
pub struct TorrentQuery;

#[Object]
impl TorrentQuery {
    /// Torrents, optionally narrowed by state, category and hashes.
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::torrent_list(hashes.as_ref(), child_complexity)"
    )]
    async fn torrents(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(TorrentFilter::All)")] filter: Option<TorrentFilter>,
        category: Option<String>,
        hashes: Option<Vec<String>>,
    ) -> Result<Torrents> {
        let hashes = hashes
            .map(|hashes| {
                hashes
                    .iter()
                    .map(|hash| parse_hash(hash))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let torrents = service(ctx)?
            .list(
                filter.unwrap_or_default().into(),
                category.as_deref(),
                hashes.as_deref(),
            )
            .await
            .map_err(AppError::from)?;
        Ok(torrents.into_iter().collect())
    }

    /// One torrent; null when qBittorrent does not have it.
    #[graphql(guard = "AdminGuard")]
    async fn torrent(&self, ctx: &Context<'_>, hash: String) -> Result<Option<Torrent>> {
        let hash = parse_hash(&hash)?;
        let torrent = service(ctx)?.get(hash).await.map_err(AppError::from)?;
        Ok(torrent.map(Torrent::new))
    }

    /// qBittorrent's categories.
    #[graphql(guard = "AdminGuard")]
    async fn categories(&self, ctx: &Context<'_>) -> Result<Vec<Category>> {
        let categories = service(ctx)?.categories().await.map_err(AppError::from)?;
        Ok(categories
            .into_iter()
            .map(|category| Category {
                name: category.name,
                save_path: category.save_path,
            })
            .collect())
    }

    /// Whether qBittorrent answers, and its versions.
    #[graphql(guard = "AdminGuard")]
    async fn qbittorrent(&self, ctx: &Context<'_>) -> Result<QbittorrentInfo> {
        Ok(service(ctx)?.qbittorrent_status().await.into())
    }
}

#[derive(Default)]
pub struct TorrentMutation;

#[Object]
impl TorrentMutation {
    /// Adds a torrent and returns it once qBittorrent lists it. When
    /// qBittorrent already has it, nothing is added and `duplicate` is true.
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::HEAVY_MUTATION + child_complexity"
    )]
    async fn add_torrent(
        &self,
        ctx: &Context<'_>,
        input: AddTorrentInput,
    ) -> Result<AddTorrentPayload> {
        let source = match (input.magnet, input.info_hash, input.url, input.file) {
            (Some(magnet), None, None, None) => TorrentSource::Magnet(magnet),
            (None, Some(hash), None, None) => TorrentSource::InfoHash(hash),
            (None, None, Some(url), None) => TorrentSource::Url(url),
            (None, None, None, Some(file)) => TorrentSource::File(read_upload(ctx, &file).await?),
            _ => {
                return Err(AppError::BadUserInput(
                    "give exactly one of magnet, infoHash, url and file".to_owned(),
                )
                .into());
            }
        };
        let outcome = service(ctx)?
            .add(AddRequest {
                source,
                name: input.name,
                save_path: input.save_path,
                library: input.library,
                category: input.category,
                paused: input.paused.unwrap_or(false),
            })
            .await
            .map_err(AppError::from)?;
        Ok(AddTorrentPayload {
            hash: outcome.hash.to_string(),
            duplicate: outcome.duplicate,
            torrent: Torrent::new(Arc::new(outcome.torrent)),
        })
    }

    /// Pauses (on qBittorrent 5: stops) a torrent.
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION + child_complexity")]
    async fn pause_torrent(&self, ctx: &Context<'_>, hash: String) -> Result<Torrent> {
        let hash = parse_hash(&hash)?;
        Ok(Torrent::new(Arc::new(
            service(ctx)?.pause(hash).await.map_err(AppError::from)?,
        )))
    }

    /// Resumes (on qBittorrent 5: starts) a torrent.
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION + child_complexity")]
    async fn resume_torrent(&self, ctx: &Context<'_>, hash: String) -> Result<Torrent> {
        let hash = parse_hash(&hash)?;
        Ok(Torrent::new(Arc::new(
            service(ctx)?.resume(hash).await.map_err(AppError::from)?,
        )))
    }

    /// Removes a torrent, and its downloaded data with `deleteFiles`.
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION + child_complexity")]
    async fn delete_torrent(
        &self,
        ctx: &Context<'_>,
        hash: String,
        #[graphql(default = false)] delete_files: bool,
    ) -> Result<DeleteTorrentPayload> {
        let hash = parse_hash(&hash)?;
        service(ctx)?
            .delete(hash, delete_files)
            .await
            .map_err(AppError::from)?;
        Ok(DeleteTorrentPayload {
            hash: hash.to_string(),
            deleted_files: delete_files,
        })
    }

    /// Logs in to qBittorrent again, once, after it refused torrentql's
    /// credentials. torrentql never tries refused credentials again by
    /// itself, since qBittorrent bans an address after five failed logins:
    /// correct the password (in qBittorrent, or `qbittorrent.password` and
    /// restart), then run this. Answers as the `qbittorrent` query.
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::HEAVY_MUTATION + child_complexity"
    )]
    async fn retry_qbittorrent_login(&self, ctx: &Context<'_>) -> Result<QbittorrentInfo> {
        Ok(service(ctx)?.retry_qbittorrent_login().await.into())
    }

    /// Puts a torrent in a category, creating the category when needed; an
    /// empty string removes the torrent from its category.
    #[graphql(guard = "AdminGuard", complexity = "cost::MUTATION + child_complexity")]
    async fn set_torrent_category(
        &self,
        ctx: &Context<'_>,
        hash: String,
        category: String,
    ) -> Result<Torrent> {
        let hash = parse_hash(&hash)?;
        let torrent = service(ctx)?
            .set_category(hash, &category)
            .await
            .map_err(AppError::from)?;
        Ok(Torrent::new(Arc::new(torrent)))
    }
}

fn service<'a>(ctx: &'a Context<'_>) -> Result<&'a Arc<TorrentService>> {
    ctx.data::<Arc<TorrentService>>()
}

pub(super) fn parse_hash(hash: &str) -> Result<InfoHash, AppError> {
    hash.parse().map_err(|error| {
        AppError::BadUserInput(format!(
            "invalid hash {}: {error}",
            crate::text::quote(hash)
        ))
    })
}

/// Reads an uploaded `.torrent`, refusing more than the upload limit.
async fn read_upload(ctx: &Context<'_>, upload: &Upload) -> Result<Vec<u8>> {
    use std::io::Read;

    let limit = ctx.data::<LimitsConfig>()?.max_upload_bytes;
    let value = upload
        .value(ctx)
        .map_err(|_| AppError::BadUserInput("file: no such upload in this request".to_owned()))?;
    // The upload is buffered in a temporary file: read it off the runtime.
    let bytes = tokio::task::spawn_blocking(move || {
        let mut bytes = Vec::new();
        value
            .into_read()
            .take(limit as u64 + 1)
            .read_to_end(&mut bytes)
            .map(|_| bytes)
    })
    .await
    .map_err(|_| AppError::Internal)?
    .map_err(|_| AppError::BadUserInput("file: the upload could not be read".to_owned()))?;
    if bytes.len() > limit {
        return Err(AppError::BadUserInput(format!(
            "file: larger than the {limit}-byte upload limit"
        ))
        .into());
    }
    Ok(bytes)
}
