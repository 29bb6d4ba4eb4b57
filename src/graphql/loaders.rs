//! `DataLoader`s: one upstream request per key per batch, however many
//! fields ask.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use futures::{StreamExt, TryStreamExt};

use crate::clients::qbittorrent::TorrentContent;
use crate::error::AppError;
use crate::services::{ServiceError, TorrentService};
use crate::torrent::InfoHash;

/// How many `torrents/files` calls run at once for one batch.
const CONCURRENT_FILE_REQUESTS: usize = 8;

/// Loads the files of torrents; qBittorrent has no batch endpoint, so each
/// torrent costs one `torrents/files` call, made once per batch.
pub struct FilesLoader {
    pub torrents: Arc<TorrentService>,
}

impl Loader<InfoHash> for FilesLoader {
    type Value = Vec<TorrentContent>;
    type Error = AppError;

    async fn load(
        &self,
        hashes: &[InfoHash],
    ) -> Result<HashMap<InfoHash, Self::Value>, Self::Error> {
        futures::stream::iter(hashes.iter().copied())
            .map(|hash| async move {
                match self.torrents.files(hash).await {
                    Ok(files) => Ok(Some((hash, files))),
                    // Removed since it was listed: it has no files to show.
                    Err(ServiceError::TorrentNotFound(_)) => Ok(None),
                    Err(error) => Err(AppError::from(error)),
                }
            })
            .buffer_unordered(CONCURRENT_FILE_REQUESTS)
            .try_filter_map(|found| async move { Ok(found) })
            .try_collect()
            .await
    }
}
