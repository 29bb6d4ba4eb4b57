//! Torrents: `torrents`, `torrent`, `categories`, `qbittorrent`, and the
//! mutations that add, pause, resume, delete and categorise them.

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, Upload};
use chrono::{DateTime, Utc};

use super::guards::AdminGuard;
use super::loaders::FilesLoader;
use super::scalars::Bytes;
use crate::clients::qbittorrent;
use crate::config::LimitsConfig;
use crate::error::AppError;
use crate::services::libraries::LibraryService;
use crate::services::{AddRequest, TorrentService, TorrentSource};
use crate::torrent::InfoHash;

/// A torrent in qBittorrent.
pub struct Torrent(pub Arc<qbittorrent::Torrent>);

#[Object]
impl Torrent {
    /// The info hash: 40 lowercase hexadecimal characters.
    async fn hash(&self) -> String {
        self.0.hash.to_string()
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Bytes selected for download.
    async fn size(&self) -> Bytes {
        Bytes(self.0.size)
    }

    /// Bytes of all files, selected or not.
    async fn total_size(&self) -> Bytes {
        Bytes(self.0.total_size)
    }

    /// 0 to 1.
    async fn progress(&self) -> f64 {
        self.0.progress
    }

    /// Bytes per second.
    async fn download_speed(&self) -> Bytes {
        Bytes(self.0.dlspeed)
    }

    /// Bytes per second.
    async fn upload_speed(&self) -> Bytes {
        Bytes(self.0.upspeed)
    }

    async fn downloaded(&self) -> Bytes {
        Bytes(self.0.downloaded)
    }

    async fn uploaded(&self) -> Bytes {
        Bytes(self.0.uploaded)
    }

    /// Bytes still to download.
    async fn remaining(&self) -> Bytes {
        Bytes(self.0.amount_left)
    }

    /// Seconds until complete; null when qBittorrent does not know.
    async fn eta(&self) -> Option<i64> {
        self.0.eta()
    }

    async fn state(&self) -> TorrentState {
        self.0.state().into()
    }

    /// qBittorrent's own state name (e.g. `stalledDL`, `stoppedUP`).
    async fn raw_state(&self) -> &str {
        &self.0.state
    }

    /// Null when the torrent has no category.
    async fn category(&self) -> Option<&str> {
        Some(self.0.category.as_str()).filter(|category| !category.is_empty())
    }

    async fn tags(&self) -> Vec<String> {
        self.0.tags()
    }

    /// Where qBittorrent saves the torrent, as qBittorrent sees it.
    async fn save_path(&self) -> &str {
        &self.0.save_path
    }

    /// The file, or the top folder, of the torrent's content.
    async fn content_path(&self) -> &str {
        &self.0.content_path
    }

    async fn added_at(&self) -> Option<DateTime<Utc>> {
        self.0.added_at()
    }

    /// Null until the download completes.
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at()
    }

    /// Uploaded divided by downloaded.
    async fn ratio(&self) -> f64 {
        self.0.ratio
    }

    /// Seeds connected to.
    async fn seeds(&self) -> i64 {
        self.0.num_seeds
    }

    /// Leechers connected to.
    async fn peers(&self) -> i64 {
        self.0.num_leechs
    }

    async fn magnet_uri(&self) -> &str {
        &self.0.magnet_uri
    }

    /// The library the torrent's save path lies in, if any.
    async fn library(&self, ctx: &Context<'_>) -> Result<Option<super::libraries::Library>> {
        let service = ctx.data::<Arc<LibraryService>>()?;
        let found = service.libraries().await.map_err(AppError::from)?;
        Ok(service
            .library_of(&found.libraries, &self.0.save_path)
            .map(|library| super::libraries::Library::new(library, found.stale.as_ref())))
    }

    /// The torrent's files; empty until a magnet's metadata arrives.
    async fn files(&self, ctx: &Context<'_>) -> Result<Vec<TorrentFile>> {
        let loader = ctx.data::<DataLoader<FilesLoader>>()?;
        let files = loader.load_one(self.0.hash).await?.unwrap_or_default();
        Ok(files.into_iter().map(TorrentFile::from).collect())
    }
}

/// One file of a torrent.
#[derive(SimpleObject)]
pub struct TorrentFile {
    /// Path relative to the torrent's save path.
    name: String,
    size: Bytes,
    /// 0 to 1.
    progress: f64,
    /// 0 = skipped, 1 = normal, 6 = high, 7 = maximal.
    priority: i64,
}

