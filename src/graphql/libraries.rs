//! Libraries: `libraries`, and `Torrent.library`'s type.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};

use super::guards::AdminGuard;
use super::node::NodeId;
use crate::error::AppError;
use crate::services::libraries::{self, LibraryService};

/// Where a library is defined.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "libraries::LibrarySource")]
pub enum LibrarySource {
    /// Read from Jellyfin.
    Jellyfin,
    /// From `[[libraries]]` in torrentql's configuration.
    Config,
}

/// A media library.
#[derive(SimpleObject)]
pub struct Library {
    /// Opaque and stable across restarts: where the library is defined,
    /// and its name.
    #[graphql(owned)]
    pub(crate) id: ID,
    /// The library's name, as Jellyfin (or the configuration) shows it.
    name: String,
    /// Its folders, as Jellyfin sees them.
    paths: Vec<String>,
    /// `movies`, `tvshows`, `music`, `musicvideos`, `homevideos`, `boxsets`,
    /// `books`, `mixed`, or another string a fork uses; null when absent.
    collection_type: Option<String>,
    /// Where downloads for it go: its first folder as qBittorrent sees it.
    download_path: Option<String>,
    /// Where the library is defined.
    source: LibrarySource,
    /// Set when Jellyfin could not be reached and this is its last good
    /// answer: a readable note of why and since when.
    staleness: Option<String>,
}

impl Library {
    pub fn new(library: &libraries::Library, stale: Option<&libraries::Staleness>) -> Self {
        Self {
            id: NodeId::Library(library.source, library.name.clone()).to_id(),
            name: library.name.clone(),
            paths: library
                .paths
                .iter()
                .map(|path| path.display().to_string())
                .collect(),
            collection_type: library.collection_type.clone(),
            download_path: library
                .download_path
                .as_ref()
                .map(|path| path.display().to_string()),
            source: library.source.into(),
            staleness: stale
                .filter(|_| library.source == libraries::LibrarySource::Jellyfin)
                .map(|stale| {
                    format!(
                        "Jellyfin is unreachable ({}); this is its list from {}",
                        stale.reason,
                        stale
                            .fetched_at
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    )
                }),
        }
    }
}

#[derive(Default)]
pub struct LibraryQuery;

#[Object]
impl LibraryQuery {
    /// Jellyfin's libraries (when configured) and those in the config.
    #[graphql(guard = "AdminGuard")]
    async fn libraries(&self, ctx: &Context<'_>) -> Result<Vec<Library>> {
        let found = ctx
            .data::<Arc<LibraryService>>()?
            .libraries()
            .await
            .map_err(AppError::from)?;
        Ok(found
            .libraries
            .iter()
            .map(|library| Library::new(library, found.stale.as_ref()))
            .collect())
    }
}
