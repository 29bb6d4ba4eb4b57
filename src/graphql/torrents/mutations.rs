//! The torrent mutations that are not changes to torrents already there
//! (those are in [`super::actions`]): add, a preview of what an add would
//! bring, and a new login to qBittorrent after a refused one.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, Upload};

use super::queries::QbittorrentInfo;
use super::{Torrent, service};
use crate::config::LimitsConfig;
use crate::error::AppError;
use crate::graphql::cost;
use crate::graphql::guards::AdminGuard;
use crate::graphql::scalars::Bytes;
use crate::services::torrents::FileSelection;
use crate::services::{AddRequest, TorrentSource};

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
    /// Add it paused (on qBittorrent 5: stopped). With `files`: whether
    /// it stays stopped once its files are chosen (false: it starts).
    #[graphql(default_with = "Some(false)")]
    paused: Option<bool>,
    /// Download only these files, the others skipped before any data
    /// comes. A `.torrent`'s files are chosen before `addTorrent` answers
    /// (a selection that fits none of them, or an unknown index, is
    /// `BAD_USER_INPUT` and nothing is added). A magnet's are chosen once
    /// its metadata arrives (qBittorrent stops it then, torrentql chooses
    /// and starts it); until then its `fileSelectionPending` is true.
    files: Option<FileSelectionInput>,
}

/// Which files of a torrent to download: those at `indexes`, and those
/// whose path matches one of `globs`.
#[derive(InputObject)]
pub struct FileSelectionInput {
    /// File indexes, as `TorrentFile.index` (and `torrentPreview`) number
    /// them.
    #[graphql(default)]
    indexes: Vec<i64>,
    /// Path globs (`*.mkv`, `Season 1/**`), matched case-insensitively
    /// against each file's path within the torrent; `*` crosses folders.
    #[graphql(default)]
    globs: Vec<String>,
}

/// The outcome of `addTorrent`.
#[derive(SimpleObject)]
pub struct AddTorrentPayload {
    /// The hash qBittorrent lists the torrent under (see `Torrent.hash`):
    /// computed before qBittorrent is asked, and confirmed by its list.
    hash: String,
    /// True when qBittorrent already had it (by either of a hybrid's
    /// hashes); nothing was added.
    duplicate: bool,
    /// The torrent as qBittorrent lists it now (the one it already had,
    /// for a duplicate).
    torrent: Torrent,
}

/// A torrent to look into before adding it: exactly one of the four.
#[derive(InputObject)]
pub struct TorrentSourceInput {
    /// A `magnet:?xt=urn:btih:` (hex or base32) or `urn:btmh:` link.
    magnet: Option<String>,
    /// A bare info hash (40 hex or 32 base32 characters).
    info_hash: Option<String>,
    /// An http(s) URL of a `.torrent` file; torrentql fetches it.
    url: Option<String>,
    /// A `.torrent` file, as a GraphQL multipart upload.
    file: Option<Upload>,
}

/// What a torrent holds, read before adding it.
#[derive(SimpleObject)]
pub struct TorrentPreview {
    /// The hash qBittorrent would list it under.
    hash: String,
    /// Its name (for a magnet qBittorrent does not have: its `dn`, or its
    /// hash).
    name: String,
    /// Of all its files; null when they are not known.
    size: Option<Bytes>,
    /// Its files, by the index `addTorrent`'s `files` and
    /// `setFilePriority` take; null for a magnet whose metadata
    /// qBittorrent does not have.
    files: Option<Vec<PreviewFile>>,
    /// The torrent, when qBittorrent has it already (adding it again would
    /// be a duplicate).
    existing: Option<Torrent>,
}

/// One file of a torrent, before adding it.
#[derive(SimpleObject)]
pub struct PreviewFile {
    /// As `addTorrent`'s `files.indexes` takes it.
    index: i64,
    /// Its path within the torrent, `/` between folders.
    path: String,
    /// Its size.
    size: Bytes,
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
        #[graphql(
            desc = "What to add (exactly one of `magnet`, `infoHash`, `url`, `file`) and how."
        )]
        input: AddTorrentInput,
    ) -> Result<AddTorrentPayload> {
        let source = source_of(ctx, input.magnet, input.info_hash, input.url, input.file).await?;
        let outcome = service(ctx)?
            .add(AddRequest {
                source,
                name: input.name,
                save_path: input.save_path,
                library: input.library,
                category: input.category,
                paused: input.paused.unwrap_or(false),
                files: input.files.map(|files| FileSelection {
                    indexes: files.indexes,
                    globs: files.globs,
                }),
            })
            .await
            .map_err(AppError::from)?;
        Ok(AddTorrentPayload {
            hash: outcome.hash.to_string(),
            duplicate: outcome.duplicate,
            torrent: Torrent::new(Arc::new(outcome.torrent)),
        })
    }

    /// What a torrent holds, without adding it (for an "add" dialog): a
    /// `.torrent`'s files (by file or URL) at once. Nothing changes; it is
    /// a mutation because GraphQL uploads are. A magnet's files are
    /// known only once qBittorrent has its metadata, which takes adding
    /// it: `files` is null until then (see `addTorrent`'s `files` for how
    /// to choose them as it is added).
    #[graphql(
        guard = "AdminGuard",
        complexity = "cost::HEAVY_MUTATION + child_complexity"
    )]
    async fn preview_torrent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Exactly one of `magnet`, `infoHash`, `url`, `file`.")]
        input: TorrentSourceInput,
    ) -> Result<TorrentPreview> {
        let source = source_of(ctx, input.magnet, input.info_hash, input.url, input.file).await?;
        let preview = service(ctx)?
            .preview(source)
            .await
            .map_err(AppError::from)?;
        Ok(TorrentPreview {
            hash: preview.hash.to_string(),
            name: preview.name,
            size: preview
                .files
                .as_ref()
                .map(|files| Bytes(files.iter().map(|file| file.size).sum())),
            files: preview.files.map(|files| {
                files
                    .into_iter()
                    .map(|file| PreviewFile {
                        index: file.index,
                        path: file.path,
                        size: Bytes(file.size),
                    })
                    .collect()
            }),
            existing: preview
                .existing
                .map(|torrent| Torrent::new(Arc::new(torrent))),
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
}

/// The one source of a torrent given, of `magnet`, `infoHash`, `url` and
/// `file`.
pub(super) async fn source_of(
    ctx: &Context<'_>,
    magnet: Option<String>,
    info_hash: Option<String>,
    url: Option<String>,
    file: Option<Upload>,
) -> Result<TorrentSource> {
    Ok(match (magnet, info_hash, url, file) {
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
    .map_err(|error| AppError::Internal(format!("reading an upload failed: {error}")))?
    .map_err(|_| AppError::BadUserInput("file: the upload could not be read".to_owned()))?;
    if bytes.len() > limit {
        return Err(AppError::BadUserInput(format!(
            "file: larger than the {limit}-byte upload limit"
        ))
        .into());
    }
    Ok(bytes)
}