impl From<qbittorrent::TorrentContent> for TorrentFile {
    fn from(file: qbittorrent::TorrentContent) -> Self {
        Self {
            name: file.name,
            size: Bytes(file.size),
            progress: file.progress,
            priority: file.priority,
        }
    }
}

/// What a torrent is doing. qBittorrent 4.x "paused" and 5.x "stopped"
/// states map to the same values; `rawState` keeps qBittorrent's name.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "qbittorrent::TorrentState")]
pub enum TorrentState {
    Downloading,
    /// Downloading, ignoring queue limits.
    ForcedDownloading,
    /// A magnet link waiting for its metadata.
    FetchingMetadata,
    ForcedFetchingMetadata,
    /// Downloading, but no peer is sending.
    StalledDownloading,
    QueuedDownloading,
    CheckingDownloading,
    /// Incomplete and paused (stopped).
    PausedDownloading,
    Seeding,
    ForcedSeeding,
    /// Complete; no peer is downloading.
    StalledSeeding,
    QueuedSeeding,
    CheckingSeeding,
    /// Complete and paused (stopped).
    PausedSeeding,
    /// qBittorrent is starting up.
    CheckingResumeData,
    Allocating,
    Moving,
    MissingFiles,
    Error,
    /// A state this version of torrentql does not know; see `rawState`.
    Unknown,
}

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
    /// Known before qBittorrent is asked.
    hash: String,
    /// True when qBittorrent already had it; nothing was added.
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
    #[graphql(guard = "AdminGuard")]
    async fn torrents(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(TorrentFilter::All)")] filter: Option<TorrentFilter>,
        category: Option<String>,
        hashes: Option<Vec<String>>,
    ) -> Result<Vec<Torrent>> {
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
        Ok(torrents.into_iter().map(Torrent).collect())
    }

    /// One torrent; null when qBittorrent does not have it.
    #[graphql(guard = "AdminGuard")]
    async fn torrent(&self, ctx: &Context<'_>, hash: String) -> Result<Option<Torrent>> {
        let hash = parse_hash(&hash)?;
        let torrent = service(ctx)?.get(hash).await.map_err(AppError::from)?;
        Ok(torrent.map(Torrent))
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
        Ok(match service(ctx)?.qbittorrent_status().await.versions {
            Ok((version, api)) => QbittorrentInfo {
                connected: true,
                version: Some(version),
                webapi_version: Some(api),
                error: None,
            },
            Err(reason) => QbittorrentInfo {
                connected: false,
                version: None,
                webapi_version: None,
                error: Some(reason),
            },
        })
    }
}

#[derive(Default)]
pub struct TorrentMutation;

#[Object]
impl TorrentMutation {
    /// Adds a torrent and returns it once qBittorrent lists it. When
    /// qBittorrent already has it, nothing is added and `duplicate` is true.
    #[graphql(guard = "AdminGuard")]
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
            torrent: Torrent(Arc::new(outcome.torrent)),
        })
    }

    /// Pauses (on qBittorrent 5: stops) a torrent.
    #[graphql(guard = "AdminGuard")]
    async fn pause_torrent(&self, ctx: &Context<'_>, hash: String) -> Result<Torrent> {
        let hash = parse_hash(&hash)?;
        Ok(Torrent(Arc::new(
            service(ctx)?.pause(hash).await.map_err(AppError::from)?,
        )))
    }

    /// Resumes (on qBittorrent 5: starts) a torrent.
    #[graphql(guard = "AdminGuard")]
    async fn resume_torrent(&self, ctx: &Context<'_>, hash: String) -> Result<Torrent> {
        let hash = parse_hash(&hash)?;
        Ok(Torrent(Arc::new(
            service(ctx)?.resume(hash).await.map_err(AppError::from)?,
        )))
    }

    /// Removes a torrent, and its downloaded data with `deleteFiles`.
    #[graphql(guard = "AdminGuard")]
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

    /// Puts a torrent in a category, creating the category when needed; an
    /// empty string removes the torrent from its category.
    #[graphql(guard = "AdminGuard")]
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
        Ok(Torrent(Arc::new(torrent)))
    }
}

fn service<'a>(ctx: &'a Context<'_>) -> Result<&'a Arc<TorrentService>> {
    ctx.data::<Arc<TorrentService>>()
}

pub(super) fn parse_hash(hash: &str) -> Result<InfoHash, AppError> {
    hash.parse()
        .map_err(|error| AppError::BadUserInput(format!("invalid hash {hash:?}: {error}")))
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
